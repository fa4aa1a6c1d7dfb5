"""CDS Hooks client JWTs: how a CDS client (an EHR) proves who it is to our CDS services.

CDS Hooks 2.0 ("Trusting CDS Clients") has the client sign a JWT for every call, header ``alg``,
``kid`` and ``typ`` "JWT", claims ``iss``, ``aud`` (the URL of the endpoint called), ``exp``, ``iat`` and
``jti``. It recommends ES384 or RS384 and lets clients use others; the JWK Set is agreed out of band or
named by ``jku``.

Trusted issuers and keys come from two settings:

- ``cds_clients``: ``issuer=ed25519:<key>;...``, one EdDSA key per entry, whatever ``kid`` the token names;
- ``cds_client_jwks``: a JSON file mapping each issuer to its JWKS; EdDSA (OKP Ed25519), ES384 (EC
  P-384) and RS384 (RSA, at least 2048 bits) keys, chosen by ``kid`` (a key without ``kid`` is tried for
  any). The file is read again when it changes, so keys can be rotated without a restart.

``jku`` is never fetched (no request leaves the service because a token said so). A token is refused
unless its signature verifies with a key of its issuer under the algorithm that key is for, ``aud``
names one of the accepted endpoint URLs, ``iat`` is at most a minute ahead, ``exp`` is in the future and
at most an hour ahead, ``nbf`` (if present) has come, and its ``jti`` has not been used before (token ids
are remembered in memory until the token expires; a token cannot outlive the hour). Every refusal is
``Unauthorized``, shown to the client as a bare 401; a malformed setting is ``ConfigError``.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from alertsvc.config import Settings
from alertsvc.errors import AlertsvcError, BadSignature, ConfigError, InputError, Unauthorized
from alertsvc.ledger import jws
from alertsvc.ledger.canonical import loads, unb64url
from alertsvc.ledger.identity import jwk, verify_raw

ALGORITHMS = {"EdDSA": ("OKP", "Ed25519"), "ES384": ("EC", "P-384"), "RS384": ("RSA", "")}
"""Accepted ``alg`` values and the key type (and curve) each needs; ``none`` and HMAC never verify."""
LEEWAY = 60
"""Seconds a client's clock may run ahead of ours (``iat``, ``nbf``)."""
MAX_LIFETIME = 3600
"""Seconds ahead ``exp`` may be: bounds how long a token id must be remembered."""


class TrustedClients:
    """The trusted CDS clients' public JWKs by issuer, and the token ids already used (one per app)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._keys: dict[str, list[dict[str, Any]]] | None = None
        self._stamp: int | None = None
        self._used: dict[tuple[str, str], float] = {}

    def keys(self, issuer: str) -> list[dict[str, Any]]:
        """The issuer's keys; a JWKS file that changed since the last call is read again."""
        path = Path(self.settings.cds_client_jwks) if self.settings.cds_client_jwks else None
        try:
            stamp = path.stat().st_mtime_ns if path else None
        except OSError as exc:
            raise ConfigError(f"cds_client_jwks: cannot read {path}: {exc.strerror}") from exc
        if self._keys is None or stamp != self._stamp:
            self._keys, self._stamp = configured_keys(self.settings.cds_clients, path), stamp
        return self._keys.get(issuer, [])

    def use_once(self, issuer: str, jti: str, *, expires: float, now: float) -> None:
        """Record a token id; Unauthorized if it was used before (a replay). Expired ids are forgotten."""
        if len(self._used) > 1000:
            self._used = {k: e for k, e in self._used.items() if e > now}
        if self._used.get((issuer, jti), 0) > now:
            raise Unauthorized(f"CDS client JWT {jti!r} from {issuer!r} was already used")
        self._used[(issuer, jti)] = expires


