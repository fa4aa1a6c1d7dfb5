// The ward's state as the dashboard knows it: the shift, the active alerts (each verified), their
// acknowledgements, the coded reasons and the schedule. Pure data and ordering; no DOM, no network.

import { backOnTop } from "./actions.js";
import { interrupts, unresolvedId } from "./format.js";

export const SEVERITY_RANK = { critical: 0, major: 1, moderate: 2, minor: 3 };
/** Rules of "unchecked" alerts about an allergy or flagged reaction that did not resolve: every dose of
 * the patient is unchecked against it, so the alert is shown with each of them. */
const UNCHECKED_FOR_EVERY_DOSE = new Set(["unchecked-allergy", "unchecked-reaction"]);

const rank = (entry) => SEVERITY_RANK[entry.claims?.severity] ?? 4;
const dueOf = (entry) => {
  const due = entry.claims?.dose?.due;
  const time = due ? Date.parse(due) : NaN;
  return Number.isNaN(time) ? Infinity : time;
};
const byBed = new Intl.Collator("en", { numeric: true });

/**
 * Order for the list: untrusted alerts first (they need a person to look), then by severity, then by
 * the due time of the dose concerned (alerts without a dose after those with one), then bed and id.
 */
export function compareAlerts(a, b) {
  return (
    Number(a.verified) - Number(b.verified) ||
    Number(backOnTop(b)) - Number(backOnTop(a)) || // a follow-up came back unanswered: to the top
    rank(a) - rank(b) ||
    dueOf(a) - dueOf(b) ||
    byBed.compare(String(a.claims?.bed ?? ""), String(b.claims?.bed ?? "")) ||
    byBed.compare(a.id, b.id)
  );
}

export class Board {
  constructor(ward) {
    this.ward = ward;
    this.shift = null; // {name, start, end, label, timezone}
    this.reasons = [];
    this.overrideReasons = []; // coded reasons to give a dose under a critical alert
    this.resolutions = []; // the prescriber's answers to a held dose's follow-up
    // id -> {id, jws, verified, claims, reason, acknowledgements: [], withdrawalUnverified?: why}
    this.alerts = new Map();
    this.doses = new Map(); // id -> dose json
    this.admissions = new Map(); // admission id -> {admission, bed, patient, allergy_status}
  }

  /** Admissions by bed, each with its allergy status (known, none-known, not-recorded, not-shared). */
  patients() {
    return [...this.admissions.values()].sort((a, b) => byBed.compare(a.bed, b.bed) || byBed.compare(a.admission, b.admission));
  }

  get timeZone() {
    return this.shift?.timezone || "UTC";
  }

  /** Alerts in display order. */
  ordered() {
    return [...this.alerts.values()].sort(compareAlerts);
  }

  /**
   * Put a checked alert in place (a new alert or a new version of one). Returns "new", "updated" or
   * "stale" (an older version than the one shown, e.g. while a resumed stream replays history).
   */
  putAlert(entry) {
    const known = this.alerts.get(entry.id);
    const version = (e) => (Number.isInteger(e?.claims?.version) ? e.claims.version : -1);
    if (known && known.verified && entry.verified && version(entry) < version(known)) return "stale";
    const acknowledgements = mergeAcks(known?.acknowledgements ?? [], entry.acknowledgements ?? []);
    this.alerts.set(entry.id, { ...entry, acknowledgements });
    return known ? "updated" : "new";
  }

  /**
   * Remove the alerts a verified withdrawal names, unless the alert shown is a version newer than the
   * withdrawal (an old withdrawal replayed). Returns {gone, newer}: ids removed, ids kept as newer.
   */
  withdraw(ids, at) {
    const gone = [];
    const newer = [];
    for (const id of ids) {
      const entry = this.alerts.get(id);
      if (!entry) continue;
      const updated = entry.verified ? Date.parse(entry.claims?.updated) : NaN;
      if (updated > at) newer.push(id);
      else if (this.alerts.delete(id)) gone.push(id);
    }
    return { gone, newer };
  }

  /** Keep these alerts, marked: a withdrawal of them arrived that could not be verified (`why`). */
  markWithdrawalUnverified(ids, why) {
    const marked = [];
    for (const id of ids) {
      const entry = this.alerts.get(id);
      if (!entry) continue;
      this.alerts.set(id, { ...entry, withdrawalUnverified: why });
      marked.push(id);
    }
    return marked;
  }

  addAcknowledgement(alertId, ack) {
    const entry = this.alerts.get(alertId);
    if (!entry) return false;
    entry.acknowledgements = mergeAcks(entry.acknowledgements, [ack]);
    return true;
  }

  /** An acknowledgement made before the current shift began (shown as from an earlier shift). */
  isEarlierShift(ack) {
    if (!this.shift) return Boolean(ack.earlier_shift);
    return Date.parse(ack.shift_start) < Date.parse(this.shift.start);
  }

  acknowledgedThisShift(entry) {
    return entry.acknowledgements.some((ack) => !this.isEarlierShift(ack));
  }

  putDose(dose) {
    this.doses.set(dose.id, dose);
  }

