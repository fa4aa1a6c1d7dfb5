"""Recording at the bedside: a reaction seen on the ward, or a new allergy, written back to the patient.

    POST /admissions/{id}/reactions | /allergies  (a nurse of the admission's ward)
      -> validate (bounded texts, a drug the normaliser knows, a clinician named in full; or, for
         ``{"no_known_allergies": true, "clinician"}``, that the admission records no allergy and its
         grant shares allergies)
      -> a practitioner entry signed by the service under the admission's grant (``ledger.practitioners``)
      -> in one transaction: the entry row (its delivery state), the audit record, the re-check of the
         admission with the entry in its working copy (alerts signed and outboxed), the Idempotency-Key
      -> publish to every shift at once; delivery to her ledger server follows (``alertsvc.delivery``)

The working copy of an admission is its verified slice with the practitioner entries recorded on the
ward that the slice does not yet hold (``working_copy``): an entry delivered to her ledger comes back in
the next read of it with the same id and is not counted twice. Entries belong to the admission's data:
they are purged with it (``admissions.purge``), after discharge has handed them over. Observations
recorded on the ward (``alertsvc.observation_desk``) use the same queue; the check reads them from the
admission's ``ward_observations``.

Delivery states (``practitioner_entries.state``): ``pending`` (awaiting delivery: the grant's write scope
covers the kind and her ledger server's address is known), ``delivered`` (in the patient's ledger) and
``handover`` (kept for the stay and handed over at discharge in a signed file: no write grant, no ledger
address, or her ledger refused it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from alertsvc import admissions as adm
from alertsvc import allergy_desk, audit, idempotency, lookups, store
from alertsvc.access import Staff
from alertsvc.admissions import Admission
from alertsvc.errors import InputError
from alertsvc.ledger import fhir
from alertsvc.ledger.entries import SignedEntry, parse_time
from alertsvc.ledger.practitioners import (
    Clinician,
    allergy_body,
    practitioner_entry,
    reaction_body,
)
from alertsvc.ledger.slices import VerifiedSlice
from alertsvc.patient_data import Patient
from alertsvc.practitioner_entries import (
    PENDING,
    StoredEntry,
    bounded_text,
    clinician_of,
    delivery_state,
    entries_of,
    hospital_of,
    insert,
    ward_admission,
)
from alertsvc.service_api import ServiceApi
from alertsvc.store import Database


def working_copy(verified: VerifiedSlice, recorded: Sequence[SignedEntry]) -> VerifiedSlice:
    """``verified`` with the reactions and allergies recorded on the ward that it does not yet hold."""
    held = {r.entry_id for r in verified.reactions} | {a.entry_id for a in verified.allergies}
    reactions = list(verified.reactions)
    allergies = list(verified.allergies)
    for entry in recorded:
        if entry.id in held:
            continue
        if entry.kind == "reaction":
            reactions.append(fhir.read_reaction(entry))
        elif entry.kind == "allergy" and not fhir.is_no_known_allergy(entry.body):  # not an allergen
            allergies.append(fhir.read_allergy(entry))
    if len(reactions) == len(verified.reactions) and len(allergies) == len(verified.allergies):
        return verified
    return dataclasses.replace(verified, reactions=tuple(reactions), allergies=tuple(allergies))


def working_copy_of(db: Database, admission: str, verified: VerifiedSlice) -> VerifiedSlice:
    return working_copy(verified, [s.entry for s in entries_of(db, admission)])


async def record(
    service: ServiceApi,
    admission_id: str,
    kind: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Record a reaction (``kind`` "reaction") or an allergy seen on the ward; see the module docstring."""
    admission = ward_admission(service, admission_id, staff)
    clinician = clinician_of(body, staff, name_limit=service.settings.max_name_chars)
    now = service.clock()
    none_known = kind == "allergy" and allergy_desk.asserts_none_known(body)
    fhir_body = None if none_known else await _fhir_body(service, admission, kind, body, clinician, now)
    async with service.locks.hold(("slice", admission.id)):
        admission = ward_admission(service, admission_id, staff)
        [previous] = (await service.patients_of([admission.id], now)).values()
        grant = previous.verified.grant
        if fhir_body is None:
            entry = allergy_desk.none_known_entry(service, admission, previous.verified, clinician, now)
        else:
            entry = practitioner_entry(
                service.identity,
                kind=kind,
                patient=admission.patient,
                body=fhir_body,
                grant_id=grant.id,
                now=now,
            )
        state, reason = delivery_state(grant, admission, kind)
        stored = StoredEntry(
            entry, admission.id, clinician, state, reason, 0, now if state == PENDING else None, "", None
        )
        working = working_copy(previous.verified, [entry])
        patient = Patient(working, await service.normalise(working))
        answer = {"admission": admission.id, **stored.as_json()}
        with store.write(service.db):
            service.active_admission(admission.id)  # a tick may have ended it meanwhile
            insert(service.db, stored)
            audit.record(
                service.db,
                now=now,
                actor=staff.name,
                action=f"record-{kind}",
                admission=admission.id,
                ward=admission.ward,
                patient_hash=adm.patient_hash(admission.patient),
                detail={"entry": entry.id, "clinician_role": clinician.role, "delivery": state},
            )
            events = service.reconcile(admission, patient, now)
            idempotency.remember(service.db, once, answer, admissions=[admission.id])
        service.patient_changed(admission.id, patient)
    service.publish(events)
    service.rebuild_timers()
    if state == PENDING:
        service.deliver_soon()
    return answer


