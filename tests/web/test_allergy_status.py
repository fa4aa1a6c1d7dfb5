"""The ward's allergy status per admission, listed with the ward's alerts, through a real service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_admissions import WARD, InProcessPatient, make_slice, present, service_settings, serving


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


def new_patient(tmp_path: Path, name: str) -> PatientCLI:
    directory = tmp_path / name
    directory.mkdir()
    return InProcessPatient(directory)


def admit(running: RunningService, patient: PatientCLI, bed: str, scope: str) -> str:
    patient.ledger_cmd(
        "grant", "--to", running.service.identity.public_id, "--scope", scope, "--hours", "48",
        "--not-before", running.clock.now.isoformat(), "--out", "grant.json",
    )  # fmt: skip
    response = present(running, patient.read_json("grant.json"), make_slice(patient), bed=bed)
    assert response.status_code == 201, response.text
    admission: str = response.json()["admission"]
    return admission


def ward_view(running: RunningService) -> dict[str, Any]:
    with running.client(running.token(WARD, "Nico Nurse")) as client:
        response = client.get(f"/wards/{WARD}/alerts")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def test_the_ward_tells_the_four_states_apart(running: RunningService, tmp_path: Path) -> None:
    none_known = new_patient(tmp_path, "ann")
    none_known.ledger_cmd("add-medication", "amoxicillin", "--dose", "500 mg")
    none_known.ledger_cmd("assert-no-allergies")
    known = new_patient(tmp_path, "bob")
    known.ledger_cmd("add-allergy", "penicillin", "--criticality", "high")
    unrecorded = new_patient(tmp_path, "cat")
    unshared = new_patient(tmp_path, "dan")
    unshared.ledger_cmd("add-allergy", "penicillin")
    ids = {
        "1": admit(running, none_known, "1", "medications,allergies,reactions"),
        "2": admit(running, known, "2", "medications,allergies"),
        "3": admit(running, unrecorded, "3", "medications,allergies"),
        "4": admit(running, unshared, "4", "medications,reactions"),
    }
    view = ward_view(running)
    listed = {a["bed"]: a for a in view["admissions"]}
    assert {bed: a["admission"] for bed, a in listed.items()} == ids
    states = {bed: a["allergy_status"]["state"] for bed, a in listed.items()}
    assert states == {"1": "none-known", "2": "known", "3": "not-recorded", "4": "not-shared"}
    assertion = listed["1"]["allergy_status"]["assertion"]
    assert assertion["asserted_by"] == "patient" and assertion["author"] == none_known.public_id
    assert [a["substance"] for a in listed["2"]["allergy_status"]["allergies"]] == ["penicillin"]
    # "no known drug allergy" is no allergen: amoxicillin raises no allergy or unchecked-allergy alert
    kinds = [(a["alert"]["kind"], a["alert"]["admission"]) for a in view["alerts"]]
    assert not [k for k in kinds if k[1] == ids["1"]], kinds
