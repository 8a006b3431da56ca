// Messaging pages: the receiver search is shown only where JavaScript runs (without it, the SOR
// code or GLN field does the job), Enter in it does not send the form, and a 400 answer to a
// boosted thread action (the page again with the form errors) or a 413 (attachments too large)
// is shown instead of dropped.
// Loaded with <script defer>; the CSP forbids inline scripts.
(function () {
  "use strict";

  function init(root) {
    root.querySelectorAll("[data-receiver-search]").forEach((input) => {
      input.hidden = false;
    });
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.closest("[data-receiver-search]")) event.preventDefault();
  });

  document.addEventListener("htmx:beforeSwap", (event) => {
    if ((event.detail.xhr.status === 400 || event.detail.xhr.status === 413) && event.detail.boosted) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSettle", (event) => init(event.detail.elt.parentElement || document));
})();
