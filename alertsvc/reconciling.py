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

import json
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import anyio

from alertsvc import admissions as adm
from alertsvc import alert_listing, sealing, ward_observations
from alertsvc.admissions import Admission
from alertsvc.alerts import follow_up_store as fu_store
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.build import AdmissionRef, Alert
from alertsvc.alerts.hub import Event
from alertsvc.alerts.reconcile import plan
from alertsvc.alerts.withdrawal import withdraw_no_longer_found
from alertsvc.knowledge.model import Finding
from alertsvc.knowledge.observations import LabValue
from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity
from alertsvc.patient_data import Patient, checked_nodes
from alertsvc.schedule.mar import ScheduledDose
from alertsvc.schedule.shifts import Ward
from alertsvc.store import Database

ALERT_TYPE = "alertsvc-alert+jwt"


class Checker(Protocol):
    """What a check of one admission uses of the service: its database, key and lead time, the pure
    check (``Service.findings``), the plain words of a finding and the ward a ward id stands for."""

    @property
    def db(self) -> Database: ...

    @property
    def identity(self) -> Identity: ...

    @property
    def lead(self) -> timedelta: ...

    def findings(
        self,
        ward: Ward,
        doses: list[ScheduledDose],
        patient: Patient,
        now: datetime,
        recorded: list[LabValue],
    ) -> list[Finding]: ...

    def plain_words(self, finding: Finding) -> dict[str, Any]: ...

    @property
    def checked_nodes(self) -> dict[str, frozenset[str]]:
        """Admission id -> the knowledge's nodes its last check read."""

    def default_ward(self, ward_id: str) -> Ward: ...


@dataclass(frozen=True)
class Inputs:
    """What a check of one admission reads from the database (alerts as their stored rows)."""

    ward: Ward
    doses: tuple[ScheduledDose, ...]
    alerts: tuple[tuple[Any, ...], ...]
    """The active alerts and those withdrawn that may be found again (``alert_store.rows_to_check``)."""
    recorded: tuple[LabValue, ...]
    follow_ups: tuple[tuple[str, str], ...]
    """(alert id, its latest follow-up claim as JSON) for the active alerts that have one."""
    stored_key: Callable[[str], str] = field(default=lambda key: key, compare=False)
    """How its alert identities are stored (``sealing.tag``, its key read with the rest)."""
    mark: Hashable | None = field(default=None, compare=False)
    """The database's ``written_mark`` when they were read."""


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
    nodes: frozenset[str] = frozenset()
    """The knowledge's nodes this check read (``patient_data.checked_nodes``)."""

    @property
    def changes(self) -> bool:
        """Whether writing it changes anything: an alert to save or to withdraw."""
        return bool(self.signed or self.withdrawals)


def read(service: Checker, admission: Admission) -> Inputs:
    """The admission's inputs, as the database holds them now (a ward not yet saved reads as the one
    ``Service`` would save for it)."""
    db = service.db
    mark = db.written_mark()  # before reading: a write after it moves it
    alerts = tuple(tuple(row) for row in alert_store.rows_to_check(db, admission=admission.id))
    return Inputs(
        ward=adm.get_ward(db, admission.ward) or service.default_ward(admission.ward),
        doses=tuple(adm.doses(db, admission=admission.id)),
        alerts=alerts,
        recorded=tuple(ward_observations.recorded_values(db, admission.id)),
        follow_ups=_follow_up_claims(db, [row[0] for row in alerts]),
        stored_key=_stored_key(db, admission.id),
        mark=mark,
    )


def _stored_key(db: Database, admission: str) -> Callable[[str], str]:
    """How the admission's alert identities are stored (``sealing.tag``). Before its key is made (an
    admission being checked before it is stored) it has no alerts to match, and any function will do."""
    ring = sealing.keyring(db)
    return ring.dedupe_tagger(db, admission) if ring.has_key(db, admission) else (lambda key: key)


