// Clinical actions on an alert card: "Hold dose and tell prescriber", the prescriber's answer, and what
// earlier shifts did (a follow-up awaiting the prescriber, doses given under the alert with their reason,
// a prescriber's override upstream in CDS Hooks). Plain words and the ward's 24-hour time: no ids.

import { h, idFor } from "./dom.js";
import { clock, dateTime } from "./format.js";

/** Whether an alert came back to the top: its follow-up is open and came due unanswered. */
export function backOnTop(entry) {
  const followUp = entry.verified ? entry.claims?.follow_up : null;
  return Boolean(followUp && followUp.state === "open" && followUp.raised > 0);
}

/** A key of what this module shows for an entry (a card is rebuilt when it changes). */
export function actionsKey(entry) {
  return JSON.stringify([entry.follow_ups ?? [], entry.overrides ?? [], entry.upstream ?? []]);
}

/** Lines saying what was done about the alert, by this shift or earlier ones. */
export function actionFacts(entry, board) {
  const zone = board.timeZone;
  const lines = [];
  const followUps = entry.follow_ups ?? [];
  const open = followUps.find((f) => f.state === "open");
  if (open) {
    lines.push(h("p", { class: "follow-up open", dataset: { followUp: "open" } },
      h("strong", {}, `Awaiting prescriber since ${clock(open.opened_at, zone)}`),
      ` · dose held by ${open.opened_by} (${open.opened_shift} shift)` +
      `${open.prescriber ? `, ${open.prescriber} told` : ""}` +
      `${open.raised ? `; came back ${open.raised} time${open.raised > 1 ? "s" : ""} unanswered` : ""}` +
      `${open.comes_back ? `; back at the top at ${clock(open.comes_back, zone)} if unanswered` : ""}.`));
  }
  for (const done of followUps.filter((f) => f.state === "closed")) {
    lines.push(h("p", { class: "follow-up closed", dataset: { followUp: "closed" } },
      h("strong", {}, done.resolution?.display ?? "Prescriber answered"),
      ` · recorded by ${done.closed_by} at ${dateTime(done.closed_at, zone)}` +
      `${done.prescriber ? ` (${done.prescriber})` : ""}; dose held ${dateTime(done.opened_at, zone)} by ${done.opened_by}` +
      `${done.resolution_note ? `: “${done.resolution_note}”` : "."}`));
  }
  for (const given of entry.overrides ?? []) {
    lines.push(h("p", { class: "given-override", dataset: { override: given.reason?.code ?? "" } },
      h("strong", {}, `Given under this alert by ${given.nurse}`),
      ` at ${dateTime(given.at, zone)} (${given.earlier_shift === false ? "this shift" : `${given.shift} shift`}):` +
      ` ${given.reason?.display ?? ""}${given.text ? ` — “${given.text}”` : ""}.`));
  }
  for (const upstream of entry.upstream ?? []) {
    lines.push(h("p", { class: "upstream-override", dataset: { upstream: upstream.reason?.code ?? "" } },
      h("strong", {}, `Prescriber overrode this upstream: ${upstream.who}`),
      ` at ${dateTime(upstream.at, zone)} (${upstream.source ?? "CDS Hooks"}): ${upstream.reason?.display ?? ""}.`));
  }
  return lines;
}

/**
 * The action buttons of a verified alert: "Hold dose and tell prescriber" when it concerns a dose and
 * nothing awaits the prescriber; the prescriber's two answers when something does.
 * `handlers.hold(id, {prescriber})`, `handlers.answer(id, {resolution, prescriber})` return promises.
 */
export function actionControls(entry, board, handlers) {
  const c = entry.claims;
  const open = (entry.follow_ups ?? []).find((f) => f.state === "open");
  if (!open && !c.dose) return null;
  const prescriberId = idFor("prescriber", entry.id);
  const errorId = idFor("action-error", entry.id);
  const prescriber = h("input", { id: prescriberId, type: "text", maxlength: "200", autocomplete: "off",
    "data-focus-key": "prescriber" });
  const error = h("p", { class: "form-error", id: errorId, role: "alert" });
  const run = async (button, action) => {
    button.disabled = true;
    error.textContent = "";
    try {
      await action();
    } catch (failure) {
      error.textContent = failure.message || String(failure);
      button.disabled = false;
    }
  };
  const buttons = open
    ? (board.resolutions ?? []).map((r) => {
      const button = h("button", { type: "button", class: "button", "data-action": `answer-${r.code}`,
        "data-focus-key": `answer-${r.code}` }, r.display);
      button.addEventListener("click", () => run(button,
        () => handlers.answer(entry.id, { resolution: r.code, prescriber: prescriber.value.trim() })));
      return button;
    })
    : [(() => {
      const button = h("button", { type: "button", class: "button primary", "data-action": "hold",
        "data-focus-key": "hold" }, "Hold dose and tell prescriber");
      button.addEventListener("click", () => run(button,
        () => handlers.hold(entry.id, { prescriber: prescriber.value.trim() })));
      return button;
    })()];
  return h("div", { class: "alert-actions", role: "group", "aria-label": open ? "Prescriber's answer" : "Act on this alert" },
    h("div", { class: "field" },
      h("label", { for: prescriberId }, open ? "Prescriber (optional)" : "Prescriber told (optional)"), prescriber),
    h("div", { class: "actions" }, buttons), error);
}
