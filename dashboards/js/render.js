// One alert on the ward board: a single line (tier icon and word, kind, drugs, dose time, whether it
// was acted on this shift, and its buttons) with its detail and acknowledge form expanding in place.
// Also the shift and connection lines.
//
// Cards are kept by alert id across renders: a card is rebuilt only when its signed alert or its
// acknowledgements change, and its open detail and half-typed form are kept, so news from the stream
// never takes a nurse's place away.

import { allergyLine } from "./allergy.js";
import { actionControls, actionFacts, actionsKey } from "./actions.js";
import { h, fill, icon, idFor } from "./dom.js";
import {
  capitalise, clock, dateTime, day, doseText, drugs, evidenceText, flaggedBy, interrupts, kindLabel, ratings,
  shiftText, sourceNames, when, whatToDo,
} from "./format.js";

/** Each tier's icon: a different shape per tier, so the tier reads in greyscale too (with its word). */
export const TIER_ICON = { critical: "critical", major: "major", moderate: "moderate", minor: "minor" };

/** A card for every alert id: {li, line, detail, acks, controls, ...}. */
export class AlertCards {
  constructor(handlers) {
    this.handlers = handlers;
    this.cards = new Map();
  }

  /** The card of `entry`, made or brought up to date. */
  card(entry, board) {
    let card = this.cards.get(entry.id);
    if (!card) {
      card = createCard(entry, this.handlers);
      this.cards.set(entry.id, card);
    }
    updateCard(card, entry, board);
    return card;
  }

  /** Forget cards of alerts no longer shown. */
  prune(wanted) {
    for (const [id, card] of this.cards) {
      if (!wanted.has(id)) {
        card.li.remove();
        this.cards.delete(id);
      }
    }
  }

  /** Open an alert's detail (or its acknowledge form) in place and move focus there: the nurse asked. */
  open(id, what = "details") {
    const card = this.cards.get(id);
    if (!card) return false;
    if (what === "acknowledge") card.controls.open();
    else {
      card.setExpanded(true);
      // "act": the first clinical action (hold and tell the prescriber, or the prescriber's answer)
      const action = what === "act" ? card.detail.querySelector(".alert-actions button") : null;
      (action ?? card.title).focus();
    }
    return true;
  }
}

function createCard(entry, handlers) {
  const id = entry.id;
  const titleId = idFor("alert-title", id);
  const detailId = idFor("alert-detail", id);
  const title = h("h4", { class: "alert-title", id: titleId, tabindex: "-1", "data-focus-key": "title" });
  const state = h("span", { class: "ack-state" });
  const due = h("span", { class: "alert-due", dataset: { field: "due" } });
  const disclosure = h("button", { type: "button", class: "button small disclosure", "aria-expanded": "false",
    "aria-controls": detailId, "data-action": "details", "data-focus-key": "details" }, "Details");
  const controls = ackControls(id, titleId, handlers);
  const line = h("div", { class: "alert-line" }, title, due, state,
    h("span", { class: "alert-buttons" }, disclosure, controls.buttons));
  const detail = h("div", { class: "alert-detail", id: detailId, hidden: true });
  const acks = h("div", { class: "acks" });
  detail.append(acks);
  const content = h("div", { class: "alert-content" });
  detail.prepend(content);
  const li = h("li", { class: "alert", id: idFor("alert", id), dataset: { alertId: id } },
    h("article", { "aria-labelledby": titleId }, line, detail, controls.form));
  const card = { li, title, state, due, disclosure, detail, content, acks, controls, handlers, contentKey: "", acksKey: "" };
  card.setExpanded = (open) => {
    detail.hidden = !open;
    disclosure.setAttribute("aria-expanded", String(open));
  };
  disclosure.addEventListener("click", () => card.setExpanded(detail.hidden));
  return card;
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
    rule: entry.verified ? String(claims.rule ?? "") : "",
  });
  const kind = entry.verified ? ` kind-${claims.kind}` : "";
  card.li.className = `alert severity-${severity}${kind}${stops ? " interruptive" : ""}` +
    `${entry.verified ? "" : " untrusted"}${ackedNow ? " acknowledged" : ""}` +
    `${entry.withdrawalUnverified ? " withdrawal-unverified" : ""}`;

  const allergies = JSON.stringify(board.admissions?.get(claims.admission)?.allergy_status ?? null);
  const contentKey = [entry.jws, entry.verified, ackedNow, board.shift?.start, entry.withdrawalUnverified,
    allergies, actionsKey(entry)].join("|");
  if (contentKey !== card.contentKey) {
    fill(card.title, ...(entry.verified ? verifiedTitle(entry) : untrustedTitle(entry)));
    fill(card.due, ...dueText(entry, board));
    fill(card.content, ...(entry.verified ? [...verifiedDetail(entry, board), ...actionFacts(entry, board),
      actionControls(entry, board, card.handlers)] : untrustedDetail(entry)));
    fill(card.state, ...ackState(entry, board, ackedNow));
    if (entry.withdrawalUnverified || !entry.verified) card.setExpanded(true);
    card.contentKey = contentKey;
  }
  const acksKey = entry.acknowledgements.map((a) => a.id).join(",") + "|" + board.shift?.start + "|" + ackedNow;
  if (acksKey !== card.acksKey) {
    fill(card.acks, ...acknowledgementList(entry, board));
    fill(card.state, ...ackState(entry, board, ackedNow));
    card.acksKey = acksKey;
  }
  card.controls.update(entry, board.reasons, claims);
}

