"""Timing chaos against the real service: a revocation at 03:00 with 50 open streams; a stop at 06:50 and
a restart at 07:10 with doses due at 07:00; a 2 s stall of the event loop as a reminder falls due; the
clock stepped 5 minutes forward and back. No dose is lost or doubled, nothing outlives the grant.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alertsvc.access import issue_staff_token
from alertsvc.alerts import store as alert_store
from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.schedule_desk import add_schedule
from alertsvc.service import Service
from tests.chaos.load import Clients
from tests.postgres import open_reader
from tests.web.conftest import PatientCLI, RunningService
from tests.web.test_admissions import InProcessPatient, admit, drug_names_in, make_update, post_update

WARD = "ward-a"  # test_admissions' ward
DOSES = ("ibuprofen", "qqzx unknown tonic", "paracetamol")
"""07:00 doses: one the patient flagged (a critical alert bound to it), one that cannot be checked (an
unchecked alert bound to it), one with nothing to say (no alert)."""


# -- a revocation at 03:00 with 50 streams open -------------------------------------------------------


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


def test_a_revocation_at_0300_reaches_50_open_streams_and_leaves_nothing_behind(
    running: RunningService, patient: PatientCLI
) -> None:
    running.clock.now = datetime(2030, 1, 16, 1, 0, tzinfo=UTC)
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("flag-reaction", "ibuprofen", "--reaction", "wheeze")
    admitted = admit(running, patient, ward=WARD, hours=48)
    admission = admitted["admission"]
    nurse = running.token(WARD, "Nico Nurse")
    with running.client(nurse) as client:
        due = (running.clock.now + timedelta(hours=5)).isoformat()
        body = {"administrations": [{"admission": admission, "drug": "ibuprofen", "due": due}]}
        assert client.post(f"/wards/{WARD}/schedule", json=body).status_code == 201
    assert any(job.endswith(admission) for job in running.service.planned)

    ids = _ids_of(running.settings.db_path, admission)
    assert len(ids) >= 3  # the admission, its dose, its alerts
    running.clock.now = datetime(2030, 1, 16, 3, 0, tzinfo=UTC)
    patient.ledger_cmd("revoke", "grant.json")
    revocation = make_update(patient, admitted["head"], out="revocation.json")
    streams = Clients(running, WARD, nurse, 50)
    try:
        revoked_at = time.monotonic()
        response = post_update(running, admission, revocation)
        assert response.status_code == 200 and response.json()["status"] == "ended", response.text
        count, last = streams.wait_for("withdrawn", 5)
    finally:
        streams.close()
    assert count == 50, f"{count} of 50 streams had the withdrawn event"
    assert last - revoked_at < 5, f"the last stream had it {last - revoked_at:.2f} s after the revocation"
    print(f"50 streams had the withdrawn event within {last - revoked_at:.2f} s")

    again = post_update(running, admission, revocation)
    assert again.status_code == 409, again.text  # reads and writes of the ended admission are refused
    with running.client(nurse) as client:
        body = {"administrations": [{"admission": admission, "drug": "ibuprofen", "due": due}]}
        assert client.post(f"/wards/{WARD}/schedule", json=body).status_code == 404
        assert client.get(f"/wards/{WARD}/alerts").json()["alerts"] == []
    assert not [job for job in running.service.planned if any(i in job for i in ids)]
    assert drug_names_in(running.settings.db_path, ("warfarin", "ibuprofen", "wheeze")) == []


def _ids_of(db_path: Path, admission: str) -> set[str]:
    """The admission's id and the ids of its alerts and doses (what a timer id may name)."""
    connection = open_reader(db_path)
    try:
        alerts = {r[0] for r in connection.execute("SELECT id FROM alerts WHERE admission = ?", [admission])}
        doses = {r[0] for r in connection.execute("SELECT id FROM doses WHERE admission = ?", [admission])}
    finally:
        connection.close()
    return {admission, *alerts, *doses}


# -- the service on its own loop, for restarts, stalls and clock steps --------------------------------


@dataclass
class Clock:
    """The wall clock (or a fixed start) plus an offset the test steps."""

    start: datetime | None = None
    offset: timedelta = timedelta(0)
    began: float = field(default_factory=time.monotonic)

    def __call__(self) -> datetime:
        base = (
            self.start + timedelta(seconds=time.monotonic() - self.began) if self.start else datetime.now(UTC)
        )
        return base + self.offset


def settings_in(directory: Path, **changes: Any) -> Settings:
    return Settings(
        db_path=directory / "s.db", service_key=directory / "s.key", wards=f"{WARD}=Europe/London", **changes
    )


async def admit_with_doses(service: Service, directory: Path, due: datetime) -> str:
    """A patient who flagged ibuprofen, admitted, with the DOSES due at ``due``; the admission id."""
    now = service.clock()
    patient = Identity.generate()
    with Ledger.init(directory / "p.ledger", patient, now=now) as ledger:
        grant = grants.new_grant(
            patient, grantee=service.identity.public_id, scope=("medications", "reactions"),
            not_before=now - timedelta(minutes=1), hours=30, now=now,
        )  # fmt: skip
        ledger.append([actions.flagged_reaction(patient, "ibuprofen", reaction="rash", now=now), grant],
                      patient=patient, now=now)  # fmt: skip
        slice_value = loads(make_slice(ledger.read(), grant.id, now=now), what="slice")

    def staff(role: Any) -> Any:
        return service.staff(
            issue_staff_token(service.identity, ward=WARD, name=f"{role}-1", role=role, now=now, hours=24)
        )

    admitted = await service.admit({"slice": slice_value, "ward": WARD, "bed": "1"}, staff("admission"))
    items = [{"admission": admitted["admission"], "drug": d, "due": due.isoformat()} for d in DOSES]
    await add_schedule(service, WARD, {"administrations": items}, staff("nurse"))
    return str(admitted["admission"])


