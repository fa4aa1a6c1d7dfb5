"""What the store keeps about itself, on either engine: the schema version and owed work.

Work a crash must not forget (a WAL checkpoint a purge still owes) is a row in ``owed``, written in the
transaction that makes it owed and deleted once it is done.
"""

from __future__ import annotations

from alertsvc.store.engine import Database

SCHEMA_VERSION = 4
"""1: the first release. 2: one live admission per grant (a partial unique index), owed work, idempotency
keys. 3: every value holding an admission's data sealed with its own data key (``alertsvc.sealing``).
4: alert identities (``dedupe``) name their drugs only by a hash keyed from that data key."""

LIVE_GRANT_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS admissions_live_grant ON admissions(grant_id) WHERE status = 'active'"
)
"""One grant, one live admission: the database refuses a second (schema version 2)."""

CHECKPOINT = "wal-checkpoint"
"""Owed work: a purge's ``wal_checkpoint(TRUNCATE)`` that a reader blocked (SQLite only)."""


def schema_version(db: Database) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def set_schema_version(db: Database, version: int) -> None:
    db.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [str(version)],
    )


def owe(db: Database, work: str, since: str) -> None:
    """Record owed work, inside the transaction that makes it owed (so a crash cannot forget it)."""
    db.execute("INSERT INTO owed(work, since) VALUES (?, ?) ON CONFLICT DO NOTHING", [work, since])


def is_owed(db: Database, work: str) -> bool:
    return db.execute("SELECT 1 FROM owed WHERE work = ?", [work]).fetchone() is not None


def finish_owed_checkpoint(db: Database) -> bool:
    """Do the owed WAL checkpoint, if one is owed; True when nothing is owed any more.

    The row goes only after the checkpoint succeeded; deleting it writes to the WAL again, so the
    checkpoint is repeated to leave the WAL empty (its failure then costs nothing: the purged bytes are
    already gone, and only the ``owed`` page is in the WAL).
    """
    if not is_owed(db, CHECKPOINT):
        return True
    if not db.checkpoint():
        return False
    with db.write():
        db.execute("DELETE FROM owed WHERE work = ?", [CHECKPOINT])
    db.checkpoint()
    return True
