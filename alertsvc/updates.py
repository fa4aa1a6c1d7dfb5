"""New ledger entries for an admitted slice, pushed by staff or the patient, or read from the patient's
ledger server: verified against the accepted head, stored, re-checked; a revocation ends the grant's
admission.

Updates of one admission are applied one at a time (a lock per admission across the ``await`` of the
normalisation, and the accepted head checked again inside the write transaction), so identical updates
sent at once apply once. An update leading to the head already accepted (a replay, or one with nothing
new) changes nothing and says so: ``"applied": false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alertsvc import admissions as adm
from alertsvc import audit, bedside, ending, idempotency, intake, store
from alertsvc.access import Role, SignedCall, Staff, read_signed_call, require
from alertsvc.admissions import Admission
from alertsvc.errors import AlertsvcError, Conflict, Forbidden, Unauthorized
from alertsvc.ledger.canonical import canonical, loads
from alertsvc.ledger.entries import read_head
from alertsvc.ledger.slices import VerifiedSlice
from alertsvc.patient_data import Patient
from alertsvc.service_api import ServiceApi

REVOKED = "grant revoked"


@dataclass(frozen=True)
class Signer:
    """A request signed with a key of the caller's own (the patient's), not a staff token."""

    public_id: str


Credential = Staff | Signer


def signer(service: ServiceApi, admission_id: str, call: SignedCall) -> Signer:
    """The admission's patient, when ``call`` is a request she signed for exactly this method (POST),
    target and body; Unauthorized or Forbidden otherwise. A signed request is accepted once: its
    nonce enters the replay cache here, before any Idempotency-Key answer could be replayed for it, and only
    for the admission's own patient (so strangers' keys cannot fill the cache)."""
    now = service.clock()
    if call.method != "POST":
        raise Unauthorized("ledger updates are posted")
    signed = read_signed_call(call, audience=service.identity.public_id, now=now)
    admission = adm.get_admission(service.db, admission_id)
    if admission is None or signed.issuer != admission.patient:
        raise Forbidden("only the patient or the ward's staff may add entries")
    service.replays.admit(signed, now=now)
    return Signer(signed.issuer)


def author(admission: Admission, who: Credential) -> str:
    """Staff of the admission's ward, or the patient themself; Forbidden otherwise."""
    if isinstance(who, Signer):
        if who.public_id != admission.patient:
            raise Forbidden("only the patient or the ward's staff may add entries")
        return "patient"
    roles: tuple[Role, ...] = ("admission", "nurse")
    require(who, ward=admission.ward, roles=roles)
    return who.name


async def add_entries(
    service: ServiceApi,
    admission_id: str,
    body: dict[str, Any],
    who: Credential,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """An update from ``ledger slice --since HEAD``, posted by staff of the ward or the patient."""
    admission = service.active_admission(admission_id)
    actor = author(admission, who)
    return await apply_update(
        service, admission, canonical(body), actor=actor, now=service.clock(), once=once
    )


async def apply_update(
    service: ServiceApi,
    admission: Admission,
    update_bytes: bytes,
    *,
    actor: str,
    now: datetime,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Verify an update against the accepted head; store it and re-check, or end on revocation."""
    async with service.locks.hold(("slice", admission.id)):
        admission = service.active_admission(admission.id)  # it may have ended while this waited
        [previous] = (await service.patients_of([admission.id], now)).values()
        if already_accepted(previous.verified, update_bytes):
            return {
                "admission": admission.id,
                "status": "active",
                "head": previous.verified.head.seq,
                "applied": False,
            }
        updated = await intake.verified_update(service.settings, previous.verified, update_bytes, now=now)
        if updated.revoked:
            ended = {"admission": admission.id, "status": "ended", "reason": REVOKED}
            every = adm.active_of_grant(service.db, admission.grant_id)
            ending.end_admissions(service, every, reason=REVOKED, now=now, once=once, answer=ended)
            return ended
        working = bedside.working_copy_of(service.db, admission.id, updated)  # with the ward's entries
        patient = Patient(working, await service.normalise(working))
        answer = {
            "admission": admission.id,
            "status": "active",
            "head": updated.head.seq,
            "applied": True,
        }
        ready = await service.prepare_reconcile(admission, patient, now)  # checked and signed off the loop
        with store.write(service.db):
            service.active_admission(admission.id)  # a tick may have ended it during the normalisation
            stored = adm.accepted_head(service.db, admission.id)
            if stored != previous.verified.head.seq:  # only another process could have moved it
                raise Conflict(
                    f"admission {admission.id}: the slice moved to head {stored} while this update was "
                    f"checked against head {previous.verified.head.seq}; send it again"
                )
            adm.add_slice_update(service.db, admission.id, update_bytes, updated.head.seq)
            audit.record(
                service.db,
                now=now,
                actor=actor,
                action="update-slice",
                admission=admission.id,
                ward=admission.ward,
                detail={"head": updated.head.seq},
            )
            events = service.reconcile(admission, patient, now, ready)
            idempotency.remember(service.db, once, answer, admissions=[admission.id])
        service.patient_changed(admission.id, patient)
    service.publish(events)
    service.rebuild_timers()
    return answer


def already_accepted(accepted: VerifiedSlice, update_bytes: bytes) -> bool:
    """True when the update leads to exactly the head already accepted, for this patient and grant.

    The head's signature is checked; anything else wrong with the update is left to ``verify_update``,
    which names it.
    """
    try:
        document = loads(update_bytes, what="ledger update")
        if not isinstance(document, dict) or document.get("grant") != accepted.grant.id:
            return False
        head = read_head(document.get("head"), patient=accepted.patient, what="update head")
    except AlertsvcError:
        return False
    return head.seq == accepted.head.seq and head.payload == accepted.head.payload
