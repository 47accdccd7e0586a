/* Queues: after an inline (htmx) action, close any open <details> of other rows and keep the page usable
   without htmx (plain form posts redirect back with a message). */
(function () {
  "use strict";
  document.body.addEventListener("htmx:afterSwap", function (ev) {
    var status = ev.detail.target && ev.detail.target.querySelector ? ev.detail.target.querySelector("[role=status]") : null;
    if (status && status.focus) { status.setAttribute("tabindex", "-1"); status.focus(); }
  });
  document.body.addEventListener("htmx:responseError", function (ev) {
    // A page that can no longer be reached (e.g. session expired): fall back to a full submit.
    var form = ev.detail.elt && ev.detail.elt.closest ? ev.detail.elt.closest("form") : null;
    if (form) { form.removeAttribute("hx-post"); form.submit(); }
  });
})();
