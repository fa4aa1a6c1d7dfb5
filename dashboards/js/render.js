// Alert cards, their acknowledgements and the acknowledge form; the shift and connection lines.
//
// The list is reconciled by alert id: a card is rebuilt only when its signed alert or its
// acknowledgements change, and its acknowledge form is kept, so a nurse typing a comment or moving
// through the list with the keyboard does not lose her place when the stream brings news.

import { h, fill, icon, idFor } from "./dom.js";
import { capitalise, clock, dateTime, day, doseText, drugs, flaggedBy, interrupts, kindLabel, shiftText, whatToDo, when } from "./format.js";

const SEVERITY_ICON = { critical: "critical", major: "warning", moderate: "info", minor: "info" };
const cards = new WeakMap(); // list element -> Map(alert id -> card parts)

/** Show `board.ordered()` in `list`; `handlers.acknowledge(id, reason, comment)` returns a promise. */
export function renderAlerts(list, board, handlers) {
  if (!cards.has(list)) cards.set(list, new Map());
  const known = cards.get(list);
  const focused = document.activeElement;
  const focusedCard = list.contains(focused) ? focused.closest("[data-alert-id]") : null;
  const focusKey = focused?.dataset?.focusKey;

  const order = board.ordered();
  const wanted = new Set(order.map((entry) => entry.id));
  for (const [id, card] of known) {
    if (!wanted.has(id)) {
      card.li.remove();
      known.delete(id);
    }
  }
  order.forEach((entry, index) => {
    let card = known.get(entry.id);
    if (!card) {
      card = createCard(entry, handlers);
      known.set(entry.id, card);
    }
    updateCard(card, entry, board);
    if (list.children[index] !== card.li) list.insertBefore(card.li, list.children[index] ?? null);
  });

  if (focusedCard && !document.activeElement?.closest?.("[data-alert-id]")) {
    const again = focusedCard.isConnected ? focusedCard : null;
    const target = again && focusKey ? again.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) : null;
    (target ?? again?.querySelector("h3") ?? document.getElementById("alerts-heading"))?.focus();
  }
}

function createCard(entry, handlers) {
  const id = entry.id;
  const titleId = idFor("alert-title", id);
  const content = h("div", { class: "alert-content" });
  const acks = h("div", { class: "acks" });
  const controls = ackControls(id, titleId, handlers);
  const li = h("li", { class: "alert", id: idFor("alert", id), dataset: { alertId: id } },
    h("article", { "aria-labelledby": titleId }, content, acks, controls.root));
  return { li, content, acks, controls, titleId, contentKey: "", acksKey: "" };
}

function updateCard(card, entry, board) {
  const claims = entry.claims ?? {};
  const severity = entry.verified ? String(claims.severity ?? "unknown") : "untrusted";
  const ackedNow = board.acknowledgedThisShift(entry);
  const stops = entry.verified && interrupts(claims);
  Object.assign(card.li.dataset, {
    verified: String(entry.verified),
    severity,
    kind: entry.verified ? String(claims.kind ?? "") : "",
    interruptive: String(stops),
    version: String(claims.version ?? ""),
    acknowledgedThisShift: String(ackedNow),
    withdrawalUnverified: String(Boolean(entry.withdrawalUnverified)),
  });
  const kind = entry.verified ? ` kind-${claims.kind}` : "";
  card.li.className = `alert severity-${severity}${kind}${stops ? " interruptive" : ""}` +
    `${entry.verified ? "" : " untrusted"}${ackedNow ? " acknowledged" : ""}` +
    `${entry.withdrawalUnverified ? " withdrawal-unverified" : ""}`;

  const allergies = board.admissions.get(claims.admission)?.allergy_status?.label ?? "";
  const contentKey = [entry.jws, entry.verified, ackedNow, board.shift?.start, entry.withdrawalUnverified, allergies].join("|");
  if (contentKey !== card.contentKey) {
    const open = card.content.querySelector("details")?.open ?? false;
    fill(card.content, ...(entry.verified ? verifiedContent(entry, card.titleId, board, ackedNow) :
      untrustedContent(entry, card.titleId)));
    const details = card.content.querySelector("details");
    if (details) details.open = open;
    card.contentKey = contentKey;
  }
  const acksKey = entry.acknowledgements.map((a) => a.id).join(",") + "|" + board.shift?.start;
  if (acksKey !== card.acksKey) {
    fill(card.acks, ...acknowledgementList(entry, board));
    card.acksKey = acksKey;
  }
  card.controls.update(entry, board.reasons, claims);
}

