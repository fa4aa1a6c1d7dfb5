"""The timer runner on a real AsyncIOScheduler and a running event loop: late timers still run."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from alertsvc.clock import ShiftedClock
from alertsvc.errors import ScheduleError
from alertsvc.schedule.runner import TimerRunner

WAIT = 5.0  # generous upper bound for a timer to fire on a busy 2-core machine


def now() -> datetime:
    return datetime.now(UTC)


def recorder(
    fired: dict[str, datetime], name: str, done: asyncio.Event | None = None
) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        fired[name] = now()
        if done is not None:
            done.set()

    return job


def run(scenario: Callable[[TimerRunner], Awaitable[None]]) -> None:
    """Run ``scenario`` with a started runner on a fresh event loop, shutting it down after."""

    async def main() -> None:
        runner = TimerRunner()
        runner.start()
        try:
            await scenario(runner)
        finally:
            runner.shutdown()
            await asyncio.sleep(0.05)  # let the scheduler's shutdown callback run on the loop

    asyncio.run(main())


def test_a_timer_fires_at_its_time() -> None:
    fired: dict[str, datetime] = {}

    async def scenario(runner: TimerRunner) -> None:
        done = asyncio.Event()
        when = now() + timedelta(seconds=0.2)
        runner.at("dose:1", when, recorder(fired, "dose:1", done))
        assert runner.jobs() == [("dose:1", when)]
        await asyncio.wait_for(done.wait(), WAIT)
        assert fired["dose:1"] >= when
        assert runner.jobs() == []  # a one-shot timer is gone once run

    run(scenario)
    assert set(fired) == {"dose:1"}


def test_a_timer_that_fell_due_while_the_loop_was_blocked_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fired: dict[str, datetime] = {}

    async def scenario(runner: TimerRunner) -> None:
        done = asyncio.Event()
        when = now() + timedelta(seconds=0.1)
        runner.at("shift-change", when, recorder(fired, "shift-change", done))
        time.sleep(2)  # block the event loop well past the timer and APScheduler's 1 s default grace
        await asyncio.wait_for(done.wait(), WAIT)
        assert fired["shift-change"] - when >= timedelta(seconds=1.5)

    with caplog.at_level(logging.WARNING):
        run(scenario)
    assert "shift-change" in fired
    assert not [r for r in caplog.records if "missed" in r.getMessage().lower()]


def test_a_time_already_past_runs_at_once() -> None:
    fired: dict[str, datetime] = {}

    async def scenario(runner: TimerRunner) -> None:
        done = asyncio.Event()
        started = now()
        runner.at("expiry", started - timedelta(hours=3), recorder(fired, "expiry", done))
        await asyncio.wait_for(done.wait(), WAIT)
        assert fired["expiry"] - started < timedelta(seconds=WAIT)

    run(scenario)
    assert "expiry" in fired


def test_setting_a_timer_id_again_replaces_it() -> None:
    fired: dict[str, datetime] = {}

    async def scenario(runner: TimerRunner) -> None:
        done = asyncio.Event()
        later = now() + timedelta(hours=1)
        runner.at("dose:7", later, recorder(fired, "first"))
        runner.at("dose:7", later + timedelta(hours=1), recorder(fired, "second"))
        assert runner.jobs() == [("dose:7", later + timedelta(hours=1))]
        runner.at("dose:7", now() + timedelta(seconds=0.1), recorder(fired, "third", done))
        assert len(runner.jobs()) == 1
        await asyncio.wait_for(done.wait(), WAIT)
        await asyncio.sleep(0.3)

    run(scenario)
    assert set(fired) == {"third"}


def test_cancel_and_jobs_in_time_order() -> None:
    fired: dict[str, datetime] = {}

    async def scenario(runner: TimerRunner) -> None:
        base = now() + timedelta(hours=1)
        runner.at("b", base + timedelta(minutes=2), recorder(fired, "b"))
        runner.at("a", base + timedelta(minutes=1), recorder(fired, "a"))
        runner.at("c", base, recorder(fired, "c"))
        assert [job_id for job_id, _ in runner.jobs()] == ["c", "a", "b"]
        assert runner.cancel("a") is True
        assert runner.cancel("a") is False
        assert runner.cancel("never-set") is False
        assert [job_id for job_id, _ in runner.jobs()] == ["c", "b"]

    run(scenario)
    assert fired == {}


def test_timers_set_before_start_are_armed_at_start() -> None:
    fired: dict[str, datetime] = {}

    async def main() -> None:
        runner = TimerRunner()
        done = asyncio.Event()
        soon = now() + timedelta(seconds=0.1)
        runner.at("early", soon, recorder(fired, "early", done))
        runner.at("gone", soon, recorder(fired, "gone"))
        assert runner.cancel("gone") is True
        assert runner.jobs() == [("early", soon)]
        assert not runner.running
        runner.start()
        try:
            await asyncio.wait_for(done.wait(), WAIT)
            await asyncio.sleep(0.2)
        finally:
            runner.shutdown()
            await asyncio.sleep(0.05)

    asyncio.run(main())
    assert set(fired) == {"early"}


def test_a_failing_timer_is_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(runner: TimerRunner) -> None:
        done = asyncio.Event()

        async def broken() -> None:
            done.set()
            raise RuntimeError("database is locked")

        runner.at("purge:adm-1", now(), broken)
        await asyncio.wait_for(done.wait(), WAIT)
        await asyncio.sleep(0.2)

    with caplog.at_level(logging.ERROR, logger="alertsvc.schedule.runner"):
        run(scenario)
    ours = [r for r in caplog.records if r.name == "alertsvc.schedule.runner"]
    assert len(ours) == 1
    assert ours[0].levelno == logging.ERROR
    assert "purge:adm-1" in ours[0].getMessage() and "database is locked" in ours[0].getMessage()


def test_a_naive_time_is_refused() -> None:
    runner = TimerRunner()
    with pytest.raises(ScheduleError, match="naive"):
        runner.at("x", datetime(2026, 6, 1, 8), recorder({}, "x"))


def test_a_missed_run_is_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    """Our timers cannot miss (no grace limit); this adds a job with APScheduler's 1 s default grace
    directly to the runner's scheduler to show that a miss, were it to happen, is logged loudly."""
    ran: list[str] = []

    async def scenario(runner: TimerRunner) -> None:
        async def job() -> None:
            ran.append("job")

        runner._scheduler.add_job(job, "date", run_date=now() + timedelta(seconds=0.1), id="cron-like")
        time.sleep(2)  # block the loop past the 1 s grace
        await asyncio.sleep(0.3)

    with caplog.at_level(logging.ERROR, logger="alertsvc.schedule.runner"):
        run(scenario)
    assert ran == []
    ours = [r for r in caplog.records if r.name == "alertsvc.schedule.runner"]
    assert [r.levelno for r in ours] == [logging.ERROR]
    assert "cron-like" in ours[0].getMessage() and "MISSED" in ours[0].getMessage()


