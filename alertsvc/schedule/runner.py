"""A thin timer runner over APScheduler 3.x's AsyncIOScheduler.

The database, not the scheduler, is the truth: the service computes every instant itself (dose slots,
shift changes, grant expiries, with the pure code in this package) and asks for one date-triggered job
per instant; at start-up it rebuilds the jobs from the database. The scheduler never computes a
recurrence (its cron trigger fires 01:30 twice on an autumn change day) and never drops a late job: each
job has ``misfire_grace_time=None`` (run however late), ``coalesce=True``, a ``when`` already in the past
runs at once, and errors and missed or skipped runs are logged at ERROR level.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from alertsvc.errors import ScheduleError

logger = logging.getLogger(__name__)

TimerFunc = Callable[[], Awaitable[None]]
MAX_INSTANCES = 64
"""Overlapping runs allowed per job id, so a job re-armed while its previous run is still going is not
skipped (APScheduler skips a run when max_instances is reached)."""


async def _invoke(runner: TimerRunner, func: TimerFunc) -> None:
    """Await the timer's function on the event loop (APScheduler runs coroutine functions there), known
    to ``runner`` while it runs so that ``shutdown`` can cut it short (its transaction rolls back and the
    database, the only truth, has it done again at the next start)."""
    task = asyncio.current_task()
    if task is not None:
        runner._running.add(task)
    try:
        await func()
    except asyncio.CancelledError:
        if runner.running:
            raise
        # cut short by shutdown: nothing was committed, nothing to report
    finally:
        if task is not None:
            runner._running.discard(task)


class TimerRunner:
    """One-shot timers by id on the running asyncio event loop.

    Call :meth:`start` inside the running loop (e.g. the web app's lifespan) and :meth:`shutdown` on the
    way out. Timers set before :meth:`start` are kept and armed when it runs.
    """

    def __init__(self, *, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset
        """How far the service's clock runs ahead of the real one (``clock.ShiftedClock``): times given
        and listed are the service's, APScheduler is asked for the real ones."""
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_listener(
            self._on_trouble, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        self._pending: dict[str, tuple[datetime, TimerFunc]] = {}
        self._running: set[asyncio.Task[Any]] = set()

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        """Start firing timers; must be called with the event loop running."""
        self._scheduler.start()
        pending, self._pending = self._pending, {}
        for job_id, (when, func) in pending.items():
            self._add(job_id, when, func)

    def shutdown(self) -> None:
        """Stop firing timers and cut short the runs in progress (timers not yet run are dropped: rebuild
        them from the database); ``finished`` waits for the runs cut short."""
        if self.running:
            self._scheduler.shutdown(wait=False)
        for task in list(self._running):
            task.cancel()

    async def finished(self) -> None:
        """Wait until no timer's run is in progress (after ``shutdown``: until those cut short ended)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def at(self, job_id: str, when: datetime, func: TimerFunc) -> None:
        """Run ``func`` at ``when`` (aware), replacing any timer with that id; a past time runs at once."""
        if when.tzinfo is None or when.utcoffset() is None:
            raise ScheduleError(f"timer {job_id!r}: time must be aware, not naive {when.isoformat()}")
        when = when.astimezone(UTC)
        if self.running:
            self._add(job_id, when, func)
        else:
            self._pending[job_id] = (when, func)

    def cancel(self, job_id: str) -> bool:
        """Cancel the timer with that id; False if there was none (already run, or never set)."""
        if self._pending.pop(job_id, None) is not None:
            return True
        try:
            self._scheduler.remove_job(job_id)
        except JobLookupError:
            return False
        return True

    def cancel_all(self) -> None:
        """Cancel every timer not yet run (a process that no longer fires timers: ``alertsvc.cluster``)."""
        for job_id, _ in self.jobs():
            self.cancel(job_id)

    def jobs(self) -> list[tuple[str, datetime]]:
        """The timers not yet run, as (id, aware UTC time), in time order."""
        if not self.running:
            listed = [(job_id, when) for job_id, (when, _) in self._pending.items()]
        else:
            listed = [
                (job.id, job.next_run_time.astimezone(UTC) + self.offset)
                for job in self._scheduler.get_jobs()
            ]
        return sorted(listed, key=lambda item: (item[1], item[0]))

    def _add(self, job_id: str, when: datetime, func: TimerFunc) -> None:
        self._scheduler.add_job(
            _invoke,
            trigger=DateTrigger(run_date=when - self.offset, timezone=UTC),
            args=[self, func],
            id=job_id,
            name=job_id,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=MAX_INSTANCES,
        )

    @staticmethod
    def _on_trouble(event: Any) -> None:
        if isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_ERROR:
            logger.error(
                "timer %s (due %s) failed: %r",
                event.job_id,
                event.scheduled_run_time,
                event.exception,
                exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
            )
        elif isinstance(event, JobExecutionEvent):
            logger.error(
                "timer %s (due %s) was MISSED and did not run", event.job_id, event.scheduled_run_time
            )
        elif isinstance(event, JobSubmissionEvent):
            logger.error(
                "timer %s (due %s) was SKIPPED: too many runs at once",
                event.job_id,
                event.scheduled_run_times,
            )
        else:  # pragma: no cover - APScheduler sends only the events asked for
            logger.error("timer event %r", event)
