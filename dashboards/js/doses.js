// A bed's next doses on the ward board: one line each (due time, drug, the alerts that concern it) and a
// "Record" button that opens, in place, the form to record it as given, held or refused. Giving a dose
// that an interruptive alert concerns (critical, or a drug that could not be checked) takes a second,
// deliberate press ("Confirm given").

import { h, icon, idFor } from "./dom.js";
import { capitalise, clock, doseText, drugs, interrupts, kindLabel, when } from "./format.js";
import { TIER_ICON } from "./render.js";

/** A line for every dose id, rebuilt only when the dose, its alerts or the shift change. */
export class DoseItems {
  constructor(handlers) {
    this.handlers = handlers;
    this.items = new Map(); // dose id -> {li, key}
  }

  item(dose, board) {
    const alerts = board.alertsForDose(dose);
    const key = JSON.stringify([dose, alerts.map((a) => a.jws), board.shift?.start]);
    let item = this.items.get(dose.id);
    if (!item || item.key !== key) {
      const open = item ? !item.li.querySelector("form[data-outcome-form]")?.hidden : false;
      const li = doseLine(dose, alerts, board, this.handlers);
      if (open) li.querySelector("[data-action=record]")?.click();
      if (item) item.li.replaceWith(li);
      item = { li, key };
      this.items.set(dose.id, item);
    }
    return item;
  }

  prune(wanted) {
    for (const [id, item] of this.items) {
      if (!wanted.has(id)) {
        item.li.remove();
        this.items.delete(id);
      }
    }
  }
}

function doseLine(dose, alerts, board, handlers) {
  const zone = board.timeZone;
  const titleId = idFor("dose-title", dose.id);
  const critical = alerts.filter((a) => interrupts(a.claims));
  const top = alerts[0]?.claims.severity;
  const unchecked = !(dose.ingredients ?? []).length;
  const form = dose.outcome ? null : outcomeForm(dose, critical, titleId, board, handlers);
  const what = [h("time", { class: "dose-due", datetime: dose.due }, when(dose.due, zone, board.shift?.start)), " ",
    h("span", { class: "dose-title", id: titleId }, doseText(dose) || dose.drug)];
  // Not yet recorded: the dose itself is the button that opens its form in place.
  const record = form ? h("button", { type: "button", class: "dose-button", "aria-expanded": "false",
    "aria-controls": form.id, "data-action": "record" }, ...what,
  h("span", { class: "visually-hidden" }, ": record given, held or refused")) : null;
  record?.addEventListener("click", () => {
    const opening = form.hidden;
    form.hidden = !opening;
    record.setAttribute("aria-expanded", String(opening));
    if (opening) form.querySelector("input")?.focus();
  });
  return h("li", {
    class: `dose${alerts.length ? ` at-risk severity-${top}` : ""}${critical.length ? " interruptive" : ""}` +
      `${dose.outcome ? " done" : ""}`,
    dataset: { doseId: dose.id, admission: dose.admission, due: dose.due, outcome: dose.outcome?.status ?? "",
      atRisk: String(alerts.length > 0), unchecked: String(unchecked) },
  },
  h("p", { class: "dose-line" },
    record ?? h("span", { class: "dose-recorded" }, ...what),
    alerts.length ? h("span", { class: "dose-alerts" }, alerts.map((a) => h("a", {
      href: `#${idFor("alert", a.id)}`, class: `dose-alert tier-${a.claims.severity}` },
    icon(TIER_ICON[a.claims.severity] ?? "minor"),
    h("span", { class: "visually-hidden" }, doseAlertText(a.claims))))) : null,
    dose.outcome ? outcomeText(dose.outcome, zone) : null),
  form);
}

/** How a dose's alert is named beside it (said to screen readers; the icon shows its tier). */
function doseAlertText(claims) {
  if (claims.kind === "unchecked") return `Not checked (${claims.severity}) alert: ${drugs(claims)}`;
  if (claims.kind === "overdue") return `Overdue, no outcome recorded (${claims.severity}): ${drugs(claims)}`;
  return `${capitalise(claims.severity)} alert: ${drugs(claims)}`;
}

