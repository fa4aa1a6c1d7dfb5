"""``POST /admissions/{id}/observations`` through the real app on 127.0.0.1: the value is stored with the
admission, the check runs at once and the changed alert reaches the ward signed; an Idempotency-Key
replays; bad input stores nothing; other wards and roles are refused; the purge takes the rows; and a
slice whose grant covers observations brings the patient's own values into the check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc.clock import iso
from tests.postgres import open_reader
from tests.web.conftest import FakeClock, PatientCLI, RunningService, read_events, verify_with_cryptography
from tests.web.test_admissions import (
    WARD,
    InProcessPatient,
    admit,
    alerts,
    make_slice,
    make_update,
    post_update,
    present,
    service_settings,
    serving,
)


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    directory = tmp_path / "patient"
    directory.mkdir()
    return InProcessPatient(directory)


def post(running: RunningService, admission: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    with running.client(headers.pop("token", None) or running.token(WARD, "Nina Nurse")) as client:
        return client.post(f"/admissions/{admission}/observations", json=body, headers=headers)


def rows(running: RunningService) -> int:
    connection = open_reader(running.settings.db_path)
    try:
        count: int = connection.execute("SELECT count(*) FROM ward_observations").fetchone()[0]
        return count
    finally:
        connection.close()


def bleeding(running: RunningService) -> dict[str, Any]:
    [found] = [a for a in alerts(running) if a["alert"]["kind"] == "interaction"]
    return found


def test_an_inr_above_range_makes_the_ward_alert_critical_at_once(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("add-medication", "ibuprofen")
    admission = admit(running, patient)["admission"]
    before = bleeding(running)
    assert before["alert"]["severity"] == "major"
    nurse = running.token(WARD, "Nina Nurse")
    [last] = read_events(running, WARD, nurse, until=lambda e: True, last_event_id=0)[-1:]
    measured = clock.now - timedelta(hours=2)
    body = {"code": "INR", "value": 4.2, "measured": iso(measured)}
    response = post(running, admission, body, **{"Idempotency-Key": "obs-1"})
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["observation"]["code"] == "6301-6" and answer["observation"]["text"] == "INR 4.2"
    assert answer["in_patient_ledger"] is False and "not yet in the patient's ledger" in answer["ledger_note"]
    delivery = answer["delivery"]  # her grant writes nothing: handed over at discharge
    assert delivery["kind"] == "observation" and delivery["state"] == "handover"
    assert "(no write grant)" in delivery["status"] and delivery["observation"] == "INR 4.2"
    resource = answer["observation"]["resource"]
    assert resource["resourceType"] == "Observation" and "Nina Nurse" in resource["performer"][0]["display"]
    assert answer["alerts"] == [before["id"]]
    after = bleeding(running)
    with running.client() as client:
        jwks = client.get("/.well-known/jwks.json").json()
    claims = verify_with_cryptography(after["jws"], jwks)
    assert claims["severity"] == "critical" and claims["interruptive"] is True
    assert claims["rule"] == "inr-above-range" and "INR 4.2 on 15 Jan" in claims["summary"]
    assert any(
        source.startswith("Coumadin (warfarin) US prescribing information") for source in claims["sources"]
    )
    events = read_events(
        running,
        WARD,
        nurse,
        last_event_id=int(last["id"]),
        until=lambda e: any(x["event"] == "alert" for x in e),
    )
    assert any(e["event"] == "alert" and e["data"]["id"] == before["id"] for e in events)
    replay = post(running, admission, body, **{"Idempotency-Key": "obs-1"})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == response.content and rows(running) == 1
    clock.now += timedelta(hours=49)  # the grant (48 h) ends: the purge takes the observations too
    running.run(running.service.tick())
    assert rows(running) == 0


def test_an_inr_in_range_changes_nothing(running: RunningService, patient: PatientCLI) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("add-medication", "ibuprofen")
    admission = admit(running, patient)["admission"]
    response = post(running, admission, {"code": "6301-6", "value": 2.6})
    assert response.status_code == 201, response.text
    assert response.json()["alerts"] == [bleeding(running)["id"]]  # re-signed: the INR is noted
    assert bleeding(running)["alert"]["severity"] == "major"
    assert "INR 2.6 on 15 Jan: not above 3.0" in bleeding(running)["alert"]["mechanism"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"code": "potassium", "value": 5.6}, "potassium (2823-3) needs a unit", id="no-unit"),
        pytest.param({"code": "1234-5", "value": 1, "unit": "mg"}, "unknown LOINC code '1234-5'", id="loinc"),
        pytest.param({"code": "QTc", "value": 520, "unit": "mmHg"}, "is measured in ms", id="wrong-unit"),
        pytest.param({"code": "INR", "value": "4.2"}, "'value' is required and must be a number", id="text"),
        pytest.param({"code": "INR", "value": 4.2, "lab": "x"}, "unknown field 'lab'", id="unknown-field"),
        pytest.param(
            {"code": "INR", "value": 4.2, "measured": "2031-01-01T00:00:00Z"}, "after now", id="future"
        ),
        pytest.param({"value": 4.2}, "'code' is required", id="no-code"),
    ],
)
def test_bad_observations_are_refused_naming_what_was_wrong_and_store_nothing(
    running: RunningService, patient: PatientCLI, body: dict[str, Any], message: str
) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("add-medication", "ibuprofen")
    admission = admit(running, patient)["admission"]
    before = bleeding(running)
    response = post(running, admission, body)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]
    assert rows(running) == 0 and bleeding(running) == before


def test_other_wards_roles_and_bad_tokens_are_refused(running: RunningService, patient: PatientCLI) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    admission = admit(running, patient)["admission"]
    body = {"code": "INR", "value": 4.2}
    assert post(running, admission, body, token=running.token("ward-b", "Olga Other")).status_code == 404
    assert post(running, "adm-0000000000000000", body).status_code == 404
    admitting = running.token(WARD, "Adam Admissions", role="admission")
    assert post(running, admission, body, token=admitting).status_code == 403
    assert post(running, admission, body, token="not-a-token").status_code == 401
    assert rows(running) == 0


def test_a_slice_granting_observations_brings_the_patients_values_into_the_check(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC)  # the patient's device records at the real time
    patient.ledger_cmd("add-medication", "metformin")
    patient.ledger_cmd("add-observation", "--code", "eGFR", "--value", "25", "--unit", "mL/min/1.73m2")
    patient.ledger_cmd(
        "grant", "--to", running.service.identity.public_id, "--scope", "medications,observations",
        "--hours", "48", "--not-before", clock.now.isoformat(), "--out", "grant.json",
    )  # fmt: skip
    response = present(running, patient.read_json("grant.json"), make_slice(patient))
    assert response.status_code == 201, response.text
    [found] = [a["alert"] for a in alerts(running) if a["alert"]["kind"] == "renal-dose"]
    assert found["severity"] == "critical" and found["rule"] == "renal-dose:metformin-egfr-below-30"
    assert "eGFR 25 mL/min/1.73m2 on" in found["summary"]


def test_a_ledger_update_bringing_an_inr_raises_the_alert(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC)
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("add-medication", "ibuprofen")
    patient.ledger_cmd(
        "grant",
        "--to",
        running.service.identity.public_id,
        "--scope",
        "medications,observations",
        "--hours",
        "48",
        "--not-before",
        clock.now.isoformat(),
        "--out",
        "grant.json",
    )
    response = present(running, patient.read_json("grant.json"), make_slice(patient))
    assert response.status_code == 201, response.text
    admitted = response.json()
    assert bleeding(running)["alert"]["severity"] == "major"
    patient.ledger_cmd("add-observation", "--code", "INR", "--value", "4.6")
    update = make_update(patient, admitted["head"], out="update.json")
    answered = post_update(running, admitted["admission"], update)
    assert answered.status_code == 200, answered.text
    raised = bleeding(running)["alert"]
    assert raised["severity"] == "critical" and raised["rule"] == "inr-above-range"
    assert "INR 4.6 on" in raised["summary"] and rows(running) == 0  # from the ledger, not the ward


def test_the_ward_reads_each_patients_latest_labs_with_old_ones_marked(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    admission = admit(running, patient)["admission"]

    def labs() -> list[dict[str, Any]]:
        with running.client(running.token(WARD, "Nina Nurse")) as client:
            view = client.get(f"/wards/{WARD}/alerts").json()
        [row] = [a for a in view["admissions"] if a["admission"] == admission]
        found: list[dict[str, Any]] = row["labs"]
        return found

    assert labs() == []
    old = {
        "code": "potassium",
        "value": 4.1,
        "unit": "mmol/L",
        "measured": iso(clock.now - timedelta(days=5)),
    }
    assert post(running, admission, old).status_code == 201
    for value, hours in ((3.1, 30), (4.2, 2)):  # the later INR is the one shown
        body = {"code": "INR", "value": value, "measured": iso(clock.now - timedelta(hours=hours))}
        assert post(running, admission, body).status_code == 201
    assert [(lab["analyte"], lab["text"], lab["stale"]) for lab in labs()] == [
        ("inr", "INR 4.2", False),
        ("potassium", "potassium 4.1 mmol/L", True),  # older than its 3-day useful life: not used
    ]
    assert labs()[0]["measured"] == iso(clock.now - timedelta(hours=2))
