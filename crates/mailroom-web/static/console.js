// Shared helpers of the console: strings from the message catalogue and calls to the JSON API.
// Pages put the catalogue strings they need into <script type="application/json" id="i18n">.
(function () {
  "use strict";

  var strings = {};
  var block = document.getElementById("i18n");
  if (block) {
    try {
      strings = JSON.parse(block.textContent || "{}");
    } catch (e) {
      strings = {};
    }
  }

  function has(key) {
    return Object.prototype.hasOwnProperty.call(strings, key);
  }

  /** The string for a catalogue key. */
  function msg(key) {
    return has(key) ? strings[key] : key;
  }

  /** The string for a key with {name} placeholders filled from vars. */
  function msgf(key, vars) {
    return msg(key).replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole;
    });
  }

  /** The label of a coded value (status.received, kind.parcel …); unknown codes show as they are. */
  function label(prefix, code) {
    var key = prefix + "." + code;
    return has(key) ? strings[key] : String(code);
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  /**
   * Calls the JSON API with the session cookie (and the CSRF header on writes).
   * Resolves to {ok, status, data}; status 0 means the server could not be reached.
   */
  async function api(method, url, body, extraHeaders) {
    var headers = { Accept: "application/json" };
    Object.keys(extraHeaders || {}).forEach(function (k) {
      headers[k] = extraHeaders[k];
    });
    if (method !== "GET" && method !== "HEAD") {
      headers["X-CSRF-Token"] = csrfToken();
    }
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      return { ok: false, status: 0, data: null };
    }
    var data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    return { ok: res.ok, status: res.status, data: data };
  }

  /** A translated one-line message for a failed API call (problem+json). */
  function problemText(res) {
    if (res.status === 0) {
      return msg("js.network_error");
    }
    if (res.status === 401) {
      return msg("js.session_expired");
    }
    var p = res.data || {};
    if (p.code === "internal_error") {
      return msgf("js.internal_error", { id: p.request_id || "" });
    }
    if (p.code === "store_unavailable") {
      return msg("js.store_unavailable");
    }
    var title = p.code ? label("error", p.code) : msgf("js.http_error", { status: res.status });
    if (p.detail) {
      return msgf("js.problem", { title: title, detail: p.detail });
    }
    return title;
  }

  /** A random key (for Idempotency-Key); works without a secure context. */
  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b < 16 ? "0" : "") + b.toString(16);
      })
      .join("");
  }

  /** Makes an element with a class and text (never HTML). */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  // ------------------------------------------------------------ recipients

  /**
   * Recipients matching what the clerk typed or what was read off a label, ranked best first
   * (GET /api/v1/recipients: names in any script, pinyin, initials, typos, aliases, employee
   * numbers, e-mail, departments and teams). People who left carry their forwarding instruction.
   */
  async function searchRecipients(q) {
    var r = await api("GET", "/api/v1/recipients?limit=8&q=" + encodeURIComponent(q));
    if (!r.ok) {
      return { ok: false, status: r.status, data: r.data, items: [] };
    }
    var items = ((r.data && r.data.items) || []).map(function (x) {
      var person = x.kind === "person";
      var extra = person ? [x.department_name] : [x.kind === "team" ? msg("js.team") : msg("js.department")];
      if (!x.active && x.forwarding) {
        extra.push(msgf("js.forwarding", { forwarding: x.forwarding }));
      }
      return {
        type: person ? "person" : "department",
        id: x.id,
        name: x.name,
        latin: x.name_latin,
        extra: extra.filter(Boolean).join(" · "),
        left: !x.active,
        departmentName: person ? x.department_name : x.name,
        matched: x.matched,
      };
    });
    return { ok: true, status: r.status, data: r.data, items: items };
  }

  window.Mailroom = {
    searchRecipients: searchRecipients,
    msg: msg,
    msgf: msgf,
    label: label,
    api: api,
    problemText: problemText,
    randomKey: randomKey,
    el: el,
  };
})();
