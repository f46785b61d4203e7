// The template editor's live preview: while the subject or the text changes, the form is sent
// to the server as a preview (op=preview; nothing is saved) and the preview and any validation
// error on the page are replaced with the server's. Without scripts, the Preview button does
// the same.
(function () {
  "use strict";

  var form = document.querySelector('[data-testid="template-form"]');
  if (!form || !window.fetch || !window.DOMParser || !window.URLSearchParams || !window.FormData) {
    return;
  }
  var timer = null;
  var seq = 0;

  function refresh() {
    var mine = ++seq;
    var data = new URLSearchParams(new FormData(form));
    data.set("op", "preview");
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "content-type": "application/x-www-form-urlencoded" }
    })
      .then(function (r) {
        return r.text();
      })
      .then(function (html) {
        if (mine !== seq) {
          return;
        }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector('[data-testid="template-preview"]');
        var shown = document.querySelector('[data-testid="template-preview"]');
        if (fresh && shown) {
          shown.replaceWith(document.importNode(fresh, true));
        } else if (fresh) {
          // The page came back from a refused save without a preview: show it again, after the form.
          form.parentNode.insertBefore(document.importNode(fresh, true), form.nextSibling);
        }
        var oldError = document.querySelector('[data-testid="template-error"]');
        if (oldError) {
          oldError.remove();
        }
        var newError = doc.querySelector('[data-testid="template-error"]');
        if (newError) {
          form.parentNode.insertBefore(document.importNode(newError, true), form);
        }
      })
      .catch(function () {
        // Offline or the session ended: the Preview button still works.
      });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
})();
