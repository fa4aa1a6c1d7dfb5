"""One grant, one live admission, enforced by the database; a revocation or expiry ends every admission of
its grant.

Identical admissions are sent at once from threads to a real uvicorn on 127.0.0.1 (the race a client's
retry after a slow RxNav look-up makes), several times; the database is read through its own connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc import store
from tests.postgres import SQLITE_ONLY, on_postgres, reading
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.sealed_db import unsealed_copy_in_place
from tests.web.test_admissions import (
    WARD,
    InProcessPatient,
    alerts,
    grant,
    make_slice,
    make_update,
    post_update,
    service_settings,
    serving,
)

CONCURRENT = 4
TRIALS = 5


def at_once(count: int, send: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """``send(i)`` for i in range(count), from ``count`` threads released together by a barrier."""
    barrier = threading.Barrier(count)
    answers: list[httpx.Response | None] = [None] * count
    failures: list[BaseException] = []

    def one(i: int) -> None:
        try:
            barrier.wait(10)
            answers[i] = send(i)
        except BaseException as exc:  # reported below; a thread must not die silently
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    return [a for a in answers if a is not None]


def live_admissions(db_path: Path) -> dict[str, list[str]]:
    """grant id -> ids of its active admissions, read through a separate read-only connection."""
    with reading(db_path) as connection:
        rows = connection.execute("SELECT grant_id, id FROM admissions WHERE status = 'active'").fetchall()
    found: dict[str, list[str]] = {}
    for grant_id, admission in rows:
        found.setdefault(grant_id, []).append(admission)
    return found


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


def _post_admission(running: RunningService, body: dict[str, Any]) -> httpx.Response:
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        return client.post("/admissions", json=body)


def test_identical_admissions_at_once_make_one_live_admission(
    running: RunningService, patient: PatientCLI
) -> None:
    """Before the fix: four 201s and four active admissions for one grant in most trials."""
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("flag-reaction", "ibuprofen", "--reaction", "wheeze", "--severity", "severe")
    statuses: Counter[int] = Counter()
    for trial in range(TRIALS):
        grant_doc = grant(
            patient, running.service.identity.public_id, not_before=running.clock.now, out=f"g{trial}.json"
        )
        slice_doc = make_slice(patient, grant_file=f"g{trial}.json", out=f"s{trial}.json")
        body = {"grant": grant_doc, "slice": slice_doc, "ward": WARD, "bed": str(trial)}
        answers = at_once(CONCURRENT, lambda _, body=body: _post_admission(running, body))
        statuses.update(a.status_code for a in answers)
        created = [a.json()["admission"] for a in answers if a.status_code == 201]
        assert len(created) == 1, f"trial {trial}: {[a.status_code for a in answers]}"
        admission = created[0]
        for refused in (a for a in answers if a.status_code != 201):
            assert refused.status_code == 409, refused.text
            error = refused.json()["error"]
            assert error["code"] == "conflict"
            assert admission in error["message"] and str(grant_doc["grant"]) in error["message"]
        assert live_admissions(running.settings.db_path)[str(grant_doc["grant"])] == [admission]
    assert statuses == {201: TRIALS, 409: TRIALS * (CONCURRENT - 1)}
    # One copy of each alert per trial, not four.
    per_admission = Counter(a["alert"]["admission"] for a in alerts(running))
    assert len(per_admission) == TRIALS and len(set(per_admission.values())) == 1


def test_a_revocation_ends_every_admission_of_its_grant(running: RunningService, patient: PatientCLI) -> None:
    """Before the fix the copies made by concurrent admissions outlived a revocation through one of them."""
    patient.ledger_cmd("add-medication", "warfarin")
    grant_doc = grant(patient, running.service.identity.public_id, not_before=running.clock.now)
    slice_doc = make_slice(patient)
    body = {"grant": grant_doc, "slice": slice_doc, "ward": WARD, "bed": "1"}
    answers = at_once(CONCURRENT, lambda _: _post_admission(running, body))
    first = next(a.json() for a in answers if a.status_code == 201)
    admission = first["admission"]
    patient.ledger_cmd("revoke", "grant.json")
    revocation = make_update(patient, first["head"], out="revocation.json")
    response = post_update(running, admission, revocation)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ended"
    assert live_admissions(running.settings.db_path) == {}
    assert alerts(running) == []


def test_an_expiry_ends_every_admission_of_its_grant(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    grant_doc = grant(patient, running.service.identity.public_id, not_before=clock.now, hours=2)
    body = {"grant": grant_doc, "slice": make_slice(patient), "ward": WARD, "bed": "1"}
    answers = at_once(CONCURRENT, lambda _: _post_admission(running, body))
    assert any(a.status_code == 201 for a in answers)
    clock.now += timedelta(hours=3)
    running.run(running.service.tick())
    assert live_admissions(running.settings.db_path) == {}
    assert alerts(running) == []


def _old_database_with_duplicates(tmp_path: Path, clock: FakeClock, patient: PatientCLI) -> tuple[Path, str]:
    """A database as the service before this fix left it: three live admissions of one grant (made by
    inserting copies of a real admission's rows), each with alerts; one copy has a dose planned."""
    settings = service_settings(tmp_path)
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("flag-reaction", "warfarin", "--reaction", "nosebleeds", "--severity", "severe")
    with serving(settings, clock) as first:
        grant_doc = grant(patient, first.service.identity.public_id, not_before=clock.now)
        body = {"grant": grant_doc, "slice": make_slice(patient), "ward": WARD, "bed": "1"}
        kept = _post_admission(first, body).json()["admission"]
    unsealed_copy_in_place(settings.db_path, tmp_path / "hospital.kek", version=1)
    with closing(sqlite3.connect(settings.db_path)) as db, db:
        db.execute("DROP INDEX IF EXISTS admissions_live_grant")
        for n, copy in enumerate(("adm-copy-1", "adm-copy-2"), start=1):
            later = (clock.now + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
            db.execute(
                "INSERT INTO admissions SELECT ?, ward, bed, label, patient, patient_hash, grant_id, "
                "not_before, expires_at, ?, status, ended_at, end_reason, ledger_url FROM admissions "
                "WHERE id = ?",
                [copy, later, kept],
            )
            db.execute(
                "INSERT INTO slices SELECT ?, slice, head_seq FROM slices WHERE admission = ?", [copy, kept]
            )
            db.execute(
                "INSERT INTO alerts SELECT id || ?, ?, ward, dedupe || ?, version, status, severity_rank, "
                "dose, due, reminded_dose, body, jws, created, updated FROM alerts WHERE admission = ?",
                [f"-{n}", copy, f"-{n}", kept],
            )
        db.execute(
            "INSERT INTO doses(id, admission, ward, drug, ingredients, dose, route, due, outcome, created) "
            "VALUES ('dose-on-copy', 'adm-copy-2', ?, 'ibuprofen', '[[\"5640\", \"ibuprofen\"]]', '400 mg', "
            "'oral', ?, NULL, ?)",
            [WARD, (clock.now + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ"), clock.now.isoformat()],
        )
        db.execute("DELETE FROM meta WHERE key = 'schema_version'")
        db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '1')")
    return settings.db_path, kept


@pytest.mark.skipif(on_postgres(), reason=SQLITE_ONLY)  # PostgreSQL stores began at schema version 3
def test_an_older_database_with_copies_keeps_the_first_admission_and_its_planned_doses(
    tmp_path: Path, clock: FakeClock
) -> None:
    (tmp_path / "patient").mkdir()
    patient = InProcessPatient(tmp_path / "patient")
    db_path, kept = _old_database_with_duplicates(tmp_path, clock, patient)
    assert sorted(next(iter(live_admissions(db_path).values()))) == sorted([kept, "adm-copy-1", "adm-copy-2"])
    with serving(service_settings(tmp_path), clock) as upgraded:
        assert list(live_admissions(db_path).values()) == [[kept]]
        listed = alerts(upgraded)
        assert {a["alert"]["admission"] for a in listed} == {kept}
        # The dose planned on a copy now belongs to the admission kept, and is checked with it.
        assert any((a["alert"]["dose"] or {}).get("id") == "dose-on-copy" for a in listed), listed
        with reading(db_path) as db:
            assert db.execute("SELECT admission FROM doses WHERE id = 'dose-on-copy'").fetchone() == (kept,)
            ended = db.execute(
                "SELECT id, end_reason FROM admissions WHERE status = 'ended' ORDER BY id"
            ).fetchall()
            assert ended == [
                (c, f"duplicate admission of its grant; {kept} kept") for c in ("adm-copy-1", "adm-copy-2")
            ]
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            assert version == (str(store.SCHEMA_VERSION),)
        # And from now on the database itself refuses a second live admission of that grant.
        with (
            closing(sqlite3.connect(db_path)) as db,
            pytest.raises(sqlite3.IntegrityError, match=r"UNIQUE constraint failed: admissions\.grant_id"),
            db,
        ):
            db.execute(
                "INSERT INTO admissions SELECT 'adm-copy-3', ward, bed, label, patient, patient_hash, "
                "grant_id, not_before, expires_at, admitted_at, status, ended_at, end_reason, ledger_url "
                "FROM admissions WHERE id = ?",
                [kept],
            )
