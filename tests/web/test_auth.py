"""Staff tokens and patient-signed requests: what is accepted and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alertsvc.access import issue_staff_token, read_staff_token, require
from alertsvc.errors import Forbidden, Unauthorized
from alertsvc.ledger.identity import Identity
from alertsvc.server_http import bearer

SERVICE = Identity.from_seed(b"s" * 32)
PATIENT = Identity.from_seed(b"p" * 32)
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def test_a_nurse_token_names_ward_role_and_name() -> None:
    token = issue_staff_token(SERVICE, ward="A", name="Ana", role="nurse", now=NOW, hours=12)
    staff = read_staff_token(token, SERVICE.public_key, now=NOW + timedelta(hours=11))
    assert (staff.ward, staff.role, staff.name) == ("A", "nurse", "Ana")
    require(staff, ward="A", roles=("nurse",))
    with pytest.raises(Forbidden, match="for ward 'A', not 'B'"):
        require(staff, ward="B", roles=("nurse",))
    with pytest.raises(Forbidden, match="role 'nurse'"):
        require(staff, ward="A", roles=("admission",))


def test_expired_forged_and_garbled_tokens_are_unauthorized() -> None:
    token = issue_staff_token(SERVICE, ward="A", name="Ana", role="nurse", now=NOW, hours=1)
    with pytest.raises(Unauthorized):
        read_staff_token(token, SERVICE.public_key, now=NOW + timedelta(hours=1))
    forged = issue_staff_token(PATIENT, ward="A", name="Eve", role="nurse", now=NOW, hours=1)
    with pytest.raises(Unauthorized):
        read_staff_token(forged, SERVICE.public_key, now=NOW)
    for garbage in ("", "x", "a.b.c", token[:-2]):
        with pytest.raises(Unauthorized):
            read_staff_token(garbage, SERVICE.public_key, now=NOW)


def test_bearer_header() -> None:
    assert bearer("Bearer abc") == "abc"
    for bad in (None, "", "Basic abc", "Bearer "):
        with pytest.raises(Unauthorized):
            bearer(bad)
