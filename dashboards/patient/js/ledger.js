// The ledger's clinical entries: medications (stopped ones marked), allergies, flagged reactions, test
// results (observations), each with who signed it.

import { api } from "./api.js";
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

/**
 * Under an entry a practitioner wrote: her own notes on it, and a small form to add one (a new entry
 * signed by her; the practitioner's entry is never changed).
 */
function notesOf(item) {
  if (!item.recorded_by) return null;
  const inputId = `note-${item.entry.replace(/[^A-Za-z0-9]/g, "").slice(-16)}`;
  const error = h("p", { class: "form-error", role: "alert", "data-field": "note-error" });
  const input = h("input", { type: "text", id: inputId, maxlength: "2000", autocomplete: "off" });
  const form = h("form", { class: "note-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!input.value.trim()) {
      error.textContent = "Write your note first.";
      return;
    }
    try {
      await api.addNote(item.entry, input.value);
      document.dispatchEvent(new CustomEvent("ledger-changed"));
    } catch (failure) {
      error.textContent = failure.message || String(failure);
    }
  } },
  h("label", { for: inputId }, "Add my own note"), input,
  h("button", { type: "submit", class: "button", "data-field": "add-note" }, "Add note"), error);
  return h("div", { class: "notes" },
    h("ul", { class: "note-list" }, (item.notes ?? []).map((note) =>
      h("li", { "data-field": "note", dataset: { noteId: note.entry } }, `My note, ${when(note.recorded)}: ${note.text}`))),
    form);
}

function allergyItem(item) {
  return h("li", { class: "item", dataset: { entryId: item.entry, signedBy: item.signed_by } },
    h("p", { class: "title" }, h("span", { "data-field": "substance" }, item.substance),
      item.criticality === "high" ? h("span", { class: "badge high-badge" }, "High risk") : null),
    item.reaction ? h("p", { "data-field": "reaction" }, item.reaction) : null,
    h("p", { class: "meta" }, signer(item), ` · ${when(item.recorded)}`),
    notesOf(item));
}

function reactionItem(item) {
  return h("li", {
    class: `item reaction severity-${item.severity ?? "unknown"}`,
    dataset: { entryId: item.entry, severity: item.severity ?? "", signedBy: item.signed_by },
  },
  h("p", { class: "title" }, h("span", { "data-field": "drug" }, item.drug),
    h("span", { class: "badge severity-badge" }, item.severity ? capitalise(item.severity) : "Severity not given")),
  h("p", { "data-field": "reaction" }, item.reaction),
  h("p", { class: "meta" }, signer(item), ` · ${when(item.recorded)}`),
  notesOf(item));
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
