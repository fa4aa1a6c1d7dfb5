"""Compact JWS (EdDSA): our signatures verify with an independent implementation, and any change fails."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import BadSignature, InputError
from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity, jwk

SIGNER = Identity.from_seed(bytes(range(32)))
OTHER = Identity.from_seed(bytes(range(1, 33)))


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_signature_verifies_with_the_cryptography_package() -> None:
    token = jws.sign({"alert": "a1", "severity": "critical"}, SIGNER, typ="test+jwt")
    header, payload, signature = token.split(".")
    Ed25519PublicKey.from_public_bytes(SIGNER.public_key).verify(
        _b64(signature), f"{header}.{payload}".encode()
    )
    assert json.loads(_b64(payload)) == {"alert": "a1", "severity": "critical"}
    assert json.loads(_b64(header)) == {
        "alg": "EdDSA",
        "kid": jwk(SIGNER.public_id)["kid"],
        "typ": "test+jwt",
    }


def test_verify_returns_the_claims() -> None:
    token = jws.sign({"n": 1}, SIGNER, typ="t")
    assert jws.verify(token, SIGNER.public_key, typ="t") == {"n": 1}
    assert jws.verify_with_id(token, SIGNER.public_id) == {"n": 1}
    assert jws.verify_with_jwks(token, {"keys": [jwk(OTHER.public_id), jwk(SIGNER.public_id)]}) == {"n": 1}


def test_wrong_key_type_or_kid_is_refused() -> None:
    token = jws.sign({"n": 1}, SIGNER, typ="t")
    with pytest.raises(BadSignature):
        jws.verify(token, OTHER.public_key)
    with pytest.raises(BadSignature, match="type"):
        jws.verify(token, SIGNER.public_key, typ="other")
    with pytest.raises(BadSignature, match="no key with kid"):
        jws.verify_with_jwks(token, {"keys": [jwk(OTHER.public_id)]})


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_changed_character_fails(data: st.DataObject) -> None:
    token = jws.sign({"summary": "warfarin + ibuprofen: bleeding risk"}, SIGNER, typ="t")
    index = data.draw(st.integers(0, len(token) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != token[index]))
    tampered = token[:index] + replacement + token[index + 1 :]
    with pytest.raises((BadSignature, InputError)):
        jws.verify(tampered, SIGNER.public_key)


def test_alg_none_and_malformed_tokens_are_refused() -> None:
    token = jws.sign({"n": 1}, SIGNER, typ="t")
    _, payload, signature = token.split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    with pytest.raises(BadSignature, match="not EdDSA"):
        jws.verify(f"{none_header}.{payload}.{signature}", SIGNER.public_key)
    for bad in ("", "a.b", "a..c", token + ".x"):
        with pytest.raises(InputError):
            jws.verify(bad, SIGNER.public_key)


PINNED_CLAIMS = {
    "id": "alert-0123456789abcdef",
    "version": 1,
    "ward": "ward-7",
    "severity": "critical",
    "summary": "ibuprofen: réaction sévère (lèvres gonflées) — 2 × 400 mg",
    "sources": ["patient ledger"],
    "dose": {"id": "dose-1", "due": "2026-11-25T02:00:00Z", "amount": 0.5, "big": 1e21},
    "acknowledged": None,
    "interrupts": True,
}
PINNED_TOKEN = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6IjFJRzJ0TUg3SjJ3Ykpabk9mOExKelFpdEtmN0xNdm9BRWxzdURNVk01NFkiLCJ0eXAiOiJh"
    "bGVydHN2Yy1hbGVydCtqd3QifQ.eyJhY2tub3dsZWRnZWQiOm51bGwsImRvc2UiOnsiYW1vdW50IjowLjUsImJpZyI6MWUrMjEsIm"
    "R1ZSI6IjIwMjYtMTEtMjVUMDI6MDA6MDBaIiwiaWQiOiJkb3NlLTEifSwiaWQiOiJhbGVydC0wMTIzNDU2Nzg5YWJjZGVmIiwiaW"
    "50ZXJydXB0cyI6dHJ1ZSwic2V2ZXJpdHkiOiJjcml0aWNhbCIsInNvdXJjZXMiOlsicGF0aWVudCBsZWRnZXIiXSwic3VtbWFyeS"
    "I6ImlidXByb2ZlbjogcsOpYWN0aW9uIHPDqXbDqHJlIChsw6h2cmVzIGdvbmZsw6llcykg4oCUIDIgw5cgNDAwIG1nIiwidmVyc2"
    "lvbiI6MSwid2FyZCI6IndhcmQtNyJ9.LPezbhN_ykXN9XXO2mBqqZDil_R99jpkj-Tj33065rNJ4hpCoHbOJaFpW_-qpS8nF71qiE"
    "d-GrLNnqOpWN0lAA"
)


def test_the_exact_token_for_a_fixed_key_and_claims_is_pinned() -> None:
    """Every byte of a JWS is pinned (header, canonical payload with non-ASCII text, a float and 1e21,
    Ed25519 signature), so making signing cheaper cannot change what the browser verifies."""
    assert jws.sign(PINNED_CLAIMS, SIGNER, typ="alertsvc-alert+jwt") == PINNED_TOKEN
    assert jws.sign({"n": 1}, SIGNER, typ="t") == (
        "eyJhbGciOiJFZERTQSIsImtpZCI6IjFJRzJ0TUg3SjJ3Ykpabk9mOExKelFpdEtmN0xNdm9BRWxzdURNVk01NFkiLCJ0eXAiOiJ0"
        "In0.eyJuIjoxfQ.iDsOh9E9H1yYdvNsR7CmRTO2dmESB4Z06z3lwqmMAHxRk5b_eoTeTDJ5C9qHORh3YsZKhg27UtOOrsmewcMaDA"
    )
    # The same signer with another typ, then the first again: a cached header must follow the typ.
    assert jws.sign({"n": 1}, SIGNER, typ="u").split(".")[0] != PINNED_TOKEN.split(".")[0]
    assert jws.sign(PINNED_CLAIMS, SIGNER, typ="alertsvc-alert+jwt") == PINNED_TOKEN
    assert jws.verify(PINNED_TOKEN, SIGNER.public_key, typ="alertsvc-alert+jwt") == PINNED_CLAIMS
