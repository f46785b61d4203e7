// Intake at scanner speed. A keyboard-wedge scanner types the code and Enter:
//   tracking + Enter -> known item? show it and wait for the next scan : show the detected carrier
//     (check digit, non-tracking barcodes warned about) and go to the recipient
//   recipient: type -> candidates (ArrowUp/ArrowDown, Enter picks) -> Save (Enter) -> reference code
// Quick scan (two-stage intake): tracking + Enter saves the item at once as "details pending"
//   and waits for the next scan; a running list shows what was saved.
// Everything works from the keyboard; the mouse is optional.
(function () {
  "use strict";

  var M = window.Mailroom;
  var form = document.getElementById("intake-form");
  if (!M || !form) {
    return;
  }
  var msg = M.msg;
  var msgf = M.msgf;
  var label = M.label;
  var api = M.api;
  var el = M.el;

  function $(id) {
    return document.getElementById(id);
  }

  var tracking = $("tracking");
  var recipient = $("recipient");
  var list = $("candidates");
  var chosenEl = $("chosen");
  var save = $("save");
  var errorEl = $("intake-error");
  var existing = $("existing");
  var condition = $("condition");
  var damageField = $("damage-field");
  var recent = $("recent");
  var quick = $("quick");
  var normalFields = $("normal-fields");
  var detection = $("detection");
  var quickList = $("quick-list");

  var candidates = [];
  var active = -1;
  var chosen = null;
  var timer = null;
  var inflight = null;
  var searchSeq = 0;
  var busy = false;
  // The last attempted registration, so a retry after a lost answer reuses its Idempotency-Key.
  var pending = null;

  function showError(text) {
    errorEl.textContent = text;
    errorEl.hidden = false;
  }

  function clearError() {
    errorEl.textContent = "";
    errorEl.hidden = true;
  }

  function itemHref(item) {
    return "/ui/items/" + encodeURIComponent(item.id);
  }

  function showExisting(item) {
    var link = $("existing-link");
    link.textContent = item.reference;
    link.href = itemHref(item);
    var badge = $("existing-status");
    badge.textContent = label("status", item.status);
    badge.className = "badge status-" + item.status;
    $("existing-recipient").textContent = msgf("js.for_recipient", { name: item.recipient_name });
    existing.hidden = false;
  }

  function hideExisting() {
    existing.hidden = true;
  }

  // ------------------------------------------------------------ tracking

  async function lookUp() {
    var code = tracking.value.trim();
    clearError();
    hideExisting();
    hideDetection();
    if (quick.checked) {
      if (code) {
        tracking.value = "";
        quickSave(code);
      }
      tracking.focus();
      return;
    }
    if (!code) {
      recipient.focus();
      return;
    }
    var detected = api("GET", "/api/v1/carriers/detect?code=" + encodeURIComponent(code));
    var r = await api("GET", "/api/v1/items?limit=1&tracking=" + encodeURIComponent(code));
    var det = await detected;
    if (!r.ok) {
      showError(problemText(r));
      showDetection(det);
      tracking.select();
      return;
    }
    var item = r.data && r.data.items && r.data.items[0];
    if (item) {
      showExisting(item);
      tracking.value = "";
      tracking.focus();
    } else {
      showDetection(det);
      showRuleSuggestions({ tracking_number: code, carrier: det.ok && det.data ? det.data.carrier : null });
      recipient.focus();
      recipient.select();
    }
  }

  // ------------------------------------------------------------ carrier detection

  function hideDetection() {
    detection.hidden = true;
  }

  /** Shows what GET /api/v1/carriers/detect made of the scan, and fills in the carrier. */
  function showDetection(r) {
    if (!r || !r.ok || !r.data) {
      hideDetection();
      return;
    }
    var d = r.data;
    var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
    var name = (zh ? d.carrier_name_zh : d.carrier_name) || d.carrier_name || d.carrier;
    $("det-carrier").textContent = name || msg("js.carrier_unknown");
    $("det-service").textContent = d.service ? msgf("js.service", { service: d.service }) : "";
    var check = $("det-check");
    check.textContent =
      d.check_digit === "verified"
        ? msg("js.check_verified")
        : d.check_digit === "mismatch"
          ? msg("js.check_mismatch")
          : msg("js.check_none");
    check.className = "badge check-" + d.check_digit;
    check.dataset.check = d.check_digit;
    var warn = $("det-warn");
    if (!d.tracking_number) {
      warn.textContent = msgf("js.not_tracking", { reason: d.reason || "" });
      warn.hidden = false;
    } else {
      warn.textContent = "";
      warn.hidden = true;
    }
    detection.dataset.carrier = d.carrier || "";
    detection.hidden = false;
    var carrierInput = $("carrier");
    if (d.carrier && !carrierInput.value.trim()) {
      carrierInput.value = d.carrier;
    }
  }

  // ------------------------------------------------------------ rule suggestions

  // What the classification rules (POST /api/v1/rules/evaluate) and the storage planner
  // (GET /api/v1/locations/suggestion) make of what is known so far. Category, priority and
  // confidentiality left on "automatic" are decided by the same rules when the item is saved;
  // the suggested location is where the item is stored right after saving (unless unticked).
  var suggestSeq = 0;
  var suggestTimer = null;
  var suggested = null;

  function facts() {
    var item = {
      kind: value("kind") || undefined,
      carrier: value("carrier") || undefined,
      sender_name: value("sender-name") || undefined,
      sender_org: value("sender-org") || undefined,
      notes: value("notes") || undefined,
    };
    if (chosen) {
      item.recipient = chosen.name;
      item.recipient_department_name = chosen.departmentName || undefined;
    }
    ["category", "priority", "confidentiality"].forEach(function (f) {
      if (value(f)) {
        item[f] = value(f);
      }
    });
    return item;
  }

  function routeText(route) {
    if (!route) {
      return "";
    }
    return route.code ? route.kind + ":" + route.code : route.kind;
  }

  function suggestionLine(box, key, text, testid) {
    var p = el("p", "suggestion");
    p.appendChild(el("strong", null, msg(key) + " "));
    var v = el("span", null, text);
    if (testid) {
      v.dataset.testid = testid;
    }
    p.appendChild(v);
    box.appendChild(p);
    return p;
  }

  async function refreshSuggestions() {
    var seq = ++suggestSeq;
    var box = $("suggestions");
    var item = facts();
    var ev = await api("POST", "/api/v1/rules/evaluate", { item: item });
    if (seq !== suggestSeq) {
      return;
    }
    if (!ev.ok || !ev.data) {
      box.hidden = true;
      suggested = null;
      return;
    }
    var d = ev.data.decision || {};
    var category = item.category || d.category || "general";
    var confidentiality = item.confidentiality || d.confidentiality || "internal";
    var q =
      "kind=" + encodeURIComponent(item.kind || "parcel") +
      "&category=" + encodeURIComponent(category) +
      "&confidentiality=" + encodeURIComponent(confidentiality);
    var loc = await api("GET", "/api/v1/locations/suggestion?" + q);
    if (seq !== suggestSeq) {
      return;
    }
    box.textContent = "";
    box.appendChild(el("h3", null, msg("js.suggested")));
    if (d.category) {
      suggestionLine(box, "js.sugg_category", M.label("category", d.category), "sugg-category");
    }
    if (d.priority) {
      suggestionLine(box, "js.sugg_priority", M.label("priority", d.priority), "sugg-priority");
    }
    if (d.confidentiality) {
      suggestionLine(box, "js.sugg_confidentiality", M.label("confidentiality", d.confidentiality), "sugg-confidentiality");
    }
    if (d.route) {
      suggestionLine(box, "js.sugg_route", routeText(d.route), "sugg-route");
    }
    if (d.due_in) {
      suggestionLine(box, "js.sugg_due", d.due_in, null);
    }
    if (d.fired && d.fired.length) {
      suggestionLine(
        box,
        "js.sugg_rules",
        d.fired.map(function (f) { return f.rule; }).join(", "),
        "sugg-rules",
      );
    }
    if (confidentiality !== "internal" && !value("seal")) {
      var warn = el("p", "warn", msg("js.sugg_seal"));
      warn.dataset.testid = "sugg-seal";
      box.appendChild(warn);
    }
    suggested = null;
    var location = loc.ok && loc.data ? loc.data.location : null;
    if (location) {
      suggested = { id: location.id, name: location.name, code: location.code };
      var row = el("p", "suggestion");
      var box2 = el("input");
      box2.type = "checkbox";
      box2.id = "store-at";
      box2.checked = true;
      box2.dataset.testid = "store-at";
      var lab = el("label", null, msgf("js.sugg_store", { location: location.code + " " + location.name }));
      lab.htmlFor = "store-at";
      lab.dataset.testid = "sugg-location";
      row.appendChild(box2);
      row.appendChild(lab);
      box.appendChild(row);
    } else if (loc.ok) {
      suggestionLine(box, "js.sugg_location", msg("js.sugg_no_location"), "sugg-location");
    }
    box.hidden = false;
  }

  var suggestRun = Promise.resolve();

  function runSuggestions() {
    suggestTimer = null;
    suggestRun = refreshSuggestions().catch(function () {});
    return suggestRun;
  }

  /** Asks for fresh suggestions (debounced: typing in a field does not flood the server). */
  function showRuleSuggestions() {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(runSuggestions, 150);
  }

  /** Waits until the suggestions reflect the form as it is (before saving). */
  async function settleSuggestions() {
    if (suggestTimer) {
      clearTimeout(suggestTimer);
      runSuggestions();
    }
    await suggestRun;
  }

  ["kind", "category", "priority", "confidentiality", "carrier", "sender-name", "sender-org", "notes", "seal"].forEach(
    function (id) {
      $(id).addEventListener("change", showRuleSuggestions);
    },
  );

  /** Stores a just-registered item at the suggested location, if the clerk kept that ticked. */
  async function storeAtSuggested(item) {
    var tick = $("store-at");
    if (!suggested || !tick || !tick.checked || item.status !== "received") {
      return null;
    }
    var r = await api("POST", "/api/v1/items/" + item.id + "/transitions", {
      action: "store",
      location_id: suggested.id,
      expected_version: item.version,
      seal_number: value("seal") || undefined,
    });
    if (!r.ok) {
      showError(problemText(r));
      return null;
    }
    return r.data;
  }

  // ------------------------------------------------------------ quick scan

  var quickChain = Promise.resolve();
  var quickKey = "mailroom.quickScan";

  function syncQuick() {
    normalFields.hidden = quick.checked;
    form.classList.toggle("quick-mode", quick.checked);
    try {
      window.localStorage.setItem(quickKey, quick.checked ? "1" : "0");
    } catch (e) {
      // Storage may be unavailable; the mode is then not remembered.
    }
  }

  function addQuick(item) {
    var li = el("li", "recent-item");
    li.dataset.reference = item.reference;
    var a = el("a", "ref", item.reference);
    a.href = itemHref(item);
    li.appendChild(a);
    if (item.tracking_number) {
      li.appendChild(el("span", "mono", item.tracking_number));
    }
    li.appendChild(el("span", "tag", msg("js.details_pending")));
    quickList.insertBefore(li, quickList.firstChild);
    $("quick-panel").hidden = false;
  }

  /** Saves a scan at once as "received, details pending"; scans are saved in the order made. */
  /** Keeps the label photo the tracking number was read from (label-photo.js) with the new item. */
  async function keepLabelPhoto(item) {
    if (!M.labelPhoto || !M.labelPhoto.hasPhoto()) {
      return;
    }
    var r = await M.labelPhoto.attachLast(item.id);
    if (r.status !== 0 && !r.ok) {
      showError(problemText(r));
    }
  }

  // A tracking number read off a label photo arrives as a synthetic change event: look it up
  // (or, in quick scan, save it) as if it had been scanned.
  tracking.addEventListener("change", function (e) {
    if (!e.isTrusted && tracking.value.trim()) {
      lookUp();
    }
  });

  function quickSave(code) {
    var key = M.randomKey();
    quickChain = quickChain.then(async function () {
      var r = await api("POST", "/api/v1/items", { tracking_number: code }, { "Idempotency-Key": key });
      if (r.status === 0 || !r.ok) {
        showError(code + ": " + problemText(r));
        return;
      }
      if (r.status === 201) {
        await keepLabelPhoto(r.data);
        addQuick(r.data);
        addRecent(r.data);
      } else {
        showExisting(r.data);
      }
    });
    return quickChain;
  }

  quick.addEventListener("change", function () {
    syncQuick();
    tracking.focus();
  });
  try {
    quick.checked = window.localStorage.getItem(quickKey) === "1";
  } catch (e) {
    quick.checked = false;
  }
  syncQuick();

  function problemText(r) {
    return M.problemText(r);
  }

  tracking.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      lookUp();
    }
  });

  tracking.addEventListener("input", function () {
    hideExisting();
  });

  // ------------------------------------------------------------ recipient

  function setExpanded(open) {
    list.hidden = !open;
    recipient.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      recipient.removeAttribute("aria-activedescendant");
    }
  }

  function renderActive() {
    var options = list.querySelectorAll('[role="option"]');
    for (var i = 0; i < options.length; i++) {
      var on = i === active;
      options[i].setAttribute("aria-selected", on ? "true" : "false");
      if (on) {
        recipient.setAttribute("aria-activedescendant", options[i].id);
        options[i].scrollIntoView({ block: "nearest" });
      }
    }
  }

  function renderList() {
    list.textContent = "";
    if (!candidates.length) {
      list.appendChild(el("li", "cand-none", msg("js.no_match")));
      setExpanded(true);
      return;
    }
    candidates.forEach(function (c, i) {
      var li = el("li", "cand");
      li.id = "cand-" + i;
      li.setAttribute("role", "option");
      li.dataset.index = String(i);
      li.appendChild(el("span", "cand-name", c.name));
      if (c.latin && c.latin !== c.name) {
        li.appendChild(el("span", "cand-latin", c.latin));
      }
      if (c.extra) {
        li.appendChild(el("span", "cand-extra", c.extra));
      }
      if (c.type === "department") {
        li.appendChild(el("span", "tag", msg("js.department")));
      }
      if (c.left) {
        li.appendChild(el("span", "tag tag-warn", msg("js.has_left")));
      }
      li.addEventListener("mousedown", function (e) {
        e.preventDefault();
      });
      li.addEventListener("click", function () {
        pick(candidates[i]);
      });
      list.appendChild(li);
    });
    setExpanded(true);
    renderActive();
  }

  async function search(q) {
    var mine = ++searchSeq;
    var r = await M.searchRecipients(q);
    if (mine !== searchSeq) {
      return;
    }
    if (!r.ok) {
      showError(problemText(r));
      return;
    }
    candidates = r.items;
    active = candidates.length ? 0 : -1;
    renderList();
  }

  function startSearch() {
    timer = null;
    var q = recipient.value.trim();
    if (!q) {
      candidates = [];
      active = -1;
      setExpanded(false);
      return Promise.resolve();
    }
    inflight = search(q);
    var current = inflight;
    return current.then(function () {
      if (inflight === current) {
        inflight = null;
      }
    });
  }

  function renderChosen() {
    if (!chosen) {
      chosenEl.hidden = true;
      chosenEl.textContent = "";
      return;
    }
    var text = chosen.latin && chosen.latin !== chosen.name ? chosen.name + " (" + chosen.latin + ")" : chosen.name;
    chosenEl.textContent = msgf(chosen.type === "department" ? "js.chosen_department" : "js.chosen_person", { name: text });
    chosenEl.hidden = false;
  }

  function pick(c) {
    chosen = c;
    showRuleSuggestions({
      tracking_number: tracking.value.trim() || null,
      carrier: $("carrier").value.trim() || null,
      recipient: { type: c.type, id: c.id },
    });
    recipient.value = c.name;
    candidates = [];
    active = -1;
    setExpanded(false);
    renderChosen();
    clearError();
    save.focus();
  }

  recipient.addEventListener("input", function () {
    chosen = null;
    renderChosen();
    if (timer) {
      clearTimeout(timer);
    }
    timer = setTimeout(startSearch, 150);
  });

  recipient.addEventListener("keydown", async function (e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!candidates.length) {
        return;
      }
      e.preventDefault();
      var n = candidates.length;
      active = e.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n;
      renderActive();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (timer) {
        clearTimeout(timer);
        await startSearch();
      } else if (inflight) {
        await inflight;
      }
      if (!list.hidden && active >= 0 && candidates[active]) {
        pick(candidates[active]);
      } else if (chosen) {
        save.focus();
      } else {
        showError(msg("js.choose_recipient"));
      }
    } else if (e.key === "Escape") {
      setExpanded(false);
    }
  });

  recipient.addEventListener("blur", function () {
    // Let a click on a candidate land first.
    setTimeout(function () {
      if (document.activeElement !== recipient) {
        setExpanded(false);
      }
    }, 150);
  });

  // ------------------------------------------------------------ optional fields

  function syncDamage() {
    damageField.hidden = condition.value !== "damaged";
  }
  condition.addEventListener("change", syncDamage);
  syncDamage();

  // ------------------------------------------------------------ save

  function value(id) {
    return $(id).value.trim();
  }

  function payload() {
    var senderName = value("sender-name");
    var senderOrg = value("sender-org");
    var recipientRef = chosen.type === "department" ? { department_id: chosen.id } : { person_id: chosen.id };
    return {
      tracking_number: value("tracking") || undefined,
      recipient: recipientRef,
      kind: value("kind"),
      category: value("category") || undefined,
      priority: value("priority") || undefined,
      confidentiality: value("confidentiality") || undefined,
      condition: value("condition"),
      damage_description: value("condition") === "damaged" ? value("damage") || undefined : undefined,
      carrier: value("carrier") || undefined,
      sender: senderName || senderOrg ? { name: senderName || undefined, organisation: senderOrg || undefined } : undefined,
      notes: value("notes") || undefined,
      seal_number: value("seal") || undefined,
    };
  }

  var fieldInputs = {
    tracking_number: "tracking",
    recipient: "recipient",
    damage_description: "damage",
    carrier: "carrier",
    notes: "notes",
    kind: "kind",
    category: "category",
    priority: "priority",
    confidentiality: "confidentiality",
    condition: "condition",
    seal_number: "seal",
  };

  function showResult(item) {
    $("result-ref").textContent = item.reference;
    $("result-recipient").textContent = msgf("js.for_recipient", { name: item.recipient_name });
    $("result-link").href = itemHref(item);
    $("result").hidden = false;
  }

  function addRecent(item) {
    var li = el("li", "recent-item");
    var a = el("a", "ref", item.reference);
    a.href = itemHref(item);
    li.appendChild(a);
    li.appendChild(el("span", "recent-recipient", item.recipient_name || msg("js.details_pending")));
    if (item.tracking_number) {
      li.appendChild(el("span", "mono muted", item.tracking_number));
    }
    recent.insertBefore(li, recent.firstChild);
    while (recent.children.length > 20) {
      recent.removeChild(recent.lastChild);
    }
    $("recent-empty").hidden = true;
  }

  function resetForm() {
    var keepOpen = $("more").open;
    form.reset();
    $("more").open = keepOpen;
    chosen = null;
    candidates = [];
    active = -1;
    setExpanded(false);
    renderChosen();
    syncDamage();
    suggestSeq++;
    suggested = null;
    $("suggestions").hidden = true;
  }

  async function submit() {
    if (busy) {
      return;
    }
    clearError();
    if (!chosen) {
      showError(msg("js.choose_recipient"));
      recipient.focus();
      return;
    }
    busy = true;
    await settleSuggestions();
    busy = false;
    var body = payload();
    var text = JSON.stringify(body);
    if (!pending || pending.text !== text) {
      pending = { text: text, key: M.randomKey() };
    }
    busy = true;
    save.setAttribute("aria-busy", "true");
    save.classList.add("busy");
    var r = await api("POST", "/api/v1/items", body, { "Idempotency-Key": pending.key });
    busy = false;
    save.removeAttribute("aria-busy");
    save.classList.remove("busy");
    if (r.status === 0) {
      // The answer was lost: saving again repeats the same request safely.
      showError(problemText(r));
      save.focus();
      return;
    }
    pending = null;
    if (!r.ok) {
      showError(problemText(r));
      var field = r.data && r.data.field ? fieldInputs[r.data.field.split(".")[0]] : null;
      (field ? $(field) : save).focus();
      return;
    }
    if (r.status === 201) {
      hideExisting();
      await keepLabelPhoto(r.data);
      var stored = await storeAtSuggested(r.data);
      showResult(stored || r.data);
      addRecent(stored || r.data);
    } else {
      $("result").hidden = true;
      showExisting(r.data);
    }
    resetForm();
    hideDetection();
    tracking.focus();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit();
  });
})();
