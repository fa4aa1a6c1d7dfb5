// A server-sent events client over fetch(), because EventSource cannot send an Authorization header.
//
// It parses text/event-stream as the HTML standard says, remembers the last event id, and reconnects by
// itself with exponential backoff (plus jitter), resuming with a Last-Event-ID header. A stream that
// goes silent for longer than `silenceMs` (the service pings every 15 s) is treated as dead.
// States reported to `onState`: "connecting", "live", "reconnecting", "stopped".

import { Unauthorized } from "./api.js";

/** Incremental text/event-stream parser: feed it text chunks, it calls `onEvent` and `onRetry`. */
export class EventStreamParser {
  constructor({ onEvent, onId = () => {}, onRetry = () => {} }) {
    this.onEvent = onEvent;
    this.onId = onId;
    this.onRetry = onRetry;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.type = "";
    this.data = [];
    this.id = undefined;
  }

  feed(chunk) {
    this.buffer += chunk;
    // A trailing "\r" may be the first half of "\r\n": keep it until the next chunk.
    const lines = this.buffer.split(/\r\n|\r(?!$)|\n/);
    this.buffer = lines.pop();
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "" || line === "\r") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) return; // a comment, e.g. the service's pings
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.onRetry(Number(value));
  }

  dispatch() {
    if (this.id !== undefined) this.onId(this.id);
    if (this.data.length) {
      this.onEvent({ type: this.type || "message", data: this.data.join("\n"), id: this.id });
    }
    this.reset();
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });

/**
 * A resumable event stream. `onEvent({type, data, id})` is called in order; `onState(state, detail)`
 * on every change; `onUnauthorized()` once if the service answers 401 (the stream then stops).
 */
export class ResumableStream {
  constructor({ url, token, lastEventId = "", onEvent, onState = () => {}, onUnauthorized = () => {},
                minDelayMs = 1000, maxDelayMs = 30000, silenceMs = 45000 }) {
    Object.assign(this, { url, token, lastEventId, onEvent, onState, onUnauthorized, minDelayMs, maxDelayMs, silenceMs });
    this.stopped = false;
    this.attempt = 0;
    this.wake = null;
  }

  start() {
    this.run();
    this.onlineListener = () => this.wake?.abort();
    globalThis.addEventListener?.("online", this.onlineListener);
    return this;
  }

  stop() {
    this.stopped = true;
    this.connection?.abort();
    this.wake?.abort();
    globalThis.removeEventListener?.("online", this.onlineListener);
    this.onState("stopped", {});
  }

  async run() {
    while (!this.stopped) {
      this.onState(this.attempt === 0 ? "connecting" : "reconnecting", { attempt: this.attempt });
      try {
        await this.connect();
      } catch (error) {
        if (error instanceof Unauthorized) {
          this.stopped = true;
          this.onState("stopped", { reason: "unauthorized" });
          this.onUnauthorized();
          return;
        }
        this.lastError = error;
      }
      if (this.stopped) return;
      this.attempt += 1;
      const ceiling = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.min(this.attempt - 1, 10));
      const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      this.onState("reconnecting", { attempt: this.attempt, retryAt: Date.now() + delay, error: this.lastError });
      this.wake = new AbortController();
      await sleep(delay, this.wake.signal);
    }
  }

  async connect() {
    this.connection = new AbortController();
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "text/event-stream" };
    if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
    let silence = setTimeout(() => this.connection.abort(), this.silenceMs);
    const heard = () => {
      clearTimeout(silence);
      silence = setTimeout(() => this.connection.abort(), this.silenceMs);
    };
    try {
      const response = await fetch(this.url, { headers, cache: "no-store", signal: this.connection.signal });
      if (response.status === 401) throw new Unauthorized("the service refused the token");
      if (!response.ok || !response.body) throw new Error(`stream answered HTTP ${response.status}`);
      this.attempt = 0;
      this.onState("live", {});
      const parser = new EventStreamParser({
        onEvent: (event) => this.onEvent(event),
        onId: (id) => { this.lastEventId = id; },
        onRetry: (ms) => { this.minDelayMs = Math.max(250, ms); },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        heard();
        parser.feed(value);
      }
    } finally {
      clearTimeout(silence);
    }
  }
}
