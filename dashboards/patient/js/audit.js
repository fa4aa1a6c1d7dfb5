// Who looked at what: the hospital's audit trail for one admission, fetched by the ledger server with a
// request signed by the patient's key. The hospital's address and admission id are kept per grant in
// this browser's localStorage (nothing secret: the hospital answers only to the patient's signature).

import { fill, h, toggle } from "./dom.js";
import { shortId, when } from "./format.js";

const $ = (id) => document.getElementById(id);
const KEY = (grantId) => `alertsvc.patient.audit.${grantId}`;
const ACTIONS = {
  admit: "admitted you and read the shared information",
  "update-slice": "received new entries from your ledger",
  "read-audit": "you read this log",
  "open-stream": "opened the ward's live alerts",
  acknowledge: "acknowledged an alert",
};

function remembered(grantId) {
  try {
    return JSON.parse(localStorage.getItem(KEY(grantId)) || "{}");
  } catch {
    return {};
  }
}

function fillFromMemory() {
  const saved = remembered($("audit-grant").value);
  $("hospital-url").value = saved.hospitalUrl ?? "";
  $("admission-id").value = saved.admission ?? "";
}

/** Offer every grant in the select, keeping the current choice when it is still there. */
export function renderAuditGrants(grants) {
  const select = $("audit-grant");
  const before = select.value;
  fill(select, grants.map((grant) => h("option", { value: grant.id },
    `${shortId(grant.grantee)} · ${grant.status} · ${when(grant.created)}`)));
  if (grants.some((grant) => grant.id === before)) select.value = before;
  else fillFromMemory();
}

function auditItem(record) {
  const detail = Object.entries(record.detail ?? {}).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  return h("li", { class: "item", dataset: { seq: String(record.seq), action: record.action } },
    h("p", { class: "title" }, h("span", { "data-field": "actor" }, record.actor), " ",
      h("span", { "data-field": "action" }, ACTIONS[record.action] ?? record.action)),
    h("p", { class: "meta" }, when(record.at), record.ward ? ` · ward ${record.ward}` : "",
      detail.length ? ` · ${detail.join(", ")}` : ""));
}

export function setupAuditForm(api) {
  $("audit-grant").addEventListener("change", fillFromMemory);
  $("audit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("audit-error");
    error.textContent = "";
    const grant = $("audit-grant").value;
    const hospitalUrl = $("hospital-url").value.trim();
    const admission = $("admission-id").value.trim();
    if (!grant || !hospitalUrl || !admission) {
      error.textContent = !grant ? "Make a grant first: the log belongs to one." : "Enter the hospital's address and the admission id.";
      return;
    }
    localStorage.setItem(KEY(grant), JSON.stringify({ hospitalUrl, admission }));
    const button = $("audit-submit");
    button.disabled = true;
    try {
      const answer = await api.audit({ grant, hospitalUrl, admission });
      fill($("audit"), answer.audit.map(auditItem));
      toggle($("audit-empty"), answer.audit.length === 0);
      $("audit-summary").textContent =
        `${answer.audit.length} entries in the log of admission ${answer.admission}, read ${when(answer.fetched_at)}.`;
    } catch (failure) {
      error.textContent = failure.message || String(failure);
    } finally {
      button.disabled = false;
    }
  });
}