def _follow_up_claims(db: Any, alert_ids: list[str]) -> tuple[tuple[str, str], ...]:
    """Each alert's latest follow-up claim (signed with its next version), as comparable text."""
    found = []
    for alert_id, follow_ups in fu_store.follow_ups(db, alert_ids).items():  # one query for them all
        if follow_ups:
            found.append((alert_id, alert_store.alert_body({"follow_up": follow_ups[-1].claim()})))
    return tuple(found)


def prepare(
    service: Checker, admission: Admission, patient: Patient, inputs: Inputs, now: datetime
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
        stored_key=inputs.stored_key,
    )
    signed = []
    follow_ups = {alert_id: json.loads(text) for alert_id, text in inputs.follow_ups}
    for alert, reminded in changes.upserts:
        claims = alert.claims() | service.plain_words(alert.finding)
        claims |= follow_ups.get(alert.id, {})  # a follow-up stays signed into every later version
        token = jws.sign(claims, service.identity, typ=ALERT_TYPE)
        body, event = alert_store.alert_body(claims), _event_text(alert, token)
        signed.append(Signed(alert, reminded, token, body, event))
    nodes = checked_nodes(patient.inputs, inputs.doses)
    return Prepared(inputs, now, tuple(signed), tuple(changes.withdrawals_by_reason().items()), nodes)


def _event_text(alert: Alert, token: str) -> str:
    """The ``alert`` event announcing this version of the alert, as it reads with nothing beside it yet
    (no acknowledgement, follow-up, override or upstream decision: see ``alert_listing.listed_extras``)."""
    empty: list[Any] = []
    data = {"id": alert.id, "jws": token, "acknowledgements": empty, "follow_ups": empty, "overrides": empty}
    return alert_store.event_text(data | {"upstream": empty})


async def prepared(service: Checker, admission: Admission, patient: Patient, now: datetime) -> Prepared:
    """Read on the loop, then prepare in a worker thread: the loop keeps serving meanwhile."""
    inputs = read(service, admission)
    result: Prepared = await anyio.to_thread.run_sync(prepare, service, admission, patient, inputs, now)
    return result


def reconcile(
    service: Checker,
    admission: Admission,
    patient: Patient,
    now: datetime,
    ready: Prepared | None = None,
    *,
    unwritten: bool = False,
) -> list[Event]:
    """Write the check's outcome in the caller's transaction; ``ready`` is used only if nothing it was
    prepared from has changed since (another request may have run while it was prepared).

    Its inputs are read again to tell, unless the caller knows (``unwritten``: ``ticking.commit_checks``)
    that nothing was written since they were read but checks of other admissions, which touch none of
    this one's inputs."""
    if ready is None or not unwritten or ready.now != now:
        inputs = read(service, admission)
        if ready is None or ready.inputs != inputs or ready.now != now:
            ready = prepare(service, admission, patient, inputs, now)
    return write(service, admission, ready)


def write(service: Checker, admission: Admission, ready: Prepared) -> list[Event]:
    """Save each signed alert and the event announcing it, with what the ward's list carries beside it
    (acknowledgements, follow-ups, overrides, upstream decisions); withdraw the rest, except alerts a
    follow-up keeps."""
    db, now = service.db, ready.now
    service.checked_nodes[admission.id] = ready.nodes  # what a knowledge update may skip (knowledge_recheck)
    extras = alert_listing.listed_extras(db, [s.alert.id for s in ready.signed])
    events = []
    for s in ready.signed:
        alert_store.save_alert(db, s.alert, s.token, reminded_dose=s.reminded, body=s.body)
        extra = extras[s.alert.id]
        bare = not any(extra.values())
        text = s.event if bare else alert_store.event_text({"id": s.alert.id, "jws": s.token} | extra)
        events.append(
            alert_store.append_event(
                db, ward=admission.ward, type="alert", data=text, admission=admission.id, now=now
            )
        )
    kept = alert_listing.kept_alerts(db, admission.id, now)  # a follow-up never hides its alert
    for reason, found in ready.withdrawals:
        ids = tuple(a for a in found if a not in kept)
        if not ids:
            continue
        events.append(
            withdraw_no_longer_found(
                db, service.identity, admission.ward, admission.id, ids, now=now, reason=reason
            )
        )
    return events
