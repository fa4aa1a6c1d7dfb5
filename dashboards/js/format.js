// Times in the ward's own time zone and locale (the service sends UTC "...Z"), always on the 24-hour
// clock, and small text helpers. Nothing here shows an ISO timestamp or an internal id.

const formatters = new Map();
let wardLocale = "en-GB";

/** The ward's locale (from its settings, sent with the shift): "en-GB" or "en-US". */
export function setWardLocale(locale) {
  if (typeof locale !== "string" || !locale) return;
  try {
    new Intl.DateTimeFormat(locale);
    wardLocale = locale;
  } catch {
    // an unknown locale keeps the default
  }
}

function formatter(timeZone, options) {
  const key = wardLocale + timeZone + JSON.stringify(options);
  if (!formatters.has(key)) {
    let made;
    try {
      made = new Intl.DateTimeFormat(wardLocale, { ...options, timeZone, hourCycle: "h23" });
    } catch {
      made = new Intl.DateTimeFormat(wardLocale, { ...options, timeZone: "UTC", hourCycle: "h23" });
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

/**
 * "02:00" when on the same local day as `reference` or within the 24 hours after it (a night shift's
 * 02:00 dose is plainly "02:00"), else "Tue 14 Jan 02:00".
 */
export function when(iso, timeZone, reference = new Date().toISOString()) {
  const ahead = Date.parse(iso) - Date.parse(reference);
  const sameDay = day(iso, timeZone) === day(reference, timeZone) || (ahead >= 0 && ahead < 86400000);
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

/** Readable names of the knowledge sources the service names by code. */
const SOURCE_NAMES = {
  "onc-hp": "ONC high-priority list",
  "onc-ni": "ONC non-interruptive list",
  ansm: "ANSM thesaurus (France)",
  "us-labelling": "US labelling",
  ndfrt: "VA NDF-RT",
  "fda-ddi": "FDA table of CYP and transporter drugs",
  pddi: "HL7 PDDI-CDS",
  "pddi-cds": "HL7 PDDI-CDS",
  rxnorm: "RxNorm",
  curated: "alertsvc's curated rules",
  "curated-names": "alertsvc's curated names",
  "curated-terms": "alertsvc's curated terms",
  cpic: "CPIC",
  vsac: "VSAC value sets",
  "fda-orange-book": "FDA Orange Book",
  ledger: "the patient's own record",
  patient: "the patient's own record",
};

/**
 * "ONC high-priority list, US labelling": the sources of an alert in words, the service's own names when it
 * sends them (`source_names`), else ours for its codes (an unknown code: as words).
 */
export function sourceNames(claims) {
  if (Array.isArray(claims?.source_names) && claims.source_names.length) return claims.source_names.join(", ");
  const names = (claims?.sources ?? []).map((code) => SOURCE_NAMES[code] ?? String(code).replace(/[-_:]+/g, " "));
  return [...new Set(names)].join(", ") || "not named";
}

/** Each source's own rating, in the source's words ("ANSM: Contraindication"), once each. */
export function ratings(claims) {
  return [...new Set((claims?.ratings ?? []).map((r) => String(r.rating ?? "")).filter(Boolean))];
}

/**
 * The evidence path in words: the service's readable text when it sends one, else the ingredients it
 * passes through, by name ("simvastatin → 2 drug classes → clarithromycin"); never the graph's node ids.
 */
export function evidenceText(claims) {
  if (typeof claims?.evidence_text === "string" && claims.evidence_text) return claims.evidence_text;
  const names = new Map((claims?.ingredients ?? []).map((i) => [`in:${i.rxcui}`, i.name]));
  const steps = [];
  let classes = 0;
  const flush = () => {
    if (classes) steps.push(classes === 1 ? "a drug class" : `${classes} drug classes`);
    classes = 0;
  };
  for (const node of claims?.evidence ?? []) {
    const name = names.get(String(node));
    if (name) {
      flush();
      steps.push(name);
    } else classes += 1;
  }
  flush();
  return steps.length > 1 ? steps.join(" → ") : "";
}

/** "in 25 min", "45 min ago", "now": how far `iso` is from `now` (ms). */
export function relative(iso, now = Date.now()) {
  const minutes = Math.round((Date.parse(iso) - now) / 60000);
  if (Number.isNaN(minutes)) return "";
  if (Math.abs(minutes) < 1) return "now";
  const span = Math.abs(minutes) < 60 ? `${Math.abs(minutes)} min` : `${Math.floor(Math.abs(minutes) / 60)} h ${Math.abs(minutes) % 60} min`;
  return minutes > 0 ? `in ${span}` : `${span} ago`;
}
