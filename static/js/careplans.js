// Care plan pages: organisation search next to the selects, people filtered by organisation,
// the unit of a measurable goal, and htmx answers with form errors (400/403) swapped in.
// Loaded with <script defer>; the CSP forbids inline scripts.
(function () {
  "use strict";

  const SEARCH_DELAY_MS = 300;

  // --- organisations: a search box adds matches to the select it names --------------------------

  function resultsGroup(select, label) {
    let group = select.querySelector("optgroup[data-search-results]");
    if (!group) {
      group = document.createElement("optgroup");
      group.dataset.searchResults = "";
      select.appendChild(group);
    }
    group.label = label;
    group.replaceChildren();
    return group;
  }

  function showResults(input, select, results) {
    const group = resultsGroup(select, input.dataset.resultsLabel || "");
    if (!results.length) {
      const empty = document.createElement("option");
      empty.disabled = true;
      empty.value = "";
      empty.textContent = input.dataset.emptyLabel || "";
      group.appendChild(empty);
      return;
    }
    results.forEach((result) => {
      const option = document.createElement("option");
      option.value = String(result.id);
      option.textContent = result.kind ? `${result.name} (${result.kind})` : result.name;
      group.appendChild(option);
    });
    // The first match is chosen; the select shows it, and the user can pick another.
    select.value = String(results[0].id);
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  const timers = new WeakMap();

  function searchOrganisations(input) {
    const select = document.getElementById(input.dataset.orgSearch);
    if (!select) return;
    clearTimeout(timers.get(input));
    const query = input.value.trim();
    if (query.length < 2) return;
    timers.set(
      input,
      setTimeout(() => {
        const url = new URL(input.dataset.url, window.location.origin);
        url.searchParams.set("q", query);
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : { results: [] }))
          .then((data) => {
            if (input.value.trim() === query) showResults(input, select, data.results || []);
          })
          .catch(() => {});
      }, SEARCH_DELAY_MS),
    );
  }

  // --- people: only members of the organisation chosen next to them ----------------------------

  function filterPeople(personSelect) {
    const organisationSelect = document.getElementById(personSelect.dataset.personFor);
    const organisation = organisationSelect ? organisationSelect.value : "";
    Array.from(personSelect.options).forEach((option) => {
      if (!option.value) return;
      const memberOf = (option.dataset.organisations || "").split(" ");
      const offered = memberOf.includes(organisation);
      option.hidden = !offered;
      option.disabled = !offered; // Safari ignores hidden options
      if (!offered && option.selected) personSelect.value = "";
    });
  }

  // --- goals: the unit of the measurement chosen --------------------------------------------

  function fillUnit(select) {
    const unitInput = document.getElementById(select.dataset.fillsUnit);
    const units = document.getElementById("target-units");
    if (!unitInput || !units || unitInput.value) return;
    const unit = JSON.parse(units.textContent)[select.value];
    if (unit) unitInput.value = unit;
  }

  function init(root) {
    root.querySelectorAll("[data-org-search]").forEach((input) => {
      input.hidden = false;
    });
    root.querySelectorAll("[data-person-for]").forEach(filterPeople);
  }

  document.addEventListener("input", (event) => {
    const input = event.target.closest("[data-org-search]");
    if (input) searchOrganisations(input);
  });
  document.addEventListener("keydown", (event) => {
    // Enter in the search box must not submit the form around it.
    if (event.key === "Enter" && event.target.closest("[data-org-search]")) event.preventDefault();
  });
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (select.id) {
      document.querySelectorAll(`[data-person-for="${CSS.escape(select.id)}"]`).forEach(filterPeople);
    }
    if (select.matches("[data-fills-unit]")) fillUnit(select);
  });
  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSettle", (event) => init(event.detail.elt.parentElement || document));
  document.addEventListener("htmx:oobAfterSwap", (event) => init(event.detail.target.parentElement || document));

  // --- htmx: answers with form errors are shown; other failures get a message ----------------

  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if ((xhr.status === 400 || xhr.status === 403) && xhr.getResponseHeader("X-SmartCare-Partial")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function showFailure() {
    const page = document.getElementById("plan-page");
    const flash = document.getElementById("plan-flash");
    if (!page || !flash) return;
    const alert = document.createElement("div");
    alert.className = "alert alert-danger";
    alert.setAttribute("role", "alert");
    alert.textContent = page.dataset.errorMessage || "";
    flash.replaceChildren(alert);
    flash.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("htmx:responseError", (event) => {
    if (!event.detail.xhr.getResponseHeader("X-SmartCare-Partial")) showFailure();
  });
  document.addEventListener("htmx:sendError", showFailure);
})();
