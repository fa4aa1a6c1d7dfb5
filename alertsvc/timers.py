"""Which wake-ups the service needs, computed from the database; and what a shift change announces.

The database, not the scheduler, is the truth: after every change (and at start-up) the service asks
``wanted`` for the instant of every expiry, dose reminder, dose due, dose overdue (due + grace), shift
change, owed WAL checkpoint, Idempotency-Key expiry and ledger read, and arms one date-triggered timer per
entry (``alertsvc.schedule.runner``). A timer only wakes the service up; ``Service.tick`` then does
whatever is due by its clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from alertsvc import admissions as adm
from alertsvc import alert_actions, idempotency, ledger_reader
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.hub import Event
from alertsvc.clock import iso
from alertsvc.schedule.overdue import overdue_at
from alertsvc.schedule.shifts import Ward, shift_at
from alertsvc.store import Database

if TYPE_CHECKING:
    from alertsvc.service import Service

CHECKPOINT_RETRY = timedelta(seconds=30)


def wanted(service: Service, now: datetime) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(timers that run ``tick``, timers that read patients' ledgers), by job id."""
    db = service.db
    ticks: dict[str, datetime] = {}
    polls: dict[str, datetime] = {}
    for admission in adm.active_admissions(db):
        ticks[f"expiry:{admission.id}"] = admission.expires_at
        if admission.ledger_url:
            polls[f"poll:{admission.id}"] = ledger_reader.next_poll(service, admission, now)
    for alert in alert_store.dose_reminders(db):
        if alert.reminded_dose != alert.dose:
            ticks[f"dose:{alert.alert}"] = max(now, alert.due - service.lead)
    for dose in adm.doses(db):
        if dose.outcome is None and dose.due > now:
            ticks[f"due:{dose.id}"] = dose.due
        if dose.outcome is None and overdue_at(dose, service.overdue_grace) > now:
            ticks[f"overdue:{dose.id}"] = overdue_at(dose, service.overdue_grace)
    for ward in adm.all_wards(db):
        ticks[f"shift:{ward.id}"] = shift_at(ward, now).end
    ticks.update(alert_actions.wake_ups(db, now))  # follow-ups coming back to the top, or let go
    if service.checkpoint_owed:
        ticks["checkpoint"] = now + CHECKPOINT_RETRY
    expiry = idempotency.next_expiry(db)
    if expiry is not None:
        ticks["idempotency-keys"] = max(now, expiry)
    return ticks, polls


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
