// The ward dashboard: sign in, load the ward's alerts and schedule, verify every alert, then follow
// the ward's event stream. Events are handled one at a time, in order.

import { ApiError, Unauthorized, createApi } from "./api.js";
import { CriticalBanner, Sound, renderActionList, wireDialog, wireLegend } from "./attention.js";
import { WardBoard } from "./beds.js";
import { Board } from "./board.js";
import { BedsideForm } from "./bedside.js";
import { announce } from "./dom.js";
import { capitalise, drugs, interrupts, setWardLocale, shiftText, whatToDo } from "./format.js";
import { KeySet, checkAlert, checkWithdrawal, kidOf } from "./jws.js";
import { renderConnection, renderShift } from "./render.js";
import { renderScopeRequests } from "./requests.js";
import { WARN_BEFORE_MS, endSession, beginSession, warnBeforeExpiry } from "./session.js";
import { ResumableStream } from "./sse.js";

const $ = (id) => document.getElementById(id);
const FRESH_MS = 2 * 60 * 1000; // announce only alerts changed since about when the page loaded
const JWKS_REFRESH_MS = 60 * 1000; // an unknown kid fetches the JWKS again, at most this often
const SCHEDULE_REFRESH_MS = 5 * 60 * 1000; // newly planned doses come with no event of their own

class Dashboard {
  constructor(token, staff) {
    this.token = token;
    this.staff = staff;
    this.api = createApi(() => this.token, () => this.signOut("The service did not accept your staff token. Sign in again."));
    this.board = new Board(staff.ward);
    this.keys = new KeySet({ keys: [] });
    this.jwksFetchedAt = 0;
    this.scheduleLoadedAt = 0;
    this.scheduleTimer = null;
    this.events = Promise.resolve();
    this.connection = "connecting";
    this.lastUpdate = null;
    this.loadedAt = Date.now();
    this.renderQueued = false;
    this.streamKey = `alertsvc.lastEventId.${staff.ward}`;
    const handlers = {
      acknowledge: (...args) => this.acknowledge(...args),
      recordOutcome: (...args) => this.recordOutcome(...args),
      hold: (...args) => this.hold(...args),
      answer: (...args) => this.answer(...args),
    };
    this.wardBoard = new WardBoard($("board"), $("untrusted-list"), handlers);
    this.open = (id, what) => this.wardBoard.open(id, what);
    this.sound = new Sound($("sound-toggle"));
    this.banner = new CriticalBanner($("critical-banner"), { open: this.open, sound: this.sound });
    wireLegend($("legend-button"), $("legend"));
    wireDialog($("bedside-button"), $("bedside"), "close-bedside");
    this.bedside = new BedsideForm(this.api, this.board, staff);
    this.scopeRequests = new Map();
  }

  async start() {
    this.armExpiry();
    this.keys = new KeySet(await this.api.jwks());
    this.jwksFetchedAt = Date.now();
    await this.loadAlerts();
    await this.loadSchedule();
    this.render();
    const critical = this.board.ordered().filter((e) => e.verified && e.claims.severity === "critical").length;
    announce($("status"), `${this.board.alerts.size} active alerts${critical ? `, ${critical} critical` : ""}.`);
    setInterval(() => this.refreshSchedule(), SCHEDULE_REFRESH_MS);
    this.startStream();
  }

  startStream() {
    this.stream = new ResumableStream({
      url: this.api.streamUrl(this.staff.ward),
      token: this.token,
      // Resume where this tab left off, else from the list just loaded (no replay of the ward's history).
      lastEventId: sessionStorage.getItem(this.streamKey) || String(this.listedEventId ?? ""),
      onEvent: (event) => { this.events = this.events.then(() => this.handle(event)).catch(console.error); },
      onState: (state) => this.setConnection(state),
      onUnauthorized: () => this.signOut("The service did not accept your staff token. Sign in again."),
    }).start();
  }

  signOut(message) {
    this.stream?.stop();
    endSession(message);
  }

