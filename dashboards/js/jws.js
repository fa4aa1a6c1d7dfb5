// Verify the service's alert signatures in the browser (compact JWS, EdDSA / Ed25519, RFC 8037).
//
// The claims shown to the nurse come from the payload of a JWS whose signature verified against the
// service JWKS, never from the unsigned copy the API sends beside it. `checkAlert` never throws: it
// returns {verified: true, claims} or {verified: false, reason, claims}, where the claims of an
// unverified alert are its payload decoded without trust (or null), to be shown as untrusted only.

export const ALERT_TYPE = "alertsvc-alert+jwt";
export const WITHDRAWAL_TYPE = "alertsvc-withdrawal+jwt";

/** Bytes of a base64url string (no padding); throws on characters outside the alphabet. */
export function base64urlBytes(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The JSON object a base64url segment encodes (UTF-8, strict). */
export function base64urlJson(text) {
  const json = new TextDecoder("utf-8", { fatal: true }).decode(base64urlBytes(text));
  const value = JSON.parse(json);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a JSON object");
  return value;
}

/** Header, payload and signature of a compact JWS, none of them trusted yet. */
export function splitJws(token) {
  const parts = typeof token === "string" ? token.split(".") : [];
  if (parts.length !== 3 || parts.some((part) => part === "")) {
    throw new Error("not a compact JWS (three non-empty dot-separated parts)");
  }
  return {
    header: base64urlJson(parts[0]),
    payload: base64urlJson(parts[1]),
    signature: base64urlBytes(parts[2]),
    signingInput: new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
  };
}

/** The keys of a JWKS, imported once each and kept by kid. */
export class KeySet {
  constructor(jwks) {
    this.jwks = Array.isArray(jwks?.keys) ? jwks.keys : [];
    this.imported = new Map();
  }

  hasKid(kid) {
    return this.jwks.some((jwk) => jwk.kid === kid);
  }

  /** The WebCrypto key for `kid`, or null when the set has no Ed25519 key with that kid. */
  key(kid) {
    const jwk = this.jwks.find((k) => k.kid === kid && k.kty === "OKP" && k.crv === "Ed25519");
    if (!jwk) return null;
    if (!this.imported.has(kid)) {
      const key = crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, [
        "verify",
      ]);
      this.imported.set(kid, key);
    }
    return this.imported.get(kid);
  }
}

/** The claims of `token` if it is an EdDSA JWS of type `typ` signed by a key of `keys`; else throws. */
export async function verifyJws(token, keys, typ) {
  if (!globalThis.crypto?.subtle) {
    throw new Error("this browser cannot check signatures here (WebCrypto needs https or 127.0.0.1)");
  }
  const { header, payload, signature, signingInput } = splitJws(token);
  if (header.alg !== "EdDSA") throw new Error(`algorithm ${JSON.stringify(header.alg)} is not EdDSA`);
  if (typ && header.typ !== typ) throw new Error(`type ${JSON.stringify(header.typ)} is not ${typ}`);
  const keyPromise = keys.key(header.kid);
  if (!keyPromise) throw new Error(`no service key with kid ${JSON.stringify(header.kid)}`);
  let ok;
  try {
    ok = await crypto.subtle.verify("Ed25519", await keyPromise, signature, signingInput);
  } catch (error) {
    throw new Error(`this browser cannot verify Ed25519 signatures (${error.name || error})`);
  }
  if (!ok) throw new Error("signature does not match");
  return payload;
}

/** Header kid of a JWS, or undefined (to learn whether a fresher JWKS might be needed). */
export function kidOf(token) {
  try {
    return splitJws(token).header.kid;
  } catch {
    return undefined;
  }
}

/**
 * Verify an alert from the API or the stream: signature, type, and that the signed claims are for this
 * alert id and this ward. Never throws.
 */
export async function checkAlert(id, token, keys, ward) {
  let claims = null;
  try {
    claims = splitJws(token).payload;
  } catch {
    claims = null;
  }
  try {
    const verified = await verifyJws(token, keys, ALERT_TYPE);
    if (verified.id !== id) throw new Error(`signed for alert ${JSON.stringify(verified.id)}, not ${id}`);
    if (ward && verified.ward !== ward) throw new Error(`signed for ward ${JSON.stringify(verified.ward)}, not ${ward}`);
    return { verified: true, claims: verified, reason: "" };
  } catch (error) {
    return { verified: false, claims, reason: error.message || String(error) };
  }
}

/**
 * Verify the signed withdrawal of a `withdrawn` event: signature, type, this ward, and claims of the
 * expected shape. Returns {verified: true, claims} (claims.alerts: the only ids it may remove, claims.at:
 * when) or {verified: false, reason}. Never throws. The event's unsigned fields are never trusted.
 */
export async function checkWithdrawal(token, keys, ward) {
  try {
    if (typeof token !== "string") throw new Error("the withdrawal is not signed");
    const claims = await verifyJws(token, keys, WITHDRAWAL_TYPE);
    if (ward && claims.ward !== ward) throw new Error(`signed for ward ${JSON.stringify(claims.ward)}, not ${ward}`);
    if (!Array.isArray(claims.alerts) || !claims.alerts.every((id) => typeof id === "string")) {
      throw new Error("the signed withdrawal names no alerts");
    }
    if (Number.isNaN(Date.parse(claims.at))) throw new Error("the signed withdrawal has no time");
    return { verified: true, claims, reason: "" };
  } catch (error) {
    return { verified: false, claims: null, reason: error.message || String(error) };
  }
}
