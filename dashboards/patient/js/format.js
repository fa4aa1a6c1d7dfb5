// Times in this browser's own time zone and language (the server sends UTC "...Z"), always on the
// 24-hour clock as the ward's are (an en-US browser would otherwise show "2:00 AM"), and small text helpers.

const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

/** "Tue 14 Jan, 02:00" in local time. */
export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "an unknown time" : DATE_TIME.format(date);
}

/** "1 h 30 min", "45 min", "2 days 3 h" for a number of seconds. */
export function duration(seconds) {
  const minutes = Math.max(0, Math.round(seconds / 60));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts = [];
  if (days) parts.push(`${days} day${days === 1 ? "" : "s"}`);
  if (hours) parts.push(`${hours} h`);
  if (rest && !days) parts.push(`${rest} min`);
  return parts.length ? parts.join(" ") : "less than a minute";
}

/** "medications, allergies and reactions" */
export function listText(items) {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** "ed25519:AbCd…wXyZ": a long public id, shortened for display (the full id is in the title). */
export function shortId(id) {
  const text = String(id ?? "");
  return text.length > 24 ? `${text.slice(0, 14)}…${text.slice(-6)}` : text;
}

/** Who signed an entry, in words: "Recorded by Nia Brown (nurse), ward-5, signed by St Elsewhere". */
export function signedBy(item) {
  if (item.signed_by === "patient") return "Signed by you";
  const who = item.recorded_by;
  if (who) return `Recorded by ${who.clinician} (${who.role}), ${who.ward}, signed by ${who.hospital}`;
  return `Signed by practitioner ${shortId(item.author)}`;
}

export function capitalise(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
}
