"""FHIR R4 bodies of ledger entries: build them, read them back, and fold them into current state.

medication -> MedicationStatement; allergy -> AllergyIntolerance (type allergy); reaction (a flagged bad
reaction) -> AllergyIntolerance (type intolerance, verificationStatus unconfirmed, recorder/asserter = who
flagged it); grant -> Consent (status active); revocation -> Consent (status inactive) pointing at the
grant entry. Identities are ``{"identifier": {"system": IDENTITY_SYSTEM, "value": "ed25519:..."}}``.

A later entry with the same resource id replaces an earlier one (a stopped medication is a new
MedicationStatement with the same id and status ``stopped``): current state = last entry per resource id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alertsvc.errors import InputError
from alertsvc.ledger.entries import SignedEntry, format_time, require_dict, require_list, require_str
from alertsvc.ledger.observations import Observation, read_observation
from alertsvc.ledger.references import IDENTITY_SYSTEM as IDENTITY_SYSTEM  # named as fhir.* by its users
from alertsvc.ledger.references import identity_ref as identity_ref
from alertsvc.ledger.references import new_resource_id as new_resource_id
from alertsvc.ledger.references import read_identity_ref as read_identity_ref

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ENTRY_SYSTEM = "urn:ietf:params:alertsvc:entry"
SCOPE_SYSTEM = "urn:ietf:params:alertsvc:scope"
SMART_SCOPE_SYSTEM = "urn:ietf:params:alertsvc:smart-scope"
PURPOSE_SYSTEM = "urn:ietf:params:alertsvc:purpose"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SNOMED = "http://snomed.info/sct"
NO_KNOWN_DRUG_ALLERGY = "409137002"
"""SNOMED CT "No known drug allergy": the code of a signed "no known drug allergies" allergy entry."""

CRITICALITIES = ("low", "high", "unable-to-assess")
ALLERGY_CATEGORIES = ("food", "medication", "environment", "biologic")
SEVERITIES = ("mild", "moderate", "severe")
MEDICATION_STATUSES = ("active", "stopped")
SMART_RESOURCES: Mapping[str, tuple[str, str]] = {
    "medications": ("MedicationStatement", ""),
    "allergies": ("AllergyIntolerance", "?type=allergy"),
    "reactions": ("AllergyIntolerance", "?type=intolerance"),
    "observations": ("Observation", ""),
}
"""Grant scope -> (FHIR resource type, SMART v2 scope query narrowing it)."""


def smart_scope(scope: str, access: str) -> str:
    """SMART v2 scope string, e.g. ``patient/AllergyIntolerance.rs?type=allergy`` for ("allergies", "rs")."""
    resource, query = SMART_RESOURCES[scope]
    return f"patient/{resource}.{access}{query}"


def drug_concept(text: str, rxcui: str | None) -> dict[str, Any]:
    """A CodeableConcept: RxNorm coding when the RxCUI is known, the text as given always."""
    if not text.strip():
        raise InputError("a drug or substance name must not be empty")
    concept: dict[str, Any] = {"text": text}
    if rxcui is not None:
        if not rxcui.isdigit():
            raise InputError(f"RxCUI {rxcui!r} must be all digits")
        concept["coding"] = [{"system": RXNORM, "code": rxcui}]
    return concept


def _status(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _choice(value: str, allowed: tuple[str, ...], *, what: str) -> str:
    if value not in allowed:
        raise InputError(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return value


# --- builders ---


def medication_statement(
    *, resource_id: str, patient: str, drug: str, rxcui: str | None, dose: str | None, effective: datetime
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": resource_id,
        "status": "active",
        "medicationCodeableConcept": drug_concept(drug, rxcui),
        "subject": identity_ref(patient),
        "effectiveDateTime": format_time(effective),
    }
    if dose:
        body["dosage"] = [{"text": dose}]
    return body


def stopped_statement(statement: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The same MedicationStatement (same id), status stopped, effective from its start until ``now``."""
    body = dict(statement)
    start = body.pop("effectiveDateTime", None)
    body["status"] = "stopped"
    body["effectivePeriod"] = (
        {"end": format_time(now)} if start is None else {"start": start, "end": format_time(now)}
    )
    return body


