"""The hospital service's database on SQLite (the default): connection settings, schema, transactions.

One file holds wards, admissions (with the verified slice), the schedule, alerts, acknowledgements, the
event outbox and the audit log. WAL with ``synchronous=FULL`` keeps every acknowledged write across a
crash; ``secure_delete=ON`` overwrites deleted content, and a purge ends with a checked
``wal_checkpoint(TRUNCATE)`` so the bytes are gone from the database file and its WAL.

Every write goes through ``write()``: a ``BEGIN IMMEDIATE`` transaction (sqlite-utils' ``atomic()`` is
a plain ``BEGIN``, which loses writes when two connections race; see docs/design.md, "The store").
``open_sqlite`` makes every table; the steps that bring an older database to ``SCHEMA_VERSION`` (which
may need to end admissions) are in ``alertsvc.migrations``, run by the service at start-up. The same
tables on PostgreSQL are in ``alertsvc.store.postgres_schema``: a table added here is added there too.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alertsvc.errors import ConstraintViolation, ServiceError, StoreError, UniqueViolation
from alertsvc.store.engine import Dialect, stored_value
from alertsvc.store.meta import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "SQLiteDatabase", "open_sqlite"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wards (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, timezone TEXT NOT NULL, shifts TEXT NOT NULL,
    last_shift_start TEXT NOT NULL DEFAULT '', locale TEXT NOT NULL DEFAULT 'en-US'
);
CREATE TABLE IF NOT EXISTS admissions (
    id TEXT PRIMARY KEY, ward TEXT NOT NULL REFERENCES wards(id), bed TEXT NOT NULL,
    label TEXT NOT NULL, patient TEXT NOT NULL, patient_hash TEXT NOT NULL, grant_id TEXT NOT NULL,
    not_before TEXT NOT NULL, expires_at TEXT NOT NULL, admitted_at TEXT NOT NULL,
    status TEXT NOT NULL, ended_at TEXT, end_reason TEXT, ledger_url TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS slices (
    admission TEXT PRIMARY KEY, slice BLOB NOT NULL, head_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS slice_updates (
    admission TEXT NOT NULL, head_seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (admission, head_seq)
);
CREATE INDEX IF NOT EXISTS admissions_by_status ON admissions(status, expires_at);
CREATE TABLE IF NOT EXISTS doses (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, ward TEXT NOT NULL, drug TEXT NOT NULL,
    ingredients TEXT NOT NULL, dose TEXT NOT NULL, route TEXT NOT NULL, due TEXT NOT NULL,
    outcome TEXT, created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS doses_by_admission ON doses(admission, due);
CREATE INDEX IF NOT EXISTS doses_by_ward ON doses(ward, due);
CREATE INDEX IF NOT EXISTS doses_pending ON doses(due) WHERE outcome IS NULL;
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, ward TEXT NOT NULL, dedupe TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL, status TEXT NOT NULL, severity_rank INTEGER NOT NULL,
    dose TEXT, due TEXT, reminded_dose TEXT, body TEXT NOT NULL, jws TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_ward ON alerts(ward, status);
CREATE INDEX IF NOT EXISTS alerts_by_admission ON alerts(admission, status);
CREATE TABLE IF NOT EXISTS acknowledgements (
    id TEXT PRIMARY KEY, alert TEXT NOT NULL, admission TEXT NOT NULL, ward TEXT NOT NULL,
    nurse TEXT NOT NULL, shift TEXT NOT NULL, shift_start TEXT NOT NULL,
    reason_code TEXT NOT NULL, reason_display TEXT NOT NULL, comment TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS acknowledgements_by_alert ON acknowledgements(alert, at);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ward TEXT NOT NULL, type TEXT NOT NULL,
    data TEXT NOT NULL, admission TEXT, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_ward ON events(ward, seq);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, admission TEXT, ward TEXT, patient_hash TEXT, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_admission ON audit(admission, seq);
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS cds_feedback (
    id TEXT PRIMARY KEY, service TEXT NOT NULL, card TEXT NOT NULL, outcome TEXT NOT NULL,
    override_reason TEXT NOT NULL, outcome_at TEXT NOT NULL, received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS owed (work TEXT PRIMARY KEY, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    id INTEGER PRIMARY KEY, caller TEXT NOT NULL, route TEXT NOT NULL, key TEXT NOT NULL,
    request_hash TEXT NOT NULL, status INTEGER NOT NULL, answer BLOB NOT NULL,
    created TEXT NOT NULL, expires TEXT NOT NULL, UNIQUE (caller, route, key)
);
CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency(expires);
CREATE TABLE IF NOT EXISTS idempotency_admissions (
    answer INTEGER NOT NULL REFERENCES idempotency(id) ON DELETE CASCADE, admission TEXT NOT NULL,
    PRIMARY KEY (admission, answer)
);
CREATE INDEX IF NOT EXISTS idempotency_admissions_by_answer ON idempotency_admissions(answer);
CREATE TABLE IF NOT EXISTS ward_observations (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, ward TEXT NOT NULL, code TEXT NOT NULL,
    value REAL NOT NULL, measured TEXT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL,
    note TEXT NOT NULL, resource TEXT NOT NULL, entry TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ward_observations_by_admission ON ward_observations(admission, measured);
CREATE TABLE IF NOT EXISTS practitioner_entries (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, kind TEXT NOT NULL, payload BLOB NOT NULL,
    signature BLOB NOT NULL, created TEXT NOT NULL, clinician TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '', delivered_at TEXT, seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS practitioner_entries_by_admission ON practitioner_entries(admission, seq);
CREATE INDEX IF NOT EXISTS practitioner_entries_due ON practitioner_entries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS scope_requests (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, ward TEXT NOT NULL, grant_id TEXT NOT NULL,
    scope TEXT NOT NULL, reason TEXT NOT NULL, requested_by TEXT NOT NULL, requested_at TEXT NOT NULL,
    status TEXT NOT NULL, answered_at TEXT, new_grant TEXT, note TEXT
);
CREATE INDEX IF NOT EXISTS scope_requests_by_admission ON scope_requests(admission);
CREATE TABLE IF NOT EXISTS admission_keys (
    admission TEXT PRIMARY KEY, wrapped BLOB NOT NULL, created TEXT
);
"""

ACTIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS follow_ups (
    id TEXT PRIMARY KEY, alert TEXT NOT NULL, admission TEXT NOT NULL, ward TEXT NOT NULL, dose TEXT NOT NULL,
    opened_at TEXT NOT NULL, opened_by TEXT NOT NULL, opened_shift TEXT NOT NULL, state TEXT NOT NULL,
    comes_back TEXT NOT NULL, raised INTEGER NOT NULL DEFAULT 0, prescriber TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '', closed_at TEXT, closed_by TEXT, resolution TEXT,
    resolution_note TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS follow_ups_one_open ON follow_ups(alert) WHERE state = 'open';
CREATE INDEX IF NOT EXISTS follow_ups_by_alert ON follow_ups(alert, opened_at);
CREATE TABLE IF NOT EXISTS given_overrides (
    id TEXT PRIMARY KEY, alert TEXT NOT NULL, admission TEXT NOT NULL, ward TEXT NOT NULL, dose TEXT NOT NULL,
    nurse TEXT NOT NULL, recorded_by TEXT NOT NULL, shift TEXT NOT NULL, shift_start TEXT NOT NULL,
    reason_code TEXT NOT NULL, reason_display TEXT NOT NULL, text TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS given_overrides_by_alert ON given_overrides(alert, at);
CREATE TABLE IF NOT EXISTS cds_cards (
    card TEXT PRIMARY KEY, admission TEXT NOT NULL, dedupe TEXT NOT NULL, user TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cds_cards_by_admission ON cds_cards(admission);
CREATE TABLE IF NOT EXISTS cds_overrides (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, dedupe TEXT NOT NULL, card TEXT NOT NULL,
    user TEXT NOT NULL, client TEXT NOT NULL, reason_code TEXT NOT NULL, reason_display TEXT NOT NULL,
    outcome_at TEXT NOT NULL, received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cds_overrides_by_finding ON cds_overrides(dedupe);
"""
"""Issue 11's clinical actions: a held dose's follow-up with the prescriber, a dose given under a critical
alert with its coded override reason, and CDS Hooks cards and overrides linked to an admission's finding.
Every table names its admission, so a purge deletes its rows (``admissions.purge``)."""

ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("wards", "locale", "TEXT NOT NULL DEFAULT 'en-US'"),
    ("ward_observations", "entry", "TEXT NOT NULL DEFAULT ''"),
)
"""Columns added to a table after its first release, added to an older database when it is opened."""

BUSY_TIMEOUT_MS = 5000


def open_sqlite(path: Path) -> SQLiteDatabase:
    """Open (creating if needed) the service database with its durability and privacy settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=True)
    for pragma in (
        f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA secure_delete=ON",
        "PRAGMA foreign_keys=ON",
    ):
        connection.execute(pragma)
    if connection.execute("PRAGMA secure_delete").fetchone()[0] != 1:
        connection.close()
        raise ServiceError(f"{path}: this SQLite build cannot turn secure_delete on; purges would leave data")
    connection.executescript(SCHEMA + ACTIONS_SCHEMA)
    for table, column, definition in ADDED_COLUMNS:  # databases made before the column existed
        if column not in {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    connection.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '1') ON CONFLICT DO NOTHING")
    return SQLiteDatabase(connection, path)


class SQLiteDatabase:
    """``alertsvc.store.Database`` on one SQLite connection, used on the thread that opened it."""

    dialect: Dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    def __repr__(self) -> str:
        return f"SQLiteDatabase({str(self.path)!r})"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.connection.execute(sql, [stored_value(p) for p in params])
        except sqlite3.Error as exc:
            raise _translated(exc, sql) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self.connection.executemany(sql, ([stored_value(p) for p in row] for row in rows))
        except sqlite3.Error as exc:
            raise _translated(exc, sql) from exc

    def insert_returning(self, sql: str, params: Sequence[Any] = ()) -> int:
        rows = self.execute(sql, params).fetchall()  # read to the end: the statement is then finished
        return int(rows[0][0])

    @contextmanager
    def write(self) -> Iterator[SQLiteDatabase]:
        """One ``BEGIN IMMEDIATE`` transaction: all of it commits, or none of it."""
        self.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def checkpoint(self) -> bool:
        return checkpoint_truncate(self.connection)

    def announce(self, payload: str) -> None:
        """Nothing: one process serves a SQLite file (a second is refused), so no one else is listening."""

    def written_mark(self) -> tuple[int, int]:
        """The rows this connection has changed (inserted, updated or deleted, committed or not) and the
        file's ``data_version``, which moves when another connection commits (a command-line tool)."""
        (version,) = self.connection.execute("PRAGMA data_version").fetchone()
        return self.connection.total_changes, int(version)

    def close(self) -> None:
        self.connection.close()


def _translated(exc: sqlite3.Error, sql: str) -> StoreError:
    """The driver's error as the store's: which statement, and what SQLite said."""
    what = f"SQLite refused {_first_words(sql)!r}: {exc}"
    if isinstance(exc, sqlite3.IntegrityError):
        unique = getattr(exc, "sqlite_errorname", "") in {
            "SQLITE_CONSTRAINT_UNIQUE",
            "SQLITE_CONSTRAINT_PRIMARYKEY",
        }
        return UniqueViolation(what) if unique else ConstraintViolation(what)
    return StoreError(what)


def _first_words(sql: str) -> str:
    return " ".join(sql.split()[:4])


def checkpoint_truncate(connection: sqlite3.Connection, *, attempts: int = 5) -> bool:
    """Move the WAL into the database file and truncate it to zero bytes; False if a reader blocks it.

    After a purge this is what makes deleted bytes leave the WAL (``secure_delete`` already zeroed them in
    the pages the checkpoint writes back). It never waits on the busy timeout, so the event loop is not
    held up: a blocked checkpoint is owed and retried by the caller (the service's next tick).
    """
    connection.execute("PRAGMA busy_timeout=0")
    try:
        for _ in range(attempts):
            busy, log_frames, checkpointed = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy == 0 and log_frames == checkpointed:
                return True
            time.sleep(0.01)
        return False
    finally:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
