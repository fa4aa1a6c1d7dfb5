"""Bringing an admission's alerts in line with a fresh check, in three steps, so that the costly middle
one can run off the event loop.

    read     (event loop)  the ward, the admission's doses and its active alerts, as stored (not decoded)
    prepare  (any thread)  decode, check, plan, and sign every new or changed alert: no database, no clock
    write    (event loop)  in the caller's transaction, and only if the database still holds exactly what
                           was read: save the alerts and the events announcing them (else prepare again,
                           from what it now holds, there and then)

The largest admission the limits allow (100 interacting medications) raises hundreds of alerts, each
signed: done on the loop, that held ``/healthz`` for up to a second (``bench.bounds_bench``).
``prepared()`` runs the middle step in a worker thread; a caller awaits it before opening its transaction
and passes it to ``reconcile``, whose write then only inserts rows. ``reconcile`` without a preparation
(callers that change the doses in the same transaction) does all three steps at once, on the loop.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio

from alertsvc import admissions as adm
from alertsvc import observation_desk
from alertsvc.admissions import Admission
from alertsvc.alerts import jws
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.build import AdmissionRef, Alert
from alertsvc.alerts.hub import Event
from alertsvc.alerts.reconcile import plan
from alertsvc.alerts.store import Acknowledgement
from alertsvc.alerts.withdrawal import withdraw_no_longer_found
from alertsvc.knowledge.observations import LabValue
from alertsvc.patient_data import Patient
from alertsvc.schedule.mar import ScheduledDose
from alertsvc.schedule.shifts import Ward

if TYPE_CHECKING:
    from alertsvc.service import Service

ALERT_TYPE = "alertsvc-alert+jwt"


@dataclass(frozen=True)
class Inputs:
    """What a check of one admission reads from the database (alerts as their stored rows)."""

    ward: Ward
    doses: tuple[ScheduledDose, ...]
    alerts: tuple[tuple[Any, ...], ...]
    recorded: tuple[LabValue, ...]


@dataclass(frozen=True)
class Signed:
    """A new or changed alert, written out: the dose it was reminded for, its JWS, its stored body and
    the text of the event announcing it (as if it had no acknowledgements)."""

    alert: Alert
    reminded: str | None
    token: str
    body: str
    event: str


@dataclass(frozen=True)
class Prepared:
    """A check's outcome, ready to write: each new or changed alert, signed, and the ids of alerts to
    withdraw, by the reason the ward is told; valid while the database holds ``inputs``."""

    inputs: Inputs
    now: datetime
    signed: tuple[Signed, ...]
    withdrawals: tuple[tuple[str, tuple[str, ...]], ...]


def read(service: Service, admission: Admission) -> Inputs:
    """The admission's inputs, as the database holds them now (a ward not yet saved reads as the one
    ``Service`` would save for it)."""
    db = service.db
    return Inputs(
        ward=adm.get_ward(db, admission.ward) or service.default_ward(admission.ward),
        doses=tuple(adm.doses(db, admission=admission.id)),
        alerts=tuple(tuple(row) for row in alert_store.active_alert_rows(db, admission=admission.id)),
        recorded=tuple(observation_desk.recorded_values(db, admission.id)),
    )


def prepare(
    service: Service, admission: Admission, patient: Patient, inputs: Inputs, now: datetime
) -> Prepared:
    """Check, plan and sign (pure: safe in a worker thread; it touches neither the database nor the hub)."""
    existing = [alert_store.stored_alert(row) for row in inputs.alerts]
    changes = plan(
        AdmissionRef(admission.id, admission.ward, admission.bed, admission.label, admission.expires_at),
        service.findings(inputs.ward, list(inputs.doses), patient, now, list(inputs.recorded)),
        inputs.doses,
        existing,
        flagged_by=patient.inputs.flagged_by,
        now=now,
        lead=service.lead,
        new_id=lambda: "alert-" + uuid.uuid4().hex[:16],
    )
    signed = []
    for alert, reminded in changes.upserts:
        claims = alert.claims()
        token = jws.sign(claims, service.identity, typ=ALERT_TYPE)
        body, event = alert_store.alert_body(claims), _event_text(alert, token, [])
        signed.append(Signed(alert, reminded, token, body, event))
    return Prepared(inputs, now, tuple(signed), tuple(changes.withdrawals_by_reason().items()))


def _event_text(alert: Alert, token: str, acks: list[Acknowledgement]) -> str:
    """The ``alert`` event announcing this version of the alert, with its acknowledgements so far."""
    data = {"id": alert.id, "jws": token, "acknowledgements": [a.as_json() for a in acks]}
    return alert_store.event_text(data)


async def prepared(service: Service, admission: Admission, patient: Patient, now: datetime) -> Prepared:
    """Read on the loop, then prepare in a worker thread: the loop keeps serving meanwhile."""
    inputs = read(service, admission)
    result: Prepared = await anyio.to_thread.run_sync(prepare, service, admission, patient, inputs, now)
    return result


def reconcile(
    service: Service, admission: Admission, patient: Patient, now: datetime, ready: Prepared | None = None
) -> list[Event]:
    """Write the check's outcome in the caller's transaction; ``ready`` is used only if nothing it was
    prepared from has changed since (another request may have run while it was prepared)."""
    inputs = read(service, admission)
    if ready is None or ready.inputs != inputs or ready.now != now:
        ready = prepare(service, admission, patient, inputs, now)
    return write(service, admission, ready)


def write(service: Service, admission: Admission, ready: Prepared) -> list[Event]:
    """Save each signed alert and the event announcing it, with its acknowledgements; withdraw the rest."""
    db, now = service.db, ready.now
    acks = alert_store.acknowledgements(db, [s.alert.id for s in ready.signed])
    events = []
    for s in ready.signed:
        alert_store.save_alert(db, s.alert, s.token, reminded_dose=s.reminded, body=s.body)
        acknowledged = acks.get(s.alert.id)
        text = _event_text(s.alert, s.token, acknowledged) if acknowledged else s.event
        events.append(
            alert_store.append_event(
                db, ward=admission.ward, type="alert", data=text, admission=admission.id, now=now
            )
        )
    for reason, ids in ready.withdrawals:
        events.append(
            withdraw_no_longer_found(
                db, service.identity, admission.ward, admission.id, ids, now=now, reason=reason
            )
        )
    return events