def allergy_intolerance(
    *,
    resource_id: str,
    patient: str,
    substance: str,
    rxcui: str | None,
    criticality: str,
    reaction: str | None,
    recorded: datetime,
    category: str = "medication",
) -> dict[str, Any]:
    """An allergy to ``substance``; ``category`` is FHIR's (food, medication, environment, biologic)."""
    body: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": resource_id,
        "clinicalStatus": _status(CLINICAL_STATUS, "active"),
        "type": "allergy",
        "category": [_choice(category, ALLERGY_CATEGORIES, what="allergy category")],
        "criticality": _choice(criticality, CRITICALITIES, what="criticality"),
        "code": drug_concept(substance, rxcui),
        "patient": identity_ref(patient),
        "recordedDate": format_time(recorded),
    }
    if reaction:
        body["reaction"] = [{"manifestation": [{"text": reaction}]}]
    return body


def reaction_intolerance(
    *,
    resource_id: str,
    patient: str,
    flagged_by: str,
    drug: str,
    rxcui: str | None,
    reaction: str,
    severity: str | None,
    observed: datetime,
    recorded: datetime,
) -> dict[str, Any]:
    """A flagged bad reaction; ``severity`` (mild, moderate, severe) may be unknown (None)."""
    if not reaction.strip():
        raise InputError("a flagged reaction needs a description of what happened")
    detail: dict[str, Any] = {"manifestation": [{"text": reaction}], "onset": format_time(observed)}
    if severity is not None:
        detail["severity"] = _choice(severity, SEVERITIES, what="severity")
    return {
        "resourceType": "AllergyIntolerance",
        "id": resource_id,
        "clinicalStatus": _status(CLINICAL_STATUS, "active"),
        "verificationStatus": _status(VERIFICATION_STATUS, "unconfirmed"),
        "type": "intolerance",
        "category": ["medication"],
        "code": drug_concept(drug, rxcui),
        "patient": identity_ref(patient),
        "recordedDate": format_time(recorded),
        "recorder": identity_ref(flagged_by),
        "asserter": identity_ref(flagged_by),
        "reaction": [detail],
    }


def _consent_frame(resource_id: str, status: str, patient: str, created: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": resource_id,
        "status": status,
        "scope": _status(CONSENT_SCOPE, "patient-privacy"),
        "category": [_status(CONSENT_CATEGORY, "npp")],
        "patient": identity_ref(patient),
        "policyRule": _status(ACT_CODE, "OPTIN"),  # FHIR invariant ppc-1: a policy or a policyRule
        "dateTime": format_time(created),
        "performer": [identity_ref(patient)],
    }


def grant_consent(
    *,
    resource_id: str,
    patient: str,
    grantee: str,
    scope: Iterable[str],
    write_scope: Iterable[str],
    not_before: datetime,
    expires_at: datetime,
    purpose: str,
    created: datetime,
) -> dict[str, Any]:
    """A Consent permitting ``grantee`` to read ``scope`` (and write ``write_scope``) within the period."""
    reads = sorted(set(scope))
    writes = sorted(set(write_scope))
    codes = [
        {
            "coding": [
                {"system": SCOPE_SYSTEM, "code": f"{access}:{name}"},
                {"system": SMART_SCOPE_SYSTEM, "code": smart_scope(name, "rs" if access == "read" else "cu")},
            ],
            "text": f"{access} {name}",
        }
        for access, names in (("read", reads), ("write", writes))
        for name in names
    ]
    classes = sorted({SMART_RESOURCES[name][0] for name in (*reads, *writes)})
    body = _consent_frame(resource_id, "active", patient, created)
    body["provision"] = {
        "type": "permit",
        "period": {"start": format_time(not_before), "end": format_time(expires_at)},
        "actor": [
            {
                "role": _status("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP"),
                "reference": identity_ref(grantee),
            }
        ],
        "purpose": [{"system": PURPOSE_SYSTEM, "code": purpose}],
        "class": [{"system": RESOURCE_TYPES, "code": name} for name in classes],
        "code": codes,
    }
    return body


