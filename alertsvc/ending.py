"""Ending admissions: withdraw their alerts from every view, purge everything derived from their slices,
and checkpoint the WAL so the purged bytes leave the database's files.

The purge and the WAL checkpoint it owes are written in one transaction (the checkpoint as a row in
``owed``), so a crash between them cannot forget the checkpoint: start-up and every tick finish it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from alertsvc import admissions as adm
from alertsvc import audit, idempotency, store
from alertsvc.admissions import Admission
from alertsvc.alerts.hub import Event
from alertsvc.alerts.withdrawal import append_withdrawal
from alertsvc.clock import iso
from alertsvc.ledger.identity import Identity
from alertsvc.service_api import ServiceApi
from alertsvc.store import Database

log = logging.getLogger("alertsvc.ending")


def end_admissions(
    service: ServiceApi,
    admissions: Sequence[Admission],
    *,
    reason: str,
    now: datetime,
    once: idempotency.Pending | None = None,
    answer: Any = None,
) -> None:
    """End ``admissions`` in one transaction (with the answer to the keyed request that ended them, if
    any), then checkpoint the WAL and tell the wards."""
    if not admissions:
        return
    with store.write(service.db):
        events = [
            withdraw(service.db, service.identity, admission, reason=reason, now=now)
            for admission in admissions
        ]
        store.owe(service.db, store.CHECKPOINT, iso(now))
        idempotency.remember(service.db, once, answer)  # it holds no patient data: kept past the purge
    finish_checkpoint(service)
    if service.rxnav is not None:  # the drug names she wrote, kept in memory for RxNav look-ups
        service.rxnav.forget_terms()
    for admission in admissions:
        service.patient_cache.pop(admission.id, None)
        service.next_polls.pop(admission.id, None)
        log.info("admission %s ended (%s); slice purged", admission.id, reason)
    service.publish(events)
    service.rebuild_timers()  # their expiry, dose and reminder timers go with them


def withdraw(db: Database, identity: Identity, admission: Admission, *, reason: str, now: datetime) -> Event:
    """Inside the caller's transaction: purge the admission, announce the (signed) withdrawal of its alerts,
    audit the purge. The withdrawal's outbox row outlives the purge of the admission's own events."""
    withdrawn = adm.purge(db, admission.id, now=now, reason=reason)
    event = append_withdrawal(
        db, identity, admission.ward, admission.id, withdrawn, reason, now=now, outbox=None
    )
    audit.record(
        db,
        now=now,
        actor="alertsvc",
        action="purge",
        admission=admission.id,
        ward=admission.ward,
        patient_hash=adm.patient_hash(admission.patient),
        detail={"reason": reason, "alerts_withdrawn": len(withdrawn)},
    )
    return event


def finish_checkpoint(service: ServiceApi) -> None:
    """Do the owed WAL checkpoint; if a reader blocks it, it stays owed and a later tick retries."""
    if not store.finish_owed_checkpoint(service.db):
        log.warning("purge: the WAL checkpoint is blocked by a reader; retrying at the next tick")
