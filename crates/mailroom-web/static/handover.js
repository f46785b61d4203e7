// Handover: who took the item, how they proved it, and their signature, drawn on a pad
// (mouse, pen or finger) or uploaded as a PNG/SVG file. Submitted to the transitions API.
(function () {
  "use strict";

  var M = window.Mailroom;
  var form = document.getElementById("handover-form");
  if (!M || !form) {
    return;
  }
  var msg = M.msg;

  function $(id) {
    return document.getElementById(id);
  }

  /**
   * A signature pad on a canvas. Strokes are kept in coordinates relative to the canvas size,
   * so the drawing survives a resize (a tablet turned sideways) and is redrawn sharply.
   */
  function signaturePad(canvas, onChange) {
    var ctx = canvas.getContext("2d");
    var strokes = [];
    var pointer = null;

    function setup() {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.strokeStyle = "#10243e";
      ctx.fillStyle = "#10243e";
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.lineWidth = Math.max(2, canvas.width / 260);
    }

    function dot(p) {
      ctx.beginPath();
      ctx.arc(p[0] * canvas.width, p[1] * canvas.height, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    }

    function line(a, b) {
      ctx.beginPath();
      ctx.moveTo(a[0] * canvas.width, a[1] * canvas.height);
      ctx.lineTo(b[0] * canvas.width, b[1] * canvas.height);
      ctx.stroke();
    }

    function redraw() {
      setup();
      strokes.forEach(function (s) {
        dot(s[0]);
        for (var i = 1; i < s.length; i++) {
          line(s[i - 1], s[i]);
        }
      });
    }

    function fit() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var rect = canvas.getBoundingClientRect();
      var w = Math.max(1, Math.round(rect.width * ratio));
      var h = Math.max(1, Math.round(rect.height * ratio));
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      redraw();
    }

    function at(e) {
      var rect = canvas.getBoundingClientRect();
      var x = (e.clientX - rect.left) / rect.width;
      var y = (e.clientY - rect.top) / rect.height;
      return [Math.min(Math.max(x, 0), 1), Math.min(Math.max(y, 0), 1)];
    }

    canvas.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) {
        return;
      }
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      pointer = e.pointerId;
      var p = at(e);
      strokes.push([p]);
      dot(p);
      onChange();
    });

    canvas.addEventListener("pointermove", function (e) {
      if (e.pointerId !== pointer) {
        return;
      }
      e.preventDefault();
      var stroke = strokes[strokes.length - 1];
      var events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
      if (!events.length) {
        events = [e];
      }
      events.forEach(function (ev) {
        var p = at(ev);
        line(stroke[stroke.length - 1], p);
        stroke.push(p);
      });
    });

    function end(e) {
      if (e.pointerId === pointer) {
        pointer = null;
      }
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    window.addEventListener("resize", fit);
    fit();

    return {
      clear: function () {
        strokes = [];
        redraw();
      },
      isEmpty: function () {
        return strokes.length === 0;
      },
      toDataURL: function () {
        return canvas.toDataURL("image/png");
      },
    };
  }

  var canvas = $("signature-pad");
  var fileInput = $("signature-file");
  var fileName = $("file-name");
  var errorEl = $("handover-error");
  var submitBtn = $("handover-submit");
  var uploaded = null;
  var busy = false;

  function showError(text) {
    errorEl.textContent = text;
    errorEl.hidden = false;
  }

  function clearError() {
    errorEl.textContent = "";
    errorEl.hidden = true;
  }

  var pad = signaturePad(canvas, function () {
    clearError();
    canvas.classList.add("signed");
  });

  $("pad-clear").addEventListener("click", function () {
    pad.clear();
    uploaded = null;
    fileInput.value = "";
    fileName.textContent = "";
    canvas.classList.remove("signed");
  });

  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    uploaded = null;
    fileName.textContent = "";
    if (!file) {
      return;
    }
    var okType = file.type === "image/png" || file.type === "image/svg+xml" || /\.(png|svg)$/i.test(file.name);
    if (!okType) {
      showError(msg("js.signature_type"));
      fileInput.value = "";
      return;
    }
    if (file.size > 512 * 1024) {
      showError(msg("js.signature_too_large"));
      fileInput.value = "";
      return;
    }
    var reader = new FileReader();
    reader.addEventListener("load", function () {
      uploaded = String(reader.result);
      fileName.textContent = file.name;
      clearError();
    });
    reader.addEventListener("error", function () {
      showError(msg("js.signature_unreadable"));
    });
    reader.readAsDataURL(file);
  });

  function value(id) {
    return $(id).value.trim();
  }

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    if (busy) {
      return;
    }
    clearError();
    var takenBy = value("taken-by");
    if (!takenBy) {
      showError(msg("js.taken_by_required"));
      $("taken-by").focus();
      return;
    }
    var data = uploaded || (pad.isEmpty() ? null : pad.toDataURL());
    if (!data) {
      showError(msg("js.signature_required"));
      canvas.focus();
      return;
    }
    var item = form.dataset.item;
    var action = form.dataset.action;
    var handover = {
      taken_by: takenBy,
      place: value("place") || undefined,
      id_type: value("id-type") || undefined,
      id_last_digits: value("id-digits") || undefined,
    };
    // The directory link holds only while the taker is the (prefilled) recipient.
    if (form.dataset.person && takenBy === form.dataset.prefill) {
      handover.taken_by_person_id = form.dataset.person;
    }
    var body = {
      action: action,
      expected_version: Number(form.dataset.version),
      handover: handover,
      signature: { data: data },
    };
    if ($("seal")) {
      body.seal_number = value("seal") || undefined;
    }
    busy = true;
    submitBtn.setAttribute("aria-busy", "true");
    submitBtn.classList.add("busy");
    var r = await M.api("POST", "/api/v1/items/" + encodeURIComponent(item) + "/transitions", body);
    busy = false;
    submitBtn.removeAttribute("aria-busy");
    submitBtn.classList.remove("busy");
    if (r.ok) {
      window.location.assign("/ui/items/" + encodeURIComponent(item) + "?done=" + encodeURIComponent(action));
      return;
    }
    showError(M.problemText(r));
  });
})();