def read_client_token(token: str, clients: TrustedClients, *, audiences: Collection[str], now: float) -> str:
    """The issuer of a valid client JWT for one of ``audiences`` at ``now`` (epoch seconds); see above."""
    try:
        header, claims = jws.header_of(token), jws.unverified_claims(token)
        signing_input, _, signature_text = token.rpartition(".")
        signature = unb64url(signature_text, what="CDS client JWT signature")
    except AlertsvcError as exc:
        raise Unauthorized("malformed CDS client JWT") from exc
    issuer, alg, kid = claims.get("iss"), header.get("alg"), header.get("kid")
    if header.get("typ") != "JWT" or not isinstance(issuer, str) or not isinstance(alg, str):
        raise Unauthorized("CDS client JWT: typ is not JWT, or iss or alg is missing")
    for key in (k for k in clients.keys(issuer) if k.get("kid", kid) == kid):
        try:
            verify_signature(alg, key, signing_input.encode("ascii"), signature)
            break
        except BadSignature:
            continue
    else:
        raise Unauthorized(f"CDS client JWT: no key of {issuer!r} verifies it")
    aud, jti = claims.get("aud"), claims.get("jti")
    exp, iat, nbf = (_seconds(claims, name) for name in ("exp", "iat", "nbf"))
    if (
        exp is None
        or iat is None
        or not isinstance(jti, str)
        or not jti
        or not set(audiences).intersection(aud if isinstance(aud, list) else [aud])
        or not iat - LEEWAY <= now < exp <= now + MAX_LIFETIME
        or now < (nbf if nbf is not None else now) - LEEWAY
    ):
        raise Unauthorized("CDS client JWT not valid for this endpoint or time")
    clients.use_once(issuer, jti, expires=exp, now=now)
    return issuer


def verify_signature(alg: str, key: dict[str, Any], signing_input: bytes, signature: bytes) -> None:
    """Return if ``signature`` verifies with the JWK ``key`` under ``alg``; BadSignature otherwise."""
    kty, crv = ALGORITHMS.get(alg, ("", ""))
    if not kty or key.get("kty") != kty or key.get("crv", "") != crv or key.get("alg", alg) != alg:
        raise BadSignature(f"CDS client JWT: key {key.get('kid', '')!r} is not an {alg!r} key")
    if key.get("use", "sig") != "sig":
        raise BadSignature(f"CDS client JWT: key {key.get('kid', '')!r} is not for signing")
    try:
        if alg == "EdDSA":
            verify_raw(_key_bytes(key, "x"), signing_input, signature, what="CDS client JWT")
        elif alg == "ES384":
            point = ec.EllipticCurvePublicNumbers(_key_int(key, "x"), _key_int(key, "y"), ec.SECP384R1())
            if len(signature) != 96:
                raise BadSignature("CDS client JWT: an ES384 signature is 96 bytes (r || s)")
            der = encode_dss_signature(int.from_bytes(signature[:48]), int.from_bytes(signature[48:]))
            point.public_key().verify(der, signing_input, ec.ECDSA(hashes.SHA384()))
        else:
            public = rsa.RSAPublicNumbers(_key_int(key, "e"), _key_int(key, "n")).public_key()
            if public.key_size < 2048:
                raise BadSignature("CDS client JWT: RSA keys under 2048 bits are refused")
            public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA384())
    except (InvalidSignature, InputError, ValueError) as exc:
        raise BadSignature(f"CDS client JWT: the {alg} signature does not verify") from exc


def configured_keys(clients: str, jwks_path: Path | None) -> dict[str, list[dict[str, Any]]]:
    """Issuer -> public JWKs from the ``cds_clients`` setting and the ``cds_client_jwks`` file."""
    keys: dict[str, list[dict[str, Any]]] = {}
    for entry in filter(str.strip, clients.split(";")):
        issuer, _, public_id = entry.rpartition("=")
        try:
            key = {k: v for k, v in jwk(public_id.strip()).items() if k != "kid"}  # any kid
        except AlertsvcError as exc:
            raise ConfigError(f"cds_clients: {entry.strip()!r} is not issuer=ed25519:<key>") from exc
        keys.setdefault(issuer.strip(), []).append(key)
    if jwks_path is not None:
        try:
            table = loads(jwks_path.read_bytes(), what=str(jwks_path))
        except (OSError, InputError) as exc:
            raise ConfigError(f"cds_client_jwks: cannot read {jwks_path}: {exc}") from exc
        if not isinstance(table, dict):
            raise ConfigError(f"cds_client_jwks: {jwks_path} must map each issuer to a JWKS")
        for issuer, jwks in table.items():
            found = jwks.get("keys") if isinstance(jwks, dict) else None
            if not isinstance(found, list) or not all(isinstance(k, dict) for k in found):
                raise ConfigError(f"cds_client_jwks: {jwks_path}: {issuer!r} is not a JWKS {{'keys': [...]}}")
            keys.setdefault(issuer, []).extend(found)
    return keys


def _seconds(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim, or None when absent or not a number."""
    value = claims.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _key_bytes(key: dict[str, Any], name: str) -> bytes:
    return unb64url(str(key.get(name, "")), what=f"JWK {name}")


def _key_int(key: dict[str, Any], name: str) -> int:
    return int.from_bytes(_key_bytes(key, name))
