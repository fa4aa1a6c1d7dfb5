"""Bringing an older service database to ``store.SCHEMA_VERSION``, at start-up.

Version 2 lets a grant have one live admission, enforced by a partial unique index. A database made
before it may hold copies (identical admissions that raced each other): the first admitted is kept, the
doses planned on a copy move to it, and each copy is ended like any admission (its alerts withdrawn from
the ward, its slice purged, the purge audited), so the index can be created.

Version 3 seals every value holding a live admission's data with a new data key of its own
(``sealing``; the columns are ``SEALED``); an admission whose values cannot be sealed is ended (purged)
instead. Ended admissions hold nothing to seal: their purge deleted it.

Version 4 stores alert identities (``dedupe``: admission, kind, what it is about) with their drugs as a
hash keyed from the admission's data key (``sealing.tag``), not as RxCUIs or the names she wrote.

Steps are idempotent, and all of them commit together with the new schema version, or none does.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from alertsvc import admissions as adm
from alertsvc import ending, sealing, store
from alertsvc.alerts.hub import Event
from alertsvc.clock import iso
from alertsvc.errors import AlertsvcError
from alertsvc.ledger.identity import Identity
from alertsvc.store import Database

log = logging.getLogger("alertsvc.migrations")

SEALED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("admissions", "id", ("label",)),
    ("slices", "admission", ("slice",)),
    ("slice_updates", "admission", ("body",)),
    ("doses", "admission", ("drug", "ingredients", "dose", "outcome")),
    ("alerts", "admission", ("body", "jws")),
    ("acknowledgements", "admission", ("comment",)),
    ("events", "admission", ("data",)),
    ("ward_observations", "admission", ("note", "resource")),
    ("practitioner_entries", "admission", ("payload",)),
    ("scope_requests", "admission", ("reason", "note")),
    ("follow_ups", "admission", ("comment", "resolution_note")),
    ("given_overrides", "admission", ("text",)),
)
"""(table, the column naming the admission, the columns stored sealed with its key). Stored answers to
Idempotency-Keys are sealed too, with the key of the first admission they hold data of."""


def upgrade(db: Database, identity: Identity, *, now: datetime) -> list[Event]:
    """Run every step the database lacks; the events announcing what changed (already in the outbox)."""
    with store.write(db):
        events = one_live_admission_per_grant(db, identity, now=now)
        db.execute(store.LIVE_GRANT_INDEX)
        if store.schema_version(db) < 3:
            events += seal_live_admissions(db, identity, now=now)
        if store.schema_version(db) < 4:
            tag_alert_identities(db, now=now)
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


def seal_live_admissions(db: Database, identity: Identity, *, now: datetime) -> list[Event]:
    """Give each live admission a data key and seal its values in place (inside the caller's
    transaction); end the admissions that cannot be sealed. The clear copies leave the files at the
    WAL checkpoint this owes (``secure_delete`` zeroes the old cells)."""
    ring = sealing.keyring(db)
    events: list[Event] = []
    live = [row[0] for row in db.execute("SELECT id FROM admissions WHERE status = 'active' ORDER BY id")]
    for admission in live:
        if ring.has_key(db, admission):
            continue
        db.execute("SAVEPOINT seal_admission")
        try:
            ring.create(db, admission, now=now)
            seal_admission(db, admission)
            db.execute("RELEASE seal_admission")
        except (AlertsvcError, sqlite3.Error, UnicodeError, ValueError) as exc:
            db.execute("ROLLBACK TO seal_admission")
            db.execute("RELEASE seal_admission")
            ring.forget(admission)
            log.warning("admission %s: its values could not be sealed (%s); ending it", admission, exc)
            ended = adm.shredded_admission(db, admission)
            assert ended is not None
            reason = "its data could not be sealed when the service was upgraded"
            events.append(ending.withdraw(db, identity, ended, reason=reason, now=now))
    store.owe(db, store.CHECKPOINT, iso(now))
    return events


IDENTIFIED: tuple[tuple[str, str], ...] = (("alerts", "id"), ("cds_cards", "card"), ("cds_overrides", "id"))
"""(table, its primary key) of the tables holding alert identities (a ``dedupe`` column)."""


def tag_alert_identities(db: Database, *, now: datetime) -> None:
    """Store each live admission's alert identities tagged (``sealing.tag``: no RxCUI or drug name in
    clear), in place, inside the caller's transaction. Ended admissions hold none: their purge deleted
    them. The clear values leave the file at the WAL checkpoint this owes."""
    ring = sealing.keyring(db)
    for table, key in IDENTIFIED:
        for row_key, admission, dedupe in db.execute(
            f"SELECT {key}, admission, dedupe FROM {table}"
        ).fetchall():
            if not ring.has_key(db, admission):
                continue
            tagged = sealing.dedupe_tag(db, admission, dedupe)
            if tagged != dedupe:
                db.execute(f"UPDATE {table} SET dedupe = ? WHERE {key} = ?", [tagged, row_key])
    store.owe(db, store.CHECKPOINT, iso(now))


def seal_admission(db: Database, admission: str) -> None:
    """Seal every stored value of one admission, in place (each stored in clear until now)."""
    for table, owner, columns in SEALED:
        for column in columns:
            rows = db.execute(
                f"SELECT rowid, {column} FROM {table} WHERE {owner} = ? AND {column} IS NOT NULL", [admission]
            ).fetchall()
            for rowid, value in rows:
                db.execute(
                    f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                    [sealing.seal(db, admission, value), rowid],
                )
    answers = db.execute(
        "SELECT i.id, i.answer FROM idempotency i "
        "WHERE (SELECT min(a.admission) FROM idempotency_admissions a WHERE a.answer = i.id) = ?",
        [admission],
    ).fetchall()
    for answer_id, answer in answers:
        db.execute(
            "UPDATE idempotency SET answer = ? WHERE id = ?", [sealing.seal(db, admission, answer), answer_id]
        )
