// The CSV mailing form: a chosen file is read into the CSV text box, which is what the form
// sends. Without scripts the CSV is pasted into the box.
(function () {
  "use strict";

  var file = document.querySelector("[data-csv-file]");
  var text = document.querySelector("[data-csv-text]");
  if (!file || !text || !window.FileReader) {
    return;
  }
  file.addEventListener("change", function () {
    var f = file.files && file.files[0];
    if (!f) {
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      text.value = String(reader.result || "").replace(/^\uFEFF/, "");
      text.dispatchEvent(new Event("input", { bubbles: true }));
    };
    reader.readAsText(f);
  });
})();
