// The scheduled doses of this shift and the next, each with the alerts that concern it and buttons to
// record it as given, held or refused. Giving a dose that an interruptive alert concerns (critical, or a
// drug that could not be checked) takes a second, deliberate press ("Confirm given").

import { nextShiftWindow } from "./board.js";
import { h, fill, icon, idFor } from "./dom.js";
import { capitalise, dateTime, doseText, drugs, interrupts, kindLabel, when } from "./format.js";

const rows = new WeakMap(); // list element -> Map(dose id -> {li, key})

/** Show the doses due from the start of this shift to the end of the next (and overdue ones). */
export function renderDoses(list, board, handlers) {
  if (!board.shift) return;
  if (!rows.has(list)) rows.set(list, new Map());
  const known = rows.get(list);
  const focused = list.contains(document.activeElement) ? document.activeElement.closest("[data-dose-id]") : null;
  const doses = board.dosesBetween(board.shift.start, nextShiftWindow(board.shift).end);
  const wanted = new Set(doses.map((d) => d.id));
  for (const [id, row] of known) {
    if (!wanted.has(id)) {
      row.li.remove();
      known.delete(id);
    }
  }
  doses.forEach((dose, index) => {
    const alerts = board.alertsForDose(dose);
    const key = JSON.stringify([dose, alerts.map((a) => a.jws), board.patientOf(dose.admission), board.shift.start]);
    let row = known.get(dose.id);
    if (!row || row.key !== key) {
      const li = doseRow(dose, alerts, board, handlers);
      if (row) row.li.replaceWith(li);
      row = { li, key };
      known.set(dose.id, row);
    }
    if (list.children[index] !== row.li) list.insertBefore(row.li, list.children[index] ?? null);
  });
  if (focused && !list.contains(document.activeElement)) {
    known.get(focused.dataset.doseId)?.li.querySelector(".dose-title")?.focus();
  }
  const empty = document.getElementById("no-doses");
  if (empty) empty.hidden = doses.length > 0;
}

function doseRow(dose, alerts, board, handlers) {
  const zone = board.timeZone;
  const who = board.patientOf(dose.admission);
  const titleId = idFor("dose-title", dose.id);
  const critical = alerts.filter((a) => interrupts(a.claims));
  const top = alerts[0]?.claims.severity;
  const unchecked = !(dose.ingredients ?? []).length;
  return h("li", {
    class: `dose${alerts.length ? ` at-risk severity-${top}` : ""}${critical.length ? " interruptive" : ""}` +
      `${dose.outcome ? " done" : ""}`,
    dataset: { doseId: dose.id, admission: dose.admission, due: dose.due, outcome: dose.outcome?.status ?? "",
      atRisk: String(alerts.length > 0), unchecked: String(unchecked) },
  },
  h("p", { class: "dose-due" }, h("time", { datetime: dose.due }, when(dose.due, zone, board.shift.start))),
  h("h3", { class: "dose-title", id: titleId, tabindex: "-1" }, doseText(dose) || dose.drug),
  h("p", { class: "dose-patient" }, who ? `Bed ${who.bed} · ${who.patient}` : `Admission ${dose.admission}`),
  alerts.length
    ? h("ul", { class: "dose-alerts" }, alerts.map((a) => h("li", {},
      h("a", { href: `#${idFor("alert", a.id)}` }, icon(interrupts(a.claims) ? "critical" : "warning"),
        a.claims.kind === "unchecked" ? `Not checked (${a.claims.severity}): ${drugs(a.claims)}`
          : a.claims.kind === "overdue" ? `Overdue, no outcome recorded (${a.claims.severity}): ${drugs(a.claims)}`
            : `${capitalise(a.claims.severity)} alert: ${drugs(a.claims)}`))))
    : h("p", { class: "dose-alerts none" }, "No alert concerns this dose."),
  dose.outcome ? outcomeText(dose.outcome, zone) : outcomeForm(dose, critical, titleId, board, handlers));
}

function outcomeText(outcome, zone) {
  return h("p", { class: `dose-outcome outcome-${outcome.status}` },
    h("strong", {}, capitalise(outcome.status)), ` by ${outcome.nurse} at ${dateTime(outcome.recorded_at, zone)}`,
    outcome.note ? `: ${outcome.note}` : "");
}

function outcomeForm(dose, critical, titleId, board, handlers) {
  const noteId = idFor("dose-note", dose.id);
  const note = h("input", { id: noteId, name: "note", type: "text", maxlength: "500", autocomplete: "off" });
  const error = h("p", { class: "form-error", role: "alert" });
  const buttons = ["given", "held", "refused"].map((status) =>
    h("button", { type: "button", class: `button outcome-${status}`, "data-outcome-action": status }, capitalise(status)));
  let confirming = false;
  const given = buttons[0];
  const reset = () => {
    confirming = false;
    given.textContent = "Given";
  };
  const record = async (status) => {
    if (status === "given" && critical.length && !confirming) {
      confirming = true;
      given.textContent = "Confirm given";
      const what = critical[0].claims.severity === "critical" ? "Critical alert" : kindLabel(critical[0].claims.kind);
      error.textContent = `${what} for this dose: ${critical[0].claims.summary} ` +
        "Press “Confirm given” to record it as given anyway.";
      given.focus();
      return;
    }
    error.textContent = "";
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await handlers.recordOutcome(dose.id, status, note.value.trim());
    } catch (failure) {
      error.textContent = failure.message || String(failure);
      reset();
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
  buttons.forEach((button) => button.addEventListener("click", () => {
    const status = button.dataset.outcomeAction;
    if (status !== "given") reset();
    record(status);
  }));
  return h("form", { class: "dose-form", "data-outcome-form": dose.id, "aria-labelledby": titleId,
    onsubmit: (event) => event.preventDefault() },
  h("div", { class: "field" }, h("label", { for: noteId }, "Note (optional)"), note),
  h("div", { class: "actions", role: "group", "aria-label": `Record outcome, due ${dateTime(dose.due, board.timeZone)}` }, buttons),
  error);
}
