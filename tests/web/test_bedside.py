"""Recording at the bedside through a real service and the patient's real ledger server (127.0.0.1):
a reaction or allergy recorded on the ward alerts every shift at once, is signed by the hospital under
her write grant and delivered to her ledger, once; without a write grant it waits for discharge."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from alertsvc.ledger import actions, grants
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.practitioners import recorded_by
from alertsvc.ledger.remote import grant_link
from alertsvc.patient_server.server import create_ledger_app
from tests.postgres import stored_bytes
from tests.servers import serve_app
from tests.web.conftest import FakeClock, RunningService, verify_with_cryptography

WARD = "ward-5"
NURSE = {"name": "Nia Brown", "role": "nurse"}


@dataclass
class Her:
    url: str
    path: Path
    key: Identity

    def entries(self, tree: str) -> list[Any]:
        with Ledger.open(self.path) as ledger:
            return list(ledger.verify().trees[tree])


@pytest.fixture
def her(tmp_path: Path, clock: FakeClock) -> Iterator[Her]:
    """The patient's ledger server (``ledger serve``'s app), on the service's clock."""
    patient = Identity.generate()
    path = tmp_path / "patient.ledger"
    with Ledger.init(path, patient, now=clock.now) as ledger:
        ledger.append(
            [actions.medication(patient, "warfarin", now=clock.now)], patient=patient, now=clock.now
        )
    for url in serve_app(create_ledger_app(path, patient, clock=clock)):
        yield Her(url, path, patient)


def admit(
    running: RunningService,
    her: Her,
    *,
    write: tuple[str, ...],
    bed: str = "4",
    scope: tuple[str, ...] = ("medications", "allergies", "reactions"),
) -> str:
    with Ledger.open(her.path) as ledger:
        grant = grants.new_grant(
            her.key,
            grantee=running.service.identity.public_id,
            scope=scope,
            write_scope=write,
            not_before=running.clock.now,
            hours=48,
            now=running.clock.now,
        )
        ledger.append([grant], patient=her.key, now=running.clock.now)
    link = grant_link(her.url, grant.id, her.key.public_id)
    with running.client(running.token(WARD, "Ada", role="admission")) as client:
        response = client.post("/admissions", json={"grant_link": link, "ward": WARD, "bed": bed})
    assert response.status_code == 201, response.text
    admission: str = response.json()["admission"]
    due = (running.clock.now + timedelta(hours=6)).isoformat()
    with running.client(running.token(WARD, "Nia")) as client:
        planned = client.post(
            f"/wards/{WARD}/schedule",
            json={"administrations": [{"admission": admission, "drug": "amoxicillin", "dose": "500 mg",
                                       "due": due}]},
        )  # fmt: skip
    assert planned.status_code == 201, planned.text
    return admission


