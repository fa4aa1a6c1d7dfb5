"""A signed withdrawal is its own kind of JWS: it verifies only as a withdrawal, never as an alert, and
says which alerts, of which admission, on which ward, why and when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alertsvc.alerts.withdrawal import WITHDRAWAL_TYPE, withdrawal_claims
from alertsvc.errors import BadSignature
from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity
from alertsvc.service import ALERT_TYPE

SERVICE = Identity.from_seed(b"w" * 32)
NOW = datetime(2030, 1, 15, 13, 0, 7, tzinfo=UTC)


def test_a_withdrawal_verifies_as_a_withdrawal_and_never_as_an_alert() -> None:
    claims = withdrawal_claims(
        ward="w1", admission="adm-1", alerts=("alert-a", "alert-b"), reason="x", now=NOW
    )
    assert claims == {
        "alerts": ["alert-a", "alert-b"],
        "admission": "adm-1",
        "ward": "w1",
        "reason": "x",
        "at": "2030-01-15T13:00:07Z",
    }
    token = jws.sign(claims, SERVICE, typ=WITHDRAWAL_TYPE)
    assert jws.verify(token, SERVICE.public_key, typ=WITHDRAWAL_TYPE) == claims
    with pytest.raises(BadSignature, match="type"):
        jws.verify(token, SERVICE.public_key, typ=ALERT_TYPE)
    with pytest.raises(BadSignature):
        jws.verify(token, Identity.from_seed(b"m" * 32).public_key, typ=WITHDRAWAL_TYPE)
