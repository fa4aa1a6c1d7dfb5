"""What a patient (or a practitioner under a write grant) does to a ledger, as signed entries.

Used by the command line, the patient's own pages and the demo, so an entry means the same whichever
way it was made. Pure: the signer and ``now`` come in; appending is the caller's (``Ledger.append``).
"""

from __future__ import annotations

from datetime import datetime

from alertsvc.ledger import fhir
from alertsvc.ledger.allergen_category import category_of
from alertsvc.ledger.entries import SignedEntry, sign_entry
from alertsvc.ledger.identity import Identity


def medication(
    patient: Identity, drug: str, *, dose: str | None = None, rxcui: str | None = None, now: datetime
) -> SignedEntry:
    """The patient takes ``drug`` (an RxNorm coding when ``rxcui`` is known)."""
    body = fhir.medication_statement(
        resource_id=fhir.new_resource_id(),
        patient=patient.public_id,
        drug=drug,
        rxcui=rxcui,
        dose=dose,
        effective=now,
    )
    return sign_entry(patient, kind="medication", patient=patient.public_id, body=body, created=now)


def allergy(
    patient: Identity,
    substance: str,
    *,
    reaction: str | None = None,
    criticality: str = "unable-to-assess",
    rxcui: str | None = None,
    category: str | None = None,
    now: datetime,
) -> SignedEntry:
    """A documented allergy to ``substance``; its FHIR category, when not given, is read from the name
    (``allergen_category``: food, environment, biologic) or is medication when an RxCUI is known."""
    body = fhir.allergy_intolerance(
        category=category or ("medication" if rxcui else category_of(substance)),
        resource_id=fhir.new_resource_id(),
        patient=patient.public_id,
        substance=substance,
        rxcui=rxcui,
        criticality=criticality,
        reaction=reaction,
        recorded=now,
    )
    return sign_entry(patient, kind="allergy", patient=patient.public_id, body=body, created=now)


def flagged_reaction(
    flagger: Identity,
    drug: str,
    *,
    reaction: str,
    severity: str | None = None,
    observed: datetime | None = None,
    rxcui: str | None = None,
    patient: str | None = None,
    grant: str | None = None,
    now: datetime,
) -> SignedEntry:
    """A bad reaction to ``drug`` flagged by the patient, or by a practitioner under ``grant``."""
    owner = patient or flagger.public_id
    body = fhir.reaction_intolerance(
        resource_id=fhir.new_resource_id(),
        patient=owner,
        flagged_by=flagger.public_id,
        drug=drug,
        rxcui=rxcui,
        reaction=reaction,
        severity=severity,
        observed=now if observed is None else observed,
        recorded=now,
    )
    return sign_entry(flagger, kind="reaction", patient=owner, body=body, created=now, grant=grant)