def revocation_consent(
    *, grant_resource_id: str, patient: str, grant_entry_id: str, created: datetime
) -> dict[str, Any]:
    """The grant's Consent again (same id), status inactive, pointing at the grant entry it ends."""
    body = _consent_frame(grant_resource_id, "inactive", patient, created)
    body["sourceReference"] = {"identifier": {"system": ENTRY_SYSTEM, "value": grant_entry_id}}
    return body


# --- readers: typed views of verified entries ---


@dataclass(frozen=True)
class Medication:
    resource_id: str
    entry_id: str
    drug: str
    rxcui: str | None
    dose: str | None
    status: str
    author: str
    recorded: datetime


@dataclass(frozen=True)
class Allergy:
    resource_id: str
    entry_id: str
    substance: str
    rxcui: str | None
    criticality: str
    reaction: str | None
    author: str
    recorded: datetime
    category: str = "medication"
    no_known: bool = False
    """A signed "no known drug allergies" assertion (SNOMED CT 409137002), not an allergen."""


@dataclass(frozen=True)
class Reaction:
    resource_id: str
    entry_id: str
    drug: str
    rxcui: str | None
    reaction: str
    severity: str | None
    observed: str
    flagged_by: str
    recorded: datetime


def _what(entry: SignedEntry) -> str:
    return f"{entry.kind} entry {entry.id}"


def _resource(entry: SignedEntry, resource_type: str, subject_field: str) -> tuple[dict[str, Any], str]:
    what = _what(entry)
    body = entry.body
    if body.get("resourceType") != resource_type:
        raise InputError(f"{what}: body is a {body.get('resourceType')!r}, expected {resource_type}")
    if read_identity_ref(body.get(subject_field), what=f"{what} {subject_field}") != entry.patient:
        raise InputError(f"{what}: {subject_field} is not the entry's patient {entry.patient}")
    return body, require_str(body.get("id"), what=f"{what} id")


def _concept(value: object, *, what: str) -> tuple[str, str | None]:
    concept = require_dict(value, what=what)
    text = require_str(concept.get("text"), what=f"{what} text")
    rxcui = None
    for coding in require_list(concept.get("coding", []), what=f"{what} coding"):
        coding = require_dict(coding, what=f"{what} coding")
        if coding.get("system") == RXNORM:
            rxcui = require_str(coding.get("code"), what=f"{what} RxNorm code")
    return text, rxcui


def _first_manifestation(body: Mapping[str, Any], *, what: str) -> tuple[dict[str, Any], str] | None:
    reactions = require_list(body.get("reaction", []), what=f"{what} reaction")
    if not reactions:
        return None
    first = require_dict(reactions[0], what=f"{what} reaction[0]")
    manifestations = require_list(first.get("manifestation"), what=f"{what} reaction[0].manifestation")
    if not manifestations:
        raise InputError(f"{what}: reaction[0].manifestation is empty")
    text = require_dict(manifestations[0], what=f"{what} manifestation").get("text")
    return first, require_str(text, what=f"{what} manifestation text")


def read_medication(entry: SignedEntry) -> Medication:
    what = _what(entry)
    body, resource_id = _resource(entry, "MedicationStatement", "subject")
    drug, rxcui = _concept(body.get("medicationCodeableConcept"), what=f"{what} medication")
    dose = None
    if "dosage" in body:
        dosage = require_list(body["dosage"], what=f"{what} dosage")
        if dosage:
            dose = require_str(
                require_dict(dosage[0], what=f"{what} dosage").get("text"), what=f"{what} dose"
            )
    status = _choice(
        require_str(body.get("status"), what=f"{what} status"), MEDICATION_STATUSES, what="status"
    )
    return Medication(resource_id, entry.id, drug, rxcui, dose, status, entry.author, entry.created)


def read_allergy(entry: SignedEntry) -> Allergy:
    what = _what(entry)
    body, resource_id = _resource(entry, "AllergyIntolerance", "patient")
    if body.get("type") != "allergy":
        raise InputError(f"{what}: an allergy entry is an AllergyIntolerance of type allergy")
    substance, rxcui = _concept(body.get("code"), what=f"{what} code")
    criticality = require_str(body.get("criticality", "unable-to-assess"), what=f"{what} criticality")
    first = _first_manifestation(body, what=what)
    reaction = None if first is None else first[1]
    categories = require_list(body.get("category", ["medication"]), what=f"{what} category")
    category = _choice(require_str(categories[0], what=f"{what} category"), ALLERGY_CATEGORIES,
                       what="allergy category") if categories else "medication"  # fmt: skip
    return Allergy(
        resource_id, entry.id, substance, rxcui, _choice(criticality, CRITICALITIES, what="criticality"),
        reaction, entry.author, entry.created, category, is_no_known_allergy(body),
    )  # fmt: skip


