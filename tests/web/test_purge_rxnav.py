"""Purge reaches the RxNav answer cache too: after a patient's admission ends, no file in the service's
directory (the database, its -wal and -shm, the RxNav cache and its -wal and -shm) holds a drug name she
wrote, and the service has forgotten it (the next look-up of that name asks RxNav again).

The service is a real uvicorn on 127.0.0.1 with ``rxnav_url`` pointing at the local RxNav stand-in
(tests/knowledge/rxnav_server.py), which answers from recorded RxNav responses: "xqzt" is unknown to
RxNav, "zoco" resolves to simvastatin by RxNav's approximate match; neither resolves offline.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from alertsvc.knowledge.rxnorm import cache_path_for
from alertsvc.knowledge.rxnorm_cache import AnswerCache
from tests.knowledge.rxnav_server import RxNavServer, serve_recorded
from tests.postgres import on_postgres, stored_bytes
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_admissions import (
    InProcessPatient,
    admit,
    alerts,
    grant,
    make_slice,
    present,
    service_settings,
    serving,
)

WRITTEN = (b"xqzt", b"zoco")
"""What the patient wrote, as she wrote it: the only way these strings reach the service."""


@pytest.fixture
def rxnav() -> Iterator[RxNavServer]:
    with serve_recorded() as server:
        yield server


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    directory = tmp_path / "patient"
    directory.mkdir()
    return InProcessPatient(directory)


@pytest.fixture
def service_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "service"
    directory.mkdir()
    return directory


@pytest.fixture
def running(service_dir: Path, clock: FakeClock, rxnav: RxNavServer) -> Iterator[RunningService]:
    settings = service_settings(service_dir, rxnav_url=rxnav.url(), rxnav_timeout=5.0)
    with serving(settings, clock) as service:
        yield service


def files_holding(directory: Path, needles: tuple[bytes, ...]) -> list[str]:
    """``"<needle> in <file>"`` for every file of ``directory`` holding a needle (case-insensitive)."""
    found = []
    for file in sorted(directory.iterdir()):
        if file.is_file():
            data = file.read_bytes().lower()
            found += [f"{n.decode()} in {file.name} ({data.count(n)} copies)" for n in needles if n in data]
    return found


def held(running: RunningService, directory: Path) -> list[str]:
    """``files_holding`` her names, and on PostgreSQL (``ALERTSVC_TEST_ENGINE=postgres``) the database's
    rows holding them."""
    found = files_holding(directory, WRITTEN)
    if on_postgres():
        rows = stored_bytes(running.settings.db_path).lower()
        found += [f"{n.decode()} in the database's rows" for n in WRITTEN if n in rows]
    return found


def asked_for(rxnav: RxNavServer, term: str) -> int:
    """Requests RxNav received naming ``term`` (by name or approximate term)."""
    return sum(1 for r in rxnav.requests if any(v.lower() == term for _, v in r.query))


async def checkpoint_owed(running: RunningService) -> bool:
    """Whether a WAL checkpoint is owed, read on the service's own thread (the database lives there)."""
    return running.service.checkpoint_owed


def test_a_purged_patients_drug_names_leave_every_file_and_the_rxnav_cache(
    running: RunningService, patient: PatientCLI, clock: FakeClock, rxnav: RxNavServer, service_dir: Path
) -> None:
    patient.ledger_cmd("add-medication", "xqzt", "--dose", "1 tablet daily")
    patient.ledger_cmd("add-medication", "zoco", "--dose", "40 mg at night")
    admitted = admit(running, patient, hours=24)

    assert asked_for(rxnav, "xqzt") >= 2 and asked_for(rxnav, "zoco") >= 1, rxnav.requests
    assert {u["term"] for u in admitted["unresolved"]} == {"xqzt"}
    by_term = {n["label"]: n for n in admitted["normalised"]}
    assert [i["name"] for i in by_term["zoco"]["ingredients"]] == ["simvastatin"], admitted["normalised"]
    assert {a["alert"]["kind"] for a in alerts(running)} >= {"unchecked"}
    assert "xqzt" in json.dumps(alerts(running)), "while admitted, the service holds what she wrote..."
    assert held(running, service_dir) == [], "...sealed: nothing holds it in clear, even while admitted"

    clock.now += timedelta(hours=25)  # the grant has ended
    running.run(running.service.tick())
    assert alerts(running) == []
    assert not running.run(checkpoint_owed(running))

    cache = cache_path_for(running.settings.db_path)
    assert cache.exists(), "the RxNav cache file was made"
    left = held(running, service_dir)
    assert left == [], left

    # Forgotten, not only off the disk: the same names, written by the next patient, are asked again.
    asked_before = asked_for(rxnav, "xqzt"), asked_for(rxnav, "zoco")
    patient.ledger_cmd("add-medication", "warfarin")
    again = grant(patient, running.service.identity.public_id, not_before=clock.now, hours=24, out="g2.json")
    response = present(running, again, make_slice(patient, grant_file="g2.json", out="s2.json"))
    assert response.status_code == 201, response.text
    assert asked_for(rxnav, "xqzt") > asked_before[0] and asked_for(rxnav, "zoco") > asked_before[1]


def test_a_cache_file_written_before_the_change_is_emptied_of_names_when_opened(tmp_path: Path) -> None:
    """A cache written by an earlier alertsvc kept answers keyed by drug names: opening it drops them,
    with secure_delete on and the WAL checkpointed, so upgrading does not wait out their lifetime."""
    path = tmp_path / "service.rxnav-cache.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as old:
        old.execute("PRAGMA journal_mode=WAL")
        old.execute("PRAGMA secure_delete=OFF")
        old.execute("CREATE TABLE answers (key TEXT PRIMARY KEY, body TEXT NOT NULL, fetched REAL NOT NULL)")
        for n in range(40):
            old.execute(
                "INSERT INTO answers VALUES (?, ?, 1.0)",
                (f"http://rxnav/REST/rxcui.json?name=xqzt{n}&search=0", '{"idGroup": {"name": "xqzt"}}'),
            )
        old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert files_holding(tmp_path, (b"xqzt",))

    cache = AnswerCache(path, ttl=60.0)
    try:
        assert cache.get("http://rxnav/REST/rxcui/11289/related.json?tty=IN", concept=True) is None
    finally:
        cache.close()
    assert files_holding(tmp_path, (b"xqzt",)) == []
