"""A ward's locale over HTTP: a British ward reads British drug names in its signed alerts, an American
ward RxNorm's, for the same patient; how each drug was read (a misspelling, a code read by its display)
reaches the admission response, the alert's detail and the schedule import's response.

A real uvicorn service on 127.0.0.1 with an injected clock; the patient's side is the real command line.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from alertsvc import admissions as adm
from alertsvc import store
from alertsvc.config import Settings
from alertsvc.errors import ConfigError
from alertsvc.service import Service
from tests.web.conftest import FakeClock, PatientCLI, RunningService, verify_with_cryptography
from tests.web.test_admissions import InProcessPatient, admit, alerts, service_settings, serving
from tests.web.test_schedule import EVERY_6_HOURS, medication_request

GB, US_WARD = "ward-gb", "ward-us"


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Any:
    settings = service_settings(tmp_path, wards=f"{GB}=Europe/London@en-GB;{US_WARD}=America/New_York")
    with serving(settings, clock) as service:
        yield service


def interaction(running: RunningService, ward: str) -> dict[str, Any]:
    [found] = [a["alert"] for a in alerts(running, ward) if a["alert"]["kind"] == "interaction"]
    return found


def signed_claims(running: RunningService, ward: str) -> dict[str, Any]:
    with running.client(running.token(ward, "Nico Nurse")) as client:
        listed = client.get(f"/wards/{ward}/alerts").json()["alerts"]
        jwks = client.get("/.well-known/jwks.json").json()
    [token] = [a["jws"] for a in listed if a["alert"]["kind"] == "interaction"]
    return verify_with_cryptography(token, jwks)


def test_a_british_ward_reads_british_names_an_american_ward_rxnorms(
    running: RunningService, patient: PatientCLI
) -> None:
    patient.ledger_cmd("add-medication", "ciclosporin")
    patient.ledger_cmd("add-medication", "simvastatin")
    gb = admit(running, patient, ward=GB)
    us = admit(running, same_drugs_as(patient, "second"), ward=US_WARD)
    british, american = signed_claims(running, GB), signed_claims(running, US_WARD)
    assert {i["name"] for i in british["ingredients"]} == {"ciclosporin", "simvastatin"}
    assert {i["name"] for i in american["ingredients"]} == {"cyclosporine", "simvastatin"}
    assert [i["rxcui"] for i in british["ingredients"]] == [i["rxcui"] for i in american["ingredients"]]
    assert "ciclosporin" in british["summary"].lower() and "cyclosporine" not in british["summary"].lower()
    assert "cyclosporine" in american["summary"].lower()
    assert british["severity"] == american["severity"] == "critical"
    assert [i["name"] for i in gb["normalised"][0]["ingredients"]] == ["ciclosporin"]
    assert [i["name"] for i in us["normalised"][0]["ingredients"]] == ["cyclosporine"]


def same_drugs_as(patient: PatientCLI, name: str) -> PatientCLI:
    """A second patient (own key and ledger) taking the same drugs, for the other ward."""
    directory = patient.directory.parent / name
    directory.mkdir()
    other = InProcessPatient(directory)
    other.ledger_cmd("add-medication", "ciclosporin")
    other.ledger_cmd("add-medication", "simvastatin")
    return other


def test_a_misspelt_medication_is_checked_and_the_ward_sees_how_it_was_read(
    running: RunningService, patient: PatientCLI
) -> None:
    patient.ledger_cmd("add-medication", "ibuprophen")
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("add-medication", "Warfarin sodium 5 MG Oral Tablet", "--rxcui", "99999999")
    patient.ledger_cmd("flag-reaction", "amiodorone", "--reaction", "rash", "--severity", "severe")
    admission = admit(running, patient, ward=US_WARD)
    notes = {item["label"].lower(): item["note"] for item in admission["normalised"]}
    assert notes["ibuprophen"] == "read 'ibuprophen' as ibuprofen"
    assert notes["warfarin"] == ""
    assert notes["warfarin sodium 5 mg oral tablet"] == (
        "code 99999999 is not known here; read by its display 'Warfarin sodium 5 MG Oral Tablet'"
    )
    assert admission["unresolved"] == []
    alert = interaction(running, US_WARD)
    assert {i["name"] for i in alert["ingredients"]} == {"ibuprofen", "warfarin"}
    assert "Read 'ibuprophen' as ibuprofen." in alert["detail"]
    assert "Read 'ibuprophen' as ibuprofen." in signed_claims(running, US_WARD)["mechanism"]
    assert notes["amiodorone"] == "read 'amiodorone' as amiodarone"  # the flagged reaction's drug
    [flag] = [a["alert"] for a in alerts(running, US_WARD) if a["alert"]["kind"] == "reaction"]
    assert [i["name"] for i in flag["ingredients"]] == ["amiodarone"]
    assert "Read 'amiodorone' as amiodarone." in flag["detail"]


def test_a_medication_request_with_an_unknown_code_is_planned_by_its_display_and_says_so(
    running: RunningService, patient: PatientCLI
) -> None:
    admission = admit(running, patient, ward=GB)
    request = medication_request("para", "99999999", "Paracetamol 500 MG Oral Tablet", EVERY_6_HOURS, mg=500)
    with running.client(running.token(GB, "Dana Day")) as client:
        body = {"medication_requests": [{"admission": admission["admission"], "resource": request}]}
        response = client.post(f"/wards/{GB}/schedule", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["notes"] == [
        {
            "drug": "99999999",
            "note": "code 99999999 is not known here; read by its display 'Paracetamol 500 MG Oral Tablet'",
        }
    ]
    doses = response.json()["administrations"]
    assert doses and {d["ingredients"][0]["rxcui"] for d in doses} == {"161"}
    known = medication_request("ibu", "197805", "Ibuprofen 400 MG Oral Tablet", EVERY_6_HOURS, mg=400)
    with running.client(running.token(GB, "Dana Day")) as client:
        body = {"medication_requests": [{"admission": admission["admission"], "resource": known}]}
        answer = client.post(f"/wards/{GB}/schedule", json=body)
    assert answer.status_code == 201 and "notes" not in answer.json()  # a known code needs no note


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("icu", [("icu", "Europe/London", "en-US")], id="defaults"),
        pytest.param("icu@en-GB", [("icu", "Europe/London", "en-GB")], id="locale-only"),
        pytest.param(
            "icu=America/New_York@en-GB; ed=Asia/Tokyo",
            [("icu", "America/New_York", "en-GB"), ("ed", "Asia/Tokyo", "en-US")],
            id="both",
        ),
    ],
)
def test_ward_configuration_syntax(spec: str, expected: list[tuple[str, str, str]]) -> None:
    wards = adm.configured_wards(spec, default_zone="Europe/London")
    assert [(w.id, w.timezone, w.locale) for w in wards] == expected


def test_an_unknown_locale_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ward 'icu': unknown locale 'fr-FR'"):
        adm.configured_wards("icu@fr-FR", default_zone="Europe/London")
    with pytest.raises(ConfigError, match="ward_locale 'en-AU'"):
        Service(Settings(db_path=tmp_path / "s.db", service_key=tmp_path / "s.key", ward_locale="en-AU"))


def test_a_database_made_before_wards_had_a_locale_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        """CREATE TABLE wards (id TEXT PRIMARY KEY, name TEXT NOT NULL, timezone TEXT NOT NULL,
           shifts TEXT NOT NULL, last_shift_start TEXT NOT NULL DEFAULT '');
           INSERT INTO wards(id, name, timezone, shifts) VALUES ('w1', 'W1', 'Europe/London',
           '[["day", "07:00"], ["evening", "15:00"], ["night", "23:00"]]');"""
    )
    old.close()
    db = store.open_database(path)
    try:
        ward = adm.get_ward(db, "w1")
        assert ward is not None and ward.locale == "en-US"
    finally:
        db.close()