  /** Fetch the JWKS again if a signature names a key we do not have (at most once a minute). */
  async keysFor(jws) {
    const kid = kidOf(jws);
    if (kid !== undefined && !this.keys.hasKid(kid) && Date.now() - this.jwksFetchedAt > JWKS_REFRESH_MS) {
      this.jwksFetchedAt = Date.now();
      this.keys = new KeySet(await this.api.jwks());
    }
    return this.keys;
  }

  /** Check an alert's signature. */
  async check(id, jws) {
    return checkAlert(id, jws, await this.keysFor(jws), this.staff.ward);
  }

  async loadAlerts() {
    const { body, date } = await this.api.alerts(this.staff.ward);
    const serverNow = Date.parse(date ?? "");
    this.loadedAt = Number.isNaN(serverNow) ? Date.now() : serverNow;
    const checked = await Promise.all(body.alerts.map(async (item) => ({
      id: item.id, jws: item.jws, acknowledgements: item.acknowledgements ?? [], ...actionsOf(item),
      ...(await this.check(item.id, item.jws)),
    })));
    this.board.shift = body.shift;
    setWardLocale(body.shift?.locale);
    this.board.reasons = body.reasons ?? [];
    this.board.admissions = new Map((body.admissions ?? []).map((a) => [a.admission, a]));
    this.admissionsLoadedAt = Date.now();
    this.board.overrideReasons = body.override_reasons ?? [];
    this.board.resolutions = body.resolutions ?? [];
    this.listedEventId = body.last_event_id;
    this.board.alerts.clear();
    checked.forEach((entry) => this.board.putAlert(entry));
    this.lastUpdate = new Date().toISOString();
  }

  /** Fetch the admissions (and their allergy status) again soon, at most once every 10 s: an alert may
   * come from an allergy recorded since, or from a patient just admitted. */
  refreshAdmissionsSoon() {
    if (this.admissionsTimer) return;
    const wait = Math.max(0, (this.admissionsLoadedAt ?? 0) + 10000 - Date.now());
    this.admissionsTimer = setTimeout(async () => {
      this.admissionsTimer = null;
      this.admissionsLoadedAt = Date.now();
      try {
        const { body } = await this.api.alerts(this.staff.ward);
        this.board.admissions = new Map((body.admissions ?? []).map((a) => [a.admission, a]));
        this.queueRender();
      } catch {
        // the list stays as it was; the next alert or shift change asks again
      }
    }, wait);
  }

  /** Fetch the schedule again soon, at most once every 10 s (a replayed stream may ask often). */
  refreshScheduleSoon() {
    if (this.scheduleTimer) return;
    const wait = Math.max(0, this.scheduleLoadedAt + 10000 - Date.now());
    this.scheduleTimer = setTimeout(() => {
      this.scheduleTimer = null;
      this.refreshSchedule();
    }, wait);
  }

  async loadSchedule() {
    this.scheduleLoadedAt = Date.now();
    try {
      const schedule = await this.api.schedule(this.staff.ward);
      this.board.doses.clear();
      schedule.administrations.forEach((dose) => this.board.putDose(dose));
      $("doses-error").hidden = true;
    } catch (error) {
      $("doses-error").textContent = `Could not load the schedule: ${error.message || error}`;
      $("doses-error").hidden = false;
    }
  }

  async refreshSchedule() {
    await this.loadSchedule();
    this.queueRender();
  }

  async handle(event) {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (event.type === "alert") {
      await this.onAlert(data);
      this.refreshAdmissionsSoon();
    }
    else if (event.type === "withdrawn") await this.onWithdrawn(data);
    else if (event.type === "acknowledgement") this.board.addAcknowledgement(data.alert, data.acknowledgement);
    else if (event.type === "administration") this.onAdministration(data);
    else if (event.type === "shift") await this.onShift(data);
    else if (event.type === "scope-request") this.onScopeRequest(data);
    else if (event.type === "follow-up" || event.type === "override") await this.loadAlerts(); // what was done, for every shift
    if (this.stream?.lastEventId) sessionStorage.setItem(this.streamKey, this.stream.lastEventId);
    this.lastUpdate = new Date().toISOString();
    this.queueRender();
  }

