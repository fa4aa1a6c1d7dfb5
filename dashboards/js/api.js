// The service API, same origin, with the nurse's staff token as a bearer token on every call.
// A 401 calls `onUnauthorized` (back to sign-in) and rejects with Unauthorized; other errors reject
// with ApiError carrying the service's {"error": {"code", "message"}}.

import { base64urlJson } from "./jws.js";

const TOKEN_KEY = "alertsvc.staffToken";

export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The staff token kept for this tab, or "" (sessionStorage: gone when the tab closes). */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith("alertsvc.")) sessionStorage.removeItem(key);
  }
}

/**
 * Who a staff token names: {name, ward, role, exp (Date)}. Read only to greet the nurse and pick the
 * ward; the service checks the signature on every call. Throws with a message the nurse can act on.
 */
export function readStaffToken(token, now = new Date()) {
  const parts = token.trim().split(".");
  if (parts.length !== 3) throw new Error("This is not a staff token: it should have three parts separated by dots.");
  let claims;
  try {
    claims = base64urlJson(parts[1]);
  } catch {
    throw new Error("This staff token cannot be read. Copy it again, in full.");
  }
  const { sub, ward, role, exp } = claims;
  if (typeof sub !== "string" || typeof ward !== "string" || typeof exp !== "number") {
    throw new Error("This token does not name a nurse, a ward and an expiry.");
  }
  const expires = new Date(exp * 1000);
  if (expires <= now) {
    const at = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(expires);
    throw new Error(`This staff token expired on ${at}. Ask for a new one.`);
  }
  if (role !== "nurse") throw new Error(`This token is for the ${role} role; the ward dashboard needs a nurse token.`);
  return { name: sub, ward, role, exp: expires };
}

const segment = (value) => encodeURIComponent(value);

/** API calls bound to one token. */
export function createApi(token, onUnauthorized = () => {}) {
  async function call(method, path, body) {
    const current = typeof token === "function" ? token() : token; // a getter: a renewed token is used at once
    const headers = { Authorization: `Bearer ${current}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      onUnauthorized();
      throw new Unauthorized("The service did not accept your staff token.");
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const error = payload?.error ?? {};
      throw new ApiError(response.status, error.code ?? "http-" + response.status,
        error.message ?? `The service answered ${response.status} ${response.statusText}.`);
    }
    return { body: payload, date: response.headers.get("Date") };
  }

  return {
    jwks: async () => (await call("GET", "/.well-known/jwks.json")).body,
    alerts: (ward, shift) =>
      call("GET", `/wards/${segment(ward)}/alerts${shift ? `?shift=${segment(shift)}` : ""}`),
    schedule: async (ward) => (await call("GET", `/wards/${segment(ward)}/schedule`)).body,
    acknowledge: async (alertId, { shift, reason, comment }) =>
      (await call("POST", `/alerts/${segment(alertId)}/acknowledgements`, { shift, reason, comment })).body,
    recordOutcome: async (ward, doseId, { status, note, override }) =>
      (await call("POST", `/wards/${segment(ward)}/schedule/${segment(doseId)}/outcome`,
        override ? { status, note, override } : { status, note })).body,
    hold: async (alertId, { shift, prescriber }) =>
      (await call("POST", `/alerts/${segment(alertId)}/hold`, { shift, prescriber })).body,
    answer: async (alertId, { resolution, prescriber }) =>
      (await call("POST", `/alerts/${segment(alertId)}/prescriber-answer`, { resolution, prescriber })).body,
    streamUrl: (ward) => `/wards/${segment(ward)}/alerts/stream`,
    recordAtBedside: async (admission, kind, body) =>
      (await call("POST", `/admissions/${segment(admission)}/${kind === "allergy" ? "allergies" : "reactions"}`, body)).body,
    recordedAtBedside: async (admission) =>
      (await call("GET", `/admissions/${segment(admission)}/practitioner-entries`)).body,
  };
}