def test_a_runner_on_a_shifted_clock_fires_by_that_clock() -> None:
    """A service whose clock is four years ahead (``clock.ShiftedClock``) arms its timers in its own time:
    a timer 0.2 s ahead of that clock fires 0.2 s from now, and another an hour ahead does not."""
    clock = ShiftedClock.starting_at(datetime(2030, 1, 16, 6, 59, 59, tzinfo=UTC))
    fired: dict[str, datetime] = {}

    async def main() -> None:
        runner = TimerRunner(offset=clock.offset)
        runner.start()
        try:
            done = asyncio.Event()
            soon, later = clock() + timedelta(seconds=0.2), clock() + timedelta(hours=1)
            runner.at("overdue:1", soon, recorder(fired, "overdue:1", done))
            runner.at("overdue:2", later, recorder(fired, "overdue:2"))
            listed = dict(runner.jobs())
            assert abs(listed["overdue:1"] - soon) < timedelta(milliseconds=1), listed
            assert abs(listed["overdue:2"] - later) < timedelta(milliseconds=1), listed
            started = time.monotonic()
            await asyncio.wait_for(done.wait(), WAIT)
            assert 0.1 < time.monotonic() - started < WAIT
            assert [job for job, _ in runner.jobs()] == ["overdue:2"]
        finally:
            runner.shutdown()
            await asyncio.sleep(0.05)

    asyncio.run(main())
    assert set(fired) == {"overdue:1"}
