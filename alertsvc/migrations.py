"""Bringing an older service database to ``store.SCHEMA_VERSION``, at start-up.

Version 2 lets a grant have one live admission, enforced by a partial unique index. A database made
before it may hold copies (identical admissions that raced each other): the first admitted is kept, the
doses planned on a copy move to it, and each copy is ended like any admission (its alerts withdrawn from
the ward, its slice purged, the purge audited), so the index can be created. Steps are idempotent.
"""

from __future__ import annotations

from datetime import datetime

from alertsvc import admissions as adm
from alertsvc import ending, store
from alertsvc.alerts.hub import Event
from alertsvc.clock import iso
from alertsvc.ledger.identity import Identity
from alertsvc.store import Database


def upgrade(db: Database, identity: Identity, *, now: datetime) -> list[Event]:
    """Run every step the database lacks; the events announcing what changed (already in the outbox)."""
    with store.write(db):
        events = one_live_admission_per_grant(db, identity, now=now)
        db.execute(store.LIVE_GRANT_INDEX)
        store.set_schema_version(db, store.SCHEMA_VERSION)
    return events


def one_live_admission_per_grant(db: Database, identity: Identity, *, now: datetime) -> list[Event]:
    """End every copy of a live admission of one grant but the first (inside the caller's transaction)."""
    events: list[Event] = []
    grants = db.execute(
        "SELECT grant_id FROM admissions WHERE status = 'active' GROUP BY grant_id HAVING count(*) > 1"
    ).fetchall()
    for (grant_id,) in grants:
        kept, *copies = adm.active_of_grant(db, grant_id)
        for copy in copies:
            db.execute(
                "UPDATE doses SET admission = ?, ward = ? WHERE admission = ?", [kept.id, kept.ward, copy.id]
            )
            reason = f"duplicate admission of its grant; {kept.id} kept"
            events.append(ending.withdraw(db, identity, copy, reason=reason, now=now))
        store.owe(db, store.CHECKPOINT, iso(now))
    return events