  async onAlert(data) {
    const entry = { id: data.id, jws: data.jws, acknowledgements: data.acknowledgements ?? [], ...actionsOf(data),
      ...(await this.check(data.id, data.jws)) };
    const before = this.board.alerts.get(entry.id);
    const outcome = this.board.putAlert(entry);
    if (outcome === "stale") return;
    if (!entry.verified) {
      if (!before || before.jws !== entry.jws) announce($("announcer"), "Warning: an alert arrived whose signature could not be verified.");
      return;
    }
    const claims = entry.claims;
    if (claims.dose?.id && !this.board.doses.has(claims.dose.id)) this.refreshScheduleSoon();
    const fresh = Date.parse(claims.updated) >= this.loadedAt - FRESH_MS;
    const changed = !before || before.claims?.version !== claims.version;
    if (!fresh || !changed) return;
    if (interrupts(claims)) {
      // The banner's role="alert" says it (the focus stays where the nurse is).
      if (!this.board.actedOnThisShift(this.board.alerts.get(entry.id))) this.banner.raise(entry.id);
    } else {
      announce($("status"), `New ${claims.severity} alert, bed ${claims.bed}, ${claims.patient}: ${drugs(claims)}. ${whatToDo(claims)}`);
    }
  }

  /**
   * Remove only what a verified withdrawal names (its signed ids, not the event's unsigned list); any
   * other alert the event names stays, marked "withdrawal not verified", and the nurse is told.
   */
  async onWithdrawn(data) {
    const named = Array.isArray(data.alerts) ? data.alerts.filter((id) => typeof id === "string") : [];
    const check = await checkWithdrawal(data.jws, await this.keysFor(data.jws), this.staff.ward);
    const signed = check.verified ? check.claims.alerts : [];
    const { gone, newer } = this.board.withdraw(signed, check.verified ? Date.parse(check.claims.at) : NaN);
    const unsigned = named.filter((id) => !signed.includes(id));
    const why = check.verified ? "the signed withdrawal does not name this alert" : check.reason;
    const marked = [
      ...this.board.markWithdrawalUnverified(unsigned, why),
      ...this.board.markWithdrawalUnverified(newer, "the signed withdrawal is older than this version of the alert"),
    ];
    if (check.verified) this.refreshScheduleSoon(); // an ended admission takes its doses with it
    if (gone.length) {
      announce($("status"), `${gone.length} alert${gone.length > 1 ? "s" : ""} withdrawn (${check.claims.reason}).`);
    }
    if (marked.length) {
      announce($("announcer"), `Warning: a withdrawal of ${marked.length} alert${marked.length > 1 ? "s" : ""} ` +
        "could not be verified. They stay on the list.");
    }
  }

  onScopeRequest(request) {
    if (typeof request?.id !== "string") return;
    const before = this.scopeRequests.get(request.id);
    this.scopeRequests.set(request.id, request);
    if (before && before.status !== request.status) {
      announce($("status"), `${request.bed ? `Bed ${request.bed}` : "A patient"}: ${request.status_text}.`);
    }
  }

  onAdministration(dose) {
    // Outcomes are for doses we know; an unknown one (or a replay of a purged one) means: fetch again.
    if (this.board.doses.has(dose.id)) this.board.putDose(dose);
    else this.refreshScheduleSoon();
  }

  async onShift(data) {
    // A resumed stream replays history: a shift change older than the shift shown changes nothing.
    if (this.board.shift && Date.parse(data.start) <= Date.parse(this.board.shift.start)) return;
    await this.loadAlerts();
    await this.loadSchedule();
    renderShift($("shift"), this.board.shift);
    announce($("status"), `Shift changed: ${shiftText(this.board.shift)}.`);
  }

  async acknowledge(alertId, reason, comment) {
    try {
      const ack = await this.api.acknowledge(alertId, { shift: this.board.shift.name, reason, comment });
      this.board.addAcknowledgement(alertId, ack);
      this.render();
      announce($("status"), "Acknowledgement recorded.");
    } catch (error) {
      if (error instanceof ApiError && /shift/.test(error.message)) {
        await this.loadAlerts();
        this.render();
      }
      throw error;
    }
  }

  async recordOutcome(doseId, status, note, override) {
    const dose = await this.api.recordOutcome(this.staff.ward, doseId, { status, note, override });
    this.board.putDose(dose);
    if (dose.overrides) await this.loadAlerts();
    this.render();
    announce($("status"), `Dose recorded as ${status}${dose.overrides ? `: ${dose.overrides[0].reason.display}` : ""}.`);
  }

