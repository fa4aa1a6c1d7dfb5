"""Withdrawals: the events that take alerts off the ward's screens, signed like the alerts themselves.

A withdrawal hides alerts, so a forged one could hide a critical alert: the ``withdrawn`` event carries a
compact JWS (EdDSA, ``typ`` ``alertsvc-withdrawal+jwt``, so it can never pass for an alert or a token)
over the canonical JSON of::

    {"alerts": [alert ids], "admission": id, "ward": id, "reason": "...", "at": "UTC ISO 8601"}

The dashboard removes an alert only when the JWS verifies against the service's JWKS, is for its ward,
names that alert among the signed ids, and is not older than the alert's latest version; anything else
leaves the alert in place, marked "withdrawal not verified". The event's unsigned ``admission``,
``alerts`` and ``reason`` fields stay, for readers that do not verify.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alertsvc.alerts.hub import Event
from alertsvc.alerts.store import append_event
from alertsvc.clock import iso
from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity

if TYPE_CHECKING:  # the store is the caller's: alerts import nothing but shared modules
    from alertsvc.store import Database

WITHDRAWAL_TYPE = "alertsvc-withdrawal+jwt"
NO_LONGER_FOUND = "no longer found"


def withdrawal_claims(
    *, ward: str, admission: str, alerts: Sequence[str], reason: str, now: datetime
) -> dict[str, Any]:
    """What a withdrawal signs: which alerts, of which admission, on which ward, why and when."""
    return {"alerts": list(alerts), "admission": admission, "ward": ward, "reason": reason, "at": iso(now)}


def append_withdrawal(
    db: Database,
    identity: Identity,
    ward: str,
    admission: str,
    alerts: Sequence[str],
    reason: str,
    *,
    now: datetime,
    outbox: str | None,
) -> Event:
    """Sign a withdrawal and write its ``withdrawn`` event to the outbox (in the caller's transaction).

    ``outbox`` is the admission the outbox row belongs to: None for the withdrawal at the end of an
    admission, so that it outlives the purge of the admission's own events.
    """
    claims = withdrawal_claims(ward=ward, admission=admission, alerts=alerts, reason=reason, now=now)
    data = {
        "admission": admission,
        "alerts": list(alerts),
        "reason": reason,
        "jws": jws.sign(claims, identity, typ=WITHDRAWAL_TYPE),
    }
    return append_event(db, ward=ward, type="withdrawn", data=data, admission=outbox, now=now)


def withdraw_no_longer_found(
    db: Database,
    identity: Identity,
    ward: str,
    admission: str,
    alerts: Sequence[str],
    *,
    now: datetime,
    reason: str = NO_LONGER_FOUND,
) -> Event:
    """Mark active alerts withdrawn because their findings are no longer found (a medication stopped, a
    dose held; ``reason`` may say more), and write the signed event saying so (in the caller's
    transaction)."""
    db.execute(
        f"UPDATE alerts SET status = 'withdrawn', updated = ? WHERE id IN ({','.join('?' * len(alerts))})",
        [iso(now), *alerts],
    )
    return append_withdrawal(db, identity, ward, admission, alerts, reason, now=now, outbox=admission)
