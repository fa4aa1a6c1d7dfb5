"""A drug that does not resolve is a safety finding of its own (``unchecked``), over HTTP: a real uvicorn on
127.0.0.1, the patient's real command line, an injected clock.

An unknown medication, allergy or flagged reaction in the slice is an ``unchecked`` major alert naming
it; a dose of an unknown drug is accepted into the ward's schedule (a MAR import is not refused whole),
and its alert is bound to the dose and interrupts; the alert is raised again an hour before the dose and
the night shift still sees it with the day's acknowledgement; nothing is folded away or dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import FakeClock, PatientCLI, RunningService, read_events, verify_with_cryptography
from tests.web.test_admissions import (
    InProcessPatient,
    admit,
    alerts,
    row_counts,
    service_settings,
    serving,
)
from tests.web.test_schedule import daily_at, medication_request, planned, post_schedule, schedule
from tests.web.test_story import at

WARD = "ward-a"
UNKNOWN = "Zorvantix"  # no RxNorm ingredient, brand or product, and close to none (not read as a misspelling)
STEPS = re.compile(r"^1\. .+ 2\. .+ 3\. .+$")


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


def unchecked(running: RunningService, **params: str) -> list[dict[str, Any]]:
    """The ward's active ``unchecked`` alerts (list entries: id, jws, alert claims, acknowledgements)."""
    return [a for a in alerts(running, WARD, **params) if a["alert"]["kind"] == "unchecked"]


def names(entry: dict[str, Any]) -> list[str]:
    return [i["name"] for i in entry["alert"]["ingredients"]]


def jwks(running: RunningService) -> dict[str, Any]:
    with running.client() as client:
        keys: dict[str, Any] = client.get("/.well-known/jwks.json").json()
    return keys


def administration(admission: str, drug: str, due: str, dose: str = "") -> dict[str, str]:
    return {"admission": admission, "drug": drug, "dose": dose, "route": "oral", "due": due}


# -- the slice ------------------------------------------------------------------------------------


def test_an_unknown_medication_in_the_slice_is_an_unchecked_major_alert(
    running: RunningService, patient: PatientCLI
) -> None:
    patient.ledger_cmd("add-medication", UNKNOWN, "--dose", "500 mg twice daily")
    patient.ledger_cmd("add-medication", "Zocor", "--dose", "40 mg at night")
    admission = admit(running, patient)

    assert [(u["what"], u["term"]) for u in admission["unresolved"]] == [("medication", UNKNOWN)]
    [entry] = alerts(running, WARD)  # Zocor resolves and, alone, raises nothing
    claims = verify_with_cryptography(entry["jws"], jwks(running))
    assert claims == entry["alert"]
    assert (claims["kind"], claims["severity"], claims["interruptive"]) == ("unchecked", "major", False)
    assert claims["indicator"] == "warning"
    assert names(entry) == [UNKNOWN]
    assert claims["summary"] == (
        "Zorvantix could not be checked: interactions, allergies and flagged reactions unknown (major)."
    )
    assert STEPS.match(claims["management"]), claims["management"]
    assert "Zorvantix" in claims["management"]
    assert "did not match RxNorm" in claims["mechanism"] and "500 mg twice daily" in claims["mechanism"]
    assert claims["rule"] == "unchecked-medication"
    assert claims["sources"] == ["alertsvc", "rxnorm"]
    assert claims["dose"] is None