function verifiedContent(entry, titleId, board, ackedNow) {
  const c = entry.claims;
  const zone = board.timeZone;
  const reference = board.shift?.start;
  const dose = c.dose;
  return [
    h("p", { class: "badges" },
      h("span", { class: "badge severity-badge" }, icon(SEVERITY_ICON[c.severity] ?? "info"), capitalise(c.severity)),
      h("span", { class: "badge kind-badge" }, kindLabel(c.kind)),
      interrupts(c) && dose ? h("span", { class: "badge interrupt-badge" }, icon("critical"), "Check before giving") : null,
      h("span", { class: "badge verified-badge", title: "Signature checked against the service key" },
        icon("verified"), "Verified"),
      h("span", { class: `badge ack-badge${ackedNow ? " done" : ""}` },
        ackedNow ? "Acknowledged this shift" : "Not yet acknowledged this shift"),
      withdrawalBadge(entry)),
    h("h3", { id: titleId, tabindex: "-1", "data-focus-key": "title" },
      h("span", { class: "bed" }, `Bed ${c.bed}`), " · ", h("span", { class: "patient-name" }, c.patient)),
    allergyLine(board.admissions.get(c.admission)?.allergy_status, zone),
    withdrawalNote(entry),
    h("p", { class: "summary" }, c.summary),
    h("dl", { class: "facts" },
      fact("Drugs", "drugs", drugs(c)),
      fact("Due", "due", dose
        ? [h("time", { datetime: dose.due }, when(dose.due, zone, reference)), ` · ${doseText(dose)}`]
        : "No scheduled dose concerned"),
      fact("What to do", "management", whatToDo(c)),
      fact("Flagged by", "flagged-by", flaggedBy(c.flagged_by, c.kind)),
      fact("Rule and source", "rule", `${c.rule}${c.sources?.length ? ` · ${c.sources.join(", ")}` : ""}`)),
    h("details", { class: "more" },
      h("summary", { "data-focus-key": "details" }, "Why: mechanism, evidence, version"),
      h("dl", { class: "facts" },
        fact("Mechanism", "mechanism", c.mechanism || "Not given"),
        fact("Evidence", "evidence", c.evidence?.length ? h("ul", {}, c.evidence.map((e) => h("li", {}, String(e)))) : "Not given"),
        fact("Detail", "detail", c.detail || ""),
        fact("Alert", "version", `version ${c.version}, updated ${dateTime(c.updated, zone)}; knowledge ${c.knowledge_version}`),
        fact("Access ends", "expires", dateTime(c.expires_at, zone)))),
  ];
}

function untrustedContent(entry, titleId) {
  const c = entry.claims;
  return [
    h("p", { class: "badges" },
      h("span", { class: "badge untrusted-badge" }, icon("untrusted"), "Untrusted: signature not verified"),
      withdrawalBadge(entry)),
    h("h3", { id: titleId, tabindex: "-1", "data-focus-key": "title" }, "Untrusted alert: do not act on its content"),
    withdrawalNote(entry),
    h("p", { class: "untrusted-reason" }, `Why: ${entry.reason}. Report this to pharmacy or IT, and check the patient's medicines by the usual route.`),
    c ? h("div", { class: "unverified-claims" },
      h("p", {}, h("strong", {}, "Unverified content, which may be forged or damaged:")),
      h("p", {}, `Bed ${c.bed ?? "?"} · ${c.patient ?? "?"}: ${c.summary ?? ""}`)) : null,
  ];
}

/** A withdrawal of this alert arrived that could not be verified: the alert stays, and says so. */
function withdrawalBadge(entry) {
  if (!entry.withdrawalUnverified) return null;
  return h("span", { class: "badge withdrawal-badge", title: "A message said this alert was withdrawn; its signature did not check out" },
    icon("untrusted"), "Withdrawal not verified");
}

