"""A tick: everything due by the service's clock, as the timers planned it (``alertsvc.timers``).

    purge         admissions whose key went before their rows did (a purge cut short), then those whose
                  grant expired (``ending``), then any owed WAL checkpoint
    shifts        a ``shift`` event for each ward whose shift has changed; Idempotency-Keys past their life
    re-check      the admissions something fell due for since the last tick (``timers.falling_due``), or,
                  on a sweep, every active one: RECHECK_CHUNK admissions per transaction, so requests,
                  streams and the timer lease are served between them. A check is prepared off the
                  loop; one whose patient's slice changed meanwhile is not written but made again
                  (written, it would take back what the change raised: her newly flagged reaction)
    follow-ups    unanswered follow-ups back to the top of the board

A tick at start-up, or on gaining the timer lease, is a sweep: it raises what fell due while nobody was
ticking, once (alerts are deduplicated in the database). So is the first tick ``SWEEP_EVERY`` after the
last sweep. A tick cut short by an error leaves ``checked_until`` where it was: the next one checks the same
admissions again.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from alertsvc import admissions as adm
from alertsvc import alert_actions, ending, idempotency, reconciling, store, timers
from alertsvc.admissions import Admission
from alertsvc.alerts.hub import Event
from alertsvc.errors import Conflict, NotFound
from alertsvc.patient_data import Patient

if TYPE_CHECKING:
    from alertsvc.service import Service

RECHECK_CHUNK = 25
"""Admissions re-checked per write transaction in a tick."""
AGAIN = 3
"""Rounds of checking again the admissions whose slice changed while they were checked."""


@dataclass(frozen=True)
class Ticked:
    """What a tick did: when, whether it swept, and the admissions it re-checked."""

    at: datetime
    sweep: bool
    rechecked: frozenset[str]


async def tick(service: Service) -> Ticked:
    """Everything due by now (see the module docstring); then the timers are planned again."""
    now = service.clock()
    ending.finish_shredded(service, now=now)  # purges cut short after their key went: before any read
    everyone = adm.active_admissions(service.db)
    ending.end_admissions(
        service, [a for a in everyone if a.expires_at <= now], reason="grant expired", now=now
    )
    ending.finish_checkpoint(service)
    events: list[Event] = []
    with store.write(service.db):
        idempotency.forget_expired(service.db, now)
        for ward in adm.all_wards(service.db):
            events.extend(timers.present_shift(service.db, ward, now))
    service.publish(events)
    since, swept = service.checked_until, service.swept_at
    sweep = since is None or swept is None or now >= swept + timers.SWEEP_EVERY
    active = [a for a in everyone if a.expires_at > now]  # one that ends meanwhile: left out by ``recheck``
    if not sweep:
        assert since is not None
        due = timers.falling_due(service, since, now)
        active = [a for a in active if a.id in due]
    rechecked = await recheck(service, active, now)
    with store.write(service.db):
        events = alert_actions.bring_back(service, now)  # unanswered follow-ups, to the top again
    service.publish(events)
    service.checked_until = now
    if sweep:
        service.swept_at = now
    service.rebuild_timers()
    return Ticked(now, sweep, frozenset(rechecked))


async def recheck(service: Service, admissions: list[Admission], now: datetime) -> list[str]:
    """Check each admission at ``now`` and bring its alerts in line, RECHECK_CHUNK per transaction (the
    checks and signatures off the event loop); an admission that ended meanwhile is left out, and one
    whose slice changed meanwhile is checked again (at most ``AGAIN`` rounds: its writer checked it too).
    The ids of those re-checked."""
    done: list[str] = []
    for _ in range(AGAIN + 1):
        again: list[Admission] = []
        for start in range(0, len(admissions), RECHECK_CHUNK):
            ready = []
            for admission in admissions[start : start + RECHECK_CHUNK]:
                try:
                    [patient] = (await service.patients_of([admission.id], now)).values()
                except (NotFound, Conflict):  # ended (or purged) since the tick began
                    continue
                prepared = await service.prepare_reconcile(admission, patient, now)
                ready.append(Check(admission, patient, patient, prepared))
            committed = commit_checks(service, ready, now)
            done += committed.done
            again += committed.again
        if not again:
            break
        admissions = again
    return done


@dataclass(frozen=True)
class Check:
    """An admission's check, prepared off the event loop: the patient as the service ``held`` her when
    it was read, the patient it checked (the same, or her slice normalised again with new knowledge),
    and what it found."""

    admission: Admission
    held: Patient
    patient: Patient
    prepared: reconciling.Prepared


@dataclass(frozen=True)
class Committed:
    """What ``commit_checks`` wrote: the admissions, the events published, and the admissions whose
    slice changed while they were checked (to check again, from the slice as it is now); and, when
    nothing but its checks wrote since they were read, the database's ``written_mark`` after it."""

    done: list[str]
    events: int
    again: list[Admission]
    mark: Hashable | None = None


def commit_checks(
    service: Service, ready: list[Check], now: datetime, *, read_as: Hashable | None = None
) -> Committed:
    """Write prepared checks in one transaction and publish their events. An admission that ended while
    they were prepared is left out. One whose slice changed meanwhile (a ledger update, a bedside entry,
    another process's notice) is not written: a check of the slice as it was would take back what the
    change raised, so it is returned to be checked again.

    A check of the slice the service holds that changes nothing is not read again: writing nothing is
    what checking whole, when its inputs were read, would have done, and a writer that changed them since
    checked them itself. (Not so for a check of a slice read anew, after new knowledge or in ``updates``:
    a check committed in between with the slice as it was must be checked over, so
    ``reconciling.reconcile`` reads again.)

    A check that changes something is written if its inputs are still as it read them: read again and
    compared, unless the database's ``written_mark`` shows nothing was written since: it is the one they
    were read at, or ``read_as``, the mark an earlier ``commit_checks`` of the same reads returned (what
    it wrote, for other admissions, touches none of these checks' inputs)."""
    events: list[Event] = []
    done: list[str] = []
    again: list[Admission] = []
    before = service.db.written_mark()
    as_read = before is not None and before == read_as
    with store.write(service.db):
        for check in ready:
            current = adm.get_admission(service.db, check.admission.id)
            if current is None or not current.active:
                continue
            if service.patient_cache.get(current.id) is not check.held:
                again.append(current)
                continue
            prepared = check.prepared
            if check.patient is check.held and prepared.now == now and not prepared.changes:
                known = service.checked_nodes.get(current.id, frozenset())  # nothing to write: most at a tick
                service.checked_nodes[current.id] = known | prepared.nodes  # a writer since set its own
            else:
                unwritten = before is not None and (as_read or prepared.inputs.mark == before)
                events.extend(service.reconcile(current, check.patient, now, prepared, unwritten=unwritten))
            service.patient_cache[current.id] = check.patient
            done.append(current.id)
    as_read = as_read or (before is not None and all(c.prepared.inputs.mark == before for c in ready))
    after = service.db.written_mark() if as_read else None
    service.publish(events)
    return Committed(done, len(events), again, after)