async def _fhir_body(
    service: ServiceApi,
    admission: Admission,
    kind: str,
    body: dict[str, Any],
    clinician: Clinician,
    now: datetime,
) -> dict[str, Any]:
    """The AllergyIntolerance of a request, its texts within the limits and its drug one the normaliser
    knows (UnknownDrug, 422, naming it otherwise)."""
    names, notes = service.settings.max_name_chars, service.settings.max_note_chars
    note = bounded_text(body, "note", notes, "max_note_chars", required=False)
    if kind == "reaction":
        drug = bounded_text(body, "drug", names, "max_name_chars", required=True) or ""
        reaction = bounded_text(body, "reaction", notes, "max_note_chars", required=True) or ""
        severity = bounded_text(body, "severity", names, "max_name_chars", required=False)
        if severity is not None and severity not in fhir.SEVERITIES:
            raise InputError(f"'severity' is one of {', '.join(fhir.SEVERITIES)}, not {severity!r}")
        observed_text = bounded_text(body, "observed", names, "max_name_chars", required=False)
        observed = now if observed_text is None else parse_time(observed_text, what="'observed'")
        if observed > now:
            raise InputError(f"'observed' {observed_text} is in the future")
        found = await lookups.in_thread(service.lookups, service.normalizer.medication, drug)
        return reaction_body(
            patient=admission.patient,
            clinician=clinician,
            hospital=hospital_of(service),
            drug=drug,
            rxcui=found.ingredients[0].rxcui if len(found.ingredients) == 1 else None,
            reaction=reaction,
            severity=severity,
            observed=observed,
            recorded=now,
            note=note,
        )
    substance = bounded_text(body, "substance", names, "max_name_chars", required=True) or ""
    reaction_text = bounded_text(body, "reaction", notes, "max_note_chars", required=False)
    criticality = (
        bounded_text(body, "criticality", names, "max_name_chars", required=False) or "unable-to-assess"
    )
    if criticality not in fhir.CRITICALITIES:
        raise InputError(f"'criticality' is one of {', '.join(fhir.CRITICALITIES)}, not {criticality!r}")
    allergen = await lookups.in_thread(service.lookups, service.normalizer.resolve_allergy, substance)
    return allergy_body(
        patient=admission.patient,
        clinician=clinician,
        hospital=hospital_of(service),
        substance=substance,
        rxcui=allergen.ingredients[0].rxcui if len(allergen.ingredients) == 1 else None,
        criticality=criticality,
        reaction=reaction_text,
        recorded=now,
        note=note,
    )


def recorded_view(service: ServiceApi, admission_id: str, staff: Staff) -> dict[str, Any]:
    """The entries recorded on the ward for an admission, each with its delivery status."""
    admission = ward_admission(service, admission_id, staff)
    return {"admission": admission.id, "entries": [s.as_json() for s in entries_of(service.db, admission.id)]}
