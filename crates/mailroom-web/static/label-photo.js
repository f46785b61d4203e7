// Label photos, self-contained (needs console.js for strings).
//
// 1. Reading a label into a field: an element
//      <div data-label-photo data-target="tracking" data-carrier-target="carrier"></div>
//    gets a "Photo of the label" button (file input with capture="environment": the phone's rear
//    camera) and, where the browser has a camera API, a "Use the webcam" button (getUserMedia).
//    The photo is sent to POST /api/v1/scans; the suggested tracking number goes into the field
//    named by data-target (with input and change events, as if typed or scanned) and its carrier
//    into data-carrier-target when that select has the option. With data-enter, an Enter key
//    press follows, exactly as a keyboard-wedge scanner ends a scan (the intake page then looks
//    the number up and moves on to the recipient).
//    window.Mailroom.labelPhoto.attachLast(itemId) then keeps that photo with the new item
//    (POST /api/v1/items/{id}/photos); it resolves to {ok, status, data}.
// 2. Keeping a photo with an item: <form data-photo-upload data-item="ID"> with a file input
//    posts the chosen file to /api/v1/items/ID/photos and reloads the page.
(function () {
  "use strict";

  var M = window.Mailroom;
  if (!M) {
    return;
  }
  var msg = M.msg;
  var msgf = M.msgf;
  var el = M.el;
  var MAX_BYTES = 15 * 1024 * 1024;
  var TYPES = ["image/png", "image/jpeg"];
  var lastPhoto = null;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  /** Posts an image as the raw body; resolves to {ok, status, data} like Mailroom.api. */
  async function postImage(url, blob, extraHeaders) {
    var headers = { Accept: "application/json", "Content-Type": blob.type, "X-CSRF-Token": csrfToken() };
    Object.keys(extraHeaders || {}).forEach(function (k) {
      headers[k] = extraHeaders[k];
    });
    var res;
    try {
      res = await fetch(url, { method: "POST", headers: headers, body: blob, credentials: "same-origin" });
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

  /** Why a file cannot be sent, or "" when it can. */
  function refusal(file) {
    if (!file || TYPES.indexOf(file.type) < 0) {
      return msg("js.photo_type");
    }
    if (file.size > MAX_BYTES) {
      return msg("js.photo_too_large");
    }
    return "";
  }

  function attachTo(itemId, blob) {
    return postImage("/api/v1/items/" + encodeURIComponent(itemId) + "/photos", blob, {
      "Idempotency-Key": M.randomKey(),
    });
  }

  // ------------------------------------------------------------ reading a label into a field

  function setupReader(box) {
    var target = document.getElementById(box.getAttribute("data-target") || "");
    var carrierTarget = document.getElementById(box.getAttribute("data-carrier-target") || "");
    if (!target) {
      return;
    }
    box.classList.add("label-photo");
    var file = document.createElement("input");
    file.type = "file";
    file.accept = TYPES.join(",");
    file.setAttribute("capture", "environment");
    file.className = "file-input";
    file.tabIndex = -1;
    file.setAttribute("aria-hidden", "true");
    var photoBtn = el("button", "btn", msg("js.scan_photo"));
    photoBtn.type = "button";
    photoBtn.title = msg("js.scan_photo_hint");
    photoBtn.setAttribute("data-testid", "label-photo");
    var camBtn = el("button", "btn", msg("js.scan_webcam"));
    camBtn.type = "button";
    var hasCamera = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
    camBtn.hidden = !hasCamera;
    var status = el("p", "hint label-photo-status");
    status.setAttribute("role", "status");
    status.setAttribute("data-testid", "label-photo-status");
    var video = document.createElement("video");
    video.setAttribute("playsinline", "");
    video.muted = true;
    video.hidden = true;
    var captureBtn = el("button", "btn btn-primary", msg("js.scan_capture"));
    captureBtn.type = "button";
    captureBtn.hidden = true;
    var cancelBtn = el("button", "btn", msg("js.scan_cancel"));
    cancelBtn.type = "button";
    cancelBtn.hidden = true;
    [file, photoBtn, camBtn, video, captureBtn, cancelBtn, status].forEach(function (n) {
      box.appendChild(n);
    });
    var stream = null;

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("alert-error", !!isError);
    }

    function fill(report) {
      var s = report && report.suggested;
      var codes = (report && report.barcodes) || [];
      if (!s) {
        say(codes.length ? msgf("js.scan_no_tracking", { count: codes.length }) : msg("js.scan_none"), true);
        return;
      }
      target.value = s.tracking_number;
      target.dispatchEvent(new Event("input", { bubbles: true }));
      target.dispatchEvent(new Event("change", { bubbles: true }));
      if (carrierTarget && s.carrier) {
        var options = carrierTarget.options ? Array.prototype.slice.call(carrierTarget.options) : [];
        if (!carrierTarget.options || options.some(function (o) { return o.value === s.carrier; })) {
          carrierTarget.value = s.carrier;
          carrierTarget.dispatchEvent(new Event("change", { bubbles: true }));
        }
      }
      var d = codes[s.barcode] && codes[s.barcode].carrier;
      var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
      var name = d && ((zh && d.carrier_name_zh) || d.carrier_name || d.carrier);
      say(
        name
          ? msgf("js.scan_found", { tracking: s.tracking_number, carrier: name })
          : msgf("js.scan_found_unknown", { tracking: s.tracking_number }),
        false,
      );
      target.focus();
      if (box.hasAttribute("data-enter")) {
        target.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
      }
    }

    async function read(blob) {
      var why = refusal(blob);
      if (why) {
        say(why, true);
        return;
      }
      lastPhoto = blob;
      say(msg("js.scan_reading"), false);
      photoBtn.disabled = true;
      var r = await postImage("/api/v1/scans", blob);
      photoBtn.disabled = false;
      if (r.ok) {
        fill(r.data);
      } else {
        say(M.problemText(r), true);
      }
    }

    function stopCamera() {
      if (stream) {
        stream.getTracks().forEach(function (t) {
          t.stop();
        });
        stream = null;
      }
      video.hidden = true;
      captureBtn.hidden = true;
      cancelBtn.hidden = true;
      camBtn.hidden = !hasCamera;
    }

    photoBtn.addEventListener("click", function () {
      file.value = "";
      file.click();
    });
    file.addEventListener("change", function () {
      if (file.files && file.files[0]) {
        read(file.files[0]);
      }
    });
    camBtn.addEventListener("click", async function () {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: "environment", width: { ideal: 1920 }, height: { ideal: 1080 } },
          audio: false,
        });
      } catch (e) {
        say(msg("js.scan_camera_error"), true);
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      captureBtn.hidden = false;
      cancelBtn.hidden = false;
      camBtn.hidden = true;
      try {
        await video.play();
      } catch (e) {
        // Autoplay refused: the user's click on Capture still grabs the current frame.
      }
    });
    cancelBtn.addEventListener("click", stopCamera);
    captureBtn.addEventListener("click", function () {
      var w = video.videoWidth;
      var h = video.videoHeight;
      if (!w || !h) {
        say(msg("js.scan_camera_error"), true);
        return;
      }
      var canvas = document.createElement("canvas");
      canvas.width = w;
      canvas.height = h;
      canvas.getContext("2d").drawImage(video, 0, 0, w, h);
      stopCamera();
      canvas.toBlob(
        function (blob) {
          if (blob) {
            read(blob);
          } else {
            say(msg("js.scan_camera_error"), true);
          }
        },
        "image/jpeg",
        0.92,
      );
    });
  }

  // ------------------------------------------------------------ keeping a photo with an item

  function setupUpload(form) {
    var itemId = form.getAttribute("data-item");
    var input = form.querySelector('input[type="file"]');
    var error = form.querySelector("[data-photo-error]");
    var button = form.querySelector('button[type="submit"]');
    var buttonText = button ? button.textContent : "";
    if (!itemId || !input) {
      return;
    }
    function fail(text) {
      if (error) {
        error.textContent = text;
        error.hidden = false;
      }
    }
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var f = input.files && input.files[0];
      var why = refusal(f);
      if (why) {
        fail(why);
        return;
      }
      if (error) {
        error.hidden = true;
      }
      if (button) {
        button.disabled = true;
        button.textContent = msg("js.photo_uploading");
      }
      var r = await attachTo(itemId, f);
      if (r.ok) {
        window.location.reload();
        return;
      }
      if (button) {
        button.disabled = false;
        button.textContent = buttonText;
      }
      fail(M.problemText(r));
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-label-photo]"), setupReader);
  Array.prototype.forEach.call(document.querySelectorAll("form[data-photo-upload]"), setupUpload);

  M.labelPhoto = {
    /** Keeps the last photo read (if any) with an item; resolves to {ok, status, data}. */
    attachLast: function (itemId) {
      if (!lastPhoto) {
        return Promise.resolve({ ok: false, status: 0, data: null });
      }
      var blob = lastPhoto;
      lastPhoto = null;
      return attachTo(itemId, blob);
    },
    /** Whether a photo was read and not yet kept. */
    hasPhoto: function () {
      return lastPhoto !== null;
    },
  };
})();
