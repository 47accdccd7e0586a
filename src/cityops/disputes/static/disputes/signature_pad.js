// A signature pad for a tablet (disputes/documents.html, form[data-signature-pad]): the party draws with a finger
// or a stylus; on submit the drawing goes to the server as a PNG data URL in the form's `image` field.
(function () {
  "use strict";
  function setUp(form) {
    var canvas = form.querySelector("canvas.sig-pad");
    var field = form.querySelector("input[name=image]");
    var error = form.querySelector(".sig-error");
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false;

    function fit() {  // the canvas's pixels follow its size on screen, so a stroke lands under the finger
      var ratio = window.devicePixelRatio || 1, rect = canvas.getBoundingClientRect();
      canvas.width = Math.max(1, Math.round(rect.width * ratio));
      canvas.height = Math.max(1, Math.round(rect.height * ratio));
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#000";
      drawn = false;
    }
    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      var p = point(event);
      ctx.beginPath(); ctx.moveTo(p.x, p.y); ctx.lineTo(p.x + 0.1, p.y + 0.1); ctx.stroke();
      drawn = true; error.hidden = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      ctx.lineTo(p.x, p.y); ctx.stroke();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    form.querySelector("[data-clear]").addEventListener("click", fit);
    form.addEventListener("submit", function (event) {
      if (!drawn) {
        event.preventDefault();
        error.textContent = form.dataset.emptyMessage; error.hidden = false;
        return;
      }
      field.value = canvas.toDataURL("image/png");
    });
    fit();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-signature-pad]").forEach(setUp);
  });
})();
