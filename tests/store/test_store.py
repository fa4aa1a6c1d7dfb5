"""The store's promises, held by both engines (SQLite file and PostgreSQL schema; see conftest)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from alertsvc import admissions as adm
from alertsvc import audit, store
from alertsvc.admissions import Admission
from alertsvc.alerts import store as alert_store
from alertsvc.errors import ConstraintViolation, StoreError, UniqueViolation
from alertsvc.store.postgres import placeholders
from tests.store.conftest import Opener

NOW = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def admission(id: str, grant: str = "grant-1", ward: str = "icu") -> Admission:
    return Admission(
        id=id,
        ward=ward,
        bed="3",
        label="Bed 3",
        patient="ed25519:patient",
        grant_id=grant,
        not_before=NOW,
        expires_at=NOW + timedelta(days=2),
        admitted_at=NOW,
        status="active",
    )


def ward_rows(db: store.Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT id FROM wards ORDER BY id")]


def add_ward(db: store.Database, ward: str) -> None:
    db.execute(
        "INSERT INTO wards(id, name, timezone, shifts) VALUES (?, ?, 'Europe/London', '[]')", [ward, ward]
    )


def test_a_transaction_that_raises_leaves_nothing(db: store.Database) -> None:
    with pytest.raises(RuntimeError, match="half-way"), store.write(db):
        add_ward(db, "icu")
        add_ward(db, "ed")
        raise RuntimeError("half-way")
    assert ward_rows(db) == []
    with store.write(db):
        add_ward(db, "icu")
    assert ward_rows(db) == ["icu"]


def test_a_refused_statement_rolls_back_the_whole_transaction_and_the_store_goes_on(
    db: store.Database,
) -> None:
    with store.write(db):
        add_ward(db, "icu")
    with pytest.raises(UniqueViolation), store.write(db):
        add_ward(db, "ed")
        add_ward(db, "icu")  # already there
    assert ward_rows(db) == ["icu"]  # "ed" went with the transaction
    with store.write(db):
        add_ward(db, "ed")
    assert ward_rows(db) == ["ed", "icu"]


def test_every_unique_key_raises_the_one_error(db: store.Database) -> None:
    with store.write(db):
        add_ward(db, "icu")
        assert adm.insert_admission(db, admission("a1"), b"slice", 1)
        # the partial unique index: one live admission per grant, refused quietly by ON CONFLICT
        assert not adm.insert_admission(db, admission("a2"), b"slice", 1)
    with pytest.raises(UniqueViolation, match="admission"), store.write(db):
        adm.insert_admission(
            db, admission("a1", grant="grant-2"), b"slice", 1
        )  # same id: its key, then its row, collide
    with pytest.raises(UniqueViolation), store.write(db):
        db.execute("INSERT INTO slices(admission, slice, head_seq) VALUES ('a1', ?, 2)", [b"again"])
    assert isinstance(UniqueViolation("x"), StoreError)


def test_blobs_and_flags_read_back_as_written(db: store.Database) -> None:
    body = bytes(range(256))
    with store.write(db):
        add_ward(db, "icu")
        adm.insert_admission(db, admission("a1"), body, 7)
        db.execute(
            "INSERT INTO follow_ups(id, alert, admission, ward, dose, opened_at, opened_by, opened_shift,"
            " state, comes_back, raised) VALUES ('f1', 'al', 'a1', 'icu', 'd1', ?, 'n', 'day', 'open', ?, ?)",
            ["2026-03-08T09:00:00Z", "2026-03-08T10:00:00Z", True],
        )
    assert adm.slice_of(db, "a1") == (body, [])
    assert adm.accepted_head(db, "a1") == 7
    assert db.execute("SELECT raised FROM follow_ups WHERE id = 'f1'").fetchone()[0] == 1


def test_the_outbox_keeps_each_wards_order_and_resumes_after_an_id(db: store.Database) -> None:
    written: dict[str, list[int]] = {"icu": [], "ed": []}
    with store.write(db):
        for i in range(30):
            ward = "icu" if i % 3 else "ed"
            event = alert_store.append_event(
                db, ward=ward, type="alert", data={"i": i}, admission=None, now=NOW
            )
            written[ward].append(event.seq)
    for ward, seqs in written.items():
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert [e.seq for e in alert_store.events_since(db, ward, 0)] == seqs
        assert [e.seq for e in alert_store.events_since(db, ward, seqs[4], limit=3)] == seqs[5:8]
        assert alert_store.last_event_id(db, ward) == seqs[-1]
    assert alert_store.events_since(db, "icu", 0)[0].data == '{"i":1}'


def test_the_audit_log_is_append_only(db: store.Database) -> None:
    with store.write(db):
        audit.record(db, now=NOW, actor="nurse", action="admit", admission="a1")
    for change in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(ConstraintViolation, match="append-only"), store.write(db):
            db.execute(change)
    assert [r.actor for r in audit.trail(db, "a1")] == ["nurse"]


def test_owed_work_survives_closing_and_reopening(open_store: Opener) -> None:
    db = open_store()
    with store.write(db):
        store.owe(db, "some-work", "2026-03-08T09:00:00Z")
        store.owe(db, "some-work", "2026-03-08T09:05:00Z")  # owing twice is owing once
    db.close()
    again = open_store()
    assert store.is_owed(again, "some-work")
    assert not store.is_owed(again, "other-work")
    assert store.schema_version(again) == store.SCHEMA_VERSION


def test_writers_on_two_connections_never_interleave_a_read_then_write(open_store: Opener) -> None:
    """Each writer reads a counter and writes it back plus one: lost updates would leave it short."""
    first = open_store()
    with store.write(first):
        first.execute("INSERT INTO meta(key, value) VALUES ('counter', '0')")
    rounds = 40
    failures: list[BaseException] = []

    def bump() -> None:
        db = open_store()  # its own connection (SQLite connections stay on their thread)
        try:
            for _ in range(rounds):
                with store.write(db):
                    (value,) = db.execute("SELECT value FROM meta WHERE key = 'counter'").fetchone()
                    db.execute("UPDATE meta SET value = ? WHERE key = 'counter'", [str(int(value) + 1)])
        except BaseException as exc:  # reported below, on the test's thread
            failures.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=bump) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert first.execute("SELECT value FROM meta WHERE key = 'counter'").fetchone()[0] == str(3 * rounds)


def test_both_engines_have_the_same_tables(open_store: Opener) -> None:
    db = open_store()
    if db.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    tables = {row[0] for row in db.execute(sql)}
    assert tables == EXPECTED_TABLES


EXPECTED_TABLES = {
    "meta", "wards", "admissions", "admission_keys", "slices", "slice_updates", "doses", "alerts",
    "acknowledgements", "events",
    "audit", "cds_feedback", "owed", "idempotency", "idempotency_admissions", "ward_observations",
    "practitioner_entries", "scope_requests", "follow_ups", "given_overrides", "cds_cards", "cds_overrides",
}  # fmt: skip


@pytest.mark.parametrize(
    ("sql", "translated"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
        ("SELECT '?', \"odd?name\" FROM t WHERE x = ?", "SELECT '?', \"odd?name\" FROM t WHERE x = %s"),
        ("SELECT 'it''s ?' WHERE y LIKE '5%' AND z = ?", "SELECT 'it''s ?' WHERE y LIKE '5%%' AND z = %s"),
    ],
    ids=["plain", "quoted-question-marks", "percent-and-doubled-quote"],
)
def test_placeholders_become_psycopgs_outside_quotes(sql: str, translated: str) -> None:
    assert placeholders(sql) == translated


def test_text_sorts_byte_by_byte_on_both_engines(db: store.Database) -> None:
    ids = ["aa", "a-b", "B", "a b", "Z9", "a"]
    with store.write(db):
        for ward in ids:
            add_ward(db, ward)
    assert ward_rows(db) == sorted(ids)  # Python's order is the code points' order
    assert [r[0] for r in db.execute("SELECT id FROM wards WHERE id > ? ORDER BY id", ["a-b"])] == ["aa"]
