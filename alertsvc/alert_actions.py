"""Clinical actions taken from an alert on the ward (see ``alerts.follow_up`` for the data).

- ``hold_and_tell``: "Hold dose and tell prescriber" in one step: the alert's dose recorded as held, the
  acknowledgement (reason ``dose-held``) and an open follow-up, in one transaction. The alert is signed
  again saying "awaiting prescriber since ..."; ``bring_back`` (run by every tick, woken by a timer at the
  follow-up's ``comes_back``) signs it again, raised once more, each time it comes due unanswered, in every
  shift, until ``prescriber_answer`` closes it ("Prescriber reviewed: give", "Prescriber changed the
  order") with who and when.
- A dose recorded as given while a critical alert is bound to it needs a coded override reason and the
  name of the nurse who gave it: see ``alertsvc.dose_overrides``.
- Nothing here hides an alert: while a follow-up is open, and for a day after it is answered, its alert
  is not withdrawn even if the held dose was the last one that made the finding
  (``alert_listing.kept_alerts``).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alertsvc import admissions as adm
from alertsvc import alert_listing, audit, idempotency, store
from alertsvc.access import Staff, require
from alertsvc.alerts import follow_up_store as fu_store
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.follow_up import (
    RESOLUTIONS,
    FollowUp,
    comes_back_at,
    interval_for,
)
from alertsvc.alerts.hub import Event
from alertsvc.alerts.store import Acknowledgement, StoredAlert
from alertsvc.clock import iso
from alertsvc.errors import Conflict, InputError, NotFound
from alertsvc.ledger import jws
from alertsvc.schedule.mar import Outcome, ScheduledDose, record_outcome
from alertsvc.schedule.shifts import Shift, Ward, shift_at
from alertsvc.service_api import ServiceApi

if TYPE_CHECKING:
    pass


ALERT_TYPE = "alertsvc-alert+jwt"


def active_alert_of(service: ServiceApi, alert_id: str, staff: Staff) -> StoredAlert:
    """The active alert a nurse of its ward acts on; another ward's answers as an unknown id (NotFound)."""
    alert = alert_store.get_alert(service.db, alert_id)
    if alert is None or alert.status != "active" or alert.ward != staff.ward:  # another ward's: as unknown
        raise NotFound(f"no active alert {alert_id}")
    require(staff, ward=alert.ward, roles=("nurse",))
    return alert


