// The printable shift handoff (I-PASS: illness severity, patient summary, action list, situation
// awareness, synthesis by receiver): every active alert with its acknowledgements, per patient, and the
// doses at risk in the next shift. Built from verified alerts only; untrusted ones are listed apart.

import { actionFacts } from "./actions.js";
import { Unauthorized, createApi } from "./api.js";
import { Board, SEVERITY_RANK, nextShiftWindow } from "./board.js";
import { h, fill, icon, idFor } from "./dom.js";
import { capitalise, dateTime, day, doseText, drugs, flaggedBy, kindLabel, setWardLocale, shiftText, sourceNames, whatToDo, when } from "./format.js";
import { KeySet, checkAlert } from "./jws.js";
import { beginSession, endSession } from "./session.js";

const $ = (id) => document.getElementById(id);

beginSession((token, staff) => {
  build(token, staff).catch((error) => {
    if (error instanceof Unauthorized) return; // already on the way back to sign-in
    $("load-error").textContent = `Could not build the handoff: ${error.message || error}`;
    $("load-error").hidden = false;
  });
});

async function build(token, staff) {
  const api = createApi(token, () => endSession("The service did not accept your staff token. Sign in again."));
  $("print").addEventListener("click", () => window.print());
  const requested = new URLSearchParams(location.search).get("shift") || undefined;
  const keys = new KeySet(await api.jwks());
  const { body } = await api.alerts(staff.ward, requested);
  const board = new Board(staff.ward);
  board.shift = body.shift;
  setWardLocale(body.shift?.locale);
  board.reasons = body.reasons ?? [];
  board.admissions = new Map((body.admissions ?? []).map((a) => [a.admission, a]));
  const checked = await Promise.all(body.alerts.map(async (item) => ({
    id: item.id, jws: item.jws, acknowledgements: item.acknowledgements ?? [],
    follow_ups: item.follow_ups ?? [], overrides: item.overrides ?? [], upstream: item.upstream ?? [],
    ...(await checkAlert(item.id, item.jws, keys, staff.ward)),
  })));
  checked.forEach((entry) => board.putAlert(entry));
  (await api.schedule(staff.ward)).administrations.forEach((dose) => board.putDose(dose));
  const next = await nextShift(api, staff.ward, body.shift);
  render(board, staff, next);
}

/** The next shift's real window from the service when its name is known, else one of the same length. */
async function nextShift(api, ward, shift) {
  const guess = nextShiftWindow(shift);
  if (guess.name === "next") return guess;
  try {
    const { body } = await api.alerts(ward, guess.name);
    if (Date.parse(body.shift.start) >= Date.parse(shift.end) - 1000) return body.shift;
  } catch {
    // fall back to the computed window
  }
  return guess;
}

/**
 * Doses without an outcome that a verified alert concerns, due from the start of this shift to the end
 * of the next: the next shift's, and this shift's still open (overdue or yet to come) ones.
 */
function dosesAtRisk(board, next) {
  const start = Date.parse(board.shift.start);
  const end = Date.parse(next.end);
  return [...board.doses.values()]
    .filter((dose) => !dose.outcome && Date.parse(dose.due) >= start && Date.parse(dose.due) < end)
    .map((dose) => ({ dose, alerts: board.alertsForDose(dose) }))
    .filter(({ alerts }) => alerts.length)
    .sort((a, b) => Date.parse(a.dose.due) - Date.parse(b.dose.due));
}

/** "", " (still this shift)" or " (overdue, no outcome recorded)". */
function dueNote(dose, next) {
  const due = Date.parse(dose.due);
  if (due < Date.now()) return " (overdue, no outcome recorded)";
  return due < Date.parse(next.start) ? " (still this shift)" : "";
}

