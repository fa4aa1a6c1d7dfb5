// Signing in and out: the nurse opens a sign-in link (`alertsvc staff token --link`: the token in the
// URL fragment, which the browser never sends to the server) or pastes a staff token; it lives in
// sessionStorage for this tab only, and the link's token is removed from the address bar at once.
// Both pages use this. A page calls `beginSession(onSignedIn)`; `endSession(message)` forgets the
// token and shows the sign-in form again with the message. `warnBeforeExpiry` shows, before the token
// expires, a way to paste a new one without leaving the page.

import { forgetToken, readStaffToken, storeToken, storedToken } from "./api.js";
import { clock } from "./format.js";

const FLASH_KEY = "alertsvc-flash"; // survives forgetToken(), read once
export const WARN_BEFORE_MS = 10 * 60 * 1000; // the warning shows this long before the token expires

/** The token a sign-in link carries in its fragment (`#token=...`), taken out of the address bar. */
function tokenFromLink() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = fragment.get("token");
  if (token === null) return "";
  history.replaceState(history.state, "", location.pathname + location.search);
  return token.replace(/\s+/g, "");
}

/** A pasted token, or the token of a pasted sign-in link. */
function readPasted(text) {
  const pasted = text.replace(/\s+/g, "");
  const at = pasted.indexOf("#token=");
  return at >= 0 ? pasted.slice(at + "#token=".length) : pasted;
}

/** Start from a sign-in link, the stored token, or the sign-in form; `onSignedIn(token, staff)` when signed in. */
export function beginSession(onSignedIn) {
  const form = document.getElementById("signin-form");
  const flash = sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  const linked = tokenFromLink();
  if (linked) {
    try {
      readStaffToken(linked);
      storeToken(linked); // the link's token becomes this tab's sign-in
    } catch (error) {
      showSignIn(`The sign-in link did not work: ${error.message}`);
      return wireForm(form, onSignedIn);
    }
  }
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
  wireForm(form, onSignedIn);
}

function wireForm(form, onSignedIn) {
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const field = document.getElementById("token");
    const pasted = readPasted(field.value);
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

/**
 * Show the renewal panel: the token ends soon; paste a new one (or a sign-in link) to stay signed in.
 * `onRenewed(token, staff)` gets a new token of the same ward; the page and what is typed in it stay.
 */
export function warnBeforeExpiry(staff, onRenewed) {
  const panel = document.getElementById("renew");
  if (!panel) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.getElementById("renew-message").textContent =
    `Your sign-in ends at ${clock(staff.exp.toISOString(), zone)}. Paste a new staff token or sign-in link to stay signed in; this page stays as it is.`;
  panel.hidden = false;
  const form = document.getElementById("renew-form");
  const field = document.getElementById("renew-token");
  const error = document.getElementById("renew-error");
  form.onsubmit = (event) => {
    event.preventDefault();
    const token = readPasted(field.value);
    try {
      const renewed = readStaffToken(token);
      if (renewed.ward !== staff.ward) throw new Error(`This token is for ward ${renewed.ward}, not ${staff.ward}.`);
      storeToken(token);
      field.value = "";
      error.textContent = "";
      field.removeAttribute("aria-invalid");
      panel.hidden = true;
      document.getElementById("user").textContent = renewed.name;
      onRenewed(token, renewed);
    } catch (failure) {
      field.setAttribute("aria-invalid", "true");
      error.textContent = failure.message;
      field.focus();
    }
  };
}
