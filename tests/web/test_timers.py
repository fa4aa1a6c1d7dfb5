"""Timers are wake-ups rebuilt from the database: after a restart the same timers exist, computed from the
stored admissions, alerts, doses and wards (the database, not the scheduler, is the truth)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from alertsvc.timers import PLAN_AHEAD, SWEEP_EVERY

NOW = datetime(2030, 1, 15, 13, 0, tzinfo=UTC)
WARD = "ward-3"


def _settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "s.db", service_key=tmp_path / "s.key", wards=f"{WARD}=Europe/London")


async def _admit_with_a_dose(
    service: Service, tmp_path: Path, *, due_in: timedelta = timedelta(hours=13), bed: str = "1"
) -> tuple[str, str]:
    patient = Identity.generate()
    with Ledger.init(tmp_path / f"p{bed}.ledger", patient, now=NOW) as ledger:
        grant = grants.new_grant(
            patient, grantee=service.identity.public_id, scope=("medications", "reactions"),
            not_before=NOW, hours=30, now=NOW,
        )  # fmt: skip
        flag = actions.flagged_reaction(patient, "ibuprofen", reaction="rash", now=NOW)
        ledger.append([flag, grant], patient=patient, now=NOW)
        slice_value = loads(make_slice(ledger.read(), grant.id, now=NOW), what="slice")
    admission = service.staff(
        issue_staff_token(service.identity, ward=WARD, name="a", role="admission", now=NOW, hours=1)
    )
    nurse = service.staff(
        issue_staff_token(service.identity, ward=WARD, name="n", role="nurse", now=NOW, hours=1)
    )
    admitted = await service.admit({"slice": slice_value, "ward": WARD, "bed": bed}, admission)
    due = (NOW + due_in).isoformat()
    planned = await add_schedule(
        service,
        WARD,
        {"administrations": [{"admission": admitted["admission"], "drug": "ibuprofen", "due": due}]},
        nurse,
    )
    return str(admitted["admission"]), str(planned["administrations"][0]["id"])


def test_timers_are_rebuilt_from_the_database_after_a_restart(tmp_path: Path) -> None:
    async def first_run() -> tuple[str, str, str, dict[str, datetime]]:
        service = Service(_settings(tmp_path), clock=lambda: NOW)
        await service.start()
        try:
            admission, dose = await _admit_with_a_dose(service, tmp_path, due_in=timedelta(minutes=90))
            _, far = await _admit_with_a_dose(service, tmp_path, due_in=timedelta(hours=13), bed="2")
            armed = dict(service.runner.jobs())  # one tick, at the earliest instant planned
            assert armed == {"tick": min(service.planned.values())}, armed
            return admission, dose, far, dict(service.planned)
        finally:
            await service.stop()

    async def run_at(moment: datetime) -> dict[str, datetime]:
        service = Service(_settings(tmp_path), clock=lambda: moment)
        await service.start()
        try:
            return dict(service.planned)
        finally:
            await service.stop()

    admission, dose, far, before = asyncio.run(first_run())
    after = asyncio.run(run_at(NOW + timedelta(minutes=5)))
    assert asyncio.run(run_at(NOW + timedelta(hours=12)))[f"due:{far}"] == NOW + timedelta(hours=13)
    assert before[f"expiry:{admission}"] == NOW + timedelta(hours=30)
    assert before[f"due:{dose}"] == NOW + timedelta(minutes=90)
    assert before[f"shift:{WARD}"] == datetime(2030, 1, 15, 15, 0, tzinfo=UTC)  # the evening shift starts
    [reminder] = [job for job in before if job.startswith("dose:")]
    assert before[reminder] == NOW + timedelta(minutes=30)  # an hour before the dose is due
    # The other patient's dose is 13 h away: planned when it comes within PLAN_AHEAD.
    assert f"due:{far}" not in before
    assert before.pop("plan") == NOW + PLAN_AHEAD
    assert after.pop("plan") == NOW + timedelta(minutes=5) + PLAN_AHEAD
    assert before.pop("sweep") == NOW + SWEEP_EVERY  # every admission re-checked again, from start-up
    assert after.pop("sweep") == NOW + timedelta(minutes=5) + SWEEP_EVERY
    assert after == before


def test_a_tick_rechecks_only_the_admissions_something_fell_due_for(tmp_path: Path) -> None:
    """Between sweeps, a tick re-checks the admissions with a dose due or overdue since the last tick,
    not the whole hospital; every SWEEP_EVERY it re-checks everyone."""
    clock = [NOW]
    settings = Settings(
        db_path=tmp_path / "s.db", service_key=tmp_path / "s.key", wards=f"{WARD}=Europe/London",
        overdue_grace_minutes=3,
    )  # fmt: skip

    async def run() -> None:
        service = Service(settings, clock=lambda: clock[0])
        await service.start()
        try:
            assert service.last_tick is not None and service.last_tick.sweep  # start-up checks everyone
            soon, dose = await _admit_with_a_dose(service, tmp_path, due_in=timedelta(minutes=5), bed="1")
            later, _ = await _admit_with_a_dose(service, tmp_path, due_in=timedelta(hours=13), bed="2")
            ticks = []
            for minutes in (5, 6, 8.5, 15):
                clock[0] = NOW + timedelta(minutes=minutes)
                await service.tick()
                assert service.last_tick is not None
                ticks.append((service.last_tick.sweep, service.last_tick.rechecked))
            assert ticks == [
                (False, {soon}),  # its dose fell due
                (False, set()),  # nothing fell due
                (False, {soon}),  # its dose is overdue
                (True, {soon, later}),  # the sweep, SWEEP_EVERY after start-up
            ]
            alerts = alert_store.active_alerts(service.db, ward=WARD)
            [overdue] = [a for a in alerts if a.claims["kind"] == "overdue"]
            assert overdue.admission == soon and overdue.dose == dose
        finally:
            await service.stop()

    asyncio.run(run())
