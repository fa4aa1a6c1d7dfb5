"""What else the ward writes back to her ledger, through the real service and her real ledger server
(127.0.0.1): an observation measured on the ward, and a clinician's "no known drug allergies".

An observation is a practitioner entry like a bedside reaction: signed by the service under the
admission's grant, performer the clinician, queued and delivered when the grant writes observations
(else handed over at discharge), counted once when her ledger sends it back. "No known drug allergies"
is refused, with nothing stored, while the admission records allergies or its grant does not share them;
otherwise the ward's allergy status shows it, asserted by the clinician, with the time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from alertsvc import observation_desk
from alertsvc.clock import iso
from alertsvc.ledger import actions
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.observations import read_observation
from alertsvc.ledger.practitioners import recorded_by
from tests.web.conftest import FakeClock, RunningService
from tests.web.test_bedside import NURSE, WARD, Her, admit, her, recorded, wait_for_state

__all__ = ["her"]  # the patient's ledger server fixture
DOCTOR = {"name": "Dr Okafor", "role": "physician"}
ALL = ("medications", "allergies", "reactions", "observations")


def post(running: RunningService, admission: str, path: str, body: dict[str, Any]) -> httpx.Response:
    with running.client(running.token(WARD, "Nia")) as client:
        return client.post(f"/admissions/{admission}/{path}", json=body)


def allergy_status(running: RunningService, admission: str) -> dict[str, Any]:
    with running.client(running.token(WARD, "Noor")) as client:
        listed = client.get(f"/wards/{WARD}/alerts").json()["admissions"]
    [status] = [a["allergy_status"] for a in listed if a["admission"] == admission]
    return status  # type: ignore[no-any-return]


def test_an_observation_from_the_ward_reaches_her_ledger_signed_and_is_counted_once(
    running: RunningService, clock: FakeClock, her: Her
) -> None:
    admission = admit(running, her, write=("observations",), scope=ALL)
    measured = clock.now - timedelta(minutes=30)
    response = post(
        running,
        admission,
        "observations",
        {"code": "INR", "value": 4.2, "measured": iso(measured), "clinician": NURSE, "note": "bedside INR"},
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["in_patient_ledger"] is False and answer["delivery"]["kind"] == "observation"
    assert answer["delivery"]["state"] == "pending" and answer["ledger_note"] == "awaiting delivery"
    entry_id = answer["delivery"]["entry"]
    assert answer["observation"]["entry"] == entry_id
    delivered = wait_for_state(running, admission, "delivered")
    assert delivered["entry"] == entry_id and delivered["observation"] == "INR 4.2"
    assert delivered["recorded_by"] == {"name": "Nia Brown", "role": "nurse"}
    [stored] = her.entries("observations")
    assert stored.id == entry_id and stored.author == running.service.identity.public_id
    assert stored.grant is not None and stored.kind == "observation"
    who = recorded_by(stored)
    assert who is not None and who.clinician.name == "Nia Brown" and who.clinician.ward == WARD
    assert read_observation(stored).performer.startswith("Nia Brown (nurse, ward-5), ")
    assert stored.body["note"][0]["text"] == "bedside INR"
    # Her ledger sends it back in the next read (the grant reads observations): one value, not two.
    clock.now += timedelta(seconds=running.settings.ledger_poll_seconds)
    running.run(running.service.poll_ledgers())

    async def values_used() -> tuple[list[str], list[tuple[str, float]]]:  # on the service's loop
        patient = await running.service.patient_of(admission)
        used = observation_desk.observations_of(running.service, admission, patient)
        return [v.ref for v in patient.inputs.observations], [(v.ref, v.value) for v in used]

    from_ledger, used = running.run(values_used())
    assert from_ledger == [f"entry:{entry_id}"]
    assert used == [(f"entry:{entry_id}", 4.2)]
    running.run(running.service.deliver())
    assert len(her.entries("observations")) == 1


def test_an_observation_without_a_grant_writing_observations_waits_for_discharge(
    running: RunningService, her: Her
) -> None:
    admission = admit(running, her, write=("reactions",))
    response = post(running, admission, "observations", {"code": "potassium", "value": 5.8, "unit": "mmol/L"})
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["delivery"]["state"] == "handover"
    assert (
        answer["ledger_note"] == "not yet in the patient's ledger (no write grant): handed over at discharge"
    )
    [listed] = recorded(running, admission)
    assert listed["kind"] == "observation" and listed["observation"] == "potassium 5.8 mmol/L"
    assert listed["recorded_by"] == {"name": "Nia", "role": "nurse"}  # no clinician given: the token's
    running.run(running.service.deliver())
    assert her.entries("observations") == []
    with running.client(running.token(WARD, "Nia")) as client:
        discharged = client.post(
            f"/admissions/{admission}/discharge", json={"clinician": NURSE, "medications": []}
        )
    assert discharged.status_code == 200, discharged.text
    assert [(e["kind"], e["state"]) for e in discharged.json()["entries"]] == [("observation", "handover")]
    assert discharged.json()["handover"] is not None


def test_no_known_drug_allergies_from_the_ward_is_shown_asserted_by_the_clinician_and_delivered(
    running: RunningService, clock: FakeClock, her: Her
) -> None:
    admission = admit(running, her, write=("allergies",))
    assert allergy_status(running, admission)["state"] == "not-recorded"
    response = post(running, admission, "allergies", {"no_known_allergies": True, "clinician": DOCTOR})
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["kind"] == "allergy" and answer["no_known_allergies"] is True
    status = allergy_status(running, admission)
    hospital = running.settings.hospital_name
    assert status["state"] == "none-known"
    assert status["assertion"]["asserted_by"] == "practitioner"
    assert status["assertion"]["recorder"] == f"Dr Okafor (physician, ward-5), {hospital}"
    assert status["assertion"]["asserted_at"] == answer["created"]
    assert f"asserted by Dr Okafor (physician, ward-5), {hospital}, " in status["label"]
    with running.client(running.token(WARD, "Noor")) as client:  # not an allergen: no alert on it
        alerts = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    assert not [a for a in alerts if a["alert"]["kind"] in ("allergy", "unchecked")], alerts
    delivered = wait_for_state(running, admission, "delivered")
    [stored] = her.entries("allergies")
    assert stored.id == delivered["entry"] == answer["entry"]
    assert stored.author == running.service.identity.public_id
    # Her ledger's next read brings it back: the status is the same, asserted once.
    clock.now += timedelta(seconds=running.settings.ledger_poll_seconds)
    running.run(running.service.poll_ledgers())
    assert allergy_status(running, admission) == status
    # A real allergy found later supersedes it, and a second assertion is then refused.
    recorded_allergy = post(
        running, admission, "allergies", {"substance": "amoxicillin", "reaction": "rash", "clinician": NURSE}
    )
    assert recorded_allergy.status_code == 201, recorded_allergy.text
    later = allergy_status(running, admission)
    assert later["state"] == "known" and later["superseded"] is True
    again = post(running, admission, "allergies", {"no_known_allergies": True, "clinician": DOCTOR})
    assert again.status_code == 409, again.text
    assert "records allergies (amoxicillin)" in again.json()["error"]["message"]
    assert len(recorded(running, admission)) == 2


def test_no_known_drug_allergies_is_refused_when_her_ledger_records_one_or_the_grant_hides_them(
    running: RunningService, clock: FakeClock, her: Her
) -> None:
    with Ledger.open(her.path) as ledger:
        ledger.append([actions.allergy(her.key, "penicillin", now=clock.now)], patient=her.key, now=clock.now)
    admission = admit(running, her, write=("allergies",))
    refused = post(running, admission, "allergies", {"no_known_allergies": True, "clinician": DOCTOR})
    assert refused.status_code == 409, refused.text
    assert "records allergies (penicillin)" in refused.json()["error"]["message"]
    hidden = admit(running, her, write=("allergies",), scope=("medications", "reactions"), bed="5")
    unshared = post(running, hidden, "allergies", {"no_known_allergies": True, "clinician": DOCTOR})
    assert unshared.status_code == 409, unshared.text
    assert "does not share her allergies" in unshared.json()["error"]["message"]
    mixed = post(
        running,
        admission,
        "allergies",
        {"no_known_allergies": True, "substance": "latex", "clinician": DOCTOR},
    )
    assert mixed.status_code == 400 and "'substance'" in mixed.json()["error"]["message"]
    assert recorded(running, admission) == recorded(running, hidden) == []
    assert allergy_status(running, hidden)["state"] == "not-shared"
