"""Clinical actions from an alert, through HTTP on a real service with an injected clock (issue 11, point 3).

Simvastatin is in the patient's ledger; the ward plans clarithromycin at 02:00 and 14:00, so a critical
interaction alert is bound to the 02:00 dose. The night nurse holds it and tells the prescriber: the dose
is held, the acknowledgement and an open follow-up are recorded, the alert says "awaiting prescriber
since 02:05" and, unanswered, comes back to the top an hour later (a new signed version), in the next
shift too; the prescriber's answer closes it with who and when. Giving a dose under a critical alert needs
a coded reason and the nurse's name (422 naming what is missing), and later shifts see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.postgres import reading
from tests.web.conftest import FakeClock, PatientCLI, RunningService, verify_with_cryptography
from tests.web.test_admissions import InProcessPatient, admit, service_settings, serving

WARD = "ward-a"
NIGHT = datetime(2030, 1, 16, tzinfo=UTC)  # Europe/London is on UTC in January


def at(hour: int, minute: int = 0) -> datetime:
    return NIGHT + timedelta(hours=hour, minutes=minute)


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path, follow_up_minutes="60;ward-b=30"), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


def plan(running: RunningService, admission: str, *dues: datetime, drug: str = "clarithromycin") -> list[str]:
    with running.client(running.token(WARD, "Dana Day")) as client:
        response = client.post(
            f"/wards/{WARD}/schedule",
            json={
                "administrations": [
                    {
                        "admission": admission,
                        "drug": drug,
                        "dose": "500 mg",
                        "route": "oral",
                        "due": d.isoformat(),
                    }
                    for d in dues
                ]
            },
        )
    assert response.status_code == 201, response.text
    return [d["id"] for d in response.json()["administrations"]]


def view(running: RunningService, nurse: str = "Nico Night") -> dict[str, Any]:
    with running.client(running.token(WARD, nurse)) as client:
        response = client.get(f"/wards/{WARD}/alerts")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def critical(listed: dict[str, Any]) -> dict[str, Any]:
    [found] = [a for a in listed["alerts"] if a["alert"]["severity"] == "critical"]
    return found


def admitted(running: RunningService, patient: PatientCLI, clock: FakeClock) -> str:
    patient.ledger_cmd("add-medication", "simvastatin", "--dose", "40 mg at night")
    clock.now = at(-10)  # 14:00 the day before
    return str(admit(running, patient)["admission"])


def test_hold_and_tell_holds_the_dose_and_follows_up_across_shifts(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admitted(running, patient, clock)
    first, second = plan(running, admission, at(2), at(14))
    clock.now = at(2, 5)
    running.run(running.service.tick())
    alert = critical(view(running))
    assert alert["alert"]["dose"]["id"] == first
    assert alert["alert"]["evidence_text"] == (
        "clarithromycin is a strong CYP3A inhibitor; simvastatin is a sensitive CYP3A substrate"
    )
    assert any(name.startswith("ONC high-priority") for name in alert["alert"]["source_names"])

    # 02:05: hold and tell the prescriber, in one step.
    with running.client(running.token(WARD, "Nico Night")) as client:
        response = client.post(
            f"/alerts/{alert['id']}/hold",
            json={"shift": "night", "prescriber": "Dr Lee", "comment": "bleeped at 02:04"},
            headers={"Idempotency-Key": "hold-1"},
        )
        again = client.post(
            f"/alerts/{alert['id']}/hold",
            json={"shift": "night", "prescriber": "Dr Lee", "comment": "bleeped at 02:04"},
            headers={"Idempotency-Key": "hold-1"},
        )
        twice = client.post(f"/alerts/{alert['id']}/hold", json={"shift": "night"})
    assert response.status_code == 201, response.text
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == response.content
    assert twice.status_code == 409 and "awaiting the prescriber since" in twice.json()["error"]["message"]
    answer = response.json()
    assert answer["dose"]["id"] == first and answer["dose"]["outcome"]["status"] == "held"
    assert answer["acknowledgement"]["reason"]["code"] == "dose-held"
    assert answer["follow_up"]["state"] == "open"
    assert answer["follow_up"]["awaiting_prescriber_since"] == "2030-01-16T02:05:00Z"
    assert answer["follow_up"]["comes_back"] == "2030-01-16T03:05:00Z"  # the 14:00 dose is later

    night = critical(view(running))
    assert night["awaiting_prescriber_since"] == "2030-01-16T02:05:00Z"
    assert night["alert"]["follow_up"]["state"] == "open"  # in the signed claims too
    assert night["alert"]["dose"]["id"] == second  # bound to the next dose of clarithromycin
    assert verify_with_cryptography(night["jws"], running.service.jwks())["follow_up"]["state"] == "open"
    version = night["alert"]["version"]

    # 03:10, unanswered: the timer brought it back to the top, a new signed version.
    assert "follow-up:" + answer["follow_up"]["id"] in running.service.planned
    clock.now = at(3, 10)
    running.run(running.service.tick())
    back = view(running)
    assert back["alerts"][0]["id"] == alert["id"] and back["alerts"][0]["back_on_top"] is True
    assert back["alerts"][0]["alert"]["version"] > version
    assert back["alerts"][0]["alert"]["follow_up"]["raised"] == 1

    # 07:30, the day shift: the follow-up, the night's acknowledgement and the held dose are all shown.
    clock.now = at(7, 30)
    running.run(running.service.tick())
    day = view(running, "Dana Day")
    shown = critical(day)
    assert day["shift"]["name"] == "day"
    assert shown["awaiting_prescriber_since"] == "2030-01-16T02:05:00Z"
    assert shown["follow_ups"][0]["opened_by"] == "Nico Night" and shown["follow_ups"][0]["raised"] >= 2
    assert shown["acknowledgements"][0]["earlier_shift"] is True
    with running.client(running.token(WARD, "Dana Day")) as client:
        doses = {d["id"]: d for d in client.get(f"/wards/{WARD}/schedule").json()["administrations"]}
    assert doses[first]["outcome"]["status"] == "held" and doses[first]["outcome"]["nurse"] == "Nico Night"

    # 08:00: the prescriber answers; the follow-up closes with who and when.
    clock.now = at(8)
    with running.client(running.token(WARD, "Dana Day")) as client:
        wrong = client.post(f"/alerts/{alert['id']}/prescriber-answer", json={"resolution": "maybe"})
        answer_body = {
            "resolution": "order-changed",
            "prescriber": "Dr Lee",
            "comment": "switched to azithromycin",
        }
        keyed = {"Idempotency-Key": "answer-1"}
        closed = client.post(f"/alerts/{alert['id']}/prescriber-answer", json=answer_body, headers=keyed)
        replayed = client.post(f"/alerts/{alert['id']}/prescriber-answer", json=answer_body, headers=keyed)
        none_left = client.post(f"/alerts/{alert['id']}/prescriber-answer", json={"resolution": "give"})
    assert wrong.status_code == 400 and "'resolution' must be one of give, order-changed" in wrong.text
    assert closed.status_code == 200, closed.text
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.content == closed.content
    assert closed.json()["resolution"] == {"code": "order-changed", "display": "Prescriber changed the order"}
    assert closed.json()["closed_by"] == "Dana Day" and closed.json()["closed_at"] == "2030-01-16T08:00:00Z"
    assert none_left.status_code == 409
    after = critical(view(running))
    assert after["awaiting_prescriber_since"] is None and after["back_on_top"] is False
    assert after["alert"]["follow_up"]["resolution"] == "order-changed"
    assert "follow-up:" + answer["follow_up"]["id"] not in running.service.planned


def test_holding_the_last_dose_does_not_hide_the_alert(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admitted(running, patient, clock)
    [only] = plan(running, admission, at(2))
    clock.now = at(1)
    alert = critical(view(running))
    with running.client(running.token(WARD, "Nico Night")) as client:
        assert client.post(f"/alerts/{alert['id']}/hold", json={}).status_code == 201
    clock.now = at(7, 30)  # the next shift: the finding is gone with the dose, the alert is not
    running.run(running.service.tick())
    kept = [a for a in view(running, "Dana Day")["alerts"] if a["id"] == alert["id"]]
    assert kept and kept[0]["alert"]["dose"]["id"] == only
    assert kept[0]["follow_ups"][0]["state"] == "open"


def test_a_dose_under_a_critical_alert_is_not_given_without_a_coded_reason_and_a_name(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admitted(running, patient, clock)
    [dose] = plan(running, admission, at(2))
    clock.now = at(2)
    alert = critical(view(running))
    path = f"/wards/{WARD}/schedule/{dose}/outcome"
    with running.client(running.token(WARD, "Nico Night")) as client:
        bare = client.post(path, json={"status": "given"})
        no_name = client.post(path, json={"status": "given", "override": {"code": "monitoring-in-place"}})
        other = client.post(
            path, json={"status": "given", "override": {"code": "other", "nurse": "Nico Night"}}
        )
        unknown = client.post(path, json={"status": "given", "override": {"code": "felt-ok", "nurse": "N"}})
        given = client.post(
            path,
            json={
                "status": "given",
                "override": {"code": "prescriber-confirmed", "nurse": "Nico Night", "text": "Dr Lee, 01:50"},
            },
        )
    for refused, missing in (
        (bare, "'override' is missing"),
        (no_name, "'override.nurse' is missing"),
        (other, "'override.text' is missing"),
        (unknown, "'override.code' 'felt-ok' is not one of"),
    ):
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "reason-required"
        assert (
            missing in refused.json()["error"]["message"]
            and "clarithromycin" in refused.json()["error"]["message"]
        )
    assert given.status_code == 200, given.text
    assert given.json()["overrides"][0]["reason"]["display"] == "Prescriber confirmed the order"

    # The next shift sees it on the alert; the audit has it.
    clock.now = at(7, 30)
    running.run(running.service.tick())
    shown = [a for a in view(running, "Dana Day")["alerts"] if a["id"] == alert["id"]]
    assert shown, "the alert stays for the day shift while the given dose is recent"
    [override] = shown[0]["overrides"]
    assert override["nurse"] == "Nico Night" and override["earlier_shift"] is True
    assert override["text"] == "Dr Lee, 01:50" and override["shift"] == "night"
    with reading(running.settings.db_path) as db:
        actions = [
            r[0] for r in db.execute("SELECT action FROM audit WHERE action = 'give-under-critical-alert'")
        ]
    assert actions == ["give-under-critical-alert"]


def test_held_or_refused_needs_no_override_and_lower_tiers_acknowledge_in_one_step(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admitted(running, patient, clock)
    [dose] = plan(running, admission, at(2))
    [minor_dose] = plan(running, admission, at(3), drug="ibuprofen")  # no critical alert bound to it
    clock.now = at(2)
    with running.client(running.token(WARD, "Nico Night")) as client:
        assert (
            client.post(f"/wards/{WARD}/schedule/{dose}/outcome", json={"status": "refused"}).status_code
            == 200
        )
        plain = client.post(f"/wards/{WARD}/schedule/{minor_dose}/outcome", json={"status": "given"})
        lower = [a for a in view(running)["alerts"] if a["alert"]["severity"] in ("moderate", "minor")]
        if lower:
            ack = client.post(f"/alerts/{lower[0]['id']}/acknowledgements", json={})
            assert ack.status_code == 201 and ack.json()["reason"]["code"] == "seen"
    assert plain.status_code == 200, plain.text
    assert "overrides" not in plain.json()


def test_a_follow_up_comes_back_at_the_next_dose_when_that_is_sooner(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admitted(running, patient, clock)
    plan(running, admission, at(2), at(2, 45))
    clock.now = at(2)
    alert = critical(view(running))
    with running.client(running.token(WARD, "Nico Night")) as client:
        held = client.post(f"/alerts/{alert['id']}/hold", json={})
    assert held.json()["follow_up"]["comes_back"] == "2030-01-16T02:00:00Z"  # the 02:45 dose's lead time


def test_purge_removes_follow_ups_and_overrides(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    admission = admitted(running, patient, clock)
    plan(running, admission, at(2), at(14))
    clock.now = at(2)
    alert = critical(view(running))
    with running.client(running.token(WARD, "Nico Night")) as client:
        assert client.post(f"/alerts/{alert['id']}/hold", json={"prescriber": "Dr Lee"}).status_code == 201
    clock.now = at(-10) + timedelta(hours=49)  # the 48-hour grant has expired
    running.run(running.service.tick())
    with reading(running.settings.db_path) as db:
        counts = {
            t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("follow_ups", "given_overrides")
        }
    assert counts == {"follow_ups": 0, "given_overrides": 0}
    raw = b"".join(p.read_bytes() for p in Path(running.settings.db_path).parent.glob("service.db*"))
    assert b"Dr Lee" not in raw