def _text(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise InputError(f"'{name}' must be text of at most {limit} characters")
    return value.strip()


def ward_of(service: ServiceApi, ward_id: str) -> Ward:
    """The ward, or NotFound naming it."""
    ward = adm.get_ward(service.db, ward_id)
    if ward is None:
        raise NotFound(f"no ward {ward_id!r}")
    return ward


def dose_json(dose: ScheduledDose) -> dict[str, Any]:
    """A dose as the ward's schedule and its events show it."""
    return {
        "id": dose.id,
        "admission": dose.admission,
        "drug": dose.drug,
        "ingredients": [{"rxcui": i.rxcui, "name": i.name} for i in dose.ingredients],
        "dose": dose.dose,
        "route": dose.route,
        "due": iso(dose.due),
        "outcome": None if dose.outcome is None else adm.outcome_json(dose.outcome),
    }


def shift_acting(
    service: ServiceApi, ward_id: str, body: dict[str, Any], now: datetime
) -> tuple[Ward, Shift]:
    """The ward and its current shift; a request naming another shift (``body["shift"]``) is refused."""
    ward = ward_of(service, ward_id)
    shift = shift_at(ward, now)
    named = body.get("shift")
    if named is not None and named != shift.name:
        raise InputError(f"shift {named!r} is not the current shift ({shift.name}) of ward {ward.id}")
    return ward, shift


async def hold_and_tell(
    service: ServiceApi,
    alert_id: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Hold the alert's dose, acknowledge the alert and open a follow-up with the prescriber: one step."""
    alert = active_alert_of(service, alert_id, staff)
    now = service.clock()
    ward, shift = shift_acting(service, alert.ward, body, now)
    comment = _text(body, "comment", service.settings.max_note_chars)
    prescriber = _text(body, "prescriber", service.settings.max_name_chars)
    if alert.dose is None:
        raise Conflict(f"alert {alert_id} concerns no scheduled dose to hold; acknowledge it instead")
    dose = adm.get_dose(service.db, alert.dose)
    if dose is None:
        raise Conflict(f"alert {alert_id}: its dose is no longer scheduled")
    if dose.outcome is not None:
        raise Conflict(
            f"the dose of {dose.drug} due {iso(dose.due)} is already recorded as {dose.outcome.status}"
            f" by {dose.outcome.nurse}"
        )
    waiting = fu_store.open_follow_up(service.db, alert_id)
    if waiting is not None:
        raise Conflict(f"alert {alert_id} is already awaiting the prescriber since {iso(waiting.opened_at)}")
    note = "Held: prescriber told" + (f" ({prescriber})" if prescriber else "")
    held = record_outcome(dose, Outcome(status="held", recorded_at=now, nurse=staff.name, note=note))
    ack = Acknowledgement(
        id="ack-" + uuid.uuid4().hex[:16],
        alert=alert.id,
        nurse=staff.name,
        shift=shift.name,
        shift_start=shift.start,
        reason_code="dose-held",
        reason_display="Dose held; prescriber told",
        comment=comment,
        at=now,
    )
    interval = interval_for(service.settings.follow_up_minutes, ward.id)
    follow_up = FollowUp(
        id="fu-" + uuid.uuid4().hex[:16],
        alert=alert.id,
        admission=alert.admission,
        ward=alert.ward,
        dose=dose.id,
        opened_at=now,
        opened_by=staff.name,
        opened_shift=shift.name,
        state="open",
        comes_back=comes_back_at(now, interval, _next_due(service, held, now), service.lead),
        prescriber=prescriber,
        comment=comment,
    )
    admission = service.active_admission(alert.admission)
    patients = await service.patients_of([admission.id], now)

    with store.write(service.db):
        service.active_admission(admission.id)  # not ended while its slice was read
        adm.save_dose(service.db, held, now=now)
        alert_store.add_acknowledgement(service.db, ack, admission=alert.admission, ward=alert.ward)
        fu_store.save_follow_up(service.db, follow_up)
        events = [
            _event(service, alert, "administration", dose_json(held), now),
            _event(
                service, alert, "acknowledgement", {"alert": alert.id, "acknowledgement": ack.as_json()}, now
            ),
            _event(service, alert, "follow-up", {"alert": alert.id, "follow_up": follow_up.as_json()}, now),
        ]
        audit.record(
            service.db,
            now=now,
            actor=staff.name,
            action="hold-and-tell",
            admission=alert.admission,
            ward=alert.ward,
            detail={"alert": alert.id, "dose": dose.id, "follow_up": follow_up.id, "shift": shift.name},
        )
        events += _reconciled_then_signed(
            service, admission, patients[admission.id], alert.id, follow_up, now
        )
        answer = {
            "dose": dose_json(held),
            "acknowledgement": ack.as_json(),
            "follow_up": follow_up.as_json(),
        }
        idempotency.remember(service.db, once, answer, admissions=[alert.admission])
    service.publish(events)
    service.rebuild_timers()
    return answer


async def prescriber_answer(
    service: ServiceApi,
    alert_id: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Close the alert's open follow-up with the prescriber's answer: who (nurse, prescriber) and when."""
    alert = active_alert_of(service, alert_id, staff)
    now = service.clock()
    code = body.get("resolution")
    if code not in RESOLUTIONS:
        raise InputError(f"'resolution' must be one of {', '.join(RESOLUTIONS)}")
    prescriber = _text(body, "prescriber", service.settings.max_name_chars)
    note = _text(body, "comment", service.settings.max_note_chars)
    waiting = fu_store.open_follow_up(service.db, alert_id)
    if waiting is None:
        raise Conflict(f"alert {alert_id} has no follow-up awaiting the prescriber")
    closed = FollowUp(
        **{
            **waiting.__dict__,
            "state": "closed",
            "closed_at": now,
            "closed_by": staff.name,
            "resolution": code,
            "resolution_note": note,
            "prescriber": prescriber or waiting.prescriber,
        }
    )
    with store.write(service.db):
        fu_store.save_follow_up(service.db, closed)
        events = [
            _event(service, alert, "follow-up", {"alert": alert.id, "follow_up": closed.as_json()}, now)
        ]
        audit.record(
            service.db,
            now=now,
            actor=staff.name,
            action="prescriber-answer",
            admission=alert.admission,
            ward=alert.ward,
            detail={"alert": alert.id, "follow_up": closed.id, "resolution": code},
        )
        current = alert_store.get_alert(service.db, alert.id)
        if current is not None and current.status == "active":
            events.append(resign(service, current, closed, now))
        idempotency.remember(service.db, once, closed.as_json(), admissions=[alert.admission])
    service.publish(events)
    service.rebuild_timers()
    return closed.as_json()


def bring_back(service: ServiceApi, now: datetime) -> list[Event]:
    """Inside the caller's transaction: every open follow-up come due, unanswered, raised again (its alert
    signed again, to the top of the ward's list) and given its next time to come back."""
    events = []
    for waiting in fu_store.open_follow_ups(service.db):
        if waiting.comes_back > now:
            continue
        alert = alert_store.get_alert(service.db, waiting.alert)
        dose = adm.get_dose(service.db, waiting.dose)
        if alert is None or alert.status != "active" or dose is None:
            continue
        interval = interval_for(service.settings.follow_up_minutes, waiting.ward)
        again = FollowUp(
            **{
                **waiting.__dict__,
                "raised": waiting.raised + 1,
                "comes_back": comes_back_at(now, interval, _next_due(service, dose, now), service.lead),
            }
        )
        fu_store.save_follow_up(service.db, again)
        events.append(resign(service, alert, again, now))
    return events


def resign(service: ServiceApi, alert: StoredAlert, follow_up: FollowUp, now: datetime) -> Event:
    """Inside the caller's transaction: a new version of the stored alert saying where its follow-up
    stands, signed and put in the outbox."""
    claims = alert.claims | {
        "version": alert.version + 1,
        "updated": iso(now),
        "follow_up": follow_up.claim(),
    }
    token = jws.sign(claims, service.identity, typ=ALERT_TYPE)
    alert_store.save_signed_claims(service.db, alert.id, claims, token)
    data = {"id": alert.id, "jws": token} | alert_listing.listed_extras(service.db, [alert.id])[alert.id]
    return alert_store.append_event(
        service.db, ward=alert.ward, type="alert", data=data, admission=alert.admission, now=now
    )


def _reconciled_then_signed(
    service: ServiceApi,
    admission: adm.Admission,
    patient: Any,
    alert_id: str,
    follow_up: FollowUp,
    now: datetime,
) -> list[Event]:
    """The admission re-checked (the held dose no longer counts), then the alert signed with its
    follow-up unless the re-check already did so."""
    events = service.reconcile(admission, patient, now)
    signed = any(e.type == "alert" and json.loads(e.data).get("id") == alert_id for e in events)
    current = alert_store.get_alert(service.db, alert_id)
    if not signed and current is not None and current.status == "active":
        events.append(resign(service, current, follow_up, now))
    return events


def _event(service: ServiceApi, alert: StoredAlert, type: str, data: dict[str, Any], now: datetime) -> Event:
    return alert_store.append_event(
        service.db, ward=alert.ward, type=type, data=data, admission=alert.admission, now=now
    )


def _next_due(service: ServiceApi, dose: ScheduledDose, now: datetime) -> datetime | None:
    """The due time of the next dose of the same drug for the same admission, not yet recorded."""
    same = {i.rxcui for i in dose.ingredients}
    later = [
        d.due
        for d in adm.doses(service.db, admission=dose.admission)
        if d.id != dose.id
        and d.outcome is None
        and d.due > now
        and ({i.rxcui for i in d.ingredients} == same if same else d.drug.casefold() == dose.drug.casefold())
    ]
    return min(later, default=None)
