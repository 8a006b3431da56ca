// The idle-timeout warning. The session ends after <body data-session-timeout> seconds without a
// request; two minutes before that the page says so and offers to stay signed in (a ping renews
// the session), so typed text is not lost to a sign-in page. Every request renews the session:
// a page load, an htmx request, and those of the portal's other tabs (shared via localStorage).
// Loaded with <script defer>; the CSP forbids inline scripts.
(function () {
  "use strict";

  const body = document.body;
  const timeout = Number(body.dataset.sessionTimeout) * 1000;
  const box = document.querySelector("[data-session-warning]");
  if (!timeout || !box) {
    return;
  }
  const LEAD = 120 * 1000;
  const KEY = "smartcare:session-renewed";
  const stay = box.querySelector("[data-session-stay]");
  const signIn = box.querySelector("[data-session-sign-in]");
  const warningText = box.querySelector("[data-session-text=warning]");
  const endedText = box.querySelector("[data-session-text=ended]");
  let renewedAt = Date.now();
  let warnTimer = null;
  let endTimer = null;
  let over = false;

  function show(ended) {
    warningText.hidden = ended;
    stay.hidden = ended;
    endedText.hidden = !ended;
    signIn.hidden = !ended;
    box.hidden = false;
  }

  function warn() {
    if (!over) {
      show(false);
    }
  }

  function end() {
    over = true;
    show(true);
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    if (over) {
      return;
    }
    const left = timeout - (Date.now() - renewedAt);
    warnTimer = setTimeout(warn, Math.max(0, left - LEAD));
    endTimer = setTimeout(end, Math.max(0, left));
  }

  function renewed(at) {
    if (over) {
      return;
    }
    renewedAt = Math.max(renewedAt, at);
    box.hidden = true;
    schedule();
  }

  function activity() {
    const now = Date.now();
    try {
      window.localStorage.setItem(KEY, String(now));
    } catch (error) {
      // storage may be disabled: this tab still keeps its own time
    }
    renewed(now);
  }

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  stay.addEventListener("click", () => {
    stay.disabled = true;
    fetch(body.dataset.sessionKeepalive, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    })
      .then((response) => {
        if (response.status === 204) {
          activity();
        } else {
          end();
        }
      })
      .catch(() => {
        // offline for a moment: the warning stays and the button can be tried again
      })
      .finally(() => {
        stay.disabled = false;
      });
  });

  window.addEventListener("storage", (event) => {
    if (event.key === KEY && event.newValue) {
      renewed(Number(event.newValue));
    }
  });
  document.addEventListener("htmx:afterRequest", activity);
  // Timers in a hidden tab may fire late: recount when the tab is shown again.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      schedule();
    }
  });
  activity();
})();
