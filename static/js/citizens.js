// Citizen forms: add formset rows and show only the objection field that applies.
// Loaded with <script defer>; the CSP forbids inline scripts.
(function () {
  "use strict";

  function addFormsetRow(prefix) {
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    const max = document.getElementById(`id_${prefix}-MAX_NUM_FORMS`);
    const template = document.getElementById(`${prefix}-empty`);
    const body = document.getElementById(`${prefix}-forms`);
    if (!total || !template || !body) return;
    const index = Number(total.value);
    if (max && index >= Number(max.value)) return;
    body.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__prefix__", String(index)));
    total.value = String(index + 1);
    const first = body.lastElementChild && body.lastElementChild.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function syncObjectionTarget(form) {
    const checked = form.querySelector('input[name="target"]:checked');
    form.querySelectorAll("[data-objection-field]").forEach((field) => {
      field.hidden = Boolean(checked) && field.dataset.objectionField !== checked.value;
    });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-formset-add]");
    if (button) addFormsetRow(button.dataset.formsetAdd);
  });
  document.addEventListener("change", (event) => {
    const form = event.target.closest("[data-objection-form]");
    if (form) syncObjectionTarget(form);
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-objection-form]").forEach(syncObjectionTarget);
  });
})();
