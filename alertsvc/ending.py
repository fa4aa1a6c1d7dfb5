"""Ending admissions: destroy their data keys, withdraw their alerts from every view, purge everything
derived from their slices, and checkpoint the WAL so the purged bytes leave the database's files.

Crypto-shredding first (``sealing``): each admission's data key is deleted in a transaction of its own,
which also owes the purge (a row in ``owed``). From that commit on, her sealed values are ciphertext
whose key the database no longer holds (a backup taken before still holds it wrapped under the KEK:
``alertsvc keys rotate-kek`` ends that). The rows are then deleted (``secure_delete`` on) in a second
transaction that settles the owed purge; a crash (or a failed second transaction) leaves rows nobody
can read, and the next tick, the first at start-up, finishes their deletion (``finish_shredded``). The
purge and the WAL checkpoint it owes are written in one transaction (the checkpoint as a row in
``owed``), so a crash cannot forget the checkpoint either: start-up and every tick finish it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from alertsvc import admissions as adm
from alertsvc import audit, failpoints, idempotency, sealing, store
from alertsvc.admissions import Admission
from alertsvc.alerts.hub import Event
from alertsvc.alerts.withdrawal import append_withdrawal
from alertsvc.clock import iso
from alertsvc.ledger.identity import Identity
from alertsvc.service_api import ServiceApi
from alertsvc.store import Database

log = logging.getLogger("alertsvc.ending")

OWED_PURGE = "purge "
"""Owed work: ``purge <admission> <reason>``, the rows of an admission whose data key is destroyed."""


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
        for admission in admissions:
            shred(service.db, admission.id, reason=reason, now=now)
    service.failpoints.hit(failpoints.KEY_DESTROYED_BEFORE_PURGE)
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
        service.patient_changed(admission.id, None)  # and, in a cluster, its key from every process
        service.next_polls.pop(admission.id, None)
        log.info("admission %s ended (%s); slice purged", admission.id, reason)
    service.publish(events)
    service.rebuild_timers()  # their expiry, dose and reminder timers go with them


def withdraw(db: Database, identity: Identity, admission: Admission, *, reason: str, now: datetime) -> Event:
    """Inside the caller's transaction: purge the admission, announce the (signed) withdrawal of its alerts,
    audit the purge. The withdrawal's outbox row outlives the purge of the admission's own events."""
    withdrawn = adm.purge(db, admission.id, now=now, reason=reason)
    db.execute("DELETE FROM owed WHERE work = ?", [owed_purge(admission.id, reason)])
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


def owed_purge(admission: str, reason: str) -> str:
    """The ``owed`` row of a purge whose key is destroyed and whose rows are not yet deleted."""
    return f"{OWED_PURGE}{admission} {reason}"


def shred(db: Database, admission: str, *, reason: str, now: datetime) -> None:
    """Inside the caller's transaction: destroy the admission's data key and owe the deletion of its rows."""
    sealing.keyring(db).destroy(db, admission)
    store.owe(db, owed_purge(admission, reason), iso(now))


def finish_shredded(service: ServiceApi, *, now: datetime) -> int:
    """Delete the rows of admissions whose key was destroyed by a purge that did not finish (a crash
    between the two transactions); how many. Run first by every tick (the first at start-up)."""
    owed = service.db.execute(
        "SELECT work FROM owed WHERE substr(work, 1, ?) = ?", [len(OWED_PURGE), OWED_PURGE]
    ).fetchall()
    finished = 0
    for (work,) in owed:
        admission_id, _, reason = work[len(OWED_PURGE) :].partition(" ")
        admission = adm.shredded_admission(service.db, admission_id)
        if admission is None or not admission.active:  # nothing left to delete
            with store.write(service.db):
                service.db.execute("DELETE FROM owed WHERE work = ?", [work])
            continue
        end_admissions(service, [admission], reason=reason, now=now)
        log.info("admission %s: its key was destroyed before a crash; its rows are now deleted", admission_id)
        finished += 1
    return finished


def finish_checkpoint(service: ServiceApi) -> None:
    """Do the owed WAL checkpoint; if a reader blocks it, it stays owed and a later tick retries."""
    if not store.finish_owed_checkpoint(service.db):
        log.warning("purge: the WAL checkpoint is blocked by a reader; retrying at the next tick")
