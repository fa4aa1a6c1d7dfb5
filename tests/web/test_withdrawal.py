"""A withdrawal takes alerts off the ward's screens, so it is signed like an alert: the ``withdrawn`` event
carries a compact JWS (EdDSA, type ``alertsvc-withdrawal+jwt``) over the alert ids, admission, ward,
reason and time, which verifies against the service's JWKS with a second Ed25519 implementation
(``cryptography``, not PyNaCl). Both ways alerts are withdrawn are covered: a finding no longer found (a
medication stopped) and the end of an admission (its grant expired).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature

from alertsvc.clock import iso
from tests.web.conftest import FakeClock, PatientCLI, RunningService, read_events, verify_with_cryptography
from tests.web.test_admissions import (
    WARD,
    InProcessPatient,
    admit,
    alerts,
    make_update,
    post_update,
    service_settings,
    serving,
)

WITHDRAWAL_TYPE = "alertsvc-withdrawal+jwt"


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    directory = tmp_path / "patient"
    directory.mkdir()
    return InProcessPatient(directory)


def header_of(token: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return value


def withdrawals(running: RunningService, last_seen: int) -> list[dict[str, Any]]:
    """The ward's events after ``last_seen`` up to the first ``withdrawn`` one."""
    return read_events(
        running,
        WARD,
        running.token(WARD, "Nico Nurse"),
        last_event_id=last_seen,
        until=lambda evs: evs[-1]["event"] == "withdrawn",
    )


def check_signed(running: RunningService, event: dict[str, Any], *, reason: str) -> dict[str, Any]:
    """The withdrawal's JWS verifies against the JWKS and says what the event says; its claims."""
    with running.client() as client:
        jwks = client.get("/.well-known/jwks.json").json()
    data = event["data"]
    token = data["jws"]
    claims = verify_with_cryptography(token, jwks)
    assert header_of(token)["typ"] == WITHDRAWAL_TYPE
    assert claims == {
        "admission": data["admission"],
        "alerts": data["alerts"],
        "ward": WARD,
        "reason": reason,
        "at": iso(running.clock.now),
    }
    # One character of the signed list changed: the signature no longer matches.
    header, payload, signature = token.split(".")
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    with pytest.raises(InvalidSignature):
        verify_with_cryptography(f"{header}.{flipped}.{signature}", jwks)
    return claims


def test_a_withdrawal_for_a_stopped_medication_is_signed(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    patient.ledger_cmd("add-medication", "aspirin", "--dose", "75 mg daily")
    admitted = admit(running, patient)
    before = alerts(running)
    aspirin = [a["id"] for a in before if "aspirin" in {i["name"] for i in a["alert"]["ingredients"]}]
    assert aspirin, before
    with running.client(running.token(WARD, "Nico Nurse")) as client:
        last_seen = client.get(f"/wards/{WARD}/alerts").json()["last_event_id"]

    shown = json.loads(patient("ledger", "show", str(patient.ledger), "--json"))
    [entry] = [e for e in shown["entries"] if e["kind"] == "medication" and "aspirin" in json.dumps(e)]
    patient.ledger_cmd("stop-medication", entry["id"])
    clock.now += timedelta(minutes=30)
    update = make_update(patient, admitted["head"], out="u.json")
    response = post_update(running, admitted["admission"], update)
    assert response.status_code == 200, response.text

    event = withdrawals(running, last_seen)[-1]
    claims = check_signed(running, event, reason="no longer found")
    assert claims["admission"] == admitted["admission"]
    assert sorted(claims["alerts"]) == sorted(aspirin)
    assert {a["id"] for a in alerts(running)} == {a["id"] for a in before} - set(aspirin)


def test_the_withdrawal_at_the_end_of_an_admission_is_signed(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    patient.ledger_cmd("flag-reaction", "warfarin", "--reaction", "nosebleeds", "--severity", "severe")
    admitted = admit(running, patient, hours=24)
    shown = {a["id"] for a in alerts(running)}
    assert shown
    with running.client(running.token(WARD, "Nico Nurse")) as client:
        last_seen = client.get(f"/wards/{WARD}/alerts").json()["last_event_id"]

    clock.now += timedelta(hours=25)
    running.run(running.service.tick())

    event = withdrawals(running, last_seen)[-1]
    claims = check_signed(running, event, reason="grant expired")
    assert claims["admission"] == admitted["admission"]
    assert set(claims["alerts"]) == shown
    assert alerts(running) == []