function render(board, staff, next) {
  const zone = board.timeZone;
  const entries = board.ordered();
  const verified = entries.filter((e) => e.verified);
  const untrusted = entries.filter((e) => !e.verified);
  const atRisk = dosesAtRisk(board, next);

  $("handoff-ward").textContent = staff.ward;
  $("shift").textContent = shiftText(board.shift);
  Object.assign($("shift").dataset, { shiftName: board.shift.name, shiftStart: board.shift.start, shiftEnd: board.shift.end });
  $("next-shift").textContent = shiftText({ ...next, timezone: zone });
  $("written-by").textContent = staff.name;
  $("generated-at").textContent = dateTime(new Date().toISOString(), zone);
  const critical = verified.filter((e) => e.claims.severity === "critical").length;
  const unchecked = verified.filter((e) => e.claims.kind === "unchecked").length;
  $("handoff-summary").textContent = `${entries.length} active alerts (${critical} critical` +
    `${unchecked ? `, ${unchecked} not checked` : ""}${untrusted.length ? `, ${untrusted.length} untrusted` : ""}); ` +
    `${atRisk.length} doses at risk before the end of the next shift.`;
  document.title = `Handoff, ward ${staff.ward}, ${board.shift.name} shift`;

  $("handoff-untrusted").hidden = untrusted.length === 0;
  fill($("untrusted-list"), untrusted.map((e) => h("li", { dataset: { alertId: e.id, verified: "false" } },
    h("strong", {}, "UNTRUSTED: "), `an alert (shown as bed ${e.claims?.bed ?? "?"}, not verified): ${e.reason}. Do not act on its content; report to pharmacy or IT.`)));

  const patients = groupByAdmission(verified);
  $("no-patients").hidden = patients.length > 0;
  fill($("handoff-patients"), patients.map((alerts) => patientSection(alerts, board, atRisk, next)));
  fill($("handoff-doses-body"), atRisk.map(({ dose, alerts }) => doseRow(dose, alerts, board, next)));
  $("no-doses-at-risk").hidden = atRisk.length > 0;
  $("handoff-doses").hidden = atRisk.length === 0;
}

function groupByAdmission(entries) {
  const groups = new Map();
  for (const entry of entries) {
    const key = entry.claims.admission;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(entry);
  }
  return [...groups.values()];
}

