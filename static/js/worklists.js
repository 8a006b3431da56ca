// Work lists: htmx leaves error responses unswapped by default. For swap targets marked
// data-swap-errors, a 400 (the form with its field errors) is swapped in like a success, and any
// other failure (403, 500, no network) shows the target's data-error-message instead of nothing.
// Loaded with <script defer>; the CSP forbids inline scripts.
(function () {
  "use strict";

  function swapTarget(event) {
    const target = event.detail && event.detail.target;
    return target && target.closest ? target.closest("[data-swap-errors]") : null;
  }

  function showError(container) {
    if (!container || !container.dataset.errorMessage) return;
    let box = container.querySelector(".htmx-error");
    if (!box) {
      box = document.createElement("div");
      box.className = "htmx-error alert alert-danger py-2 mt-2 mb-0";
      box.setAttribute("role", "alert");
      container.appendChild(box);
    }
    box.textContent = container.dataset.errorMessage;
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 400 && swapTarget(event)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:responseError", (event) => showError(swapTarget(event)));
  document.addEventListener("htmx:sendError", (event) => showError(swapTarget(event)));
})();
