// The patient's own ledger server, same origin. Every change carries the page token the server put in
// <meta name="alertsvc-csrf">, so no other web site can make changes through this browser.
// Errors reject with ApiError carrying the server's {"error": {"code", "message"}}.

const TOKEN = document.querySelector('meta[name="alertsvc-csrf"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = TOKEN;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      cache: "no-store",
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "unreachable", "Your ledger server is not answering. Is `alertsvc ledger serve` still running?");
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = payload?.error ?? {};
    throw new ApiError(response.status, error.code ?? `http-${response.status}`,
      error.message ?? `The ledger server answered ${response.status} ${response.statusText}.`);
  }
  return payload;
}

const segment = (value) => encodeURIComponent(value);

export const api = {
  ledger: () => call("GET", "/api/ledger"),
  searchDrugs: (query) => call("GET", `/api/drugs?q=${segment(query)}`),
  flagReaction: ({ drug, rxcui, reaction, severity }) => call("POST", "/api/reactions", { drug, rxcui, reaction, severity }),
  assertNoAllergies: () => call("POST", "/api/no-known-allergies"),
  createGrant: ({ grantee, scope, hours }) => call("POST", "/api/grants", { grantee, scope, hours }),
  addNote: (entryId, text) => call("POST", `/api/entries/${segment(entryId)}/notes`, { text }),
  revokeGrant: (grantId) => call("POST", `/api/grants/${segment(grantId)}/revoke`),
  scopeRequests: () => call("GET", "/api/scope-requests"),
  answerScopeRequest: (requestId, answer) => call("POST", `/api/scope-requests/${segment(requestId)}/${answer}`),
  audit: ({ grant, hospitalUrl, admission }) =>
    call("POST", "/api/audit", { grant, hospital_url: hospitalUrl, admission }),
};
