// Active and past grants: who can see what until when; revoke one (with a second tap to confirm); a
// banner when an active grant ends within the warning time (two hours).

import { fill, h, toggle } from "./dom.js";
import { duration, listText, shortId, when } from "./format.js";

const $ = (id) => document.getElementById(id);
const STATUS_TEXT = { active: "Active", "not-yet-valid": "Not started yet", expired: "Ended", revoked: "Revoked" };

function grantItem(grant, { onRevoke, onShow }) {
  const current = grant.status === "active" || grant.status === "not-yet-valid";
  const confirm = h("span", { class: "confirm", hidden: true },
    h("span", {}, "End this grant now? The hospital loses access at once. "),
    h("button", { type: "button", class: "button danger", dataset: { action: "confirm-revoke" },
      onclick: (event) => onRevoke(grant, event.currentTarget) }, "Yes, revoke"),
    h("button", { type: "button", class: "button secondary", dataset: { action: "cancel-revoke" },
      onclick: () => { confirm.hidden = true; revoke.hidden = false; revoke.focus(); } }, "Keep it"));
  const revoke = h("button", { type: "button", class: "button secondary", dataset: { action: "revoke" },
    onclick: () => { revoke.hidden = true; confirm.hidden = false; confirm.querySelector("button").focus(); } }, "Revoke");
  const ends = grant.status === "revoked" ? `revoked ${when(grant.revoked_at)}`
    : grant.status === "expired" ? `ended ${when(grant.expires_at)}`
      : `until ${when(grant.expires_at)} (${duration(grant.seconds_left)} left)`;
  return h("li", {
    class: `item grant status-${grant.status}${grant.expiring_soon ? " expiring" : ""}`,
    dataset: { grantId: grant.id, status: grant.status, expiringSoon: String(grant.expiring_soon) },
  },
  h("p", { class: "title" },
    h("span", { class: `badge status-badge ${grant.status}` }, STATUS_TEXT[grant.status] ?? grant.status),
    grant.expiring_soon ? h("span", { class: "badge expiring-badge" }, "Ends soon") : null,
    h("span", { title: grant.grantee, "data-field": "grantee" }, shortId(grant.grantee))),
  h("p", { "data-field": "scope" }, `Sees your ${listText(grant.scope)}, ${ends}.`),
  h("p", { class: "meta" }, `Grant ${shortId(grant.id)} · made ${when(grant.created)}`),
  current ? h("p", { class: "actions" },
    h("button", { type: "button", class: "button secondary", dataset: { action: "show-qr" }, onclick: () => onShow(grant) },
      "Show QR code and files"),
    revoke, confirm) : null,
  h("p", { class: "form-error", role: "alert", "data-field": "error" }));
}

export function renderGrants(grants, handlers) {
  fill($("grants"), grants.map((grant) => grantItem(grant, handlers)));
  toggle($("no-grants"), grants.length === 0);
  const soon = grants.filter((grant) => grant.expiring_soon);
  const banner = $("expiry-banner");
  if (soon.length) {
    fill(banner, soon.map((grant) => h("span", { class: "line", dataset: { grantId: grant.id } },
      `Your grant to ${shortId(grant.grantee)} ends in ${duration(grant.seconds_left)} (${when(grant.expires_at)}). `,
      "If you are still in hospital, make a new one.")));
    banner.dataset.count = String(soon.length);
  }
  toggle(banner, soon.length > 0);
}
