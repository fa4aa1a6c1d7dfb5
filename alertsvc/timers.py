"""Which wake-ups the service needs, computed from the database; and what a shift change announces.

The database, not the scheduler, is the truth: after every change (and at start-up) the service asks
``wanted`` for the instant of every expiry, dose reminder, dose due, dose overdue (due + grace), shift
change, owed WAL checkpoint, Idempotency-Key expiry and ledger read, and arms one date-triggered timer per
entry (``alertsvc.schedule.runner``). A timer only wakes the service up; ``Service.tick`` then does
whatever is due by its clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from alertsvc import admissions as adm
from alertsvc import idempotency
from alertsvc.admissions import Admission
from alertsvc.alerts import follow_up_store
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.hub import Event
from alertsvc.clock import iso
from alertsvc.config import Settings
from alertsvc.schedule.overdue import overdue_at
from alertsvc.schedule.shifts import Ward, shift_at
from alertsvc.store import Database

CHECKPOINT_RETRY = timedelta(seconds=30)


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


def wanted(inputs: TimerInputs, now: datetime) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(timers that run ``tick``, timers that read patients' ledgers), by job id."""
    db = inputs.db
    ticks: dict[str, datetime] = {}
    polls: dict[str, datetime] = {}
    poll_every = timedelta(seconds=inputs.settings.ledger_poll_seconds)
    for admission in adm.active_admissions(db):
        ticks[f"expiry:{admission.id}"] = admission.expires_at
        if admission.ledger_url:
            polls[f"poll:{admission.id}"] = next_poll(inputs.next_polls, poll_every, admission, now)
    for alert in alert_store.dose_reminders(db):
        if alert.reminded_dose != alert.dose:
            ticks[f"dose:{alert.alert}"] = max(now, alert.due - inputs.lead)
    for dose in adm.doses(db):
        if dose.outcome is None and dose.due > now:
            ticks[f"due:{dose.id}"] = dose.due
        if dose.outcome is None and overdue_at(dose, inputs.overdue_grace) > now:
            ticks[f"overdue:{dose.id}"] = overdue_at(dose, inputs.overdue_grace)
    for ward in adm.all_wards(db):
        ticks[f"shift:{ward.id}"] = shift_at(ward, now).end
    ticks.update(follow_up_store.wake_ups(db, now))  # follow-ups coming back to the top, or let go
    if inputs.checkpoint_owed:
        ticks["checkpoint"] = now + CHECKPOINT_RETRY
    expiry = idempotency.next_expiry(db)
    if expiry is not None:
        ticks["idempotency-keys"] = max(now, expiry)
    return ticks, polls


def next_poll(
    next_polls: Mapping[str, datetime], poll_every: timedelta, admission: Admission, now: datetime
) -> datetime:
    """When to read this admission's ledger next (never after its grant ends)."""
    return min(next_polls.get(admission.id) or now + poll_every, admission.expires_at)


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