  /** "Hold dose and tell prescriber": the dose held, the alert acknowledged, a follow-up opened. */
  async hold(alertId, { prescriber }) {
    await this.api.hold(alertId, { shift: this.board.shift.name, prescriber });
    await this.loadAlerts();
    await this.loadSchedule();
    this.render();
    announce($("status"), "Dose held. Awaiting the prescriber's answer.");
  }

  /** The prescriber's answer closes the follow-up. */
  async answer(alertId, { resolution, prescriber }) {
    const closed = await this.api.answer(alertId, { resolution, prescriber });
    await this.loadAlerts();
    this.render();
    announce($("status"), `${closed.resolution.display}: recorded.`);
  }

  /** A new staff token pasted before this one expires: same ward, used at once, the page kept. */
  renew(token, staff) {
    this.token = token;
    this.staff = { ...this.staff, exp: staff.exp, name: staff.name };
    this.stream?.stop();
    this.startStream();
    this.armExpiry();
  }

  armExpiry() {
    clearTimeout(this.expiryTimer);
    clearTimeout(this.warningTimer);
    const untilExpiry = this.staff.exp.getTime() - Date.now();
    this.expiryTimer = setTimeout(() => this.signOut("Your staff token has expired. Sign in with a new one."),
      Math.min(untilExpiry, 2 ** 31 - 1));
    this.warningTimer = setTimeout(() => warnBeforeExpiry(this.staff, (token, staff) => this.renew(token, staff)),
      Math.max(0, Math.min(untilExpiry - WARN_BEFORE_MS, 2 ** 31 - 1)));
  }

  setConnection(state) {
    this.connection = state;
    renderConnection($("connection"), state, this.lastUpdate, this.board.timeZone);
  }

  queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    setTimeout(() => {
      this.renderQueued = false;
      this.render();
    }, 0);
  }

  render() {
    const board = this.board;
    renderShift($("shift"), board.shift);
    renderConnection($("connection"), this.connection, this.lastUpdate, board.timeZone);
    const { beds } = this.wardBoard.render(board);
    this.banner.render(board);
    const waiting = renderActionList($("action-list"), board, this.open);
    $("action-count").textContent = waiting ? `(${waiting})` : "";
    $("no-action").hidden = waiting > 0;
    this.bedside.render();
    renderScopeRequests($("scope-requests-section"), $("scope-requests"), this.scopeRequests);
    const all = board.ordered();
    const critical = all.filter((e) => e.verified && e.claims.severity === "critical").length;
    const untrusted = all.filter((e) => !e.verified).length;
    const unchecked = all.filter((e) => e.verified && e.claims.kind === "unchecked").length;
    const parts = [`${beds} bed${beds === 1 ? "" : "s"}`, `${all.length} active alert${all.length === 1 ? "" : "s"}`];
    if (critical) parts.push(`${critical} critical`);
    if (unchecked) parts.push(`${unchecked} not checked`);
    if (untrusted) parts.push(`${untrusted} untrusted`);
    $("alert-count").textContent = `(${parts.join(", ")})`;
    $("no-alerts").hidden = all.length > 0;
    $("no-beds").hidden = beds > 0;
    $("untrusted-section").hidden = untrusted === 0;
    document.title = `${waiting ? `(${waiting} need action) ` : ""}Ward ${this.staff.ward} board: ${capitalise(board.shift?.name ?? "")} shift`;
  }
}

/** What the alert list (or an alert event) carries with an alert about what was done. */
function actionsOf(item) {
  return { follow_ups: item.follow_ups ?? [], overrides: item.overrides ?? [], upstream: item.upstream ?? [] };
}

// Last, once the class above exists: a reload with a token kept in this tab signs in at once.
beginSession((token, staff) => {
  new Dashboard(token, staff).start().catch((error) => {
    if (error instanceof Unauthorized) return; // already on the way back to sign-in
    $("load-error").textContent = `Could not load the ward's alerts: ${error.message || error}`;
    $("load-error").hidden = false;
  });
});
