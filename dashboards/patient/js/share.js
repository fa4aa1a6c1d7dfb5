// Share with an appointment: what (medications, allergies, reactions), with whom (the hospital's id),
// for how long. The result is the grant: a QR code of the grant link, and the grant and slice files.

import { announce, fill, h, toggle } from "./dom.js";
import { duration, listText, when } from "./format.js";

const $ = (id) => document.getElementById(id);
const ID_PATTERN = /ed25519:[A-Za-z0-9_-]{43}/;

/** Show a grant's QR code, link and files in #share-result. */
export function showGrant(grant) {
  const result = $("share-result");
  result.dataset.grantId = grant.id;
  $("grant-qr").src = grant.files.qr;
  $("grant-qr").alt = `QR code of the grant for ${grant.grantee}`;
  $("grant-link").textContent = grant.link;
  $("grant-file-link").href = grant.files.grant;
  $("slice-file-link").href = grant.files.slice;
  fill($("share-expires"), "Shares your ", h("strong", {}, listText(grant.scope)), ` with ${grant.grantee} until `,
    h("strong", {}, when(grant.expires_at)), ` (${duration(grant.seconds_left)} from now).`);
  toggle(result, true);
  result.focus();
}

export function setupShareForm(api, onShared) {
  const form = $("share-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("share-error");
    error.textContent = "";
    const scope = [...form.querySelectorAll('input[name="scope"]:checked')].map((box) => box.value);
    const typed = $("grantee").value.trim();
    const grantee = typed.match(ID_PATTERN)?.[0] ?? typed; // a pasted QR text may carry more than the id
    const hours = Number($("hours").value);
    const problem = !scope.length ? "Choose at least one thing to share."
      : !grantee.startsWith("ed25519:") ? "Enter the hospital's id: it starts with ed25519:."
      : !(hours > 0) ? "Enter for how many hours (1 or more)." : "";
    $("grantee").setAttribute("aria-invalid", String(problem.includes("id")));
    $("hours").setAttribute("aria-invalid", String(problem.includes("hours")));
    if (problem) {
      error.textContent = problem;
      return;
    }
    const button = $("share-submit");
    button.disabled = true;
    try {
      const answer = await api.createGrant({ grantee, scope, hours });
      showGrant(answer.grant);
      announce(`Grant created for ${listText(scope)}, for ${hours} hours.`);
      onShared(answer.grant);
    } catch (failure) {
      error.textContent = failure.message || String(failure);
    } finally {
      button.disabled = false;
    }
  });
}
