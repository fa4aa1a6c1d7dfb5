// The ledger's clinical entries: medications (stopped ones marked), allergies, flagged reactions, test
// results (observations), each with who signed it.

import { fill, h, toggle } from "./dom.js";
import { capitalise, signedBy, when } from "./format.js";

const $ = (id) => document.getElementById(id);

function signer(item) {
  return h("span", { class: `signer ${item.signed_by}`, title: item.author, "data-field": "signed-by" }, signedBy(item));
}

function medicationItem(item) {
  const stopped = item.status === "stopped";
  return h("li", {
    class: `item${stopped ? " stopped" : ""}`,
    dataset: { entryId: item.entry, status: item.status, signedBy: item.signed_by },
  },
  h("p", { class: "title" },
    h("span", { "data-field": "drug" }, item.drug),
    stopped ? h("span", { class: "badge stopped-badge" }, "Stopped") : null),
  item.dose ? h("p", { "data-field": "dose" }, item.dose) : null,
  h("p", { class: "meta" }, signer(item), ` · ${stopped ? "stopped" : "recorded"} ${when(item.recorded)}`));
}

function allergyItem(item) {
  return h("li", { class: "item", dataset: { entryId: item.entry, signedBy: item.signed_by } },
    h("p", { class: "title" }, h("span", { "data-field": "substance" }, item.substance),
      item.criticality === "high" ? h("span", { class: "badge high-badge" }, "High risk") : null),
    item.reaction ? h("p", { "data-field": "reaction" }, item.reaction) : null,
    h("p", { class: "meta" }, signer(item), ` · ${when(item.recorded)}`));
}

function reactionItem(item) {
  return h("li", {
    class: `item reaction severity-${item.severity ?? "unknown"}`,
    dataset: { entryId: item.entry, severity: item.severity ?? "", signedBy: item.signed_by },
  },
  h("p", { class: "title" }, h("span", { "data-field": "drug" }, item.drug),
    h("span", { class: "badge severity-badge" }, item.severity ? capitalise(item.severity) : "Severity not given")),
  h("p", { "data-field": "reaction" }, item.reaction),
  h("p", { class: "meta" }, signer(item), ` · ${when(item.recorded)}`));
}

function observationItem(item) {
  return h("li", { class: "item observation", dataset: { entryId: item.entry, code: item.code, signedBy: item.signed_by } },
    h("p", { class: "title" }, h("span", { "data-field": "result" }, item.text)),
    h("p", { "data-field": "measured" }, `Measured ${when(item.measured)} (LOINC ${item.code})`),
    h("p", { class: "meta" }, signer(item), ` · ${when(item.recorded)}`));
}

function renderList(listId, emptyId, items, render) {
  fill($(listId), items.map(render));
  toggle($(emptyId), items.length === 0);
}

export function renderLedger(view) {
  $("patient-id").textContent = view.patient;
  $("head").textContent = `Latest signed head: ${view.head.seq}, ${when(view.head.timestamp)}.`;
  const medications = [...view.medications].sort((a, b) =>
    (a.status === "stopped") - (b.status === "stopped") || a.drug.localeCompare(b.drug));
  renderList("medications", "no-medications", medications, medicationItem);
  renderList("allergies", "no-allergies", view.allergies, allergyItem);
  renderAllergyStatus(view.allergy_status);
  renderList("reactions", "no-reactions", [...view.reactions].reverse(), reactionItem);
  renderList("observations", "no-observations", [...(view.observations ?? [])].reverse(), observationItem);
}

/** Known allergies, "no known drug allergies" (who said so, when), or not recorded: the hospital sees the
 * same words. The "no known drug allergies" button is offered only while nothing is recorded. */
function renderAllergyStatus(status) {
  const line = $("allergy-status");
  if (!status) return;
  line.dataset.state = status.state;
  if (status.state === "none-known") {
    const a = status.assertion;
    const who = a.asserted_by === "patient" ? "you" : (a.recorder ?? "a practitioner");
    line.textContent = `No known drug allergies, signed by ${who} ${when(a.asserted_at)}.`;
  } else if (status.state === "known") {
    line.textContent = status.superseded
      ? "Allergies recorded (they replace your earlier \u201cno known drug allergies\u201d)."
      : "Allergies recorded.";
  } else {
    line.textContent = "Not recorded: a hospital cannot tell whether you have allergies.";
  }
  toggle($("nkda"), status.state === "not-recorded");
  toggle($("no-allergies"), false);
}