function patientSection(alerts, board, atRisk, next) {
  const zone = board.timeZone;
  const first = alerts[0].claims; // alerts are in display order: the first is the most severe
  const counts = Object.keys(SEVERITY_RANK).map((s) => [s, alerts.filter((a) => a.claims.severity === s).length])
    .filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(", ");
  const admission = first.admission;
  const headingId = idFor("patient", admission);
  const doses = atRisk.filter(({ dose }) => dose.admission === admission);
  const recorded = [...board.doses.values()].filter((d) => d.admission === admission && d.outcome &&
    Date.parse(d.outcome.recorded_at) >= Date.parse(board.shift.start));
  const ipassId = (part) => idFor(`${part}`, admission);

  return h("section", { class: `patient severity-${first.severity}`, "aria-labelledby": headingId, dataset: { admission } },
    h("h3", { id: headingId }, `Bed ${first.bed} · ${first.patient}`),
    allergyLine(board.admissions.get(admission)?.allergy_status),
    h("div", { class: "ipass" },
      h("h4", {}, "I: Illness severity"),
      h("p", {}, "Highest alert: ", h("span", { class: `sev-text ${first.severity}` },
        first.severity === "critical" ? icon("critical") : null, first.severity), ` (${counts}).`),
      h("fieldset", { class: "checkboxes" }, h("legend", {}, "Nurse's assessment (tick one)"),
        ["Stable", "Watcher", "Unstable"].map((label) => h("label", {},
          h("input", { type: "checkbox", id: ipassId(`severity-${label.toLowerCase()}`) }), ` ${label}`))),
      h("h4", {}, "P: Patient summary (active alerts)"),
      h("ul", {}, alerts.map((a) => h("li", { dataset: { alertId: a.id, verified: "true" } },
        h("span", { class: `sev-text ${a.claims.severity}` }, a.claims.severity), ` ${["unchecked", "overdue"].includes(a.claims.kind) ? kindLabel(a.claims.kind).toLowerCase() : a.claims.kind}: `,
        a.claims.summary, ` Flagged by: ${flaggedBy(a.claims.flagged_by, a.claims.kind)}. `,
        `Sources: ${sourceNames(a.claims)}.`))),
      h("h4", {}, "A: Action list"),
      h("ul", {},
        doses.map(({ dose, alerts: concerned }) => h("li", { dataset: { forDose: dose.id } },
          h("strong", {}, `${when(dose.due, zone, board.shift.start)}: ${doseText(dose)}`),
          `${dueNote(dose, next)}: concerned by ${concerned.length > 1 ? `${concerned.length} alerts` : "an alert"}; check before giving.`)),
        alerts.map((a) => h("li", { dataset: { forAlert: a.id } }, h("strong", {}, `${drugs(a.claims)}: `),
          whatToDo(a.claims),
          a.claims.dose ? ` (dose ${doseText(a.claims.dose)} due ${when(a.claims.dose.due, zone, board.shift.start)})` : "")),
        alerts.filter((a) => (a.follow_ups ?? []).some((f) => f.state === "open")).map((a) =>
          h("li", { dataset: { forAlert: a.id, followUp: "open" } },
            h("strong", {}, `Awaiting prescriber: ${drugs(a.claims)}`),
            ` (dose held ${dateTime(a.follow_ups.find((f) => f.state === "open").opened_at, zone)}). Chase the answer.`)),
        alerts.filter((a) => !board.acknowledgedThisShift(a)).map((a) => h("li", { dataset: { forAlert: a.id } },
          `Not acknowledged this shift: ${drugs(a.claims)} (${a.claims.severity}). Review and acknowledge.`))),
      h("h4", {}, "S: Situation awareness and contingency"),
      h("ul", {},
        alerts.map((a) => h("li", { dataset: { forAlert: a.id } }, `Acknowledgements of ${drugs(a.claims)}: `,
          a.acknowledgements.length
            ? h("ul", {}, a.acknowledgements.map((ack) => h("li", {
              dataset: { ackId: ack.id, earlierShift: String(board.isEarlierShift(ack)) } }, ackText(ack, board))))
            : "none yet.")),
        alerts.flatMap((a) => actionFacts(a, board).map((line) =>
          h("li", { dataset: { forAlert: a.id, action: "done" } }, `${drugs(a.claims)}: `, ...line.childNodes))),
        recorded.map((d) => h("li", { dataset: { forDose: d.id } },
          `${doseText(d)} due ${when(d.due, zone, board.shift.start)}: ${d.outcome.status} by ${d.outcome.nurse}` +
          `${d.outcome.note ? ` (${d.outcome.note})` : ""}.`))),
      h("h4", {}, "S: Synthesis by receiver"),
      h("p", { class: "hint" }, "Read back, questions, and what the receiving nurse will do:"),
      h("div", { class: "write-in" }), h("div", { class: "write-in" })));
}

function ackText(ack, board) {
  const zone = board.timeZone;
  const earlier = board.isEarlierShift(ack) ? `earlier shift (${ack.shift}, ${day(ack.shift_start, zone)})` : "this shift";
  return `${ack.nurse}, ${earlier}, ${dateTime(ack.at, zone)}: ${ack.reason?.display ?? ack.reason?.code}` +
    `${ack.comment ? ` “${ack.comment}”` : ""}`;
}

function doseRow(dose, alerts, board, next) {
  const zone = board.timeZone;
  const who = board.patientOf(dose.admission);
  const top = alerts[0].claims;
  return h("tr", { dataset: { doseId: dose.id, admission: dose.admission } },
    h("td", {}, h("time", { datetime: dose.due }, when(dose.due, zone, board.shift.start)), dueNote(dose, next)),
    h("td", {}, who ? `Bed ${who.bed} · ${who.patient}` : "Patient not named"),
    h("td", {}, doseText(dose)),
    h("td", {}, h("span", { class: `sev-text ${top.severity}` }, capitalise(top.severity)), `: ${alerts.map((a) => drugs(a.claims)).join("; ")}`),
    h("td", {}, [...new Set(alerts.map((a) => whatToDo(a.claims)))].join(" ")));
}

/** The patient's allergy status as the service words it (known, none known, not recorded, not shared). */
function allergyLine(status) {
  if (!status) return null;
  return h("p", { class: `allergy-status allergy-${status.state}`, dataset: { allergyState: status.state } }, status.label);
}
