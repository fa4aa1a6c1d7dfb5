"""Entries the hospital writes into a patient's ledger: a reaction seen on the ward, a new allergy, a
"no known drug allergies" assertion, an observation measured on the ward, the discharge medicines. Pure:
the signer, the grant and ``now`` come in.

Such an entry is authored (signed) by the hospital service's own identity, names the patient's grant it
is written under (``grant`` in the payload; the ledger accepts it only when that grant's write scope
covers the kind, see ``grants.write_problem``), and names the clinician who recorded it inside the body:
a contained FHIR ``PractitionerRole`` (``#recorder``: the clinician's name, role and ward, and the
hospital as its ``organization``, identified by the service's public id) that ``recorder`` and
``asserter`` (AllergyIntolerance), ``performer`` (Observation) or ``informationSource``
(MedicationStatement) refer to. The
reference also carries the service's identity, so ``fhir.read_reaction``'s rule "the asserter is the
author" holds for practitioner-flagged reactions as for the patient's own.

``recorded_by(entry)`` reads the clinician and the hospital back from an entry (None for the patient's
own entries), for the patient's page and the ward.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alertsvc.errors import InputError
from alertsvc.ledger import fhir
from alertsvc.ledger.allergen_category import category_of
from alertsvc.ledger.allergy_status import no_known_allergies
from alertsvc.ledger.entries import SignedEntry, format_time, require_dict, require_list, sign_entry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.observations import Quantity, observation_resource

ANNOTATES = "urn:ietf:params:alertsvc:annotates"
"""Extension on a patient's note naming the practitioner entry it is about (valueIdentifier: entry id)."""
ROLES = ("nurse", "pharmacist", "physician")
"""Who records at the bedside."""
RECORDER_ID = "recorder"
MAX_NAME = 200
MAX_NOTE = 2000


@dataclass(frozen=True)
class Clinician:
    """The person who saw it: name, role (nurse, pharmacist, physician) and ward."""

    name: str
    role: str
    ward: str

    def __post_init__(self) -> None:
        for field_name, value in (("name", self.name), ("ward", self.ward)):
            if not value.strip():
                raise InputError(f"clinician {field_name} must not be empty")
            if len(value) > MAX_NAME:
                raise InputError(f"clinician {field_name}: {len(value)} characters; at most {MAX_NAME}")
        if self.role not in ROLES:
            raise InputError(f"clinician role {self.role!r} is not one of {', '.join(ROLES)}")

    @property
    def display(self) -> str:
        """``Nia Brown (nurse, ward-5)``."""
        return f"{self.name} ({self.role}, {self.ward})"


@dataclass(frozen=True)
class Hospital:
    """The hospital as it signs: the service's public id, and the name people read."""

    public_id: str
    name: str


@dataclass(frozen=True)
class RecordedBy:
    """Who recorded a practitioner entry, read back from its body."""

    clinician: Clinician
    hospital: Hospital

    def as_json(self) -> dict[str, str]:
        return {
            "clinician": self.clinician.name,
            "role": self.clinician.role,
            "ward": self.clinician.ward,
            "hospital": self.hospital.name,
            "hospital_id": self.hospital.public_id,
        }


def practitioner_role(clinician: Clinician, hospital: Hospital) -> dict[str, Any]:
    """The contained PractitionerRole naming the clinician, their role and ward, for the hospital."""
    return {
        "resourceType": "PractitionerRole",
        "id": RECORDER_ID,
        "practitioner": {"type": "Practitioner", "display": clinician.name},
        "organization": {
            "type": "Organization",
            "identifier": {"system": fhir.IDENTITY_SYSTEM, "value": hospital.public_id},
            "display": hospital.name,
        },
        "code": [{"text": clinician.role}],
        "location": [{"display": clinician.ward}],
    }


def recorder_ref(clinician: Clinician, hospital: Hospital) -> dict[str, Any]:
    """A Reference to the contained PractitionerRole, carrying the signing identity too."""
    return {
        "reference": f"#{RECORDER_ID}",
        "type": "PractitionerRole",
        "identifier": {"system": fhir.IDENTITY_SYSTEM, "value": hospital.public_id},
        "display": f"{clinician.display}, {hospital.name}",
    }


def _note(text: str | None, clinician: Clinician, recorded: datetime) -> list[dict[str, Any]]:
    if not text:
        return []
    if len(text) > MAX_NOTE:
        raise InputError(f"note: {len(text)} characters; at most {MAX_NOTE}")
    return [{"authorString": clinician.name, "time": format_time(recorded), "text": text}]