def recorded(running: RunningService, admission: str) -> list[dict[str, Any]]:
    with running.client(running.token(WARD, "Nia")) as client:
        response = client.get(f"/admissions/{admission}/practitioner-entries")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def wait_for_state(running: RunningService, admission: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        [entry] = recorded(running, admission)
        if entry["state"] == state:
            return entry
        assert time.monotonic() < deadline, entry
        time.sleep(0.05)


def test_an_allergy_recorded_on_the_ward_alerts_at_once_and_reaches_her_ledger_once(
    running: RunningService, clock: FakeClock, her: Her
) -> None:
    admission = admit(running, her, write=("allergies", "reactions"))
    night = running.token(WARD, "Noor")
    with running.client(running.token(WARD, "Nia")) as client:
        response = client.post(
            f"/admissions/{admission}/allergies",
            json={"substance": "amoxicillin", "reaction": "rash", "criticality": "high",
                  "clinician": NURSE, "note": "rash 2 h after the morning dose"},
            headers={"Idempotency-Key": "allergy-1"},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        replay = client.post(
            f"/admissions/{admission}/allergies",
            json={"substance": "amoxicillin", "reaction": "rash", "criticality": "high",
                  "clinician": NURSE, "note": "rash 2 h after the morning dose"},
            headers={"Idempotency-Key": "allergy-1"},
        )  # fmt: skip
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == response.content
    entry_id = response.json()["entry"]
    # Every shift sees it at once: a critical, signed allergy alert against the scheduled amoxicillin.
    with running.client(night) as client:
        listed = client.get(f"/wards/{WARD}/alerts").json()
    alerts = listed["alerts"]
    [status] = [a["allergy_status"] for a in listed["admissions"] if a["admission"] == admission]
    assert status["state"] == "known" and [a["substance"] for a in status["allergies"]] == ["amoxicillin"]
    allergy = [a for a in alerts if a["alert"]["kind"] == "allergy"]
    assert allergy and allergy[0]["alert"]["severity"] == "critical", alerts
    assert "amoxicillin" in allergy[0]["alert"]["summary"].lower()
    assert verify_with_cryptography(allergy[0]["jws"], running.service.jwks()) == allergy[0]["alert"]
    # Delivered to her ledger server without waiting for a timer; in her ledger, verified, once.
    delivered = wait_for_state(running, admission, "delivered")
    assert delivered["status"] == "in the patient's ledger" and delivered["entry"] == entry_id
    [stored] = her.entries("allergies")
    assert stored.id == entry_id and stored.author == running.service.identity.public_id
    who = recorded_by(stored)
    assert who is not None and who.clinician.name == "Nia Brown" and who.clinician.ward == WARD
    # Her ledger's next read brings the entry back: the same id, not a second allergy or alert.
    clock.now += timedelta(seconds=running.settings.ledger_poll_seconds)
    running.run(running.service.poll_ledgers())
    with running.client(night) as client:
        again = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    assert len([a for a in again if a["alert"]["kind"] == "allergy"]) == len(allergy)
    running.run(running.service.deliver())
    assert len(her.entries("allergies")) == 1


def test_a_reaction_without_a_write_grant_alerts_and_waits_for_discharge(
    running: RunningService, clock: FakeClock, her: Her
) -> None:
    admission = admit(running, her, write=())
    with running.client(running.token(WARD, "Nia")) as client:
        response = client.post(
            f"/admissions/{admission}/reactions",
            json={"drug": "amoxicillin", "reaction": "rash", "severity": "moderate", "clinician": NURSE},
        )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == (
        "not yet in the patient's ledger (no write grant): handed over at discharge"
    )
    with running.client(running.token(WARD, "Noor")) as client:
        alerts = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    reaction = [a["alert"] for a in alerts if a["alert"]["kind"] == "reaction"]
    assert reaction and reaction[0]["severity"] == "critical", alerts
    running.run(running.service.deliver())
    assert her.entries("reactions") == []  # nothing is sent without a write grant


RASH = {"drug": "amoxicillin", "reaction": "rash"}
BAD_REQUESTS = [
    pytest.param("allergies", {"substance": "zzzqx", "clinician": NURSE}, 422, "zzzqx", id="unknown-drug"),
    pytest.param("reactions", {"drug": "amoxicillin", "clinician": NURSE}, 400, "reaction", id="no-reaction"),
    pytest.param("reactions", RASH, 400, "clinician", id="no-clinician"),
    pytest.param(
        "reactions", {**RASH, "clinician": {"name": "Nia", "role": "porter"}}, 400, "role", id="bad-role"
    ),
    pytest.param(
        "reactions", {**RASH, "reaction": "x" * 3000, "clinician": NURSE}, 422, "max_note_chars", id="long"
    ),
    pytest.param(
        "reactions", {**RASH, "severity": "awful", "clinician": NURSE}, 400, "severity", id="severity"
    ),
]


@pytest.mark.parametrize(("path", "body", "status", "words"), BAD_REQUESTS)
def test_bad_requests_are_refused_by_name_and_store_nothing(
    running: RunningService, her: Her, path: str, body: dict[str, Any], status: int, words: str
) -> None:
    admission = admit(running, her, write=("allergies", "reactions"))
    with running.client(running.token(WARD, "Nia")) as client:
        response = client.post(f"/admissions/{admission}/{path}", json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]
    assert recorded(running, admission) == []


def test_another_wards_admission_is_no_admission(running: RunningService, her: Her) -> None:
    admission = admit(running, her, write=("reactions",))
    body = {"drug": "amoxicillin", "reaction": "rash", "clinician": NURSE}
    with running.client(running.token("ward-9", "Other")) as client:
        other = client.post(f"/admissions/{admission}/reactions", json=body)
        guessed = client.post("/admissions/adm-0000000000000000/reactions", json=body)
    assert other.status_code == guessed.status_code == 404
    assert other.json()["error"]["message"].replace(admission, "X") == guessed.json()["error"][
        "message"
    ].replace("adm-0000000000000000", "X")
    with running.client() as client:
        assert client.post(f"/admissions/{admission}/reactions", json=body).status_code == 401
    assert recorded(running, admission) == []


def test_discharge_with_a_write_grant_delivers_the_discharge_medicines_then_purges(
    running: RunningService, her: Her
) -> None:
    admission = admit(running, her, write=("medications", "reactions"))
    with running.client(running.token(WARD, "Nia")) as client:
        recorded = client.post(
            f"/admissions/{admission}/reactions",
            json={"drug": "amoxicillin", "reaction": "rash", "clinician": NURSE},
        )
        assert recorded.status_code == 201, recorded.text
        wait_for_state(running, admission, "delivered")
        discharged = client.post(
            f"/admissions/{admission}/discharge",
            json={
                "clinician": {"name": "Dr Okafor", "role": "physician"},
                "medications": [{"drug": "doxycycline", "dose": "100 mg twice daily"}],
            },
        )
        assert discharged.status_code == 200, discharged.text
        assert client.get(f"/admissions/{admission}/practitioner-entries").status_code == 409
    answer = discharged.json()
    assert answer["handover"] is None
    assert [(e["kind"], e["state"]) for e in answer["entries"]] == [
        ("reaction", "delivered"),
        ("medication", "delivered"),
    ]
    statements = [e for e in her.entries("medications") if e.author != her.key.public_id]
    assert len(statements) == 1
    source = statements[0].body["informationSource"]
    assert source["type"] == "PractitionerRole" and "Dr Okafor (physician, ward-5)" in source["display"]
    assert len(her.entries("reactions")) == 1
    db = stored_bytes(running.settings.db_path)
    assert b"doxycycline" not in db and b"amoxicillin" not in db
