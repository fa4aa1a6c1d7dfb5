"""The night-shift story, end to end: a real ledger made by the CLI, a real uvicorn on 127.0.0.1, time
driven by an injected clock.

The patient flags ibuprofen at 14:00 (day shift); ibuprofen is scheduled at 02:00. Before 01:00 the
night shift's alert list and stream carry a critical alert for that dose, whose JWS verifies with a
second Ed25519 implementation; the day shift's acknowledgement is shown to the night shift; after the
grant expires the alert is gone from every view and the database file and its WAL hold none of the
slice's drug names or ids.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.web.conftest import FakeClock, PatientCLI, RunningService, read_events, verify_with_cryptography

DAY = datetime(2030, 1, 15, tzinfo=UTC)  # Europe/London is on UTC in January
WARD = "ward-7"


def at(hour: int, minute: int = 0, *, days: int = 0) -> datetime:
    return DAY + timedelta(days=days, hours=hour, minutes=minute)


def admit(running: RunningService, patient: PatientCLI, *, hours: float = 30) -> dict[str, object]:
    """The patient grants the hospital access at 13:00 for ``hours``; admission staff present it."""
    service_id = running.service.identity.public_id
    patient.ledger_cmd(
        "grant",
        "--to",
        service_id,
        "--scope",
        "medications,allergies,reactions",
        "--hours",
        str(hours),
        "--not-before",
        at(13).isoformat(),
        "--out",
        "grant.json",
    )
    patient("ledger", "slice", str(patient.ledger), "--grant", "grant.json", "--out", "slice.json")
    admission_staff = running.token(WARD, "Adam Admissions", role="admission")
    with running.client(admission_staff) as client:
        response = client.post(
            "/admissions",
            json={
                "grant": patient.read_json("grant.json"),
                "slice": patient.read_json("slice.json"),
                "ward": WARD,
                "bed": "12",
                "label": "Mrs Night Story",
            },
        )
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def test_the_night_shift_sees_the_flagged_reaction_before_the_dose(
    running: RunningService, patient: PatientCLI, clock: FakeClock, tmp_path: Path
) -> None:
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    clock.now = at(13)
    admission = admit(running, patient)
    admission_id = str(admission["admission"])
    day_nurse, night_nurse = running.token(WARD, "Dana Day"), running.token(WARD, "Nico Night")

    # The ward plans ibuprofen for 02:00 tonight.
    with running.client(day_nurse) as client:
        response = client.post(
            f"/wards/{WARD}/schedule",
            json={
                "administrations": [
                    {
                        "admission": admission_id,
                        "drug": "ibuprofen",
                        "dose": "400 mg",
                        "route": "oral",
                        "due": at(2, days=1).isoformat(),
                    }
                ]
            },
        )
    assert response.status_code == 201, response.text

    # 14:00: the patient flags a bad reaction to ibuprofen; the update reaches the service.
    clock.now = at(14)
    patient.ledger_cmd(
        "flag-reaction", "ibuprofen", "--reaction", "swollen lips and wheeze", "--severity", "severe"
    )
    patient(
        "ledger",
        "slice",
        str(patient.ledger),
        "--grant",
        "grant.json",
        "--since",
        str(admission["head"]),
        "--out",
        "update.json",
    )
    with running.client(day_nurse) as client:
        response = client.post(f"/admissions/{admission_id}/entries", json=patient.read_json("update.json"))
        assert response.status_code == 200, response.text
        day_view = client.get(f"/wards/{WARD}/alerts").json()
    assert day_view["shift"]["name"] == "day"
    [critical] = [a for a in day_view["alerts"] if a["alert"]["severity"] == "critical"]
    assert critical["alert"]["kind"] == "reaction"
    assert critical["alert"]["dose"]["due"] == "2030-01-16T02:00:00Z"
    assert critical["alert"]["flagged_by"] == "patient"

    # The day nurse acknowledges it with a reason.
    with running.client(day_nurse) as client:
        ack = client.post(
            f"/alerts/{critical['id']}/acknowledgements",
            json={
                "shift": "day",
                "reason": {"code": "prescriber-informed", "display": "Prescriber informed"},
                "comment": "Dr Lee to review",
            },
        )
    assert ack.status_code == 201, ack.text

    # 00:30, night shift, before 01:00: the alert is still there, with the day's acknowledgement.
    clock.now = at(0, 30, days=1)
    running.run(running.service.tick())
    with running.client(night_nurse) as client:
        night_view = client.get(f"/wards/{WARD}/alerts").json()
    assert night_view["shift"]["name"] == "night"
    [night_alert] = [a for a in night_view["alerts"] if a["id"] == critical["id"]]
    [day_ack] = night_alert["acknowledgements"]
    assert (day_ack["nurse"], day_ack["shift"], day_ack["earlier_shift"]) == ("Dana Day", "day", True)
    assert day_ack["comment"] == "Dr Lee to review"
    assert not night_alert["acknowledged_this_shift"]

    with running.client() as client:
        jwks = client.get("/.well-known/jwks.json").json()
    claims = verify_with_cryptography(night_alert["jws"], jwks)
    assert claims["severity"] == "critical" and claims["dose"]["drug"] == "ibuprofen"
    assert "ibuprofen" in claims["summary"]

    events = read_events(
        running,
        WARD,
        night_nurse,
        until=lambda evs: any(e["event"] == "shift" and e["data"]["shift"] == "night" for e in evs),
    )
    alert_events = [e for e in events if e["event"] == "alert" and e["data"]["id"] == critical["id"]]
    assert alert_events, "the stream carries the critical alert"
    streamed = verify_with_cryptography(alert_events[-1]["data"]["jws"], jwks)
    assert streamed["severity"] == "critical"
    # The night nurse acknowledges too; a stream resumed after the last event seen gets only that.
    last = int(events[-1]["id"])
    clock.now = at(0, 45, days=1)
    with running.client(night_nurse) as client:
        reason = {"code": "dose-held", "display": "Dose will be held; prescriber informed"}
        response = client.post(f"/alerts/{critical['id']}/acknowledgements", json={"reason": reason})
        assert response.status_code == 201, response.text
    resumed = read_events(
        running,
        WARD,
        night_nurse,
        last_event_id=last,
        until=lambda evs: evs[-1]["event"] == "acknowledgement",
    )
    assert all(int(e["id"]) > last for e in resumed)
    assert [e["data"]["acknowledgement"]["nurse"] for e in resumed if e["event"] == "acknowledgement"] == [
        "Nico Night"
    ]

    # The grant ends at 19:00 the next day: everything derived from the slice is purged.
    clock.now = at(19, 1, days=1)
    running.run(running.service.tick())
    night_nurse = running.token(WARD, "Nico Night")  # the next night's token (staff tokens live 24 h at most)
    with running.client(night_nurse) as client:
        for shift in ("day", "evening", "night"):
            assert client.get(f"/wards/{WARD}/alerts", params={"shift": shift}).json()["alerts"] == []
    withdrawn = read_events(
        running, WARD, night_nurse, until=lambda evs: any(e["event"] == "withdrawn" for e in evs)
    )
    assert not [e for e in withdrawn if e["event"] == "alert"]
    secrets = _slice_secrets(patient)
    for path in (running.settings.db_path, Path(str(running.settings.db_path) + "-wal")):
        if path.exists():
            data = path.read_bytes().lower()
            for secret in secrets:
                assert secret.lower().encode() not in data, f"{secret!r} is still in {path.name}"


def _slice_secrets(patient: PatientCLI) -> list[str]:
    """Drug names and every id the slice carried."""
    text = (patient.directory / "slice.json").read_text() + (patient.directory / "update.json").read_text()
    ids = set(re.findall(r"sha256:[0-9a-f]{64}", text))
    grant = patient.read_json("grant.json")
    return ["ibuprofen", "warfarin", "swollen lips", *ids, str(grant["grant"]), patient.public_id]
