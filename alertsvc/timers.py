"""Which wake-ups the service needs, computed from the database; and what a shift change announces.

The database, not the scheduler, is the truth: after every change (and at start-up) the service asks
``wanted`` for the instant of every expiry, dose reminder, dose due, dose overdue (due + grace), shift
change, owed WAL checkpoint, Idempotency-Key expiry, full sweep and ledger read. It arms one
date-triggered timer (``alertsvc.schedule.runner``) at the earliest of the instants that call for a tick
(``earliest``), and one per linked admission's ledger read. A timer only wakes the service up;
``alertsvc.ticking`` then does whatever is due by its clock. ``wanted`` reads times only (no sealed value is
opened), from indexed columns, and each dose's instants only ``PLAN_AHEAD`` ahead: a ``plan`` tick at the
end of that stretch (or any change or tick before it) plans the next.

A tick re-checks only the admissions something fell due for since the last tick (``falling_due``: a dose
due, overdue or to be reminded of); every ``SWEEP_EVERY`` it re-checks every active admission, for what
changes with time without an instant of its own (a dose given more than a day ago leaving the check, a lab
value growing stale), and after any doubt (start-up, gaining the timer lease).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from alertsvc import admissions as adm
from alertsvc import idempotency
from alertsvc.alerts import follow_up_store
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.hub import Event
from alertsvc.clock import iso
from alertsvc.config import Settings
from alertsvc.schedule.shifts import Ward, shift_at
from alertsvc.store import Database

CHECKPOINT_RETRY = timedelta(seconds=30)
SWEEP_EVERY = timedelta(minutes=15)
"""How often a tick re-checks every active admission, not only those something fell due for."""
PLAN_AHEAD = timedelta(hours=2)
"""How far ahead each dose's instants (due, overdue, its alert's reminder) are planned. Planning every
pending dose of a 1,000-bed hospital (~100,000 a day) after every change held the event loop ~0.5 s."""


class TimerInputs(Protocol):
    """What the wake-ups are computed from, besides the database's rows: read, never called back."""

    @property
    def db(self) -> Database: ...

    @property
    def checkpoint_owed(self) -> bool: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def lead(self) -> timedelta:
        """A dose reminder comes this long before the dose."""

    @property
    def overdue_grace(self) -> timedelta:
        """A dose is overdue this long after it was due."""

    @property
    def next_polls(self) -> Mapping[str, datetime]:
        """Admission id -> when its ledger is read next."""

    @property
    def swept_at(self) -> datetime | None:
        """When a tick last re-checked every active admission (None: not since start-up)."""


def wanted(inputs: TimerInputs, now: datetime) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(timers that run ``tick``, timers that read patients' ledgers), by job id."""
    db = inputs.db
    ticks: dict[str, datetime] = {}
    polls: dict[str, datetime] = {}
    poll_every = timedelta(seconds=inputs.settings.ledger_poll_seconds)
    for admission_id, expires_at, linked in adm.live_admission_times(db):
        ticks[f"expiry:{admission_id}"] = expires_at
        if linked:
            polls[f"poll:{admission_id}"] = min(
                inputs.next_polls.get(admission_id) or now + poll_every, expires_at
            )
    horizon = now + PLAN_AHEAD
    ticks["plan"] = horizon
    for alert in alert_store.dose_reminders(db, until=horizon + inputs.lead):
        if alert.reminded_dose != alert.dose:
            ticks[f"dose:{alert.alert}"] = max(now, alert.due - inputs.lead)
    for dose_id, due in adm.pending_dose_times(db, after=now - inputs.overdue_grace, until=horizon):
        if due > now:
            ticks[f"due:{dose_id}"] = due
        ticks[f"overdue:{dose_id}"] = due + inputs.overdue_grace  # after ``now``: see the query
    for ward in adm.all_wards(db):
        ticks[f"shift:{ward.id}"] = shift_at(ward, now).end
    ticks.update(follow_up_store.wake_ups(db, now))  # follow-ups coming back to the top, or let go
    if inputs.swept_at is not None:
        ticks["sweep"] = max(now, inputs.swept_at + SWEEP_EVERY)
    if inputs.checkpoint_owed:
        ticks["checkpoint"] = now + CHECKPOINT_RETRY
    expiry = idempotency.next_expiry(db)
    if expiry is not None:
        ticks["idempotency-keys"] = max(now, expiry)
    return ticks, polls


def falling_due(inputs: TimerInputs, since: datetime, until: datetime) -> set[str]:
    """The admissions a tick at ``until`` re-checks when the last one was at ``since``: those with a dose
    due, or overdue (due + grace), after ``since`` and by ``until``, or an alert whose dose reminder is
    owed by ``until`` (the instants ``wanted`` plans for them)."""
    grace = inputs.overdue_grace
    found = adm.admissions_with_doses_due(inputs.db, [(since, until), (since - grace, until - grace)])
    found.update(
        alert.admission
        for alert in alert_store.dose_reminders(inputs.db, until=until + inputs.lead)  # owed by ``until``
        if alert.reminded_dose != alert.dose
    )
    return found


def earliest(ticks: Mapping[str, datetime]) -> datetime | None:
    """When the next tick is wanted: ``tick`` does whatever is due by its clock, so one timer at the
    earliest instant stands for all of them (armed again after every tick and every change)."""
    return min(ticks.values(), default=None)


def present_shift(db: Database, ward: Ward, now: datetime) -> list[Event]:
    """A ``shift`` event when the ward's shift has changed since the last one announced (else none).

    It names every active alert, so the incoming shift is shown each of them, acknowledged or not.
    """
    shift = shift_at(ward, now)
    if adm.last_shift_start(db, ward.id) == iso(shift.start):
        return []
    adm.set_last_shift_start(db, ward.id, shift.start)
    active = alert_store.active_alerts(db, ward=ward.id)
    data = {
        "shift": shift.name,
        "start": iso(shift.start),
        "end": iso(shift.end),
        "alerts": [a.id for a in active],
    }
    return [alert_store.append_event(db, ward=ward.id, type="shift", data=data, admission=None, now=now)]
