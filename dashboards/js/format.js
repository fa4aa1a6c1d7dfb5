// Times in the ward's own time zone (the service sends UTC "...Z"), 24-hour clock, and small text helpers.

const formatters = new Map();

function formatter(timeZone, options) {
  const key = timeZone + JSON.stringify(options);
  if (!formatters.has(key)) {
    let made;
    try {
      made = new Intl.DateTimeFormat("en-GB", { ...options, timeZone, hourCycle: "h23" });
    } catch {
      made = new Intl.DateTimeFormat("en-GB", { ...options, timeZone: "UTC", hourCycle: "h23" });
    }
    formatters.set(key, made);
  }
  return formatters.get(key);
}

const TIME = { hour: "2-digit", minute: "2-digit" };
const DAY = { weekday: "short", day: "numeric", month: "short" };

/** "02:00" in `timeZone`. */
export function clock(iso, timeZone) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "unknown time" : formatter(timeZone, TIME).format(date);
}

/** "Tue 14 Jan" in `timeZone`. */
export function day(iso, timeZone) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : formatter(timeZone, DAY).format(date);
}

/** "02:00" when on the same local day as `reference`, else "Tue 14 Jan 02:00". */
export function when(iso, timeZone, reference = new Date().toISOString()) {
  const sameDay = day(iso, timeZone) === day(reference, timeZone);
  return sameDay ? clock(iso, timeZone) : `${day(iso, timeZone)} ${clock(iso, timeZone)}`;
}

/** "Tue 14 Jan 02:00" in `timeZone`. */
export function dateTime(iso, timeZone) {
  return `${day(iso, timeZone)} ${clock(iso, timeZone)}`;
}

/** "Night shift, Mon 13 Jan 23:00 – Tue 14 Jan 07:00 (Europe/London)". */
export function shiftText(shift) {
  const zone = shift.timezone || "UTC";
  const sameDay = day(shift.start, zone) === day(shift.end, zone);
  const end = sameDay ? clock(shift.end, zone) : dateTime(shift.end, zone);
  return `${capitalise(shift.name)} shift, ${dateTime(shift.start, zone)} – ${end} (${zone})`;
}

export function capitalise(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
}

/** "warfarin + ibuprofen" from the alert's ingredients. */
export function drugs(claims) {
  const names = (claims?.ingredients ?? []).map((i) => i.name).filter(Boolean);
  return names.length ? names.join(" + ") : "not named";
}

const KIND_LABEL = {
  interaction: "Interaction",
  allergy: "Allergy",
  reaction: "Flagged reaction",
  duplicate: "Duplicate",
  "too-soon": "Too soon",
  unchecked: "Not checked",
  overdue: "Overdue dose",
  "renal-dose": "Kidney dose",
  "long-qt": "Long QTc",
};

/** What kind of alert, in words: "Not checked" for a drug that could not be matched to RxNorm, "Overdue dose"
 * for a dose past its due time (plus the grace period) with no outcome recorded. */
export function kindLabel(kind) {
  return KIND_LABEL[kind] ?? capitalise(String(kind ?? ""));
}

/** Whether an alert must stop the nurse before the dose: critical, or a dose that could not be checked. */
export function interrupts(claims) {
  return claims?.severity === "critical" || claims?.interruptive === true;
}

/** The stand-in ingredient id the service gives a drug that did not resolve ("unresolved:<drug>"). */
export function unresolvedId(drug) {
  return `unresolved:${String(drug ?? "").trim().split(/\s+/).join(" ").toLowerCase()}`;
}

/** Who flagged it, in words. */
export function flaggedBy(value, kind) {
  if (value === "patient") return "Patient";
  if (value === "practitioner") return "Practitioner";
  if (kind === "unchecked") return "Not flagged: the drug could not be matched to RxNorm, so nothing about it was checked";
  if (kind === "overdue") return "Not flagged: the ward's record shows no outcome for a dose past its due time";
  return kind === "allergy" ? "Not flagged: a recorded allergy" : "Not flagged: found by the knowledge base";
}

/** What to do: the numbered steps the knowledge gives (every major or critical finding has them), else a plain instruction. */
export function whatToDo(claims) {
  return claims?.management || "Check with the prescriber or pharmacist before giving.";
}

/** "ibuprofen 400 mg oral" for a dose (from an alert's claims or the schedule), without repeating words. */
export function doseText(dose) {
  const drug = String(dose?.drug ?? "");
  const parts = [drug];
  if (dose?.dose && !drug.includes(dose.dose)) parts.push(dose.dose);
  if (dose?.route && !drug.toLowerCase().includes(String(dose.route).toLowerCase())) parts.push(dose.route);
  return parts.filter(Boolean).join(" ");
}
