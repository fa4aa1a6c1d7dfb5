// A patient's allergy status in words (the service says which of four it is): known allergies, none
// known (who asserted it and when), not recorded, or not shared by the patient's grant. Neither "not
// recorded" nor "not shared" means "no allergies", and the words say so.

import { h } from "./dom.js";
import { dateTime } from "./format.js";

const STATE_TEXT = {
  known: "Known allergies",
  "none-known": "No known drug allergies",
  "not-recorded": "Allergies not recorded",
  "not-shared": "Allergies not shared",
};

/** Short words for the board's narrow column; the full sentence is said to screen readers and on hover. */
const STATE_SHORT = {
  "none-known": "NKDA",
  "not-recorded": "Not recorded",
  "not-shared": "Not shared",
};

/** "Allergies not recorded: ask the patient", "Known allergies: penicillin", ... */
export function allergyText(status, zone) {
  let text = STATE_TEXT[status.state] ?? String(status.label ?? status.state);
  if (status.state === "known") {
    text += `: ${(status.allergies ?? []).map((a) => a.substance).join(", ")}`;
  } else if (status.state === "none-known" && status.assertion) {
    const a = status.assertion;
    text += ` (asserted by ${a.recorder ?? a.asserted_by}, ${dateTime(a.asserted_at, zone)})`;
  } else if (status.state === "not-recorded") {
    text += ": ask the patient";
  } else if (status.state === "not-shared") {
    text += " by the patient's grant";
  }
  return text;
}

/** The full line, as an alert's detail shows it. */
export function allergyLine(status, zone) {
  if (!status) return null;
  return h("p", { class: `allergy-status allergy-${status.state}`, dataset: { allergyState: status.state } },
    allergyText(status, zone));
}

/** The board's allergy slot: short words on screen (the substances when known), the sentence to screen readers. */
export function allergySlot(status, zone) {
  if (!status) return null;
  const text = allergyText(status, zone);
  const short = status.state === "known"
    ? (status.allergies ?? []).map((a) => a.substance).join(", ") || "Known"
    : STATE_SHORT[status.state] ?? text;
  return h("span", { class: `allergy-status allergy-${status.state}`, dataset: { allergyState: status.state }, title: text },
    h("span", { class: "allergy-short", "aria-hidden": "true" }, short),
    h("span", { class: "visually-hidden" }, text));
}
