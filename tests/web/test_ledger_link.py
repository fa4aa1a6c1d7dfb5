"""Admission by grant link: the service reads the slice from the patient's own ledger server, reads new
entries while the grant lasts (a reaction flagged mid-stay reaches the ward at the next read), and stops
the moment the grant ends (the revocation arrives signed, and the admission is purged)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from alertsvc.ledger import actions, grants
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import grant_link
from alertsvc.patient_server.server import create_ledger_app
from tests.servers import serve_app
from tests.web.conftest import FakeClock, RunningService

WARD = "ward-5"


@pytest.fixture
def ledger_server(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[str, Path, Identity]]:
    """The patient's ledger server (``alertsvc ledger serve``'s app) on 127.0.0.1, on the shared clock."""
    patient = Identity.generate()
    path = tmp_path / "patient.ledger"
    with Ledger.init(path, patient, now=clock.now) as ledger:
        ledger.append(
            [actions.medication(patient, "warfarin", now=clock.now)], patient=patient, now=clock.now
        )
    for url in serve_app(create_ledger_app(path, patient, clock=clock)):
        yield url, path, patient


def test_the_service_reads_the_patients_ledger_until_the_grant_ends(
    running: RunningService, clock: FakeClock, ledger_server: tuple[str, Path, Identity]
) -> None:
    url, path, patient = ledger_server
    with Ledger.open(path) as ledger:
        grant = grants.new_grant(
            patient,
            grantee=running.service.identity.public_id,
            scope=("medications", "allergies", "reactions"),
            not_before=clock.now,
            hours=48,
            now=clock.now,
        )
        ledger.append([grant], patient=patient, now=clock.now)
    link = grant_link(url, grant.id, patient.public_id)
    with running.client(running.token(WARD, "Ada", role="admission")) as client:
        response = client.post("/admissions", json={"grant_link": link, "ward": WARD, "bed": "2"})
    assert response.status_code == 201, response.text
    admission = response.json()["admission"]
    nurse = running.token(WARD, "Nia")
    with running.client(nurse) as client:
        due = (clock.now + timedelta(hours=12)).isoformat()
        planned = client.post(
            f"/wards/{WARD}/schedule",
            json={
                "administrations": [
                    {"admission": admission, "drug": "ibuprofen", "dose": "400 mg", "due": due}
                ]
            },
        )
        assert planned.status_code == 201, planned.text

    # Mid-stay the patient flags ibuprofen in their own ledger; the next read brings it to the ward.
    with Ledger.open(path) as ledger:
        flag = actions.flagged_reaction(
            patient, "ibuprofen", reaction="hives", severity="severe", now=clock.now
        )
        ledger.append([flag], patient=patient, now=clock.now)
    clock.now += timedelta(seconds=running.settings.ledger_poll_seconds)
    running.run(running.service.poll_ledgers())
    with running.client(nurse) as client:
        alerts = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    assert any(a["alert"]["kind"] == "reaction" and a["alert"]["severity"] == "critical" for a in alerts)
    assert f"poll:{admission}" in dict(running.service.runner.jobs())
    assert admission in running.service.watchers.tasks  # and its watch of her ledger server (issue 10)

    # The patient revokes: the next read brings the signed revocation and the admission ends.
    with Ledger.open(path) as ledger:
        terms = ledger.read().grants()[grant.id]
        ledger.append([grants.new_revocation(patient, terms, now=clock.now)], patient=patient, now=clock.now)
    clock.now += timedelta(seconds=running.settings.ledger_poll_seconds)
    running.run(running.service.poll_ledgers())
    with running.client(nurse) as client:
        assert client.get(f"/wards/{WARD}/alerts").json()["alerts"] == []
    assert f"poll:{admission}" not in dict(running.service.runner.jobs())
    assert admission not in running.service.watchers.tasks


def test_an_unreachable_ledger_server_is_retried_and_ends_nothing(
    running: RunningService, clock: FakeClock, ledger_server: tuple[str, Path, Identity], tmp_path: Path
) -> None:
    url, path, patient = ledger_server
    with Ledger.open(path) as ledger:
        grant = grants.new_grant(
            patient, grantee=running.service.identity.public_id, scope=("medications", "reactions"),
            not_before=clock.now, hours=48, now=clock.now,
        )  # fmt: skip
        ledger.append([grant], patient=patient, now=clock.now)
    with running.client(running.token(WARD, "Ada", role="admission")) as client:
        response = client.post(
            "/admissions",
            json={"grant_link": grant_link(url, grant.id, patient.public_id), "ward": WARD, "bed": "3"},
        )
    assert response.status_code == 201, response.text
    # Point the admission at a port nothing listens on: reads fail, are retried, and end nothing.
    dead = "http://127.0.0.1:9"

    async def break_the_link() -> None:  # on the service's thread, where its database lives
        running.service.db.execute("UPDATE admissions SET ledger_url = ?", [dead])

    async def status() -> str:
        row = running.service.db.execute("SELECT status FROM admissions").fetchone()
        return str(row[0])

    running.run(break_the_link())
    clock.now += timedelta(seconds=running.settings.ledger_poll_seconds)
    running.run(running.service.poll_ledgers())
    assert running.run(status()) == "active"
    admission = response.json()["admission"]
    assert f"poll:{admission}" in dict(running.service.runner.jobs())


def test_a_link_naming_another_patient_is_refused_with_nothing_stored(
    running: RunningService, clock: FakeClock, ledger_server: tuple[str, Path, Identity]
) -> None:
    url, path, patient = ledger_server
    with Ledger.open(path) as ledger:
        grant = grants.new_grant(
            patient, grantee=running.service.identity.public_id, scope=("medications",),
            not_before=clock.now, hours=48, now=clock.now,
        )  # fmt: skip
        ledger.append([grant], patient=patient, now=clock.now)
    someone_else = Identity.generate().public_id
    with running.client(running.token(WARD, "Ada", role="admission")) as client:
        response = client.post(
            "/admissions",
            json={"grant_link": grant_link(url, grant.id, someone_else), "ward": WARD, "bed": "4"},
        )
    assert response.status_code == 422, response.text
    assert someone_else in response.json()["error"]["message"]

    async def admissions() -> int:
        return int(running.service.db.execute("SELECT count(*) FROM admissions").fetchone()[0])

    assert running.run(admissions()) == 0