function withdrawalNote(entry) {
  if (!entry.withdrawalUnverified) return null;
  return h("p", { class: "withdrawal-note" },
    `A message said this alert was withdrawn, but it could not be verified (${entry.withdrawalUnverified}). ` +
    "The alert stays: treat it as active. Report this to IT.");
}

function fact(term, key, value) {
  return [h("dt", {}, term), h("dd", { dataset: { field: key } }, value)];
}

function acknowledgementList(entry, board) {
  const zone = board.timeZone;
  const heading = h("h4", {}, `Acknowledgements (${entry.acknowledgements.length})`);
  if (!entry.acknowledgements.length) return [heading, h("p", { class: "none" }, "None yet.")];
  return [heading, h("ul", {}, entry.acknowledgements.map((ack) => {
    const earlier = board.isEarlierShift(ack);
    return h("li", { dataset: { ackId: ack.id, earlierShift: String(earlier) }, class: earlier ? "earlier" : "" },
      earlier ? h("span", { class: "badge earlier-badge" }, `Earlier shift: ${ack.shift}, ${day(ack.shift_start, zone)}`) :
        h("span", { class: "badge this-shift-badge" }, "This shift"),
      " ", h("strong", {}, ack.nurse), ` at ${dateTime(ack.at, zone)}: ${ack.reason?.display ?? ack.reason?.code ?? ""}`,
      ack.comment ? h("q", {}, ack.comment) : null);
  }))];
}

/** The acknowledge button and form of one alert, kept across updates. */
function ackControls(alertId, titleId, handlers) {
  const formId = idFor("ack-form", alertId);
  const reasonId = idFor("ack-reason", alertId);
  const commentId = idFor("ack-comment", alertId);
  const hintId = idFor("ack-hint", alertId);
  const errorId = idFor("ack-error", alertId);
  const toggle = h("button", { type: "button", class: "button", "aria-expanded": "false", "aria-controls": formId,
    "data-action": "acknowledge", "data-focus-key": "acknowledge" }, "Acknowledge");
  const reason = h("select", { id: reasonId, name: "reason", required: true, "aria-describedby": hintId, "data-focus-key": "reason" });
  const comment = h("textarea", { id: commentId, name: "comment", rows: "2", maxlength: "2000", "data-focus-key": "comment" });
  const hint = h("p", { class: "hint", id: hintId });
  const error = h("p", { class: "form-error", id: errorId, role: "alert" });
  const submit = h("button", { type: "submit", class: "button primary", "data-focus-key": "submit" }, "Record acknowledgement");
  const cancel = h("button", { type: "button", class: "button secondary", "data-action": "cancel", "data-focus-key": "cancel" }, "Cancel");
  const form = h("form", { id: formId, class: "ack-form", hidden: true, "data-ack-form": alertId, "aria-labelledby": titleId, novalidate: true },
    h("div", { class: "field" }, h("label", { for: reasonId }, "Reason"), reason, hint),
    h("div", { class: "field" }, h("label", { for: commentId }, "Comment (optional)"), comment),
    error, h("div", { class: "actions" }, submit, cancel));
  const note = h("p", { class: "hint", hidden: true }, "An untrusted alert cannot be acknowledged here.");
  const root = h("div", { class: "ack-controls" }, toggle, form, note);
  let critical = false; // the alert interrupts (critical, or a dose not checked): "Seen" is not enough
  let stopWord = "A critical alert";

  const close = () => {
    form.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    error.textContent = "";
  };
  toggle.addEventListener("click", () => {
    const opening = form.hidden;
    if (!opening) return close();
    form.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    reason.focus();
  });
  cancel.addEventListener("click", () => { close(); toggle.focus(); });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { close(); toggle.focus(); }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = reason.selectedOptions[0];
    if (!reason.value) {
      error.textContent = "Choose a reason.";
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    reason.removeAttribute("aria-invalid");
    if (critical && reason.value === "seen") {
      error.textContent = `${stopWord} needs a reason other than “Seen”.`;
      reason.focus();
      return;
    }
    submit.disabled = true;
    error.textContent = "";
    try {
      await handlers.acknowledge(alertId, { code: reason.value, display: chosen.dataset.display }, comment.value.trim());
      form.reset();
      close();
      toggle.focus();
    } catch (failure) {
      error.textContent = failure.message || String(failure);
    } finally {
      submit.disabled = false;
    }
  });

  return {
    root,
    update(entry, reasons, claims) {
      const trusted = entry.verified;
      toggle.hidden = !trusted;
      note.hidden = trusted;
      if (!trusted) close();
      critical = trusted && interrupts(claims);
      stopWord = claims.severity === "critical" ? "A critical alert" : "An alert for a dose not checked";
      toggle.textContent = entry.acknowledgements.length ? "Add acknowledgement" : "Acknowledge";
      const offered = reasons.filter((r) => !(critical && r.code === "seen"));
      const key = offered.map((r) => r.code).join(",");
      if (reason.dataset.key !== key) {
        const selected = reason.value;
        fill(reason, h("option", { value: "" }, "Choose a reason…"),
          offered.map((r) => h("option", { value: r.code, "data-display": r.display }, r.display)));
        reason.value = offered.some((r) => r.code === selected) ? selected : "";
        reason.dataset.key = key;
      }
      hint.textContent = critical ? `${claims.severity === "critical" ? "Critical alert" : "Dose not checked"}: ` +
        "“Seen” is not enough; say what was done." : "";
      hint.hidden = !critical;
    },
  };
}

