// Hospital events and operations pages: ask before a form that cannot be undone is sent.
// Loaded with <script defer>; the CSP forbids inline scripts.
(function () {
  "use strict";

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