@pytest.mark.parametrize(
    ("command", "args", "rule", "summary", "flagged_by"),
    [
        pytest.param(
            "add-allergy",
            ("Glarbicillin", "--reaction", "hives", "--criticality", "high"),
            "unchecked-allergy",
            "Allergy to Glarbicillin could not be checked: no medicine can be checked against it (major).",
            "",
            id="unknown-allergy",
        ),
        pytest.param(
            "flag-reaction",
            ("Glarbicillin", "--reaction", "swollen lips", "--severity", "severe"),
            "unchecked-reaction",
            "Flagged reaction to Glarbicillin could not be checked: no medicine can be checked against it"
            " (major).",
            "patient",
            id="unknown-flagged-reaction",
        ),
    ],
)
def test_an_unknown_allergy_or_flagged_reaction_stays_major_and_says_what_to_do(
    running: RunningService,
    patient: PatientCLI,
    command: str,
    args: tuple[str, ...],
    rule: str,
    summary: str,
    flagged_by: str,
) -> None:
    patient.ledger_cmd(command, *args)
    admission = admit(running, patient)
    assert [u["term"] for u in admission["unresolved"]] == ["Glarbicillin"]
    [entry] = unchecked(running)
    claims = entry["alert"]
    assert (claims["severity"], claims["rule"], claims["summary"]) == ("major", rule, summary)
    assert claims["flagged_by"] == flagged_by
    assert STEPS.match(claims["management"]) and "make sure it is not Glarbicillin" in claims["management"]
    assert args[2] in claims["mechanism"], "what the patient reported is kept"


# -- the schedule ---------------------------------------------------------------------------------


