"""Overdue doses through the real HTTP app: a timer at due + grace, one signed alert per missed dose pushed
to the ward stream and shown to every shift, none for a dose with an outcome, and the signed withdrawal
when the outcome is recorded."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alertsvc.config import Settings
from alertsvc.errors import ConfigError
from alertsvc.service import Service
from tests.postgres import open_reader
from tests.web.conftest import FakeClock, PatientCLI, RunningService, read_events, verify_with_cryptography
from tests.web.sealed_db import sealed_reader
from tests.web.test_admissions import WARD, InProcessPatient, admit, alerts, service_settings, serving
from tests.web.test_withdrawal import check_signed, withdrawals

DAY = datetime(2030, 1, 16, tzinfo=UTC)  # London in winter: ward time is UTC
SEVEN = DAY.replace(hour=7)


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    directory = tmp_path / "patient"
    directory.mkdir()
    return InProcessPatient(directory)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return value


def overdue_raised(db_path: Path) -> list[dict[str, Any]]:
    """The claims of every ``alert`` event of kind overdue in the outbox, in order (one per version)."""
    connection = open_reader(db_path)
    try:
        opened = sealed_reader(connection, db_path.parent / "hospital.kek")  # her events are sealed
        rows = connection.execute("SELECT data, admission FROM events WHERE type = 'alert' ORDER BY seq")
        raised = [
            claims_of(json.loads(opened(admission, data))["jws"]) for data, admission in rows.fetchall()
        ]
    finally:
        connection.close()
    return [claims for claims in raised if claims["kind"] == "overdue"]


def tick_at(running: RunningService, when: datetime) -> None:
    running.clock.now = when
    running.run(running.service.tick())


def record(running: RunningService, dose: str, status: str, note: str = "") -> None:
    with running.client(running.token(WARD, "Nico Nurse")) as client:
        response = client.post(
            f"/wards/{WARD}/schedule/{dose}/outcome", json={"status": status, "note": note}
        )
    assert response.status_code == 200, response.text


def test_each_missed_dose_gets_one_signed_overdue_alert_until_its_outcome_is_recorded(
    running: RunningService, patient: PatientCLI
) -> None:
    running.clock.now = DAY.replace(hour=6)
    patient.ledger_cmd("flag-reaction", "ibuprofen", "--reaction", "wheeze", "--severity", "severe")
    admission = admit(running, patient)["admission"]
    items = [
        {"admission": admission, "drug": drug, "dose": dose, "due": SEVEN.isoformat()}
        for drug, dose in (("ibuprofen", "400 mg"), ("paracetamol", "1 g"), ("amoxicillin", "500 mg"))
    ]
    with running.client(running.token(WARD, "Nico Nurse")) as client:
        response = client.post(f"/wards/{WARD}/schedule", json={"administrations": items})
    assert response.status_code == 201, response.text
    ibuprofen, paracetamol, amoxicillin = (d["id"] for d in response.json()["administrations"])

    # A timer at due + grace (30 min) for every dose with no outcome.
    jobs = running.service.planned
    for dose in (ibuprofen, paracetamol, amoxicillin):
        assert jobs[f"overdue:{dose}"] == SEVEN + timedelta(minutes=30)
    running.clock.now = DAY.replace(hour=6, minute=50)
    record(running, amoxicillin, "given")
    assert f"overdue:{amoxicillin}" not in running.service.planned

    tick_at(running, SEVEN + timedelta(minutes=29, seconds=59))  # inside the grace: nothing yet
    assert overdue_raised(running.settings.db_path) == []
    with running.client(running.token(WARD, "Nico Nurse")) as client:
        last_seen = client.get(f"/wards/{WARD}/alerts").json()["last_event_id"]

    tick_at(running, SEVEN + timedelta(minutes=30))
    listed = {a["alert"]["dose"]["id"]: a for a in alerts(running) if a["alert"]["kind"] == "overdue"}
    assert set(listed) == {ibuprofen, paracetamol}  # none for the dose recorded as given
    with running.client() as client:
        jwks = client.get("/.well-known/jwks.json").json()
    for dose, severity, drug in (
        (ibuprofen, "major", "ibuprofen 400 mg"),
        (paracetamol, "moderate", "paracetamol 1 g"),
    ):
        claims = verify_with_cryptography(listed[dose]["jws"], jwks)
        assert claims == listed[dose]["alert"]
        assert (claims["rule"], claims["severity"], claims["interruptive"]) == (
            "mar-overdue",
            severity,
            False,
        )
        assert claims["sources"] == ["ward MAR", "ISMP timely administration guideline"]
        assert (
            claims["summary"]
            == f"Dose of {drug} due 07:00 not recorded; give or record why not ({severity})."
        )
        assert claims["dose"]["due"] == "2030-01-16T07:00:00Z"
    # The ibuprofen dose is major: the patient flagged a severe reaction to it (a critical finding).
    assert "major or critical alert" in listed[ibuprofen]["alert"]["mechanism"]

    # Pushed to the ward stream, once each.
    pushed = read_events(
        running,
        WARD,
        running.token(WARD, "Nico Nurse"),
        last_event_id=last_seen,
        until=lambda evs: (
            sum(claims_of(e["data"]["jws"])["kind"] == "overdue" for e in evs if e["event"] == "alert") == 2
        ),
    )
    assert {claims_of(e["data"]["jws"])["dose"]["id"] for e in pushed if e["event"] == "alert"} >= {
        ibuprofen,
        paracetamol,
    }

    # Later checks (a timer, the next shift) raise nothing again; every shift is shown the alerts.
    tick_at(running, DAY.replace(hour=9))
    tick_at(running, DAY.replace(hour=15))
    raised = overdue_raised(running.settings.db_path)
    assert sorted(c["dose"]["id"] for c in raised) == sorted([ibuprofen, paracetamol]), raised
    evening = {a["id"] for a in alerts(running, shift="evening")}
    assert {listed[ibuprofen]["id"], listed[paracetamol]["id"]} <= evening
    shift = read_events(
        running,
        WARD,
        running.token(WARD, "Eve Ning"),
        until=lambda evs: evs[-1]["event"] == "shift" and evs[-1]["data"]["shift"] == "evening",
    )[-1]
    assert {listed[ibuprofen]["id"], listed[paracetamol]["id"]} <= set(shift["data"]["alerts"])

    # Recording the outcome withdraws that dose's alert, with a signed withdrawal; the other stays.
    with running.client(running.token(WARD, "Eve Ning")) as client:
        last_seen = client.get(f"/wards/{WARD}/alerts").json()["last_event_id"]
    record(running, paracetamol, "held", "nil by mouth")
    event = withdrawals(running, last_seen)[-1]
    signed = check_signed(running, event, reason="dose outcome recorded")
    assert signed["alerts"] == [listed[paracetamol]["id"]]
    left = {a["id"] for a in alerts(running) if a["alert"]["kind"] == "overdue"}
    assert left == {listed[ibuprofen]["id"]}
    assert len(overdue_raised(running.settings.db_path)) == 2  # withdrawn, not raised again


def test_the_grace_is_a_setting_and_a_negative_one_is_refused_by_name(tmp_path: Path) -> None:
    assert Settings.from_env({"ALERTSVC_OVERDUE_GRACE_MINUTES": "10"}).overdue_grace_minutes == 10
    with pytest.raises(ConfigError, match="overdue_grace_minutes must not be negative: -5"):
        Service(service_settings(tmp_path, overdue_grace_minutes=-5))


def test_the_openapi_description_lists_overdue_among_the_alert_kinds(running: RunningService) -> None:
    with running.client() as client:
        document = client.get("/openapi.json").json()
    kind = document["components"]["schemas"]["AlertClaims"]["properties"]["kind"]
    assert kind["enum"] == [
        "interaction",
        "allergy",
        "reaction",
        "duplicate",
        "too-soon",
        "unchecked",
        "overdue",
        "renal-dose",
        "long-qt",
    ]