def reaction_body(
    *,
    patient: str,
    clinician: Clinician,
    hospital: Hospital,
    drug: str,
    rxcui: str | None,
    reaction: str,
    severity: str | None,
    observed: datetime,
    recorded: datetime,
    note: str | None = None,
    resource_id: str | None = None,
) -> dict[str, Any]:
    """A reaction seen on the ward: AllergyIntolerance (intolerance, confirmed), recorded by the clinician."""
    body = fhir.reaction_intolerance(
        resource_id=resource_id or fhir.new_resource_id(),
        patient=patient,
        flagged_by=hospital.public_id,
        drug=drug,
        rxcui=rxcui,
        reaction=reaction,
        severity=severity,
        observed=observed,
        recorded=recorded,
    )
    body["verificationStatus"] = {"coding": [{"system": fhir.VERIFICATION_STATUS, "code": "confirmed"}]}
    return _signed_by_clinician(body, clinician, hospital, note, recorded)


def allergy_body(
    *,
    patient: str,
    clinician: Clinician,
    hospital: Hospital,
    substance: str,
    rxcui: str | None,
    criticality: str,
    reaction: str | None,
    recorded: datetime,
    note: str | None = None,
    resource_id: str | None = None,
) -> dict[str, Any]:
    """A new allergy found on the ward: AllergyIntolerance (allergy, confirmed), recorded by the clinician;
    its ``category`` read from the allergen's name (food, environment, biologic, else medication)."""
    body = fhir.allergy_intolerance(
        resource_id=resource_id or fhir.new_resource_id(),
        patient=patient,
        substance=substance,
        rxcui=rxcui,
        criticality=criticality,
        reaction=reaction,
        recorded=recorded,
        category=category_of(substance),
    )
    body["verificationStatus"] = {"coding": [{"system": fhir.VERIFICATION_STATUS, "code": "confirmed"}]}
    return _signed_by_clinician(body, clinician, hospital, note, recorded)


def _signed_by_clinician(
    body: dict[str, Any], clinician: Clinician, hospital: Hospital, note: str | None, recorded: datetime
) -> dict[str, Any]:
    ref = recorder_ref(clinician, hospital)
    body["contained"] = [practitioner_role(clinician, hospital)]
    body["recorder"] = ref
    body["asserter"] = ref
    notes = _note(note, clinician, recorded)
    if notes:
        body["note"] = notes
    return body


def no_known_allergies_entry(
    service: Identity, *, patient: str, clinician: Clinician, hospital: Hospital, grant_id: str, now: datetime
) -> SignedEntry:
    """A practitioner's "no known drug allergies" assertion (``allergy_status.no_known_allergies``), signed
    by the service under ``grant_id``, asserted and recorded by the clinician (contained PractitionerRole).
    The caller refuses it first when allergies are recorded (``allergy_status.refuse_if_allergies``)."""
    if service.public_id == patient:
        raise InputError("a practitioner entry is signed by the hospital, not by the patient")
    return no_known_allergies(
        service,
        now=now,
        patient=patient,
        grant=grant_id,
        asserter=recorder_ref(clinician, hospital),
        contained=[practitioner_role(clinician, hospital)],
    )


def observation_body(
    *,
    patient: str,
    clinician: Clinician,
    hospital: Hospital,
    quantity: Quantity,
    measured: datetime,
    recorded: datetime,
    note: str | None = None,
    resource_id: str | None = None,
) -> dict[str, Any]:
    """A value measured on the ward: Observation (final, LOINC, UCUM) whose ``performer`` is the clinician."""
    ref = recorder_ref(clinician, hospital)
    body = observation_resource(
        resource_id=resource_id or fhir.new_resource_id(),
        patient=patient,
        quantity=quantity,
        effective=measured,
        issued=recorded,
        performer=hospital.public_id,
        performer_display=str(ref["display"]),
    )
    body["contained"] = [practitioner_role(clinician, hospital)]
    body["performer"] = [ref]
    notes = _note(note, clinician, recorded)
    if notes:
        body["note"] = notes
    return body


