"""Discharge: the discharge medicines written to the patient's ledger, what is left handed over, then the
admission ends and is purged as at any ending (``alertsvc.ending``).

    POST /admissions/{id}/discharge  {"clinician": {"name", "role"},
                                      "medications": [{"drug", "dose"?, "note"?}]}
      -> each medicine checked by the normaliser, then a MedicationStatement signed by the service under
         the admission's grant, its ``informationSource`` the clinician (``ledger.practitioners``)
      -> one delivery attempt of everything of this admission not yet in her ledger (bounded by
         ``ledger_timeout``); what is not delivered (no write grant, her server unreachable or refusing)
         goes into the signed handover file, returned in the answer for her to import
         (``alertsvc ledger import-entries LEDGER --key KEY FILE``)
      -> the admission ends ("discharged"): its slice, alerts and entries are purged

The answer holds her data (the handover file), so it is not stored for an Idempotency-Key: a repeated
discharge finds the admission ended (409). Nothing is written before the ending but the audit record, so
a discharge cut short leaves the admission as it was; a discharge medicine's resource id is derived from
the admission, its place in the list and its name, so one delivered by an attempt cut short and again by
the retry is one medication in her ledger (the last statement per resource id), not two.

The handover file is ``{"payload": b64url(P), "signature": b64url(sig)}`` where ``P`` is the RFC 8785
JSON ``{"v": 1, "type": "alertsvc-handover", "patient", "hospital": {"id", "name"}, "admission",
"created", "entries": [entry envelopes]}`` signed by the service's identity (``hospital.id``).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

import anyio

from alertsvc import admissions as adm
from alertsvc import audit, ending, idempotency, lookups, practitioner_entries, store
from alertsvc.access import Staff
from alertsvc.admissions import Admission
from alertsvc.errors import AlertsvcError, InputError, LimitExceeded
from alertsvc.ledger.handover import handover_file
from alertsvc.ledger.practitioners import discharge_statement_body, practitioner_entry
from alertsvc.ledger.remote_entries import post_entries
from alertsvc.practitioner_entries import DELIVERED, HANDOVER, PENDING, StoredEntry
from alertsvc.service_api import ServiceApi

DISCHARGED = "discharged"
MAX_MEDICINES = 100


async def discharge(
    service: ServiceApi,
    admission_id: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Write the discharge medicines, deliver or hand over, end the admission; see the module docstring."""
    del once  # the answer holds her data: it is not kept (see the module docstring)
    admission = practitioner_entries.ward_admission(service, admission_id, staff)
    settings = service.settings
    clinician = practitioner_entries.clinician_of(body, staff, name_limit=settings.max_name_chars)
    listed = body.get("medications", [])
    if not isinstance(listed, list):
        raise InputError("'medications' is a list of {drug, dose, note}")
    if len(listed) > MAX_MEDICINES:
        raise LimitExceeded(f"'medications': {len(listed)} items; at most {MAX_MEDICINES}")
    now = service.clock()
    hospital = practitioner_entries.hospital_of(service)
    bodies = []
    for position, item in enumerate(listed):
        if not isinstance(item, dict):
            raise InputError(f"'medications[{position}]' is an object {{drug, dose, note}}")
        where = f"medications[{position}]."
        drug = _text(item, "drug", where, settings.max_name_chars, required=True) or ""
        dose = _text(item, "dose", where, settings.max_name_chars, required=False)
        note = _text(item, "note", where, settings.max_note_chars, required=False)
        found = await lookups.in_thread(service.lookups, service.normalizer.medication, drug)
        rxcui = found.ingredients[0].rxcui if len(found.ingredients) == 1 else None
        bodies.append(
            discharge_statement_body(
                patient=admission.patient,
                clinician=clinician,
                hospital=hospital,
                drug=drug,
                rxcui=rxcui,
                dose=dose,
                effective=now,
                note=note,
                resource_id=str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"{admission.id}/discharge/{position}/{drug}")
                ),
            )
        )
    async with service.locks.hold(("delivery",)), service.locks.hold(("slice", admission.id)):
        admission = practitioner_entries.ward_admission(service, admission_id, staff)
        [patient] = (await service.patients_of([admission.id], now)).values()
        grant = patient.verified.grant
        medicines = [
            practitioner_entry(
                service.identity,
                kind="medication",
                patient=admission.patient,
                body=body,
                grant_id=grant.id,
                now=now,
            )
            for body in bodies
        ]
        writable = grant.may_write("medication") and bool(admission.ledger_url)
        reason = (
            ""
            if writable
            else practitioner_entries.NO_WRITE_GRANT
            if admission.ledger_url
            else practitioner_entries.NO_LEDGER_ADDRESS
        )
        recorded = practitioner_entries.entries_of(service.db, admission.id)
        recorded += [
            StoredEntry(
                e, admission.id, clinician, PENDING if writable else HANDOVER, reason, 0, None, "", None
            )
            for e in medicines
        ]
        delivered, error = await _deliver_now(service, admission, [s for s in recorded if s.state == PENDING])
        with store.write(service.db):
            audit.record(
                service.db,
                now=now,
                actor=staff.name,
                action="discharge",
                admission=admission.id,
                ward=admission.ward,
                patient_hash=adm.patient_hash(admission.patient),
                detail={"medications": len(medicines), "delivered": len(delivered)},
            )
        in_ledger = {s.entry.id for s in recorded if s.state == DELIVERED} | delivered
        handed = [s for s in recorded if s.entry.id not in in_ledger]
        answer = {
            "admission": admission.id,
            "status": "ended",
            "reason": DISCHARGED,
            "entries": [_outcome(s, s.entry.id in in_ledger, error) for s in recorded],
            "handover": None
            if not handed
            else handover_file(
                service.identity,
                hospital,
                patient=admission.patient,
                admission=admission.id,
                entries=[s.entry for s in handed],
                now=now,
            ),
        }
        ending.end_admissions(service, [admission], reason=DISCHARGED, now=now)
    return answer


async def _deliver_now(
    service: ServiceApi, admission: Admission, waiting: list[StoredEntry]
) -> tuple[set[str], str]:
    """One delivery attempt of ``waiting`` (bounded by ``ledger_timeout``): the ids her ledger holds after
    it, and the error when it failed."""
    if not waiting or not admission.ledger_url:
        return set(), ""
    post = partial(
        post_entries,
        admission.ledger_url,
        [s.entry.envelope() for s in waiting],
        service.identity,
        patient=admission.patient,
        timeout=service.settings.ledger_timeout,
        now=service.clock(),
    )
    try:
        answer = await anyio.to_thread.run_sync(post)
    except AlertsvcError as exc:
        return set(), str(exc)
    return {i for k in ("appended", "already") for i in answer.get(k, []) if isinstance(i, str)}, ""


def _outcome(stored: StoredEntry, in_ledger: bool, error: str) -> dict[str, Any]:
    if in_ledger:
        return {**stored.as_json(), "state": DELIVERED, "status": "in the patient's ledger"}
    why = stored.reason or (f"delivery failed: {error}" if error else "")
    status = "handed over at discharge: for the patient to import" + (f" ({why})" if why else "")
    return {**stored.as_json(), "state": HANDOVER, "status": status}


def _text(item: dict[str, Any], name: str, where: str, limit: int, *, required: bool) -> str | None:
    value = item.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise InputError(f"'{where}{name}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"'{where}{name}' must be non-empty text")
    if len(value) > limit:
        raise LimitExceeded(f"'{where}{name}': {len(value)} characters; at most {limit}")
    return " ".join(value.split())
