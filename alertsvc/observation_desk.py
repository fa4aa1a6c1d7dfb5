"""Observations recorded on the ward (``POST /admissions/{id}/observations``): an INR, potassium,
creatinine, eGFR or QTc measured in hospital, stored with the admission, and the check run again at once
so a changed severity reaches every shift's view (signed alerts, as always).

The value is checked like a ledger observation (``alertsvc.ledger.observations``): an unknown LOINC code
or name, a missing or wrong unit, a value out of any plausible range, a time in the future or a field
alertsvc does not know is refused naming what was wrong, and nothing is stored.

It is also written back to the patient, like a reaction or allergy recorded at the bedside: a
practitioner entry (kind ``observation``, FHIR Observation whose ``performer`` is the recording clinician
in a contained PractitionerRole, ``ledger.practitioners.observation_body``) signed by the service under
the admission's grant, queued in ``practitioner_entries`` in the same transaction and delivered by
``alertsvc.delivery`` when the grant's write scope covers ``observations``, else handed over at
discharge. The row in ``ward_observations`` names that entry: once the patient's ledger sends it back in
a slice, the check counts it once (``distinct_values``). Both are deleted with the admission.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alertsvc import admissions as adm
from alertsvc import audit, idempotency, practitioner_entries, store
from alertsvc.access import Staff, require
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import Conflict, InputError, LimitExceeded, NotFound
from alertsvc.knowledge.observations import LabValue
from alertsvc.ledger import observations
from alertsvc.ledger.practitioners import Clinician, observation_body, practitioner_entry
from alertsvc.patient_data import distinct_values
from alertsvc.service_api import ServiceApi
from alertsvc.ward_observations import WardObservation, recorded_values, save

if TYPE_CHECKING:
    from alertsvc.patient_data import Patient

FIELDS = frozenset({"code", "value", "unit", "measured", "note", "clinician"})
CLOCK_SKEW = timedelta(seconds=60)
"""How far after the service's clock a measurement time may be (a ward device's clock runs a little fast)."""
ROLES = ("nurse",)
"""Who records observations: ward staff (the roles a staff token can have that work on the ward)."""


@dataclass(frozen=True)
class ObservationRequest:
    """What a ward asks to record: the checked value, when it was measured (never after now), a note."""

    quantity: observations.Quantity
    measured: datetime
    note: str


def read_request(body: dict[str, Any], *, now: datetime, max_chars: int, max_note: int) -> ObservationRequest:
    """The request's value, time and note, checked; InputError (or LimitExceeded) naming the field."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r}: an observation has {', '.join(sorted(FIELDS))}")
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        raise InputError(
            "'code' is required: a LOINC code (6301-6, 2823-3, ...) or INR, potassium, eGFR, QTc"
        )
    unit = body.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise InputError("'unit' must be text, e.g. mmol/L")
    for name, text in (("code", code), ("unit", unit or "")):
        if len(text) > max_chars:
            raise LimitExceeded(
                f"'{name}': {len(text)} characters; at most {max_chars} (setting max_name_chars)"
            )
    value = body.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError("'value' is required and must be a number, e.g. 4.2")
    quantity = observations.resolve(code, float(value), unit)
    measured = now
    if "measured" in body:
        if not isinstance(body["measured"], str):
            raise InputError("'measured' must be an ISO 8601 time like 2026-03-08T09:00:00Z")
        try:
            measured = parse_iso(body["measured"])
        except ValueError as exc:
            raise InputError(f"'measured': {body['measured']!r} is not an ISO 8601 time with a zone") from exc
        if measured > now + CLOCK_SKEW:
            raise InputError(f"'measured' {iso(measured)} is after now ({iso(now)})")
    note = body.get("note", "")
    if not isinstance(note, str):
        raise InputError("'note' must be text")
    if len(note) > max_note:
        raise LimitExceeded(f"'note': {len(note)} characters; at most {max_note} (setting max_note_chars)")
    return ObservationRequest(quantity, min(measured, now), note.strip())


async def record(
    service: ServiceApi,
    admission_id: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Store an observation for the admission, queue it for her ledger, re-check and alert at once."""
    admission = adm.get_admission(service.db, admission_id)
    if admission is None or admission.ward != staff.ward:  # another ward's: as an id that does not exist
        raise NotFound(f"no admission {admission_id}")
    require(staff, ward=admission.ward, roles=ROLES)
    if not admission.active:
        raise Conflict(f"admission {admission_id} has ended")
    now = service.clock()
    settings = service.settings
    asked = read_request(body, now=now, max_chars=settings.max_name_chars, max_note=settings.max_note_chars)
    clinician = (
        practitioner_entries.clinician_of(body, staff, name_limit=settings.max_name_chars)
        if "clinician" in body
        else Clinician(name=staff.name, role=staff.role, ward=staff.ward)
    )
    async with service.locks.hold(("slice", admission.id)):
        admission = practitioner_entries.ward_admission(service, admission_id, staff)
        patient = (await service.patients_of([admission.id], now))[admission.id]
        grant = patient.verified.grant
        resource = observation_body(
            patient=admission.patient,
            clinician=clinician,
            hospital=practitioner_entries.hospital_of(service),
            quantity=asked.quantity,
            measured=asked.measured,
            recorded=now,
            note=asked.note or None,
        )
        entry = practitioner_entry(
            service.identity,
            kind="observation",
            patient=admission.patient,
            body=resource,
            grant_id=grant.id,
            now=now,
        )
        state, reason = practitioner_entries.delivery_state(grant, admission, "observation")
        stored = practitioner_entries.StoredEntry(
            entry,
            admission.id,
            clinician,
            state,
            reason,
            0,
            now if state == practitioner_entries.PENDING else None,
            "",
            None,
        )
        found = WardObservation(
            id="obs-" + uuid.uuid4().hex[:16],
            admission=admission.id,
            quantity=asked.quantity,
            measured=asked.measured,
            recorded_by=clinician.name,
            recorded_at=now,
            note=asked.note,
            resource=resource,
            entry=entry.id,
        )
        with store.write(service.db):
            service.active_admission(admission.id)  # a tick may have ended it meanwhile
            save(service.db, found, ward=admission.ward)
            practitioner_entries.insert(service.db, stored)
            audit.record(
                service.db,
                now=now,
                actor=staff.name,
                action="record-observation",
                admission=admission.id,
                ward=admission.ward,
                detail={
                    "observation": found.id,
                    "code": asked.quantity.code.code,
                    "entry": entry.id,
                    "delivery": state,
                },
            )
            events = service.reconcile(admission, patient, now)
            answer = {
                "observation": found.as_json(),
                "alerts": sorted({json.loads(e.data)["id"] for e in events if e.type == "alert"}),
                "in_patient_ledger": False,
                "ledger_note": stored.status,
                "delivery": {"admission": admission.id, **stored.as_json()},
            }
            idempotency.remember(service.db, once, answer, admissions=[admission.id])
    service.publish(events)
    service.rebuild_timers()
    if state == practitioner_entries.PENDING:
        service.deliver_soon()
    return answer


# -- storage (the table is in ``store.sqlite.SCHEMA``; purged with the admission) --------------------------


def observations_of(service: ServiceApi, admission: str, patient: Patient) -> list[LabValue]:
    """Every observation the check of an admission uses: the slice's and those recorded on the ward."""
    return distinct_values(patient.inputs.observations, recorded_values(service.db, admission))
