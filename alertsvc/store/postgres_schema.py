"""The hospital service's tables in PostgreSQL: the same tables, columns and indexes as SQLite's
(``alertsvc.store.sqlite.SCHEMA`` and ``ACTIONS_SCHEMA``), in PostgreSQL's words.

- Text columns are ``COLLATE "C"``: ordered and compared byte by byte, as on SQLite.
- BLOB is BYTEA, REAL is DOUBLE PRECISION; times stay ISO 8601 UTC text, as on SQLite, so the same SQL
  compares and orders them the same way on both engines.
- ``INTEGER PRIMARY KEY AUTOINCREMENT`` is ``BIGINT GENERATED ALWAYS AS IDENTITY``: sequence numbers only
  grow (the outbox's ``events.seq`` is a dashboard's ``Last-Event-ID``).
- ``user`` is a reserved word in PostgreSQL: the column is ``"user"``, and the SQL that names it quotes it
  (SQLite accepts the quotes too).
- The audit log is append-only: a trigger raises on UPDATE, DELETE and TRUNCATE, as SQLite's ``RAISE(ABORT)``.
- A new database is made at ``SCHEMA_VERSION`` at once (with the live-grant index): there is no older
  PostgreSQL database to migrate.

A table added to SQLite's schema is added here too; ``tests/store`` compares the two lists of tables.
"""

from __future__ import annotations

