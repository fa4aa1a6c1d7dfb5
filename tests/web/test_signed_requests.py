"""Requests signed by the patient's key, against a real service on 127.0.0.1: a captured request cannot
be sent again (replay), nor sent with another body: each is refused with a bare 401, and the genuine
request that follows still works (nothing is lost)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc.ledger.canonical import canonical
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.request_tokens import sign_request
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_admissions import InProcessPatient, admit, make_update, service_settings, serving

BARE_401 = {"error": {"code": "unauthorized", "message": "unauthorized"}}


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    directory = tmp_path / "patient"
    directory.mkdir()
    return InProcessPatient(directory)


def signed_post(running: RunningService, path: str, body: bytes, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=running.url, timeout=10) as client:
        return client.post(path, content=body, headers=headers)


def patient_token(
    running: RunningService, patient: PatientCLI, method: str, path: str, body: bytes, now: datetime
) -> str:
    """What the patient's own software sends: a request signed with her key for this service."""
    audience = running.service.identity.public_id
    signer = Identity.load(patient.key)
    return sign_request(signer, method=method, target=path, body=body, audience=audience, now=now)


def assert_bare_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == BARE_401


def test_a_signed_update_cannot_be_replayed_or_sent_with_another_body(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    admitted = admit(running, patient)
    path = f"/admissions/{admitted['admission']}/entries"

    patient.ledger_cmd("flag-reaction", "warfarin", "--reaction", "nosebleeds", "--severity", "severe")
    first: dict[str, Any] = make_update(patient, admitted["head"], out="u1.json")
    first_body = canonical(first)
    clock.now += timedelta(minutes=1)
    token = patient_token(running, patient, "POST", path, first_body, clock.now)
    accepted = signed_post(running, path, first_body, token)
    assert accepted.status_code == 200, accepted.text
    head = accepted.json()["head"]

    # The same request again, seconds later, within the token's life: refused.
    clock.now += timedelta(seconds=5)
    assert_bare_401(signed_post(running, path, first_body, token))

    # A token the patient signed for one update, sent with another body: refused.
    patient.ledger_cmd("add-medication", "aspirin", "--dose", "75 mg daily")
    second_body = canonical(make_update(patient, head, out="u2.json"))
    patient.ledger_cmd("add-medication", "ibuprofen", "--dose", "400 mg")
    third_body = canonical(make_update(patient, head, out="u3.json"))
    token = patient_token(running, patient, "POST", path, second_body, clock.now)
    assert_bare_401(signed_post(running, path, third_body, token))

    # Nothing was lost: the genuine request for that update is accepted.
    accepted = signed_post(running, path, second_body, token)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["head"] == head + 1


def test_a_signed_read_of_the_audit_trail_cannot_be_replayed(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    admitted = admit(running, patient)
    path = f"/admissions/{admitted['admission']}/audit"
    token = patient_token(running, patient, "GET", path, b"", clock.now)
    with httpx.Client(base_url=running.url, timeout=10) as client:
        first = client.get(path, headers={"Authorization": f"Bearer {token}"})
        clock.now += timedelta(seconds=5)
        again = client.get(path, headers={"Authorization": f"Bearer {token}"})
        fresh = patient_token(running, patient, "GET", path, b"", clock.now)
        afterwards = client.get(path, headers={"Authorization": f"Bearer {fresh}"})
    assert first.status_code == 200, first.text
    assert_bare_401(again)
    assert afterwards.status_code == 200, afterwards.text
    reads = [r for r in afterwards.json()["audit"] if r["action"] == "read-audit"]
    assert len(reads) == 1, "only the first read was served (a trail lists the reads before it)"
