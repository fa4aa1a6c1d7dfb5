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
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alertsvc import admissions as adm
from alertsvc import allergy_desk, audit, idempotency, lookups, store
from alertsvc.admissions import Admission
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import Conflict, InputError, LimitExceeded, NotFound
from alertsvc.ledger import fhir
from alertsvc.ledger.entries import SignedEntry, format_time, parse_time, read_entry_parts
from alertsvc.ledger.grants import Grant
from alertsvc.ledger.observations import read_observation
from alertsvc.ledger.practitioners import (
    ROLES,
    Clinician,
    Hospital,
    allergy_body,
    practitioner_entry,
    reaction_body,
)
from alertsvc.ledger.slices import VerifiedSlice
from alertsvc.patient_data import Patient
from alertsvc.store import Database
from alertsvc.web.auth import Staff, require

if TYPE_CHECKING:
    from alertsvc.service import Service

PENDING, DELIVERED, HANDOVER = "pending", "delivered", "handover"
NO_WRITE_GRANT = "no write grant"
NO_LEDGER_ADDRESS = "admitted from a slice file: her ledger server's address is not known"

# The table (``practitioner_entries``) is made with the others by ``store.open_db``.


@dataclass(frozen=True)
class StoredEntry:
    """A practitioner entry of an admission and where it is on its way to the patient's ledger."""

    entry: SignedEntry
    admission: str
    clinician: Clinician
    state: str
    reason: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    delivered_at: datetime | None

    @property
    def status(self) -> str:
        """What the ward reads."""
        if self.state == DELIVERED:
            return "in the patient's ledger"
        if self.state == PENDING:
            if not self.attempts:
                return "awaiting delivery"
            tries = "1 attempt" if self.attempts == 1 else f"{self.attempts} attempts"
            return f"awaiting delivery ({tries}, last error: {self.last_error})"
        return f"not yet in the patient's ledger ({self.reason}): handed over at discharge"

    def as_json(self) -> dict[str, Any]:
        body = self.entry.body
        concept = body.get("code") or body.get("medicationCodeableConcept") or {}
        observed = read_observation(self.entry).quantity.text if self.entry.kind == "observation" else None
        return {
            "entry": self.entry.id,
            "kind": self.entry.kind,
            "drug": None if observed else concept.get("text"),
            "observation": observed,
            "no_known_allergies": self.entry.kind == "allergy" and fhir.is_no_known_allergy(body),
            "recorded_by": {"name": self.clinician.name, "role": self.clinician.role},
            "ward": self.clinician.ward,
            "created": format_time(self.entry.created),
            "state": self.state,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error or None,
            "next_attempt_at": None if self.next_attempt_at is None else iso(self.next_attempt_at),
            "delivered_at": None if self.delivered_at is None else iso(self.delivered_at),
        }


# -- storage -------------------------------------------------------------------------------------------


