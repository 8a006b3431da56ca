// The idle-timeout warning. The session ends <body data-session-timeout> seconds after the page
// was served unless another request renews it; two minutes before that the page says so and offers
// to stay signed in (a ping renews the session), so typed text is not lost to a sign-in page.
// A request renews the session at most once every data-session-renew seconds, so after an htmx
// request (or one of the portal's other tabs, shared via localStorage) the session lasts at least
// data-session-age minus data-session-renew seconds; the ping renews it for data-session-age.
// Loaded with <script defer>; the CSP forbids inline scripts.
(function () {
  "use strict";

  const body = document.body;
  const timeout = Number(body.dataset.sessionTimeout) * 1000;
  const age = Number(body.dataset.sessionAge) * 1000 || timeout;
  const afterRequest = Math.max(0, age - (Number(body.dataset.sessionRenew) * 1000 || 0));
  const box = document.querySelector("[data-session-warning]");
  if (!timeout || !box) {
    return;
  }
  const LEAD = 120 * 1000;
  const KEY = "smartcare:session-expires";
  const stay = box.querySelector("[data-session-stay]");
  const signIn = box.querySelector("[data-session-sign-in]");
  const warningText = box.querySelector("[data-session-text=warning]");
  const endedText = box.querySelector("[data-session-text=ended]");
  let expiresAt = Date.now() + timeout;
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
    const left = expiresAt - Date.now();
    warnTimer = setTimeout(warn, Math.max(0, left - LEAD));
    endTimer = setTimeout(end, Math.max(0, left));
  }

  function renewed(until) {
    if (over) {
      return;
    }
    expiresAt = Math.max(expiresAt, until);
    box.hidden = true;
    schedule();
  }

  function activity(lasting) {
    const until = Date.now() + lasting;
    try {
      window.localStorage.setItem(KEY, String(Math.max(expiresAt, until)));
    } catch (error) {
      // storage may be disabled: this tab still keeps its own time
    }
    renewed(until);
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
          activity(age);
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
  document.addEventListener("htmx:afterRequest", () => activity(afterRequest));
  // Timers in a hidden tab may fire late: recount when the tab is shown again.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      schedule();
    }
  });
  activity(timeout);
})();
