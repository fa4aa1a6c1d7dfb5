// Requests from a hospital to see more of the ledger: who asks, for what, why. She approves (a new grant
// with the old scope and the new, to the same hospital, ending when the old grant ends) or declines.

import { fill, h, toggle } from "./dom.js";
import { listText, shortId, when } from "./format.js";

const $ = (id) => document.getElementById(id);
const STATUS_TEXT = { pending: "Awaiting your answer", approved: "Approved", declined: "Declined" };

function requestItem(request, grant, { onAnswer }) {
  const until = grant ? ` until ${when(grant.expires_at)}, when your grant to them ends` : "";
  const pending = request.status === "pending";
  return h("li", { class: `item scope-request status-${request.status}`, dataset: { requestId: request.id, status: request.status } },
    h("p", { class: "title" },
      h("span", { class: `badge status-badge ${request.status}` }, STATUS_TEXT[request.status] ?? request.status),
      h("span", { title: request.grantee, "data-field": "grantee" }, shortId(request.grantee))),
    h("p", { "data-field": "asks" }, `Asks to see your ${listText(request.scope)} too${pending ? until : ""}.`),
    h("p", { "data-field": "reason" }, `Why: “${request.reason}”`),
    h("p", { class: "meta" }, `Asked ${when(request.requested_at)}`,
      request.admission ? ` · admission ${request.admission}` : "",
      request.answered_at ? ` · answered ${when(request.answered_at)}` : ""),
    pending ? h("p", { class: "actions" },
      h("button", { type: "button", class: "button primary", dataset: { action: "approve" },
        onclick: (event) => onAnswer(request, "approve", event.currentTarget) }, `Share my ${listText(request.scope)}`),
      h("button", { type: "button", class: "button secondary", dataset: { action: "decline" },
        onclick: (event) => onAnswer(request, "decline", event.currentTarget) }, "Decline")) : null,
    h("p", { class: "form-error", role: "alert", "data-field": "error" }));
}

export function renderRequests(requests, grants, handlers) {
  const byId = Object.fromEntries(grants.map((grant) => [grant.id, grant]));
  fill($("scope-requests"), requests.map((request) => requestItem(request, byId[request.grant], handlers)));
  toggle($("no-scope-requests"), requests.length === 0);
  const waiting = requests.filter((request) => request.status === "pending").length;
  const banner = $("requests-banner");
  banner.textContent = waiting ? `A hospital asks to see more of your ledger (${waiting} request${waiting === 1 ? "" : "s"}).` : "";
  toggle(banner, waiting > 0);
}