  /**
   * Verified alerts that concern a dose: named by the alert, or same admission and a shared ingredient (a
   * drug that did not resolve is known by its stand-in, "unresolved:<drug>"), or an allergy or flagged
   * reaction of the patient that could not be checked (no dose can be checked against it).
   */
  alertsForDose(dose) {
    const rxcuis = new Set((dose.ingredients ?? []).map((i) => i.rxcui));
    if (!rxcuis.size) rxcuis.add(unresolvedId(dose.drug));
    return this.ordered().filter((entry) => {
      const claims = entry.claims;
      if (!entry.verified || !claims) return false;
      if (claims.dose?.id === dose.id) return true;
      if (claims.admission !== dose.admission) return false;
      if (claims.kind === "unchecked" && UNCHECKED_FOR_EVERY_DOSE.has(claims.rule)) return true;
      return (claims.ingredients ?? []).some((i) => rxcuis.has(i.rxcui));
    });
  }

  /** Bed and patient label of an admission, from its verified alerts or the schedule (which names both). */
  patientOf(admission) {
    for (const entry of this.alerts.values()) {
      if (entry.verified && entry.claims?.admission === admission) {
        return { bed: entry.claims.bed, patient: entry.claims.patient };
      }
    }
    for (const dose of this.doses.values()) {
      if (dose.admission === admission && dose.bed) return { bed: dose.bed, patient: dose.patient };
    }
    return null;
  }

  /**
   * A critical alert has been acted on this shift when it was acknowledged in this shift, when the dose
   * it is bound to has an outcome recorded (held, refused, or given with its reason), or when its dose was
   * held and the prescriber told (an open follow-up) and has not come back unanswered.
   */
  actedOnThisShift(entry) {
    if (backOnTop(entry)) return false; // held and told, but the prescriber has not answered in time
    if ((entry.follow_ups ?? []).some((f) => f.state === "open")) return true; // held, prescriber told
    if (this.acknowledgedThisShift(entry)) return true;
    const dose = entry.claims?.dose?.id ? this.doses.get(entry.claims.dose.id) : null;
    return Boolean(dose?.outcome);
  }

  /**
   * "Needs action now": verified alerts that interrupt (critical, or a dose whose drug could not be
   * checked) not yet acted on this shift; a follow-up that came back unanswered first, then the most
   * urgent dose first (alerts without a dose last).
   */
  needsActionNow() {
    return [...this.alerts.values()]
      .filter((entry) => entry.verified && interrupts(entry.claims) && !this.actedOnThisShift(entry))
      .sort((a, b) => Number(backOnTop(b)) - Number(backOnTop(a)) || dueOf(a) - dueOf(b) || rank(a) - rank(b) ||
        byBed.compare(String(a.claims.bed ?? ""), String(b.claims.bed ?? "")) || byBed.compare(a.id, b.id));
  }

  /**
   * One row per occupied bed, in bed order: {admission, bed, patient, allergyStatus, labs, alerts (display
   * order), doses}. Beds come from the ward's admissions (with the alert list), verified alerts and the
   * schedule; `from`/`to` bound the doses shown.
   */
  beds(from, to) {
    const rows = new Map();
    const row = (admission) => {
      if (!rows.has(admission)) {
        const who = this.admissions.get(admission) ?? this.patientOf(admission) ?? { bed: "", patient: "" };
        rows.set(admission, { admission, bed: String(who.bed ?? ""), patient: String(who.patient ?? ""),
          allergyStatus: this.admissions.get(admission)?.allergy_status ?? null,
          labs: this.admissions.get(admission)?.labs ?? [], alerts: [], doses: [] });
      }
      return rows.get(admission);
    };
    for (const admission of this.admissions.keys()) row(admission); // every admitted patient has a row
    for (const entry of this.ordered()) {
      if (entry.verified && entry.claims?.admission) row(entry.claims.admission).alerts.push(entry);
    }
    const shown = from && to ? this.dosesBetween(from, to) : [...this.doses.values()];
    for (const dose of shown) row(dose.admission).doses.push(dose);
    return [...rows.values()].sort((a, b) => byBed.compare(a.bed, b.bed) || byBed.compare(a.admission, b.admission));
  }

  /** Alerts whose signature did not verify: they cannot be placed on a bed (their bed is unverified). */
  untrusted() {
    return this.ordered().filter((entry) => !entry.verified);
  }

  /** Doses from `from` to `to` (ISO), plus earlier doses still without an outcome, by due time. */
  dosesBetween(from, to) {
    const start = Date.parse(from);
    const end = Date.parse(to);
    return [...this.doses.values()]
      .filter((dose) => {
        const due = Date.parse(dose.due);
        return (due >= start && due < end) || (due < start && !dose.outcome && start - due < 86400000);
      })
      .sort((a, b) => Date.parse(a.due) - Date.parse(b.due) || byBed.compare(a.id, b.id));
  }
}

function mergeAcks(known, incoming) {
  const byId = new Map(known.map((ack) => [ack.id, ack]));
  for (const ack of incoming) byId.set(ack.id, { ...byId.get(ack.id), ...ack });
  return [...byId.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** The shift after `shift`: same length, starting when it ends (names follow the default pattern). */
export function nextShiftWindow(shift) {
  const start = Date.parse(shift.start);
  const end = Date.parse(shift.end);
  const names = ["day", "evening", "night"];
  const index = names.indexOf(shift.name);
  return {
    name: index === -1 ? "next" : names[(index + 1) % names.length],
    start: new Date(end).toISOString(),
    end: new Date(end + (end - start)).toISOString(),
    timezone: shift.timezone,
  };
}
