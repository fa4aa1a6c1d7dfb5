"""Signed request tokens and the replay cache, without a server: what a token is bound to, when it is
valid, and that the cache accepts each once, forgets it when it expires, and refuses when full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alertsvc.access import ReplayCache, read_signed_request
from alertsvc.errors import Unauthorized
from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.request_tokens import SIGNED_REQUEST_TYPE, body_digest, sign_request

SERVICE = Identity.from_seed(b"s" * 32)
PATIENT = Identity.from_seed(b"p" * 32)
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
BODY = b'{"v":1,"entries":[]}'
ARGS: dict[str, Any] = {
    "method": "POST",
    "target": "/admissions/x/entries",
    "body": BODY,
    "audience": SERVICE.public_id,
}


def token(now: datetime = NOW, **changes: Any) -> str:
    return sign_request(PATIENT, **(ARGS | changes), now=now)


def test_a_signed_request_is_bound_to_method_target_body_audience_and_time() -> None:
    signed = read_signed_request(token(), **ARGS, now=NOW)
    assert (signed.issuer, signed.expires - signed.issued) == (PATIENT.public_id, 60)
    for changed in (
        {"target": "/admissions/y/entries"},
        {"target": "/admissions/x/entries?since=1"},
        {"method": "GET"},
        {"audience": PATIENT.public_id},
        {"body": BODY + b" "},
        {"body": b""},
    ):
        with pytest.raises(Unauthorized):
            read_signed_request(token(), **(ARGS | changed), now=NOW)
    read_signed_request(token(), **ARGS, now=NOW + timedelta(seconds=59))
    for late_or_early in (NOW + timedelta(seconds=60), NOW - timedelta(seconds=31)):
        with pytest.raises(Unauthorized):
            read_signed_request(token(), **ARGS, now=late_or_early)


def test_a_token_living_longer_than_a_minute_is_refused() -> None:
    claims = jws.unverified_claims(token())
    long_lived = jws.sign(claims | {"exp": claims["exp"] + 3600}, PATIENT, typ=SIGNED_REQUEST_TYPE)
    with pytest.raises(Unauthorized):
        read_signed_request(long_lived, **ARGS, now=NOW)
    without_body = {k: v for k, v in claims.items() if k != "bdh"}
    with pytest.raises(Unauthorized):
        read_signed_request(jws.sign(without_body, PATIENT, typ=SIGNED_REQUEST_TYPE), **ARGS, now=NOW)


@given(st.binary(min_size=1, max_size=200), st.data())
def test_any_changed_byte_of_the_body_is_refused(body: bytes, data: st.DataObject) -> None:
    signed = sign_request(PATIENT, **(ARGS | {"body": body}), now=NOW)
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    assert body_digest(changed) != body_digest(body)
    with pytest.raises(Unauthorized):
        read_signed_request(signed, **(ARGS | {"body": changed}), now=NOW)


def test_the_replay_cache_accepts_each_request_once_until_it_expires() -> None:
    cache = ReplayCache(started=NOW)
    first = read_signed_request(token(), **ARGS, now=NOW)
    cache.admit(first, now=NOW)
    with pytest.raises(Unauthorized, match="replayed"):
        cache.admit(first, now=NOW + timedelta(seconds=59))
    cache.admit(read_signed_request(token(), **ARGS, now=NOW), now=NOW)  # another nonce
    assert len(cache) == 2
    later = NOW + timedelta(seconds=60)
    cache.admit(read_signed_request(token(later), **ARGS, now=later), now=later)
    assert len(cache) == 1, "expired nonces are forgotten: the cache is bounded by the token life"


def test_a_token_issued_before_the_server_started_is_refused() -> None:
    """After a restart nothing accepted before it is remembered: what was signed before it is refused."""
    issued = NOW - timedelta(seconds=10)
    before = read_signed_request(token(issued), **ARGS, now=NOW)
    with pytest.raises(Unauthorized, match="before this server started"):
        ReplayCache(started=NOW).admit(before, now=NOW)


def test_a_full_replay_cache_refuses_rather_than_forgets() -> None:
    cache = ReplayCache(started=NOW, capacity=3)
    for _ in range(3):
        cache.admit(read_signed_request(token(), **ARGS, now=NOW), now=NOW)
    with pytest.raises(Unauthorized, match="too many"):
        cache.admit(read_signed_request(token(), **ARGS, now=NOW), now=NOW)
    later = NOW + timedelta(minutes=1)
    cache.admit(read_signed_request(token(later), **ARGS, now=later), now=later)
