"""Compact JWS with EdDSA (RFC 7515, RFC 8037): how the service signs alerts and staff tokens, and how
patients and grantees sign requests.

The payload is the RFC 8785 canonical JSON of the claims, so a verifier can check the signature over the
exact bytes received and still read plain JSON. ``verify`` returns the claims or raises; there is no
boolean to forget.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from alertsvc.errors import BadSignature, InputError
from alertsvc.ledger.canonical import b64url_bytes, canonical, loads, unb64url
from alertsvc.ledger.identity import Identity, jwk, public_key_of, verify_raw


def sign(claims: Mapping[str, Any], identity: Identity, *, typ: str) -> str:
    """A compact JWS over the canonical JSON of ``claims``, with ``kid`` = the signer's JWK thumbprint."""
    payload = canonical(claims if type(claims) is dict else dict(claims))
    signing_input = _header_part(identity.public_id, typ) + b64url_bytes(payload)
    return (signing_input + b"." + b64url_bytes(identity.sign(signing_input))).decode("ascii")


@functools.lru_cache(maxsize=64)
def _header_part(public_id: str, typ: str) -> bytes:
    """The encoded protected header and its dot, the same for every token of one signer and type."""
    header = {"alg": "EdDSA", "kid": key_id(public_id), "typ": typ}
    return b64url_bytes(canonical(header)) + b"."


@functools.lru_cache(maxsize=64)
def key_id(public_id: str) -> str:
    """The JWK thumbprint (RFC 7638) that names ``public_id`` in a JWKS (computed once per key)."""
    return jwk(public_id)["kid"]


def header_of(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, unverified (to pick the key by ``kid``)."""
    header, _, _ = _split(token)
    return header


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims before verification: only to learn which key to verify with (``iss``)."""
    _, payload, _ = _split(token)
    claims = loads(payload, what="JWS payload")
    if not isinstance(claims, dict):
        raise InputError("JWS payload: not a JSON object")
    return claims


def verify(token: str, public_key: bytes, *, typ: str | None = None) -> dict[str, Any]:
    """The claims of ``token`` if its EdDSA signature verifies with ``public_key``; else BadSignature."""
    header, payload, signature = _split(token)
    if header.get("alg") != "EdDSA":
        raise BadSignature(f"JWS: algorithm {header.get('alg')!r} is not EdDSA")
    if typ is not None and header.get("typ") != typ:
        raise BadSignature(f"JWS: type {header.get('typ')!r} is not {typ!r}")
    signing_input = token.rsplit(".", 1)[0].encode("ascii")
    verify_raw(public_key, signing_input, signature, what="JWS")
    claims = loads(payload, what="JWS payload")
    if not isinstance(claims, dict):
        raise InputError("JWS payload: not a JSON object")
    return claims


def verify_with_jwks(token: str, jwks: Mapping[str, Any], *, typ: str | None = None) -> dict[str, Any]:
    """Verify with the key of a JWKS (``{"keys": [...]}``) whose ``kid`` the token names."""
    kid = header_of(token).get("kid")
    for key in jwks.get("keys", []):
        if key.get("kid") == kid and key.get("kty") == "OKP" and key.get("crv") == "Ed25519":
            return verify(token, unb64url(str(key["x"]), what="JWKS key x"), typ=typ)
    raise BadSignature(f"JWS: no key with kid {kid!r} in the JWKS")


def verify_with_id(token: str, public_id: str, *, typ: str | None = None) -> dict[str, Any]:
    """Verify with an ``ed25519:...`` public id."""
    return verify(token, public_key_of(public_id), typ=typ)


def _split(token: str) -> tuple[dict[str, Any], bytes, bytes]:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InputError("JWS: not a compact serialisation (three non-empty dot-separated parts)")
    header = loads(unb64url(parts[0], what="JWS header"), what="JWS header")
    if not isinstance(header, dict):
        raise InputError("JWS header: not a JSON object")
    payload = unb64url(parts[1], what="JWS payload")
    signature = unb64url(parts[2], what="JWS signature")
    return header, payload, signature
