// A patient's latest labs for the board's narrow column: the latest value of each analyte the check uses
// (INR, potassium, creatinine, eGFR, QTc), with the day it was measured; a value too old for the check to
// use says so ("old, not used"), as the service marks it.

import { h } from "./dom.js";
import { day } from "./format.js";

/** The slot's content, or null when the service knows no value (the slot then says "See chart"). */
export function labsSlot(labs, zone) {
  if (!labs || labs.length === 0) return null;
  return h("ul", { class: "labs" }, ...labs.map((lab) => h("li", {
    class: lab.stale ? "lab lab-stale" : "lab",
    dataset: { analyte: lab.analyte, stale: String(Boolean(lab.stale)) },
  }, `${lab.text}, ${day(lab.measured, zone)}`, lab.stale ? " (old, not used)" : "")));
}
