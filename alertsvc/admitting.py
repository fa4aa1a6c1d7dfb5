"""Admitting a patient: her grant and slice verified for this service, stored, checked and alerted on.

    verify (a worker thread) -> normalise -> check and sign (a worker thread) -> one transaction: the
    admission, its audit record, its alerts and their events, the Idempotency-Key's answer -> publish

Nothing is stored when anything fails. A grant has one live admission: a second is a Conflict naming the
first, decided by the database when two admissions of one grant race each other.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from alertsvc import admissions as adm
from alertsvc import audit, idempotency, intake, ledger_reader, store
from alertsvc.access import Staff, require
from alertsvc.admissions import Admission
from alertsvc.alerts import store as alert_store
from alertsvc.clock import iso
from alertsvc.errors import Conflict, GrantRevoked, InputError
from alertsvc.knowledge.display import normalised_items
from alertsvc.ledger.canonical import canonical
from alertsvc.patient_data import Patient
from alertsvc.updates import REVOKED

if TYPE_CHECKING:
    from alertsvc.service import Service


async def admit(
    service: Service, body: dict[str, Any], staff: Staff, *, once: idempotency.Pending | None = None
) -> dict[str, Any]:
    """Verify a grant and slice for this service; store it; check it; alert. Nothing stored on failure.

    A grant already admitted is a Conflict naming its admission, decided by the database when two
    admissions of one grant race each other."""
    ward_id, bed = _text(body, "ward"), _text(body, "bed")
    require(staff, ward=ward_id, roles=("admission",))
    slice_value, link = body.get("slice"), body.get("grant_link")
    ledger_url, patient_id = "", None
    if isinstance(slice_value, dict):
        slice_bytes = canonical(slice_value)
    elif isinstance(link, str):
        slice_bytes, grant_link = await ledger_reader.first_slice(service, link)
        ledger_url, patient_id = grant_link.url, grant_link.patient
    else:
        raise InputError(
            "admission: give 'slice' (the JSON object written by `alertsvc ledger slice`) or "
            "'grant_link' (the alertsvc-grant: link of the patient's QR code)"
        )
    now = service.clock()
    verified = await intake.verified_slice(
        service.settings, slice_bytes, patient=patient_id, now=now, grantee=service.identity.public_id
    )  # off the event loop, then within the limits
    intake.check_grant_matches(body.get("grant"), verified)
    refuse_admitted(service, verified.grant.id)
    if adm.end_reason_for_grant(service.db, verified.grant.id) == REVOKED:  # a slice from before it
        raise GrantRevoked(f"grant {verified.grant.id} was revoked; its admission has ended")
    patient = Patient(verified, await service.normalise(verified))
    admission = Admission(
        id="adm-" + uuid.uuid4().hex[:16],
        ward=ward_id,
        bed=bed,
        label=str(body.get("label") or f"Bed {bed}"),
        patient=verified.patient,
        grant_id=verified.grant.id,
        not_before=verified.grant.not_before,
        expires_at=verified.grant.expires_at,
        admitted_at=now,
        status="active",
        ledger_url=ledger_url,
    )
    ready = await service.prepare_reconcile(admission, patient, now)  # checked and signed off the loop
    with store.write(service.db):
        service.ensure_ward(ward_id)
        if not adm.insert_admission(service.db, admission, slice_bytes, verified.head.seq):
            refuse_admitted(service, verified.grant.id, lost_race=True)  # rolls back
        audit.record(
            service.db,
            now=now,
            actor=staff.name,
            action="admit",
            admission=admission.id,
            ward=ward_id,
            patient_hash=adm.patient_hash(admission.patient),
            detail={
                "bed": bed,
                "scope": sorted(verified.grant.scope),
                "unresolved": len(patient.inputs.unresolved),
            },
        )
        events = service.reconcile(admission, patient, now, ready)
        answer = {
            "admission": admission.id,
            "expires_at": iso(admission.expires_at),
            "head": verified.head.seq,
            "alerts": alert_store.count_active(service.db, admission=admission.id),
            "unresolved": [
                {"what": u.what, "term": u.term, "reason": u.reason} for u in patient.inputs.unresolved
            ],
            "normalised": normalised_items(
                [*patient.inputs.medications, *patient.inputs.flagged],
                service.display_names(adm.get_ward(service.db, ward_id)),
            ),
        }
        idempotency.remember(service.db, once, answer, admissions=[admission.id])
    service.patient_cache[admission.id] = patient
    service.publish(events)
    service.rebuild_timers()
    return answer


def refuse_admitted(service: Service, grant_id: str, *, lost_race: bool = False) -> None:
    """Conflict naming the grant's live admission, if it has one (always, when ``lost_race``)."""
    live = adm.active_for_grant(service.db, grant_id)
    if live is not None:
        raise Conflict(
            f"grant {grant_id} is already admitted as {live.id} (ward {live.ward}, bed {live.bed})"
        )
    if lost_race:
        raise Conflict(f"grant {grant_id} is already admitted")


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"'{name}' is required and must be a non-empty string")
    return value.strip()