def insert(db: Database, stored: StoredEntry) -> None:
    """Inside the caller's transaction."""
    (seq,) = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM practitioner_entries").fetchone()
    clinician = {"name": stored.clinician.name, "role": stored.clinician.role, "ward": stored.clinician.ward}
    db.execute(
        """INSERT INTO practitioner_entries(id, admission, kind, payload, signature, created, clinician,
               state, reason, attempts, next_attempt_at, last_error, delivered_at, seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            stored.entry.id,
            stored.admission,
            stored.entry.kind,
            stored.entry.payload,
            stored.entry.signature,
            format_time(stored.entry.created),
            json.dumps(clinician),
            stored.state,
            stored.reason,
            stored.attempts,
            None if stored.next_attempt_at is None else iso(stored.next_attempt_at),
            stored.last_error,
            None,
            seq,
        ],
    )


_COLUMNS = (
    "id, admission, payload, signature, clinician, state, reason, attempts, next_attempt_at, last_error, "
    "delivered_at"
)


def _row(row: Sequence[Any]) -> StoredEntry:
    entry = read_entry_parts(bytes(row[2]), bytes(row[3]), what=f"stored practitioner entry {row[0]}")
    who = json.loads(row[4])
    return StoredEntry(
        entry=entry,
        admission=row[1],
        clinician=Clinician(who["name"], who["role"], who["ward"]),
        state=row[5],
        reason=row[6],
        attempts=row[7],
        next_attempt_at=None if row[8] is None else parse_iso(row[8]),
        last_error=row[9],
        delivered_at=None if row[10] is None else parse_iso(row[10]),
    )


def entries_of(db: Database, admission: str) -> list[StoredEntry]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM practitioner_entries WHERE admission = ? ORDER BY seq", [admission]
    )
    return [_row(r) for r in rows]


def pending(db: Database, *, due_by: datetime | None = None) -> list[StoredEntry]:
    """Entries awaiting delivery (those whose next attempt is due by ``due_by``, when given)."""
    sql = f"SELECT {_COLUMNS} FROM practitioner_entries WHERE state = ?"
    args: list[Any] = [PENDING]
    if due_by is not None:
        sql += " AND next_attempt_at <= ?"
        args.append(iso(due_by))
    return [_row(r) for r in db.execute(sql + " ORDER BY seq", args)]


# -- the working copy ----------------------------------------------------------------------------------


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


def allergy_trees(
    db: Database, admission: str, verified: VerifiedSlice
) -> tuple[Mapping[str, Sequence[SignedEntry]], Grant | None]:
    """The trees and grant the ward's allergy status is read from (``allergy_status``): the slice's, with
    the allergies recorded on the ward that it does not yet hold. The ward knows those whatever the
    grant shares, so with any of them the status is read without the grant (never "not shared")."""
    held = {e.id for e in verified.entries.get("allergies", ())}
    recorded = [
        s.entry for s in entries_of(db, admission) if s.entry.kind == "allergy" and s.entry.id not in held
    ]
    if not recorded:
        return verified.entries, verified.grant
    shared = verified.entries.get("allergies", ()) if "allergies" in verified.grant.scope else ()
    return {**verified.entries, "allergies": (*shared, *recorded)}, None


# -- recording -----------------------------------------------------------------------------------------


def delivery_state(grant: Grant, admission: Admission, kind: str) -> tuple[str, str]:
    """Where a new practitioner entry of ``kind`` starts: (state, reason)."""
    if not grant.may_write(kind):
        return HANDOVER, NO_WRITE_GRANT
    if not admission.ledger_url:
        return HANDOVER, NO_LEDGER_ADDRESS
    return PENDING, ""


def ward_admission(service: Service, admission_id: str, staff: Staff) -> Admission:
    """The staff member's ward's admission; another ward's is "no admission", as a guessed id is."""
    admission = adm.get_admission(service.db, admission_id)
    if admission is None or admission.ward != staff.ward:
        raise NotFound(f"no admission {admission_id}")
    require(staff, ward=admission.ward, roles=("nurse",))
    if not admission.active:
        raise Conflict(f"admission {admission_id} has ended")
    return admission


def _text(body: dict[str, Any], name: str, limit: int, setting: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise InputError(f"'{name}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"'{name}' must be non-empty text")
    if len(value) > limit:
        raise LimitExceeded(f"'{name}': {len(value)} characters; at most {limit} (setting {setting})")
    return " ".join(value.split())


def clinician_of(body: dict[str, Any], staff: Staff, *, name_limit: int) -> Clinician:
    value = body.get("clinician")
    if not isinstance(value, dict):
        raise InputError(f'\'clinician\' is required: {{"name", "role"}} (role one of {", ".join(ROLES)})')
    name = _text(value, "name", name_limit, "max_name_chars", required=True) or ""
    role = value.get("role")
    if role not in ROLES:
        raise InputError(f"'clinician.role' is one of {', '.join(ROLES)}, not {str(role)[:40]!r}")
    return Clinician(name=name, role=str(role), ward=staff.ward)


async def record(
    service: Service,
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
        service.patient_cache[admission.id] = patient
    service.publish(events)
    service.rebuild_timers()
    if state == PENDING:
        service.deliver_soon()
    return answer


async def _fhir_body(
    service: Service,
    admission: Admission,
    kind: str,
    body: dict[str, Any],
    clinician: Clinician,
    now: datetime,
) -> dict[str, Any]:
    """The AllergyIntolerance of a request, its texts within the limits and its drug one the normaliser
    knows (UnknownDrug, 422, naming it otherwise)."""
    names, notes = service.settings.max_name_chars, service.settings.max_note_chars
    note = _text(body, "note", notes, "max_note_chars", required=False)
    if kind == "reaction":
        drug = _text(body, "drug", names, "max_name_chars", required=True) or ""
        reaction = _text(body, "reaction", notes, "max_note_chars", required=True) or ""
        severity = _text(body, "severity", names, "max_name_chars", required=False)
        if severity is not None and severity not in fhir.SEVERITIES:
            raise InputError(f"'severity' is one of {', '.join(fhir.SEVERITIES)}, not {severity!r}")
        observed_text = _text(body, "observed", names, "max_name_chars", required=False)
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
    substance = _text(body, "substance", names, "max_name_chars", required=True) or ""
    reaction_text = _text(body, "reaction", notes, "max_note_chars", required=False)
    criticality = _text(body, "criticality", names, "max_name_chars", required=False) or "unable-to-assess"
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


def recorded_view(service: Service, admission_id: str, staff: Staff) -> dict[str, Any]:
    """The entries recorded on the ward for an admission, each with its delivery status."""
    admission = ward_admission(service, admission_id, staff)
    return {"admission": admission.id, "entries": [s.as_json() for s in entries_of(service.db, admission.id)]}


def hospital_of(service: Service) -> Hospital:
    return Hospital(public_id=service.identity.public_id, name=service.settings.hospital_name)
