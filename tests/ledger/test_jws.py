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