/** The tier in words with its own icon shape: "Critical", "Major", ... */
export function tierBadge(severity, extra = "") {
  return h("span", { class: `badge tier-badge tier-${severity}${extra}` }, icon(TIER_ICON[severity] ?? "minor"),
    capitalise(severity));
}

function verifiedTitle(entry) {
  const c = entry.claims;
  return [
    h("span", { class: "visually-hidden" }, `Bed ${c.bed} · ${c.patient}: `),
    tierBadge(c.severity),
    " ",
    // The kind in words, except "interaction", which a pair of drug names already says.
    c.kind === "interaction" ? h("span", { class: "visually-hidden" }, kindLabel(c.kind))
      : h("span", { class: "kind-badge" }, kindLabel(c.kind)),
    interrupts(c) && c.dose && c.severity !== "critical"
      ? [" ", h("span", { class: "badge interrupt-badge" }, icon("critical"), "Check before giving")] : null,
    withdrawalBadge(entry),
    " ",
    h("span", { class: "alert-drugs", dataset: { field: "drugs" } }, drugs(c)),
  ];
}

function untrustedTitle(entry) {
  return [h("span", { class: "badge untrusted-badge" }, icon("untrusted"), "Untrusted: signature not verified"),
    withdrawalBadge(entry), " ", h("span", {}, "Untrusted alert: do not act on its content")];
}

function dueText(entry, board) {
  const dose = entry.verified ? entry.claims.dose : null;
  if (!entry.verified) return [];
  if (!dose) return ["no dose bound"];
  return [h("span", { class: "visually-hidden" }, `dose of ${doseText(dose)} due `),
    h("time", { datetime: dose.due }, when(dose.due, board.timeZone, board.shift?.start))];
}

/** Acted on this shift or not; and the latest acknowledgement of an earlier shift, which later shifts see. */
function ackState(entry, board, ackedNow) {
  const acks = entry.acknowledgements;
  const latest = acks[acks.length - 1];
  const zone = board.timeZone;
  if (!entry.verified) return [];
  const open = (entry.follow_ups ?? []).find((f) => f.state === "open");
  const waiting = [
    open ? [h("span", { class: "badge follow-up-badge" }, icon("open"),
      `Awaiting prescriber since ${clock(open.opened_at, zone)}`), " "] : [],
    (entry.upstream ?? []).length ? [h("span", { class: "badge upstream-badge" }, "Prescriber overrode upstream"), " "] : [],
  ].flat();
  if (ackedNow) {
    return [...waiting, h("span", { class: "badge ack-badge done" }, icon("done"), "Acknowledged this shift"),
      ` ${latest.nurse}, ${clock(latest.at, zone)}`];
  }
  const earlier = latest ? [" · earlier: ", h("span", { class: "earlier-ack" },
    `${latest.nurse} (${latest.shift}), ${latest.reason?.display ?? ""}`)] : [];
  return [...waiting, h("span", { class: "badge ack-badge" }, icon("open"), "Not yet acknowledged",
    h("span", { class: "visually-hidden" }, " this shift")), ...earlier];
}