/** The #shift line. */
export function renderShift(element, shift) {
  if (!shift) return;
  Object.assign(element.dataset, { shiftName: shift.name, shiftStart: shift.start, shiftEnd: shift.end, timezone: shift.timezone });
  const zone = shift.timezone;
  fill(element, h("span", { class: "shift-name" }, `${capitalise(shift.name)} shift`), " ",
    h("time", { datetime: shift.start }, clock(shift.start, zone)), "–",
    h("time", { datetime: shift.end }, clock(shift.end, zone)), " ",
    h("span", { class: "zone" }, `(${zone})`));
  element.title = shiftText(shift);
}

const CONNECTION_TEXT = {
  connecting: "Connecting to live updates…",
  live: "Live: alerts update by themselves",
  reconnecting: "Connection lost: reconnecting…",
  stopped: "Not connected to live updates",
};

/** The #connection line: text and a data-state for styling and tests. */
export function renderConnection(element, state, lastUpdate, zone) {
  element.dataset.state = state;
  const since = lastUpdate && state !== "live" ? ` Alerts shown as of ${clock(lastUpdate, zone)}.` : "";
  fill(element, h("span", { class: "dot", "aria-hidden": "true" }), CONNECTION_TEXT[state] + since);
}

const ALLERGY_STATE_TEXT = {
  known: "Known allergies",
  "none-known": "No known drug allergies",
  "not-recorded": "Allergies not recorded",
  "not-shared": "Allergies not shared",
};

/** One line on a patient's allergy status: which allergies, or who asserted none and when, or that
 * nobody recorded them, or that the patient's grant does not share them. */
function allergyLine(status, zone) {
  if (!status) return null;
  let text = ALLERGY_STATE_TEXT[status.state] ?? status.state;
  if (status.state === "known") {
    text += `: ${status.allergies.map((a) => a.substance).join(", ")}`;
  } else if (status.state === "none-known" && status.assertion) {
    const a = status.assertion;
    text += ` (asserted by ${a.recorder ?? a.asserted_by}, ${dateTime(a.asserted_at, zone)})`;
  } else if (status.state === "not-recorded") {
    text += ": ask the patient";
  } else if (status.state === "not-shared") {
    text += " by the patient's grant";
  }
  return h("p", { class: `allergy-status allergy-${status.state}`, dataset: { allergyState: status.state } }, text);
}

/** The ward's patients by bed, each with their allergy status line. */
export function renderPatients(list, board) {
  if (!list) return;
  fill(list, ...board.patients().map((a) => h("li", { class: "patient", dataset: { admission: a.admission } },
    h("span", { class: "bed" }, `Bed ${a.bed}`), " · ", h("span", { class: "patient-name" }, a.patient),
    allergyLine(a.allergy_status, board.timeZone))));
  const empty = document.getElementById("no-patients");
  if (empty) empty.hidden = board.admissions.size > 0;
}
