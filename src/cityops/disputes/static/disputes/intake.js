// The registration forms (desk, application, case → dispute): one key per form shown, so that a form sent twice
// (a double tap, a resend after a timeout) registers one dispute (services.register_dispute's idempotency key).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.intake-form input.idem").forEach(function (input) {
    if (!input.value) {
      input.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
        : String(Date.now()) + "-" + Math.random().toString(36).slice(2);
    }
  });
});
