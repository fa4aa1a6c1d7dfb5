"""Properties of the grant parser and verifier: any grant entry is read into terms that hold or refused
with an error naming what is wrong, never an unexpected exception; what is written reads back the same;
a grant whose bytes were changed never verifies; grant links round-trip and anything else is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import AlertsvcError, BadSignature, InputError
from alertsvc.ledger import fhir
from alertsvc.ledger.canonical import canonical
from alertsvc.ledger.entries import format_time, read_entry, read_entry_parts, sign_entry
from alertsvc.ledger.grants import SCOPES, new_grant, read_grant
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.remote import GRANT_LINK_PREFIX, grant_link, read_grant_link
from tests.properties.strategies import JSON, edited

PATIENT = Identity.from_seed(b"p" * 32)
HOSPITAL = Identity.from_seed(b"h" * 32)
NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
READ_ERRORS = (AlertsvcError,)
"""What reading a grant may raise: the one error tree (InputError, LedgerError, GrantError...), whose
message names the entry and field."""

VALID_BODY = fhir.grant_consent(
    resource_id="consent-1",
    patient=PATIENT.public_id,
    grantee=HOSPITAL.public_id,
    scope=("medications", "reactions"),
    write_scope=("reactions",),
    not_before=NOW,
    expires_at=NOW + timedelta(hours=72),
    purpose="admission",
    created=NOW,
)


def _signable(body: Any) -> bool:
    try:
        canonical(body)
    except InputError:
        return False
    return isinstance(body, dict)


@settings(max_examples=300, deadline=None)
@given(body=edited(VALID_BODY).filter(_signable))
def test_any_grant_body_is_read_into_terms_that_hold_or_refused_by_name(body: dict[str, Any]) -> None:
    entry = sign_entry(PATIENT, kind="grant", patient=PATIENT.public_id, body=body, created=NOW)
    try:
        grant = read_grant(entry)
    except READ_ERRORS as exc:
        assert entry.id in str(exc) or "grant" in str(exc), str(exc)
        return
    assert grant.id == entry.id and grant.patient == PATIENT.public_id
    assert grant.not_before < grant.expires_at
    assert grant.scope <= set(SCOPES) and grant.write_scope <= set(SCOPES)
    assert isinstance(grant.grantee, str) and grant.purpose.strip()  # as new_grant insists


@settings(max_examples=100, deadline=None)
@given(
    scope=st.sets(st.sampled_from(SCOPES), min_size=1),
    write=st.sets(st.sampled_from(SCOPES)),
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    hours=st.floats(min_value=0.01, max_value=24 * 365),
    purpose=st.text(min_size=1, max_size=30).filter(str.strip),
)
def test_a_grant_reads_back_as_it_was_written(
    scope: set[str], write: set[str], start: datetime, hours: float, purpose: str
) -> None:
    entry = new_grant(
        PATIENT, grantee=HOSPITAL.public_id, scope=scope, write_scope=write,
        not_before=start, hours=hours, now=NOW, purpose=purpose,
    )  # fmt: skip
    again = read_entry(entry.envelope(), what="grant")
    grant = read_grant(again)
    assert again == entry
    assert (grant.scope, grant.write_scope) == (scope, write)
    assert (grant.patient, grant.grantee, grant.purpose) == (PATIENT.public_id, HOSPITAL.public_id, purpose)
    whole_second = start.replace(microsecond=0)
    assert grant.not_before == whole_second
    assert format_time(grant.expires_at) == format_time(whole_second + timedelta(hours=hours))


GRANT = new_grant(PATIENT, grantee=HOSPITAL.public_id, scope=SCOPES, not_before=NOW, hours=72, now=NOW)


@settings(max_examples=300, deadline=None)
@given(part=st.sampled_from(["payload", "signature"]), data=st.data())
def test_a_grant_with_any_bit_flipped_never_verifies(part: str, data: st.DataObject) -> None:
    payload, signature = bytearray(GRANT.payload), bytearray(GRANT.signature)
    target = payload if part == "payload" else signature
    position = data.draw(st.integers(0, len(target) - 1))
    target[position] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(READ_ERRORS) as caught:
        read_grant(read_entry_parts(bytes(payload), bytes(signature), what="grant"))
    assert isinstance(caught.value, BadSignature | InputError), repr(caught.value)


def test_a_grant_signed_by_anyone_but_the_patient_is_refused() -> None:
    forged = sign_entry(HOSPITAL, kind="grant", patient=PATIENT.public_id, body=VALID_BODY, created=NOW)
    with pytest.raises(READ_ERRORS):
        read_grant(forged)


URLS = st.sampled_from(["http://127.0.0.1:8765", "https://ledger.example/p/", "http://[::1]:9"])


@settings(max_examples=100, deadline=None)
@given(
    url=URLS,
    seed=st.binary(min_size=32, max_size=32),
    digest=st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_a_grant_link_reads_back_as_it_was_made(url: str, seed: bytes, digest: str) -> None:
    patient = Identity.from_seed(seed).public_id
    link = read_grant_link(grant_link(url, "sha256:" + digest, patient))
    assert (link.url, link.grant, link.patient) == (url.rstrip("/"), "sha256:" + digest, patient)


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.text(max_size=200).map(lambda t: GRANT_LINK_PREFIX + t),
        JSON.map(lambda v: GRANT_LINK_PREFIX + _b64(v)),
        edited(
            {"grant": "sha256:" + "a" * 64, "patient": PATIENT.public_id, "url": "http://127.0.0.1:1"}
        ).map(lambda v: GRANT_LINK_PREFIX + _b64(v)),
    )
)
def test_any_text_is_a_grant_link_or_refused_as_one(text: str) -> None:
    try:
        link = read_grant_link(text)
    except InputError as exc:
        assert "grant link" in str(exc) or "grant id" in str(exc) or "patient id" in str(exc), str(exc)
        return
    assert link.url.startswith(("http://", "https://")) and link.grant.startswith("sha256:")


def _b64(value: Any) -> str:
    from alertsvc.ledger.canonical import b64url

    try:
        return b64url(canonical(value))
    except InputError:
        return "!"
