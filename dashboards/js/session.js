// Signing in and out: the nurse pastes a staff token; it lives in sessionStorage for this tab only.
// Both pages use this. A page calls `beginSession(onSignedIn)`; `endSession(message)` forgets the
// token and shows the sign-in form again with the message.

import { forgetToken, readStaffToken, storeToken, storedToken } from "./api.js";

const FLASH_KEY = "alertsvc-flash"; // survives forgetToken(), read once

/** Start from the stored token, or show the sign-in form; `onSignedIn(token, staff)` when signed in. */
export function beginSession(onSignedIn) {
  const form = document.getElementById("signin-form");
  const flash = sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  const token = storedToken();
  if (token) {
    try {
      const staff = readStaffToken(token);
      showSignedIn(staff);
      onSignedIn(token, staff);
      return;
    } catch (error) {
      forgetToken();
      showSignIn(error.message);
      return;
    }
  }
  showSignIn(flash || "");
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const field = document.getElementById("token");
    const pasted = field.value.replace(/\s+/g, "");
    try {
      const staff = readStaffToken(pasted);
      storeToken(pasted);
      field.value = "";
      field.removeAttribute("aria-invalid");
      showSignedIn(staff);
      onSignedIn(pasted, staff);
    } catch (error) {
      field.setAttribute("aria-invalid", "true");
      document.getElementById("signin-error").textContent = error.message;
      field.focus();
    }
  });
}

/** Forget the token and start again at the sign-in form, saying why. */
export function endSession(message) {
  forgetToken();
  if (message) sessionStorage.setItem(FLASH_KEY, message);
  location.reload();
}

function showSignIn(message) {
  document.getElementById("signin").hidden = false;
  document.getElementById("app").hidden = true;
  document.getElementById("session").hidden = true;
  document.getElementById("signin-error").textContent = message;
  document.getElementById("token")?.focus();
}

function showSignedIn(staff) {
  document.getElementById("signin").hidden = true;
  document.getElementById("app").hidden = false;
  document.getElementById("session").hidden = false;
  document.getElementById("user").textContent = staff.name;
  document.getElementById("ward").textContent = staff.ward;
  document.getElementById("signout").addEventListener("click", () => endSession("You have signed out."), { once: true });
}