from alertsvc.store.meta import LIVE_GRANT_INDEX, SCHEMA_VERSION

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wards (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, timezone TEXT NOT NULL, shifts TEXT NOT NULL,
    last_shift_start TEXT NOT NULL DEFAULT '', locale TEXT NOT NULL DEFAULT 'en-US'
);
CREATE TABLE IF NOT EXISTS admissions (
    id TEXT PRIMARY KEY, ward TEXT NOT NULL REFERENCES wards(id), bed TEXT NOT NULL,
    label BYTEA NOT NULL, patient TEXT NOT NULL, patient_hash TEXT NOT NULL, grant_id TEXT NOT NULL,
    not_before TEXT NOT NULL, expires_at TEXT NOT NULL, admitted_at TEXT NOT NULL,
    status TEXT NOT NULL, ended_at TEXT, end_reason TEXT, ledger_url TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS slices (
    admission TEXT PRIMARY KEY, slice BYTEA NOT NULL, head_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS slice_updates (
    admission TEXT NOT NULL, head_seq INTEGER NOT NULL, body BYTEA NOT NULL, PRIMARY KEY (admission, head_seq)
);
CREATE INDEX IF NOT EXISTS admissions_by_status ON admissions(status, expires_at);
CREATE TABLE IF NOT EXISTS doses (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, ward TEXT NOT NULL, drug BYTEA NOT NULL,
    ingredients BYTEA NOT NULL, dose BYTEA NOT NULL, route TEXT NOT NULL, due TEXT NOT NULL,
    outcome BYTEA, created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS doses_by_admission ON doses(admission, due);
CREATE INDEX IF NOT EXISTS doses_by_ward ON doses(ward, due);
CREATE INDEX IF NOT EXISTS doses_pending ON doses(due) WHERE outcome IS NULL;
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, ward TEXT NOT NULL, dedupe TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL, status TEXT NOT NULL, severity_rank INTEGER NOT NULL,
    dose TEXT, due TEXT, reminded_dose TEXT, body BYTEA NOT NULL, jws BYTEA NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_ward ON alerts(ward, status);
CREATE INDEX IF NOT EXISTS alerts_by_admission ON alerts(admission, status);
CREATE TABLE IF NOT EXISTS acknowledgements (
    id TEXT PRIMARY KEY, alert TEXT NOT NULL, admission TEXT NOT NULL, ward TEXT NOT NULL,
    nurse TEXT NOT NULL, shift TEXT NOT NULL, shift_start TEXT NOT NULL,
    reason_code TEXT NOT NULL, reason_display TEXT NOT NULL, comment BYTEA NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS acknowledgements_by_alert ON acknowledgements(alert, at);
CREATE TABLE IF NOT EXISTS events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ward TEXT NOT NULL, type TEXT NOT NULL,
    data BYTEA NOT NULL, admission TEXT, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_ward ON events(ward, seq);
CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, admission TEXT, ward TEXT, patient_hash TEXT, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_admission ON audit(admission, seq);
CREATE TABLE IF NOT EXISTS cds_feedback (
    id TEXT PRIMARY KEY, service TEXT NOT NULL, card TEXT NOT NULL, outcome TEXT NOT NULL,
    override_reason TEXT NOT NULL, outcome_at TEXT NOT NULL, received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS owed (work TEXT PRIMARY KEY, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, caller TEXT NOT NULL, route TEXT NOT NULL,
    key TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL, answer BYTEA NOT NULL,
    created TEXT NOT NULL, expires TEXT NOT NULL, UNIQUE (caller, route, key)
);
CREATE INDEX IF NOT EXISTS idempotency_by_expiry ON idempotency(expires);
CREATE TABLE IF NOT EXISTS idempotency_admissions (
    answer BIGINT NOT NULL REFERENCES idempotency(id) ON DELETE CASCADE, admission TEXT NOT NULL,
    PRIMARY KEY (admission, answer)
);
CREATE INDEX IF NOT EXISTS idempotency_admissions_by_answer ON idempotency_admissions(answer);
CREATE TABLE IF NOT EXISTS ward_observations (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, ward TEXT NOT NULL, code TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL, measured TEXT NOT NULL, recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL, note BYTEA NOT NULL, resource BYTEA NOT NULL, entry TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ward_observations_by_admission ON ward_observations(admission, measured);
CREATE TABLE IF NOT EXISTS practitioner_entries (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, kind TEXT NOT NULL, payload BYTEA NOT NULL,
    signature BYTEA NOT NULL, created TEXT NOT NULL, clinician TEXT NOT NULL, state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '', delivered_at TEXT, seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS practitioner_entries_by_admission ON practitioner_entries(admission, seq);
CREATE INDEX IF NOT EXISTS practitioner_entries_due ON practitioner_entries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS scope_requests (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, ward TEXT NOT NULL, grant_id TEXT NOT NULL,
    scope TEXT NOT NULL, reason BYTEA NOT NULL, requested_by TEXT NOT NULL, requested_at TEXT NOT NULL,
    status TEXT NOT NULL, answered_at TEXT, new_grant TEXT, note BYTEA
);
CREATE INDEX IF NOT EXISTS scope_requests_by_admission ON scope_requests(admission);
CREATE TABLE IF NOT EXISTS follow_ups (
    id TEXT PRIMARY KEY, alert TEXT NOT NULL, admission TEXT NOT NULL, ward TEXT NOT NULL, dose TEXT NOT NULL,
    opened_at TEXT NOT NULL, opened_by TEXT NOT NULL, opened_shift TEXT NOT NULL, state TEXT NOT NULL,
    comes_back TEXT NOT NULL, raised INTEGER NOT NULL DEFAULT 0, prescriber TEXT NOT NULL DEFAULT '',
    comment BYTEA NOT NULL DEFAULT ''::bytea, closed_at TEXT, closed_by TEXT, resolution TEXT,
    resolution_note BYTEA NOT NULL DEFAULT ''::bytea
);
CREATE UNIQUE INDEX IF NOT EXISTS follow_ups_one_open ON follow_ups(alert) WHERE state = 'open';
CREATE INDEX IF NOT EXISTS follow_ups_by_alert ON follow_ups(alert, opened_at);
CREATE TABLE IF NOT EXISTS given_overrides (
    id TEXT PRIMARY KEY, alert TEXT NOT NULL, admission TEXT NOT NULL, ward TEXT NOT NULL, dose TEXT NOT NULL,
    nurse TEXT NOT NULL, recorded_by TEXT NOT NULL, shift TEXT NOT NULL, shift_start TEXT NOT NULL,
    reason_code TEXT NOT NULL, reason_display TEXT NOT NULL, text BYTEA NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS given_overrides_by_alert ON given_overrides(alert, at);
CREATE TABLE IF NOT EXISTS cds_cards (
    card TEXT PRIMARY KEY, admission TEXT NOT NULL, dedupe TEXT NOT NULL, "user" TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cds_cards_by_admission ON cds_cards(admission);
CREATE TABLE IF NOT EXISTS cds_overrides (
    id TEXT PRIMARY KEY, admission TEXT NOT NULL, dedupe TEXT NOT NULL, card TEXT NOT NULL,
    "user" TEXT NOT NULL, client TEXT NOT NULL, reason_code TEXT NOT NULL, reason_display TEXT NOT NULL,
    outcome_at TEXT NOT NULL, received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cds_overrides_by_finding ON cds_overrides(dedupe);
CREATE TABLE IF NOT EXISTS admission_keys (admission TEXT PRIMARY KEY, wrapped BYTEA NOT NULL, created TEXT);
"""

TABLES = _TABLES.replace(" TEXT", ' TEXT COLLATE "C"')
"""Every text column compares and sorts byte by byte, as SQLite's do, whatever the database's own
collation (``en_US.UTF-8`` would sort ``"a-b"`` after ``"aa"``; the service orders and compares ids and
ISO times)."""

AUDIT_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE OR REPLACE TRIGGER audit_append_only_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE OR REPLACE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
"""SQLite's ``audit_append_only_update``/``_delete`` triggers; ``integrity_constraint_violation`` so both
engines raise ``ConstraintViolation``."""

STATEMENTS: tuple[str, ...] = (
    TABLES,
    AUDIT_APPEND_ONLY,
    LIVE_GRANT_INDEX,
    f"INSERT INTO meta(key, value) VALUES ('schema_version', '{SCHEMA_VERSION}') ON CONFLICT DO NOTHING",
)
"""Run in order, in one transaction, by ``open_postgres``; each is idempotent (IF NOT EXISTS, OR REPLACE)."""