function verifiedDetail(entry, board) {
  const c = entry.claims;
  const zone = board.timeZone;
  const path = evidenceText(c);
  const rated = ratings(c);
  return [
    h("p", { class: "badges" },
      h("span", { class: "badge verified-badge", title: "Signature checked against the service key" },
        icon("verified"), "Verified")),
    withdrawalNote(entry),
    allergyLine(board.admissions?.get(c.admission)?.allergy_status, zone),
    h("p", { class: "summary" }, c.summary),
    h("dl", { class: "facts" },
      fact("What to do", "management", whatToDo(c)),
      fact("Flagged by", "flagged-by", flaggedBy(c.flagged_by, c.kind)),
      fact("Sources", "rule", sourceNames(c)),
      path ? fact("How", "evidence", path) : null,
      fact("Why", "mechanism", c.mechanism || "Not given"),
      rated.length ? fact("Ratings", "ratings", h("ul", {}, rated.map((r) => h("li", {}, r)))) : null,
      fact("Alert", "version", `Updated ${dateTime(c.updated, zone)}; access ends ${dateTime(c.expires_at, zone)}`)),
  ];
}

function untrustedDetail(entry) {
  const c = entry.claims;
  return [
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
  return [" ", h("span", { class: "badge withdrawal-badge", title: "A message said this alert was withdrawn; its signature did not check out" },
    icon("untrusted"), "Withdrawal not verified")];
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
  const heading = h("h5", {}, `Acknowledgements (${entry.acknowledgements.length})`);
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

/**
 * The acknowledge buttons and form of one alert, kept across updates. An alert that interrupts needs a
 * reason other than "Seen" (the form); a lower tier is acknowledged in one step ("Seen") or with the form.
 */
function ackControls(alertId, titleId, handlers) {
  const formId = idFor("ack-form", alertId);
  const reasonId = idFor("ack-reason", alertId);
  const commentId = idFor("ack-comment", alertId);
  const hintId = idFor("ack-hint", alertId);
  const errorId = idFor("ack-error", alertId);
  const toggle = h("button", { type: "button", class: "button small", "aria-expanded": "false", "aria-controls": formId,
    "data-action": "acknowledge", "data-focus-key": "acknowledge" }, "Acknowledge");
  const seen = h("button", { type: "button", class: "button small secondary", "data-action": "seen",
    "data-focus-key": "seen", hidden: true }, "Seen");
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
  const note = h("span", { class: "hint", hidden: true }, "Cannot be acknowledged: not verified.");
  let critical = false; // the alert interrupts (critical, or a dose not checked): "Seen" is not enough
  let stopWord = "A critical alert";
  let seenReason = null;

  const close = () => {
    form.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    error.textContent = "";
  };
  const open = () => {
    form.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    reason.focus();
  };
  toggle.addEventListener("click", () => (form.hidden ? open() : close()));
  cancel.addEventListener("click", () => { close(); toggle.focus(); });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { close(); toggle.focus(); }
  });
  seen.addEventListener("click", async () => {
    if (!seenReason) return;
    seen.disabled = true;
    try {
      await handlers.acknowledge(alertId, { code: seenReason.code, display: seenReason.display }, "");
    } catch (failure) {
      form.hidden = false;
      error.textContent = failure.message || String(failure);
    } finally {
      seen.disabled = false;
    }
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
    buttons: [seen, toggle, note],
    form,
    open,
    update(entry, reasons, claims) {
      const trusted = entry.verified;
      toggle.hidden = !trusted;
      note.hidden = trusted;
      if (!trusted) close();
      critical = trusted && interrupts(claims);
      seenReason = reasons.find((r) => r.code === "seen") ?? null;
      seen.hidden = !trusted || critical || !seenReason;
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
    h("time", { datetime: shift.end }, clock(shift.end, zone)));
  element.title = shiftText(shift);
}

const CONNECTION_TEXT = {
  connecting: "Connecting to live updates…",
  live: "Live",
  reconnecting: "Connection lost: reconnecting…",
  stopped: "Not connected to live updates",
};

/** The #connection line: text and a data-state for styling and tests. */
export function renderConnection(element, state, lastUpdate, zone) {
  element.dataset.state = state;
  const since = lastUpdate && state !== "live" ? ` Shown as of ${clock(lastUpdate, zone)}.` : "";
  fill(element, h("span", { class: "dot", "aria-hidden": "true" }), CONNECTION_TEXT[state] + since);
}
