// On-screen number keypad for recording measurements on a tablet: digits, the decimal
// separator, backspace and "next field". The inputs keep inputmode="decimal", so the device's
// own number keyboard works too. Loaded with <script defer>; the CSP forbids inline scripts.
(function () {
  "use strict";

  const MAX_LENGTH = 12;

  function fieldsOf(keypad) {
    const form = keypad.closest("form");
    return form ? Array.from(form.querySelectorAll("[data-keypad-input]")) : [];
  }

  function setActive(keypad, input) {
    fieldsOf(keypad).forEach((field) => field.classList.toggle("keypad-active", field === input));
    keypad.activeInput = input;
  }

  function changed(input) {
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function press(keypad, key) {
    const input = keypad.activeInput;
    if (!input) return;
    const value = input.value;
    if (key === "," || key === ".") {
      if (/[.,]/.test(value)) return; // one decimal separator
      input.value = (value || "0") + key;
    } else if (value.length < MAX_LENGTH) {
      input.value = value + key;
    }
    changed(input);
  }

  function backspace(keypad) {
    const input = keypad.activeInput;
    if (!input || !input.value) return;
    input.value = input.value.slice(0, -1);
    changed(input);
  }

  function next(keypad) {
    const fields = fieldsOf(keypad);
    const index = fields.indexOf(keypad.activeInput);
    if (index >= 0 && index < fields.length - 1) {
      setActive(keypad, fields[index + 1]);
      fields[index + 1].scrollIntoView({ block: "nearest" });
      return;
    }
    // After the last value: the save button (focusing a button opens no on-screen keyboard).
    const form = keypad.closest("form");
    const submit = form && form.querySelector("[data-keypad-submit]");
    if (submit) submit.focus();
  }

  function init(keypad) {
    const fields = fieldsOf(keypad);
    if (!fields.length) return;
    keypad.hidden = false;
    const firstEmpty = fields.find((field) => field.classList.contains("is-invalid")) || fields.find((f) => !f.value);
    setActive(keypad, firstEmpty || fields[0]);
    fields.forEach((field) => field.addEventListener("focus", () => setActive(keypad, field)));
    keypad.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button || !keypad.contains(button)) return;
      if (button.dataset.key !== undefined) press(keypad, button.dataset.key);
      else if (button.dataset.keypadAction === "backspace") backspace(keypad);
      else if (button.dataset.keypadAction === "next") next(keypad);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-keypad]").forEach(init);
  });
})();
