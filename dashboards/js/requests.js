// The ward's requests to patients for a wider scope ("requested, awaiting the patient", then her answer),
// as the ward's event stream reports them (events of type "scope-request").

import { fill, h } from "./dom.js";

/** Show `requests` (a Map of request id -> the event's data), newest first; hide the section when empty. */
export function renderScopeRequests(section, list, requests) {
  const items = [...requests.values()].sort((a, b) => String(b.requested_at).localeCompare(String(a.requested_at)));
  fill(list, items.map((request) => h("li", { class: `scope-request status-${request.status}`, dataset: { requestId: request.id, status: request.status } },
    h("strong", {}, request.bed ? `Bed ${request.bed}` : "A patient"), ": ",
    h("span", { "data-field": "scope" }, (request.scope ?? []).join(", ")), " — ",
    h("span", { "data-field": "status" }, request.status_text ?? request.status),
    request.requested_by ? h("span", { class: "meta" }, ` (asked by ${request.requested_by})`) : null)));
  section.hidden = items.length === 0;
}
