// The patient's pages: load the ledger, wire the forms, refresh now and then (so the expiry banner and
// the time left on each grant stay right).

import { api } from "./api.js";
import { renderAuditGrants, setupAuditForm } from "./audit.js";
import { announce } from "./dom.js";
import { setupFlagForm } from "./flag.js";
import { renderGrants } from "./grants.js";
import { renderLedger } from "./ledger.js";
import { renderRequests } from "./requests.js";
import { setupShareForm, showGrant } from "./share.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 60 * 1000;
const REQUESTS_MS = 10 * 1000;

async function revoke(grant, button) {
  const item = button.closest("li");
  button.disabled = true;
  try {
    await api.revokeGrant(grant.id);
    announce(`Grant to ${grant.grantee} revoked.`);
    await load();
    $("grants-heading").focus();
  } catch (failure) {
    button.disabled = false;
    const error = item?.querySelector('[data-field="error"]');
    if (error) error.textContent = failure.message || String(failure);
  }
}

async function answer(request, reply, button) {
  const item = button.closest("li");
  button.disabled = true;
  try {
    await api.answerScopeRequest(request.id, reply);
    announce(reply === "approve" ? `You now share your ${request.scope.join(", ")} too.` : "Request declined.");
    await load();
  } catch (failure) {
    button.disabled = false;
    const error = item?.querySelector('[data-field="error"]');
    if (error) error.textContent = failure.message || String(failure);
  }
}

async function load() {
  try {
    const [view, asked] = await Promise.all([api.ledger(), api.scopeRequests()]);
    renderLedger(view);
    renderGrants(view.grants, { onRevoke: revoke, onShow: showGrant });
    renderRequests(asked.requests, view.grants, { onAnswer: answer });
    renderAuditGrants(view.grants);
    const shown = $("share-result").dataset.grantId;
    const current = view.grants.find((grant) => grant.id === shown);
    if (shown && !["active", "not-yet-valid"].includes(current?.status)) $("share-result").hidden = true;
    $("load-error").hidden = true;
    document.body.dataset.loaded = "true";
  } catch (failure) {
    $("load-error").textContent = `Could not read your ledger: ${failure.message || failure}`;
    $("load-error").hidden = false;
  }
}

$("nkda-button").addEventListener("click", async () => {
  const button = $("nkda-button");
  button.disabled = true;
  $("nkda-error").textContent = "";
  try {
    await api.assertNoAllergies();
    announce("Signed: no known drug allergies.");
    await load();
  } catch (failure) {
    $("nkda-error").textContent = failure.message || String(failure);
  } finally {
    button.disabled = false;
  }
});
setupFlagForm(api, () => load());
setupShareForm(api, () => load());
setupAuditForm(api);
document.addEventListener("ledger-changed", () => load());
load();
setInterval(load, REFRESH_MS);
setInterval(async () => {  // a hospital's request shows within seconds
  if (document.hidden || !document.body.dataset.loaded) return;
  try {
    const [view, asked] = await Promise.all([api.ledger(), api.scopeRequests()]);
    renderRequests(asked.requests, view.grants, { onAnswer: answer });
  } catch {
    // the full reload says what is wrong
  }
}, REQUESTS_MS);