def discharge_statement_body(
    *,
    patient: str,
    clinician: Clinician,
    hospital: Hospital,
    drug: str,
    rxcui: str | None,
    dose: str | None,
    effective: datetime,
    note: str | None = None,
    resource_id: str | None = None,
) -> dict[str, Any]:
    """A discharge medicine: MedicationStatement (active) whose ``informationSource`` is the clinician."""
    body = fhir.medication_statement(
        resource_id=resource_id or fhir.new_resource_id(),
        patient=patient,
        drug=drug,
        rxcui=rxcui,
        dose=dose,
        effective=effective,
    )
    body["contained"] = [practitioner_role(clinician, hospital)]
    body["informationSource"] = recorder_ref(clinician, hospital)
    body["category"] = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/medication-statement-category",
                "code": "outpatient",
            }
        ],
        "text": "discharge medication",
    }
    notes = _note(note, clinician, effective)
    if notes:
        body["note"] = notes
    return body


def practitioner_entry(
    service: Identity, *, kind: str, patient: str, body: Mapping[str, Any], grant_id: str, now: datetime
) -> SignedEntry:
    """The entry, signed by the service's identity under the patient's grant ``grant_id``."""
    if service.public_id == patient:
        raise InputError("a practitioner entry is signed by the hospital, not by the patient")
    return sign_entry(service, kind=kind, patient=patient, body=body, created=now, grant=grant_id)


def patient_note(patient: Identity, target: SignedEntry, text: str, *, now: datetime) -> SignedEntry:
    """Her own signed note on a reaction or allergy a practitioner recorded.

    An entry of the same kind, signed by her, about the same substance (a new resource id, so the
    practitioner's entry is unchanged: current state is the last entry per resource id), with her words as
    its ``note`` and an ``ANNOTATES`` extension naming the entry it is about. Clinically it is her own
    record of the same substance, so it can only add to what the ward is told, never take away.
    """
    if target.author == target.patient or target.patient != patient.public_id:
        raise InputError(f"entry {target.id} was not written by a practitioner into this ledger")
    if target.kind not in ("reaction", "allergy"):
        raise InputError(f"entry {target.id} is a {target.kind}: notes are on reactions and allergies")
    text = " ".join(text.split())
    if not text:
        raise InputError("a note needs some words")
    if len(text) > MAX_NOTE:
        raise InputError(f"note: {len(text)} characters; at most {MAX_NOTE}")
    body = {
        k: v
        for k, v in target.body.items()
        if k not in ("id", "contained", "recorder", "asserter", "note", "verificationStatus", "recordedDate")
    }
    body["id"] = fhir.new_resource_id()
    body["recordedDate"] = format_time(now)
    if target.kind == "reaction":
        body["recorder"] = body["asserter"] = fhir.identity_ref(patient.public_id)
    body["note"] = [{"time": format_time(now), "text": text}]
    body["extension"] = [
        {"url": ANNOTATES, "valueIdentifier": {"system": fhir.ENTRY_SYSTEM, "value": target.id}}
    ]
    return sign_entry(patient, kind=target.kind, patient=patient.public_id, body=body, created=now)


def annotated(entry: SignedEntry) -> str | None:
    """The id of the entry a patient's note is about (None for anything else)."""
    if entry.author != entry.patient:
        return None
    for extension in entry.body.get("extension") or ():
        if isinstance(extension, dict) and extension.get("url") == ANNOTATES:
            value = extension.get("valueIdentifier")
            if isinstance(value, dict) and isinstance(value.get("value"), str):
                return str(value["value"])
    return None


def recorded_by(entry: SignedEntry) -> RecordedBy | None:
    """The clinician and hospital a practitioner entry names; None for an entry that names none."""
    if entry.author == entry.patient:
        return None
    contained = entry.body.get("contained")
    if not isinstance(contained, list):
        return None
    for item in contained:
        if isinstance(item, dict) and item.get("id") == RECORDER_ID:
            return _read_role(item, what=f"{entry.kind} entry {entry.id} recorder")
    return None


def _read_role(role: Mapping[str, Any], *, what: str) -> RecordedBy | None:
    try:
        practitioner = require_dict(role.get("practitioner"), what=f"{what} practitioner")
        organization = require_dict(role.get("organization"), what=f"{what} organization")
        codes = require_list(role.get("code"), what=f"{what} code")
        locations = require_list(role.get("location"), what=f"{what} location")
        clinician = Clinician(
            name=str(practitioner.get("display", "")),
            role=str(require_dict(codes[0], what=f"{what} code").get("text", "")) if codes else "",
            ward=str(require_dict(locations[0], what=f"{what} location").get("display", ""))
            if locations
            else "",
        )
        hospital = Hospital(
            public_id=fhir.read_identity_ref(organization, what=f"{what} organization"),
            name=str(organization.get("display", "")),
        )
    except InputError:
        return None
    return RecordedBy(clinician, hospital)