function outcomeText(outcome, zone) {
  return h("span", { class: `dose-outcome outcome-${outcome.status}` },
    icon("done"), h("strong", {}, capitalise(outcome.status)), ` by ${outcome.nurse}, ${clock(outcome.recorded_at, zone)}`,
    outcome.note ? `: ${outcome.note}` : "");
}

function outcomeForm(dose, critical, titleId, board, handlers) {
  const formId = idFor("dose-form", dose.id);
  const noteId = idFor("dose-note", dose.id);
  const note = h("input", { id: noteId, name: "note", type: "text", maxlength: "500", autocomplete: "off" });
  const error = h("p", { class: "form-error", role: "alert" });
  const buttons = ["given", "held", "refused"].map((status) =>
    h("button", { type: "button", class: `button small outcome-${status}`, "data-outcome-action": status }, capitalise(status)));
  let confirming = false;
  const given = buttons[0];
  const stops = critical.filter((a) => a.claims.severity === "critical");
  const override = stops.length ? overrideFields(dose, board) : null;
  const reset = () => {
    confirming = false;
    given.textContent = "Given";
    if (override) override.root.hidden = true;
  };
  const record = async (status) => {
    if (status === "given" && override) { // a critical alert: a coded reason and who gave it
      if (!confirming) {
        confirming = true;
        override.root.hidden = false;
        given.textContent = "Confirm given";
        error.textContent = `Critical alert for this dose: ${stops[0].claims.summary} ` +
          "To give it anyway, choose a reason and name the nurse giving it, then press “Confirm given”.";
        override.reason.focus();
        return;
      }
      const missing = override.missing();
      if (missing) {
        error.textContent = missing;
        return;
      }
    } else if (status === "given" && critical.length && !confirming) {
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
      await handlers.recordOutcome(dose.id, status, note.value.trim(),
        status === "given" && override ? override.value() : undefined);
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
  const form = h("form", { id: formId, class: "dose-form", hidden: true, "data-outcome-form": dose.id, "aria-labelledby": titleId,
    onsubmit: (event) => event.preventDefault() },
  h("div", { class: "field" }, h("label", { for: noteId }, "Note (optional)"), note),
  override?.root ?? null,
  h("div", { class: "actions", role: "group", "aria-label": "Record this dose as" }, buttons),
  error);
  return form;
}

/** The override reason, the giving nurse's name and a text: needed to give a dose under a critical alert. */
function overrideFields(dose, board) {
  const reasonId = idFor("override-reason", dose.id);
  const nurseId = idFor("override-nurse", dose.id);
  const textId = idFor("override-text", dose.id);
  const reason = h("select", { id: reasonId, name: "override-reason" },
    h("option", { value: "" }, "Choose a reason…"),
    (board.overrideReasons ?? []).map((r) => h("option", { value: r.code }, r.display)));
  const nurse = h("input", { id: nurseId, name: "override-nurse", type: "text", maxlength: "200", autocomplete: "off" });
  const text = h("input", { id: textId, name: "override-text", type: "text", maxlength: "500", autocomplete: "off" });
  const root = h("fieldset", { class: "override", hidden: true },
    h("legend", {}, "Giving under a critical alert"),
    h("div", { class: "field" }, h("label", { for: reasonId }, "Reason"), reason),
    h("div", { class: "field" }, h("label", { for: nurseId }, "Nurse giving the dose"), nurse),
    h("div", { class: "field" }, h("label", { for: textId }, "Details (needed for “Other”)"), text));
  return {
    root,
    reason,
    missing() {
      for (const [field, message] of [[reason, "Choose a reason for giving it."], [nurse, "Name the nurse giving the dose."]]) {
        if (!field.value.trim()) {
          field.setAttribute("aria-invalid", "true");
          field.focus();
          return message;
        }
        field.removeAttribute("aria-invalid");
      }
      if (reason.value === "other" && !text.value.trim()) {
        text.focus();
        return "Say why in the details.";
      }
      return "";
    },
    value: () => ({ code: reason.value, nurse: nurse.value.trim(), text: text.value.trim() }),
  };
}
