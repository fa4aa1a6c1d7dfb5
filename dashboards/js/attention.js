// Interruption in proportion. A new critical alert (or a dose that could not be checked) puts a banner
// at the top that stays until the alert is acted on this shift, announced through its role="alert"
// region without moving focus, with a beep if the ward switched sound on. The "needs action now" list
// holds every such alert not yet acted on this shift, the most urgent dose first. Lower tiers are
// announced politely elsewhere (role="status").

import { h, fill, icon, idFor } from "./dom.js";
import { capitalise, doseText, drugs, kindLabel, relative, when } from "./format.js";
import { TIER_ICON } from "./render.js";

const SOUND_KEY = "alertsvc.sound"; // localStorage: "on" or absent (off by default)

/** The banner: the alerts it was raised for, until each is acted on. */
export class CriticalBanner {
  constructor(region, { open, sound }) {
    this.region = region; // role="alert", always in the page (a live region must exist before it speaks)
    this.open = open;
    this.sound = sound;
    this.raised = new Set();
    this.shownKey = "";
  }

  /** A new interruptive alert arrived: raise the banner for it (and beep, if the ward wants sound). */
  raise(id) {
    this.raised.add(id);
    this.sound.beep();
  }

  render(board) {
    const waiting = [...this.raised].map((id) => board.alerts.get(id))
      .filter((entry) => entry?.verified && !board.actedOnThisShift(entry));
    this.raised = new Set(waiting.map((entry) => entry.id));
    const key = waiting.map((entry) => `${entry.id}@${entry.claims.version}`).join(",");
    if (key === this.shownKey) return;
    this.shownKey = key;
    this.region.classList.toggle("raised", waiting.length > 0);
    if (!waiting.length) {
      fill(this.region);
      return;
    }
    const zone = board.timeZone;
    const first = waiting[0].claims;
    const what = first.severity === "critical" ? "Critical alert" : "Dose not checked";
    fill(this.region,
      h("p", { class: "banner-text" }, icon("critical"),
        h("strong", {}, waiting.length > 1 ? `${waiting.length} new alerts need action. ` : `${what}: `),
        `Bed ${first.bed}, ${first.patient}: ${String(first.summary).replace(/\.?$/, ".")}`,
        first.dose ? ` Dose due ${when(first.dose.due, zone, board.shift?.start)}.` : "",
        h("span", { class: "banner-stays" }, " This stays until it is acted on.")),
      h("button", { type: "button", class: "button", "data-action": "go-to-alert",
        onclick: () => this.open(waiting[0].id, "acknowledge") }, "Act on it"));
  }
}

/** The "needs action now" list. */
export function renderActionList(list, board, open) {
  const waiting = board.needsActionNow();
  const zone = board.timeZone;
  const focusedFor = list.contains(document.activeElement) ? document.activeElement.closest("[data-action-for]") : null;
  const focusAction = document.activeElement?.dataset?.action;
  fill(list, ...waiting.map((entry) => {
    const c = entry.claims;
    const textId = idFor("action-text", entry.id);
    const dose = c.dose;
    return h("li", { class: `action-item tier-${c.severity}`, dataset: { actionFor: entry.id, severity: c.severity } },
      h("p", { class: "action-due" }, dose
        ? [h("time", { datetime: dose.due }, when(dose.due, zone, board.shift?.start)),
          h("span", { class: "action-relative" }, ` ${relative(dose.due, Date.now())}`)]
        : "No dose"),
      h("p", { class: "action-text", id: textId },
        h("span", { class: `badge tier-badge tier-${c.severity}` }, icon(TIER_ICON[c.severity] ?? "minor"),
          c.kind === "unchecked" ? "Not checked" : capitalise(c.severity)),
        " ", h("strong", {}, `Bed ${c.bed} · ${c.patient}`),
        ` ${c.kind === "interaction" ? "" : `${kindLabel(c.kind).toLowerCase()}: `}${drugs(c)}`,
        dose ? h("span", { class: "visually-hidden" }, `, dose of ${doseText(dose)}`) : null),
      h("p", { class: "actions" },
        actLabel(entry) ? h("button", { type: "button", class: "button small primary", "data-action": "act",
          "aria-describedby": textId, onclick: () => open(entry.id, "act") }, actLabel(entry)) : null,
        h("button", { type: "button", class: "button small", "data-action": "acknowledge",
          "aria-describedby": textId, onclick: () => open(entry.id, "acknowledge") }, "Acknowledge"),
        h("button", { type: "button", class: "button small", "data-action": "details",
          "aria-describedby": textId, onclick: () => open(entry.id, "details") }, "Details")));
  }));
  if (focusedFor) {
    const again = list.querySelector(`[data-action-for="${CSS.escape(focusedFor.dataset.actionFor)}"]`);
    (again?.querySelector(`[data-action="${focusAction}"]`) ?? list.querySelector("button") ??
      document.getElementById("action-heading"))?.focus();
  }
  return waiting.length;
}

/** The clinical action a "needs action now" item offers first, in words (none without a dose). */
function actLabel(entry) {
  if ((entry.follow_ups ?? []).some((f) => f.state === "open")) return "Prescriber's answer…";
  return entry.claims?.dose ? "Hold and tell prescriber…" : "";
}

/** The ward's sound switch: off by default, remembered in this browser; a short WebAudio beep. */
export class Sound {
  constructor(toggle) {
    this.toggle = toggle;
    this.context = null;
    this.on = localStorage.getItem(SOUND_KEY) === "on";
    this.beeps = 0; // how many beeps were played (for tests and the curious)
    this.show();
    toggle.addEventListener("click", () => {
      this.on = !this.on;
      if (this.on) localStorage.setItem(SOUND_KEY, "on");
      else localStorage.removeItem(SOUND_KEY);
      this.show();
      if (this.on) this.beep(); // a sample, and the gesture that lets the browser play sound
    });
  }

  show() {
    this.toggle.setAttribute("aria-pressed", String(this.on));
    this.toggle.dataset.sound = this.on ? "on" : "off";
    fill(this.toggle, `Sound for new critical alerts: ${this.on ? "on" : "off"}`);
  }

  beep() {
    if (!this.on) return;
    try {
      this.context ??= new AudioContext();
      const context = this.context;
      if (context.state === "suspended") context.resume();
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, context.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.3, context.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + 0.5);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start();
      oscillator.stop(context.currentTime + 0.5);
      this.beeps += 1;
      document.body.dataset.beeps = String(this.beeps);
    } catch {
      // no audio device: the banner still shows
    }
  }
}

/** A dialog one click away, closed with its button or Escape; focus goes back to the opener. */
export function wireDialog(button, dialog, closeAction) {
  button.addEventListener("click", () => dialog.showModal());
  dialog.querySelector(`[data-action=${closeAction}]`)?.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => button.focus());
}

/** The legend: what each tier means and asks of the nurse. */
export function wireLegend(button, dialog) {
  wireDialog(button, dialog, "close-legend");
}