def is_no_known_allergy(body: Mapping[str, Any]) -> bool:
    """Whether an AllergyIntolerance body asserts "no known drug allergy" (SNOMED CT 409137002)."""
    code = body.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    return isinstance(codings, list) and any(
        isinstance(c, dict) and c.get("system") == SNOMED and c.get("code") == NO_KNOWN_DRUG_ALLERGY
        for c in codings
    )


def read_reaction(entry: SignedEntry) -> Reaction:
    what = _what(entry)
    body, resource_id = _resource(entry, "AllergyIntolerance", "patient")
    if body.get("type") != "intolerance":
        raise InputError(f"{what}: a reaction entry is an AllergyIntolerance of type intolerance")
    drug, rxcui = _concept(body.get("code"), what=f"{what} code")
    first = _first_manifestation(body, what=what)
    if first is None:
        raise InputError(f"{what}: a flagged reaction needs reaction[0]")
    detail, text = first
    severity = None
    if "severity" in detail:
        severity = _choice(
            require_str(detail["severity"], what=f"{what} severity"), SEVERITIES, what="severity"
        )
    observed = require_str(detail.get("onset"), what=f"{what} onset")
    flagged_by = read_identity_ref(body.get("asserter"), what=f"{what} asserter")
    if flagged_by != entry.author:
        raise InputError(f"{what}: asserter {flagged_by} is not the entry's author {entry.author}")
    return Reaction(resource_id, entry.id, drug, rxcui, text, severity, observed, flagged_by, entry.created)


_CLINICAL_READERS: Mapping[str, Callable[[SignedEntry], Medication | Allergy | Reaction | Observation]] = {
    "medication": read_medication,
    "allergy": read_allergy,
    "reaction": read_reaction,
    "observation": read_observation,
}


def read_clinical(entry: SignedEntry) -> Medication | Allergy | Reaction | Observation:
    """Read a medication, allergy, reaction or observation entry's body (InputError naming the entry if
    malformed). Observations are read by ``alertsvc.ledger.observations``."""
    try:
        return _CLINICAL_READERS[entry.kind](entry)
    except KeyError:
        raise InputError(f"{_what(entry)} is not a medication, allergy, reaction or observation") from None


def current_medications(entries: Iterable[SignedEntry]) -> tuple[Medication, ...]:
    """Medications still active: the last statement per resource id, dropping those stopped."""
    return latest_medications(map(read_medication, entries))


def latest_medications(medications: Iterable[Medication]) -> tuple[Medication, ...]:
    """``current_medications`` of statements already read (in ledger order)."""
    latest = {m.resource_id: m for m in medications}
    return tuple(m for m in latest.values() if m.status == "active")


def current_allergies(entries: Iterable[SignedEntry]) -> tuple[Allergy, ...]:
    """The last allergy entry per resource id, leaving out "no known drug allergies" assertions: they
    are not allergens, and one can never end an allergy (see ``alertsvc.ledger.allergy_status``)."""
    return latest_allergies(map(read_allergy, entries))


def latest_allergies(allergies: Iterable[Allergy]) -> tuple[Allergy, ...]:
    """``current_allergies`` of allergy entries already read (in ledger order)."""
    return tuple({a.resource_id: a for a in allergies if not a.no_known}.values())


def current_reactions(entries: Iterable[SignedEntry]) -> tuple[Reaction, ...]:
    """The last flagged reaction per resource id."""
    return latest_reactions(map(read_reaction, entries))


def latest_reactions(reactions: Iterable[Reaction]) -> tuple[Reaction, ...]:
    """``current_reactions`` of reaction entries already read (in ledger order)."""
    return tuple({r.resource_id: r for r in reactions}.values())