def reminded(raised: dict[str, list[int]]) -> dict[str, int]:
    """How often each dose-bound alert was raised again after it was bound to its dose (its versions
    with a dose are consecutive: the binding, then one per reminder)."""
    for alert, versions in raised.items():
        assert versions == list(range(versions[0], versions[0] + len(versions))), (alert, versions)
    return {alert: len(versions) - 1 for alert, versions in raised.items()}


def reminders(service: Service) -> dict[str, list[int]]:
    """Per dose-bound alert: the versions raised with its dose (one 'alert' event each), from the outbox."""
    raised: dict[str, list[int]] = {}
    for event in alert_store.events_since(service.db, WARD, 0):
        if event.type == "alert":
            data = loads(event.data, what="event")
            claims = loads(_payload(data["jws"]), what="claims")
            if claims["dose"] is not None:
                raised.setdefault(claims["id"], []).append(claims["version"])
    return raised


def _payload(token: str) -> bytes:
    import base64

    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# -- stop at 06:50, restart at 07:10, doses due at 07:00 ----------------------------------------------


@pytest.mark.parametrize("lead_minutes", [5, 60], ids=["reminders-fall-in-the-gap", "reminders-before-stop"])
def test_a_stop_at_0650_and_restart_at_0710_raises_each_missed_reminder_once(
    tmp_path: Path, lead_minutes: int
) -> None:
    day = datetime(2030, 1, 16, tzinfo=UTC)  # London in winter: UTC
    settings = settings_in(tmp_path, lead_time_minutes=lead_minutes)

    async def before_stop() -> dict[str, list[int]]:
        service = Service(settings, clock=Clock(start=day.replace(hour=5, minute=30)))
        await service.start()
        try:
            await admit_with_doses(service, tmp_path, day.replace(hour=7))
            service.clock = Clock(start=day.replace(hour=6, minute=50))
            await service.tick()  # what the timers would have done by 06:50
            return reminders(service)
        finally:
            await service.stop()

    async def after_restart(at: datetime) -> dict[str, list[int]]:
        service = Service(settings, clock=Clock(start=at))
        await service.start()  # start-up carries out what fell due while down
        try:
            await service.tick()
            return reminders(service)
        finally:
            await service.stop()

    raised_before = asyncio.run(before_stop())
    raised_after = asyncio.run(after_restart(day.replace(hour=7, minute=10)))
    raised_later = asyncio.run(after_restart(day.replace(hour=7, minute=15)))
    assert len(raised_after) == 2, raised_after  # the flagged drug's and the unchecked drug's doses
    assert set(reminded(raised_after).values()) == {1}, raised_after  # one reminder each, never two
    # Reminded before the stop (lead 60 min: at 06:00), or in the gap (lead 5: 06:55) and so at restart.
    assert set(reminded(raised_before).values()) == ({1} if lead_minutes == 60 else {0}), raised_before
    assert raised_later == raised_after


# -- a 2 s stall of the event loop, and the clock stepped 5 minutes --------------------------------------


def test_a_2s_event_loop_stall_as_reminders_fall_due_loses_and_doubles_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> dict[str, list[int]]:
        service = Service(settings_in(tmp_path, lead_time_minutes=1), clock=Clock())
        await service.start()
        try:
            due = datetime.now(UTC) + timedelta(minutes=1, seconds=2)  # reminders due in 2 s
            await admit_with_doses(service, tmp_path, due)
            await asyncio.sleep(1)
            time.sleep(2)  # the loop stalls across the reminders' time: APScheduler fires them late
            await asyncio.sleep(2)
            return reminders(service)
        finally:
            await service.stop()

    with caplog.at_level(logging.ERROR, logger="alertsvc.schedule.runner"):
        raised = asyncio.run(scenario())
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # nothing MISSED or failed
    assert len(raised) == 2 and set(reminded(raised).values()) == {1}, raised


@pytest.mark.parametrize("step", [timedelta(minutes=5), timedelta(minutes=-5)], ids=["forward", "back"])
def test_the_clock_stepped_5_minutes_loses_and_doubles_no_reminder(tmp_path: Path, step: timedelta) -> None:
    start = datetime(2030, 1, 16, 6, 50, tzinfo=UTC)

    async def scenario() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        clock = Clock(start=start)
        service = Service(settings_in(tmp_path, lead_time_minutes=5), clock=clock)
        await service.start()
        try:
            await admit_with_doses(service, tmp_path, start + timedelta(minutes=10))  # due 07:00
            clock.offset = step  # 06:55 (reminders due) or 06:45
            await service.tick()
            stepped = reminders(service)
            clock.offset = timedelta(0)
            await service.tick()
            clock.offset = timedelta(minutes=6)  # 06:56: every reminder due
            await service.tick()
            clock.offset = step
            await service.tick()
            return stepped, reminders(service)
        finally:
            await service.stop()

    stepped, final = asyncio.run(scenario())
    assert set(reminded(stepped).values()) == ({1} if step > timedelta(0) else {0}), stepped
    assert len(final) == 2 and set(reminded(final).values()) == {1}, final
