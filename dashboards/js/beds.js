// The ward board: one row per occupied bed (bed and patient, allergy status, latest labs, next doses,
// alerts), and apart from it the alerts whose signature did not verify (their bed cannot be trusted).
//
// Rows are kept by admission, alert cards by alert id and dose lines by dose id; an element is moved
// only when its place changes, and focus is put back where the nurse was if a move took it away.

import { allergySlot } from "./allergy.js";
import { nextShiftWindow } from "./board.js";
import { DoseItems } from "./doses.js";
import { h, fill, idFor } from "./dom.js";
import { interrupts } from "./format.js";
import { labsSlot } from "./labs.js";
import { AlertCards } from "./render.js";

/**
 * Slots other parts of the board fill (allergy status, latest labs): each has a data-slot name and
 * says plainly when it has nothing yet. `fillSlot(row, name, content)` puts content in.
 */
export const SLOTS = [
  { name: "allergy-status", label: "Allergies" },
  { name: "labs", label: "Latest labs" },
];
const EMPTY_SLOT = "See chart";

export class WardBoard {
  constructor(list, untrustedList, handlers) {
    this.list = list;
    this.untrustedList = untrustedList;
    this.cards = new AlertCards(handlers);
    this.doses = new DoseItems(handlers);
    this.rows = new Map(); // admission -> {li, heading, alerts, doses, slots}
  }

  render(board) {
    const focused = document.activeElement;
    const focusedItem = this.list.contains(focused) || this.untrustedList.contains(focused)
      ? focused.closest("[data-alert-id], [data-dose-id]") : null;
    const focusKey = focused?.dataset?.focusKey;

    const span = board.shift ? [board.shift.start, nextShiftWindow(board.shift).end] : [];
    const beds = board.beds(...span);
    const shownAlerts = new Set();
    const shownDoses = new Set();
    const wantedRows = new Set(beds.map((bed) => bed.admission));
    for (const [admission, row] of this.rows) {
      if (!wantedRows.has(admission)) {
        row.li.remove();
        this.rows.delete(admission);
      }
    }
    beds.forEach((bed, index) => {
      const row = this.row(bed);
      updateRow(row, bed, board);
      place(this.list, row.li, index);
      bed.doses.forEach((dose, i) => {
        shownDoses.add(dose.id);
        place(row.doses, this.doses.item(dose, board).li, i);
      });
      bed.alerts.forEach((entry, i) => {
        shownAlerts.add(entry.id);
        place(row.alerts, this.cards.card(entry, board).li, i);
      });
      row.noDoses.hidden = bed.doses.length > 0;
      row.noAlerts.hidden = bed.alerts.length > 0;
    });
    board.untrusted().forEach((entry, i) => {
      shownAlerts.add(entry.id);
      place(this.untrustedList, this.cards.card(entry, board).li, i);
    });
    this.cards.prune(shownAlerts);
    this.doses.prune(shownDoses);

    if (focusedItem && !focusedItem.contains(document.activeElement)) {
      const again = focusedItem.isConnected ? focusedItem : null;
      const target = again && focusKey ? again.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) : null;
      (target ?? again?.querySelector(".alert-title, [data-action=record]") ?? document.getElementById("board-heading"))?.focus();
    }
    return { beds: beds.length };
  }

  row(bed) {
    let row = this.rows.get(bed.admission);
    if (row) return row;
    const headingId = idFor("bed", bed.admission);
    const heading = h("h3", { class: "bed-name", id: headingId });
    const slots = Object.fromEntries(SLOTS.map(({ name, label }) => [name,
      h("div", { class: "slot", dataset: { slot: name } },
        h("span", { class: "slot-label" }, `${label}: `),
        h("span", { class: "slot-value slot-empty" }, EMPTY_SLOT))]));
    const doses = h("ul", { class: "bed-doses", "aria-label": "Next doses" });
    const alerts = h("ul", { class: "bed-alerts", "aria-label": "Alerts" });
    const noDoses = h("p", { class: "bed-none" }, "No dose due this shift or next.");
    const noAlerts = h("p", { class: "bed-none" }, "No active alert.");
    const li = h("li", { class: "bed-row", dataset: { admission: bed.admission }, "aria-labelledby": headingId },
      heading, ...Object.values(slots),
      h("div", { class: "bed-doses-cell" }, doses, noDoses),
      h("div", { class: "bed-alerts-cell" }, alerts, noAlerts));
    row = { li, heading, slots, doses, alerts, noDoses, noAlerts, key: "", allergies: "" };
    this.rows.set(bed.admission, row);
    return row;
  }

  /** Open an alert's detail or acknowledge form in place (from the "needs action now" list). */
  open(alertId, what) {
    return this.cards.open(alertId, what);
  }
}

function updateRow(row, bed, board) {
  const top = bed.alerts[0]?.claims.severity ?? "none";
  const waiting = bed.alerts.filter((e) => interrupts(e.claims) && !board.actedOnThisShift(e)).length;
  Object.assign(row.li.dataset, { bed: bed.bed, topSeverity: top, needsAction: String(waiting > 0) });
  row.li.className = `bed-row top-${top}${waiting ? " needs-action" : ""}`;
  const allergies = JSON.stringify(bed.allergyStatus ?? null);
  if (row.allergies !== allergies) {
    fillSlot(row.li, "allergy-status", allergySlot(bed.allergyStatus, board.timeZone));
    row.allergies = allergies;
  }
  const labs = JSON.stringify(bed.labs ?? []);
  if (row.labs !== labs) {
    fillSlot(row.li, "labs", labsSlot(bed.labs, board.timeZone));
    row.labs = labs;
  }
  const key = `${bed.bed}|${bed.patient}`;
  if (row.key !== key) {
    fill(row.heading, h("span", { class: "bed-number" }, h("span", { class: "visually-hidden" }, "Bed "), bed.bed || "?"),
      " ", h("span", { class: "patient-name" }, bed.patient || "Patient not named"));
    row.key = key;
  }
}

/** Put `content` in a row's slot (e.g. "allergy-status"), or the plain "See chart" when there is none. */
export function fillSlot(rowElement, name, content) {
  const slot = rowElement.querySelector(`[data-slot="${CSS.escape(name)}"] .slot-value`);
  if (!slot) return;
  slot.classList.toggle("slot-empty", !content);
  fill(slot, content || EMPTY_SLOT);
}

function place(parent, child, index) {
  if (parent.children[index] !== child) parent.insertBefore(child, parent.children[index] ?? null);
}
