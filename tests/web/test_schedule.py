"""The ward's schedule (MAR) through HTTP: FHIR MedicationRequests planned over the grant period in the
ward's time zone, alerts bound to the dose they concern, outcomes recorded once, and refusals that store
nothing. A dose of a drug that does not resolve is accepted, not refused: see test_unchecked.py.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_admissions import (
    InProcessPatient,
    admit,
    alerts,
    grant,
    present,
    row_counts,
    service_settings,
    serving,
)

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
WARD, OTHER_WARD = "ward-a", "ward-b"
SUMMER = datetime(2030, 7, 1, 10, 0, tzinfo=UTC)  # 11:00 in London (BST, UTC+1)


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


def medication_request(
    request_id: str, rxcui: str, display: str, repeat: dict[str, Any], *, mg: int
) -> dict[str, Any]:
    """A FHIR R4 MedicationRequest for an oral dose of ``mg`` mg on ``repeat`` (Timing.repeat)."""
    return {
        "resourceType": "MedicationRequest",
        "id": request_id,
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "inpatient",
                        "display": "Inpatient",
                    }
                ]
            }
        ],
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": rxcui, "display": display}],
            "text": display,
        },
        "subject": {"reference": "Patient/example"},
        "authoredOn": "2030-06-30",
        "dosageInstruction": [
            {
                "sequence": 1,
                "text": f"{mg} mg by mouth",
                "timing": {"repeat": repeat},
                "route": {
                    "coding": [
                        {"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral route"}
                    ]
                },
                "doseAndRate": [
                    {
                        "type": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/dose-rate-type",
                                    "code": "ordered",
                                    "display": "Ordered",
                                }
                            ]
                        },
                        "doseQuantity": {
                            "value": mg,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        },
                    }
                ],
            }
        ],
    }


EVERY_6_HOURS = {"frequency": 1, "period": 6, "periodUnit": "h"}


def daily_at(clock_time: str) -> dict[str, Any]:
    return {"frequency": 1, "period": 1, "periodUnit": "d", "timeOfDay": [clock_time]}


def post_schedule(running: RunningService, body: dict[str, Any], ward: str = WARD) -> httpx.Response:
    with running.client(running.token(ward, "Dana Day")) as client:
        return client.post(f"/wards/{ward}/schedule", json=body)


def planned(running: RunningService, body: dict[str, Any], ward: str = WARD) -> list[dict[str, Any]]:
    response = post_schedule(running, body, ward)
    assert response.status_code == 201, response.text
    doses: list[dict[str, Any]] = response.json()["administrations"]
    return doses


def schedule(running: RunningService, ward: str = WARD) -> list[dict[str, Any]]:
    with running.client(running.token(ward, "Dana Day")) as client:
        response = client.get(f"/wards/{ward}/schedule")
    assert response.status_code == 200, response.text
    doses: list[dict[str, Any]] = response.json()["administrations"]
    return doses


def due(dose: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(dose["due"])


def alert_for(running: RunningService, kind: str, ward: str = WARD) -> dict[str, Any]:
    [found] = [a["alert"] for a in alerts(running, ward) if a["alert"]["kind"] == kind]
    return found


# -- planning from MedicationRequests -------------------------------------------------------------


def test_medication_requests_are_planned_over_the_grant_in_the_wards_time_zone(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    clock.now = SUMMER
    admission = admit(running, patient, hours=48)
    expires = datetime.fromisoformat(admission["expires_at"])
    assert expires == SUMMER + timedelta(hours=48)
    doses = planned(
        running,
        {
            "medication_requests": [
                {
                    "admission": admission["admission"],
                    "resource": medication_request(
                        "paracetamol-q6h", "161", "acetaminophen", EVERY_6_HOURS, mg=1000
                    ),
                },
                {
                    "admission": admission["admission"],
                    "resource": medication_request(
                        "amlodipine-daily", "17767", "amlodipine", daily_at("08:00:00"), mg=5
                    ),
                },
            ]
        },
    )
    every_6 = sorted((d for d in doses if d["ingredients"][0]["name"] == "acetaminophen"), key=due)
    daily = sorted((d for d in doses if d["ingredients"][0]["name"] == "amlodipine"), key=due)
    assert len(doses) == len(every_6) + len(daily)

    # Every 6 hours: 48 hours hold 8 doses, all inside the grant, each 6 hours after the last.
    assert len(every_6) == 8
    assert all(SUMMER <= due(d) < expires for d in every_6)
    assert {due(b) - due(a) for a, b in itertools.pairwise(every_6)} == {timedelta(hours=6)}
    assert {(d["dose"], d["route"]) for d in every_6} == {("1000 mg", "Oral route")}

    # Daily at 08:00 London time is 07:00 UTC in summer: the mornings of 2 and 3 July.
    assert [d["due"] for d in daily] == ["2030-07-02T07:00:00Z", "2030-07-03T07:00:00Z"]
    london = ZoneInfo("Europe/London")
    assert {due(d).astimezone(london).strftime("%H:%M") for d in daily} == {"08:00"}

    # The ward's schedule shows every planned dose, none recorded yet.
    shown = schedule(running)
    assert sorted(d["id"] for d in shown) == sorted(d["id"] for d in doses)
    assert all(d["outcome"] is None for d in shown)


def test_a_new_york_ward_plans_one_0130_dose_on_the_night_the_clocks_go_back(
    tmp_path: Path, clock: FakeClock, patient: PatientCLI
) -> None:
    """On 2026-11-01 01:30 happens twice in New York; a daily 01:30 order gives one dose that day."""
    # The ward's zone is set both ways: this branch's Service does not read Settings.wards (main's does,
    # at start-up); ward_timezone is the zone of wards created on admission.
    settings = service_settings(tmp_path, wards="ward-ny=America/New_York", ward_timezone="America/New_York")
    clock.now = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # noon in New York
    with serving(settings, clock) as running:
        # That night is in the past: the CLI (on the real clock) will not slice the grant now, so the
        # slice is made with the ledger's own function at the test's time.
        grant_doc = grant(patient, running.service.identity.public_id, not_before=clock.now, hours=48)
        with Ledger.open(patient.ledger) as ledger:
            slice_doc = json.loads(make_slice(ledger.read(), str(grant_doc["grant"]), now=clock.now))
        response = present(running, grant_doc, slice_doc, ward="ward-ny")
        assert response.status_code == 201, response.text
        admission = response.json()
        doses = planned(
            running,
            {
                "medication_requests": [
                    {
                        "admission": admission["admission"],
                        "resource": medication_request(
                            "night", "17767", "amlodipine", daily_at("01:30:00"), mg=5
                        ),
                    }
                ]
            },
            ward="ward-ny",
        )
    new_york = ZoneInfo("America/New_York")
    local_days = [due(d).astimezone(new_york).date().isoformat() for d in doses]
    assert local_days.count("2026-11-01") == 1
    # The first 01:30 (still daylight time, UTC-4), then 01:30 standard time (UTC-5) the next night.
    assert [d["due"] for d in doses] == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]


# -- alerts bound to doses ------------------------------------------------------------------------


def test_a_dose_of_a_drug_the_patient_is_allergic_to_is_critical_and_bound_to_it(
    running: RunningService, patient: PatientCLI
) -> None:
    patient.ledger_cmd("add-allergy", "amoxicillin", "--reaction", "hives", "--criticality", "high")
    admission = admit(running, patient)
    assert alerts(running) == []
    doses = planned(
        running,
        {
            "medication_requests": [
                {
                    "admission": admission["admission"],
                    "resource": medication_request(
                        "amox", "723", "amoxicillin", daily_at("08:00:00"), mg=500
                    ),
                }
            ]
        },
    )
    first = min(doses, key=due)
    allergy = alert_for(running, "allergy")
    assert allergy["severity"] == "critical" and allergy["interruptive"]
    assert [i["name"] for i in allergy["ingredients"]] == ["amoxicillin"]
    assert allergy["dose"]["id"] == first["id"]
    assert allergy["dose"]["due"] == first["due"]


@pytest.mark.parametrize(
    ("on_ledger", "scheduled"),
    [pytest.param("warfarin", "ibuprofen", id="warfarin+ibuprofen")],
)
def test_a_scheduled_dose_interacting_with_a_medication_is_bound_to_that_dose(
    running: RunningService, patient: PatientCLI, clock: FakeClock, on_ledger: str, scheduled: str
) -> None:
    patient.ledger_cmd("add-medication", on_ledger, "--dose", "5 mg daily")
    admission = admit(running, patient)
    assert alerts(running) == []
    [dose] = planned(
        running,
        {
            "administrations": [
                {
                    "admission": admission["admission"],
                    "drug": scheduled,
                    "dose": "400 mg",
                    "route": "oral",
                    "due": (clock.now + timedelta(hours=5)).isoformat(),
                }
            ]
        },
    )
    interaction = alert_for(running, "interaction")
    assert {i["name"] for i in interaction["ingredients"]} == {on_ledger, scheduled}
    assert interaction["severity"] in ("critical", "major")
    assert interaction["dose"]["id"] == dose["id"]
    assert interaction["dose"]["drug"] == scheduled


def test_two_doses_of_one_ingredient_an_hour_apart_are_too_soon(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admit(running, patient)
    at = clock.now + timedelta(hours=2)
    doses = planned(
        running,
        {
            "administrations": [
                {"admission": admission["admission"], "drug": drug, "dose": "1 g", "due": when.isoformat()}
                for drug, when in (("paracetamol", at), ("Tylenol", at + timedelta(hours=1)))
            ]
        },
    )
    earlier, later = sorted(doses, key=due)
    too_soon = alert_for(running, "too-soon")
    assert [i["name"] for i in too_soon["ingredients"]] == ["acetaminophen"]
    assert "1 h" in too_soon["summary"]
    assert too_soon["dose"] is not None, "a too-soon alert concerns the later dose"
    assert too_soon["dose"]["id"] == later["id"]
    assert "the dose of paracetamol was due" in too_soon["management"]  # named by drug and time
    assert earlier["id"] not in too_soon["management"] and later["id"] not in too_soon["management"]


# -- outcomes -------------------------------------------------------------------------------------


def test_a_dose_given_is_shown_and_cannot_be_recorded_twice(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admit(running, patient)
    [dose] = planned(
        running,
        {
            "administrations": [
                {
                    "admission": admission["admission"],
                    "drug": "amlodipine",
                    "dose": "5 mg",
                    "due": (clock.now + timedelta(minutes=30)).isoformat(),
                }
            ]
        },
    )
    clock.now += timedelta(minutes=35)
    nurse = running.token(WARD, "Nico Nurse")
    with running.client(nurse) as client:
        given = client.post(
            f"/wards/{WARD}/schedule/{dose['id']}/outcome", json={"status": "given", "note": "with water"}
        )
        assert given.status_code == 200, given.text
        before = row_counts(running.settings.db_path)
        again = client.post(f"/wards/{WARD}/schedule/{dose['id']}/outcome", json={"status": "held"})
    assert again.status_code == 422, again.text
    assert again.json()["error"]["code"] == "schedule-error"
    assert (
        dose["id"] in again.json()["error"]["message"]
        and "already recorded as given" in again.json()["error"]["message"]
    )
    assert row_counts(running.settings.db_path) == before
    [shown] = schedule(running)
    assert shown["outcome"]["status"] == "given"
    assert shown["outcome"]["nurse"] == "Nico Nurse"
    assert shown["outcome"]["note"] == "with water"
    assert shown["outcome"]["recorded_at"] == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- refusals that store nothing ------------------------------------------------------------------


def test_a_schedule_for_an_admission_on_another_ward_is_refused_as_unknown(
    running: RunningService, patient: PatientCLI, clock: FakeClock, tmp_path: Path
) -> None:
    """Another ward's admission is answered as one that does not exist (issue 9): a 403 naming its
    ward would tell a guessing client that the id is real, and where the patient lies."""
    (tmp_path / "neighbour").mkdir()
    admit(running, InProcessPatient(tmp_path / "neighbour"), ward=WARD)  # so that both wards exist
    elsewhere = admit(running, patient, ward=OTHER_WARD)
    before = row_counts(running.settings.db_path)
    response = post_schedule(
        running,
        {
            "administrations": [
                {
                    "admission": elsewhere["admission"],
                    "drug": "paracetamol",
                    "due": (clock.now + timedelta(hours=2)).isoformat(),
                }
            ]
        },
        ward=WARD,
    )
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error == {
        "code": "not-found",
        "message": f"administrations[0]: no active admission {elsewhere['admission']}",
    }
    assert row_counts(running.settings.db_path) == before
    assert schedule(running, OTHER_WARD) == []


@pytest.mark.parametrize(
    "coding",
    [
        pytest.param(None, id="coding-null"),
        pytest.param(1, id="coding-a-number"),
        pytest.param({"code": "17767"}, id="coding-an-object"),
    ],
)
def test_a_medication_request_with_malformed_codings_never_breaks_the_error_shape(
    running: RunningService, patient: PatientCLI, coding: object
) -> None:
    """``coding`` must be a list: anything else is read past (the text still names the drug) or refused
    in the one JSON error shape, with nothing stored; never a bare crash."""
    admission = admit(running, patient)
    resource = medication_request("odd", "17767", "amlodipine", daily_at("08:00:00"), mg=5)
    resource["medicationCodeableConcept"] = {"coding": coding, "text": "amlodipine"}
    before = row_counts(running.settings.db_path)
    response = post_schedule(
        running, {"medication_requests": [{"admission": admission["admission"], "resource": resource}]}
    )
    if response.status_code == 201 or coding is None:  # no coding at all: the text names the drug
        assert response.status_code == 201, response.text
        assert {d["ingredients"][0]["name"] for d in response.json()["administrations"]} == {"amlodipine"}
        return
    assert response.status_code >= 400
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()["error"]) == {"code", "message"}
    assert row_counts(running.settings.db_path) == before