def test_a_mar_import_with_an_unknown_drug_is_accepted_and_its_dose_alert_interrupts(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    admission = admit(running, patient)["admission"]
    soon, later = clock.now + timedelta(hours=3), clock.now + timedelta(hours=9)
    response = post_schedule(
        running,
        {
            "administrations": [
                administration(admission, "ibuprofen", soon.isoformat(), "400 mg"),
                administration(admission, UNKNOWN, later.isoformat(), "500 mg"),
                administration(admission, UNKNOWN, soon.isoformat(), "500 mg"),
            ],
            "medication_requests": [
                {
                    "admission": admission,
                    "resource": medication_request("amlo", "17767", "amlodipine", daily_at("08:00:00"), mg=5),
                }
            ],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [(u["where"], u["drug"]) for u in body["unresolved"]] == [
        ("administrations[1]", UNKNOWN),
        ("administrations[2]", UNKNOWN),
    ]
    assert all("Zorvantix" in u["reason"] for u in body["unresolved"])
    stored = schedule(running)
    assert len(stored) == len(body["administrations"]) == 5  # ibuprofen, Zorvantix twice, amlodipine twice
    unknown_doses = sorted((d for d in stored if d["drug"] == UNKNOWN), key=lambda d: d["due"])
    assert [d["ingredients"] for d in unknown_doses] == [[], []]

    [entry] = unchecked(running)
    claims = verify_with_cryptography(entry["jws"], jwks(running))
    assert (claims["severity"], claims["interruptive"], claims["rule"]) == ("major", True, "unchecked-dose")
    assert claims["dose"]["id"] == unknown_doses[0]["id"], "bound to the earliest dose not yet recorded"
    assert claims["summary"].startswith("Scheduled Zorvantix could not be checked")
    assert claims["management"].startswith("1. Do not give Zorvantix until a pharmacist or prescriber")
    # The rest of the import is still checked: warfarin with the scheduled ibuprofen.
    [interaction] = [a for a in alerts(running, WARD) if a["alert"]["kind"] == "interaction"]
    assert {"warfarin", "ibuprofen"} == set(names(interaction))


def test_other_faults_still_refuse_the_whole_schedule_and_store_nothing(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admit(running, patient)["admission"]
    before = row_counts(running.settings.db_path)
    when = (clock.now + timedelta(hours=2)).isoformat()
    for items, status, message in [
        ([administration(admission, UNKNOWN, when), administration(admission, "paracetamol", "soon")],
         400, "administrations[1].due"),
        ([administration(admission, UNKNOWN, when), administration("adm-none", "paracetamol", when)],
         404, "administrations[1]: no active admission adm-none"),
    ]:  # fmt: skip
        response = post_schedule(running, {"administrations": items})
        assert response.status_code == status, response.text
        assert message in response.json()["error"]["message"]
    assert row_counts(running.settings.db_path) == before
    assert schedule(running) == []


def test_the_alert_is_raised_again_before_the_dose_and_the_night_shift_still_sees_it(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    clock.now = at(13)
    admission = admit(running, patient)["admission"]
    [dose] = planned(
        running,
        {"administrations": [administration(admission, UNKNOWN, at(2, days=1).isoformat(), "500 mg")]},
    )
    [first] = unchecked(running)
    assert first["alert"]["interruptive"] and first["alert"]["dose"]["id"] == dose["id"]

    # The day nurse cannot brush it off with "Seen": it interrupts, so she says what was done.
    day_nurse = running.token(WARD, "Dana Day")
    with running.client(day_nurse) as client:
        seen = client.post(f"/alerts/{first['id']}/acknowledgements", json={"reason": {"code": "seen"}})
        assert seen.status_code == 400 and "interruptive" in seen.json()["error"]["message"]
        reason = {"code": "prescriber-informed", "display": "Prescriber informed; awaiting review"}
        acked = client.post(f"/alerts/{first['id']}/acknowledgements", json={"reason": reason})
        assert acked.status_code == 201, acked.text

    # 01:05, an hour before the dose: the alert is raised again, a new version, on the night's stream.
    night_nurse = running.token(WARD, "Nico Night")
    with running.client(night_nurse) as client:
        last = client.get(f"/wards/{WARD}/alerts").json()["last_event_id"]
    clock.now = at(1, 5, days=1)
    running.run(running.service.tick())
    events = read_events(
        running,
        WARD,
        night_nurse,
        last_event_id=last,
        until=lambda evs: any(e["event"] == "alert" and e["data"]["id"] == first["id"] for e in evs),
    )
    [raised] = [e for e in events if e["event"] == "alert" and e["data"]["id"] == first["id"]]
    claims = verify_with_cryptography(raised["data"]["jws"], jwks(running))
    assert claims["version"] == first["alert"]["version"] + 1
    assert claims["interruptive"] and claims["dose"]["id"] == dose["id"]

    [night] = unchecked(running, shift="night")
    assert night["id"] == first["id"]
    [day_ack] = night["acknowledgements"]
    assert (day_ack["nurse"], day_ack["earlier_shift"]) == ("Dana Day", True)
    assert not night["acknowledged_this_shift"]


def test_a_held_dose_passes_the_alert_to_the_next_dose_of_the_unknown_drug(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admit(running, patient)["admission"]
    first_due, second_due = clock.now + timedelta(minutes=30), clock.now + timedelta(hours=8)
    doses = planned(
        running,
        {
            "administrations": [
                administration(admission, UNKNOWN, first_due.isoformat()),
                administration(admission, UNKNOWN.lower(), second_due.isoformat()),
            ]
        },
    )
    first, second = sorted(doses, key=lambda d: d["due"])
    [alert] = unchecked(running)
    assert alert["alert"]["dose"]["id"] == first["id"]
    with running.client(running.token(WARD, "Nico Nurse")) as client:
        held = client.post(
            f"/wards/{WARD}/schedule/{first['id']}/outcome", json={"status": "held", "note": "pharmacy asked"}
        )
        assert held.status_code == 200, held.text
    [moved] = unchecked(running)
    assert moved["id"] == alert["id"], "one drug written two ways is one alert"
    assert moved["alert"]["dose"]["id"] == second["id"] and moved["alert"]["interruptive"]


def test_nothing_unknown_is_folded_away_or_dropped(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    patient.ledger_cmd("add-medication", "Zorvantix")
    patient.ledger_cmd("add-allergy", "Glarbicillin")
    patient.ledger_cmd("flag-reaction", "Frobnoxil", "--reaction", "rash", "--severity", "moderate")
    admission = admit(running, patient)
    assert sorted(u["term"] for u in admission["unresolved"]) == ["Frobnoxil", "Glarbicillin", "Zorvantix"]
    due = clock.now + timedelta(hours=2)
    planned(
        running,
        {
            "administrations": [
                administration(admission["admission"], drug, (due + timedelta(minutes=m)).isoformat())
                for drug, m in (("Zorblatrine", 0), ("Zorblatrine", 60), ("Quexapam", 0), ("Quexapam", 30))
            ]
        },
    )
    by_drug = {names(a)[0]: a["alert"] for a in unchecked(running)}
    assert sorted(by_drug) == ["Frobnoxil", "Glarbicillin", "Quexapam", "Zorblatrine", "Zorvantix"]
    assert all(SEVERITY_AT_LEAST_MAJOR[a["severity"]] for a in by_drug.values())
    assert [d for d, a in sorted(by_drug.items()) if a["interruptive"]] == ["Quexapam", "Zorblatrine"]
    # Two doses of each unknown drug too close together: one too-soon alert per drug, not one for both.
    too_soon = sorted(names(a)[0] for a in alerts(running, WARD) if a["alert"]["kind"] == "too-soon")
    assert too_soon == ["Quexapam", "Zorblatrine"]


SEVERITY_AT_LEAST_MAJOR = {"critical": True, "major": True, "moderate": False, "minor": False}


@pytest.mark.parametrize(
    ("command", "args", "summary"),
    [
        pytest.param(
            "flag-reaction",
            ("Frobnoxil", "--reaction", "swollen lips", "--severity", "severe"),
            "Frobnoxil is scheduled and the patient flagged a reaction to it; not checked (critical).",
            id="flagged-reaction+dose-same-name",
        ),
        pytest.param(
            "add-allergy",
            ("Frobnoxil", "--reaction", "hives"),
            "Frobnoxil is scheduled and the patient is allergic to it; not checked (critical).",
            id="allergy+dose-same-name",
        ),
    ],
)
def test_a_dose_of_the_unknown_drug_the_patient_flagged_is_critical(
    running: RunningService,
    patient: PatientCLI,
    clock: FakeClock,
    command: str,
    args: tuple[str, ...],
    summary: str,
) -> None:
    patient.ledger_cmd(command, *args)
    admission = admit(running, patient)["admission"]
    [before] = unchecked(running)
    assert before["alert"]["severity"] == "major"
    [dose] = planned(
        running,
        {
            "administrations": [
                administration(admission, "frobnoxil", (clock.now + timedelta(hours=4)).isoformat())
            ]
        },
    )
    [after] = unchecked(running)
    assert after["id"] == before["id"], "the flag and the dose name one drug: one alert, raised to critical"
    claims = after["alert"]
    assert (claims["severity"], claims["interruptive"], claims["rule"]) == (
        "critical",
        True,
        "unchecked-same-name",
    )
    assert claims["summary"] == summary
    assert claims["dose"]["id"] == dose["id"]
    assert claims["management"].startswith("1. Do not give Frobnoxil")


def test_a_coded_order_resolves_by_its_display_when_its_code_is_unknown_else_is_unchecked(
    running: RunningService, patient: PatientCLI
) -> None:
    admission = admit(running, patient)["admission"]
    known_display = medication_request(
        "a", "99999991", "amlodipine 5 MG Oral Tablet", daily_at("08:00:00"), mg=5
    )
    unknown = medication_request("b", "99999992", "Quexapam 10 MG Oral Tablet", daily_at("09:00:00"), mg=10)
    response = post_schedule(
        running,
        {"medication_requests": [{"admission": admission, "resource": r} for r in (known_display, unknown)]},
    )
    assert response.status_code == 201, response.text
    [missing] = response.json()["unresolved"]
    assert missing["where"] == "medication_requests[1]"
    assert missing["drug"] == "Quexapam 10 MG Oral Tablet (RxNorm 99999992)"
    assert "RxCUI 99999992" in missing["reason"] and "Quexapam" in missing["reason"]
    by_drug = {d["drug"]: d["ingredients"] for d in schedule(running)}
    assert by_drug == {
        "amlodipine 5 MG Oral Tablet": [{"rxcui": "17767", "name": "amlodipine"}],
        "Quexapam 10 MG Oral Tablet": [],
    }
    [entry] = unchecked(running)
    assert names(entry) == ["Quexapam 10 MG Oral Tablet"] and entry["alert"]["interruptive"]
