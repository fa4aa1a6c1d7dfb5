"""Allergy status the ward can tell apart, and the signed "no known drug allergies" assertion.

Four states, from a slice (or a whole ledger) and the grant it was shared under (pure):

    known          the allergies tree holds allergies (listed)
    none-known     no allergy, and a signed "no known drug allergies" assertion (who, when)
    not-recorded   the grant shares allergies, but the tree holds neither
    not-shared     the grant's scope lacks allergies: the hospital cannot know

The assertion is an ``allergy`` entry whose FHIR AllergyIntolerance is coded SNOMED CT 409137002 "No
known drug allergy", verificationStatus confirmed, signed by the patient or by a practitioner under a
write grant. It is never an allergen: ``fhir.current_allergies`` leaves it out, so the check never
alerts on it. A real allergy recorded later supersedes it (the status becomes ``known``, the superseded
assertion still shown). Asserting it while the ledger holds allergies is refused (``AllergiesRecorded``)
at every append, whoever signs it: an allergy cannot be ended yet, so there is nothing to end first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from alertsvc.errors import InputError
from alertsvc.ledger import fhir
from alertsvc.ledger.entries import SignedEntry, format_time, sign_entry
from alertsvc.ledger.grants import Grant
from alertsvc.ledger.identity import Identity

State = Literal["known", "none-known", "not-recorded", "not-shared"]
NO_KNOWN_TEXT = "No known drug allergy"


class AllergiesRecorded(InputError):
    """A "no known drug allergies" assertion for a ledger that already holds allergies."""


@dataclass(frozen=True)
class Assertion:
    """A signed "no known drug allergies" assertion: by the patient or a practitioner, and when."""

    entry_id: str
    asserted_by: Literal["patient", "practitioner"]
    author: str
    recorder: str | None
    """The recorder's display (e.g. "Nia Brown (nurse, ward-5), St Elsewhere") when a practitioner's."""
    asserted_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry_id,
            "asserted_by": self.asserted_by,
            "author": self.author,
            "recorder": self.recorder,
            "asserted_at": format_time(self.asserted_at),
        }


@dataclass(frozen=True)
class AllergyStatus:
    state: State
    allergies: tuple[fhir.Allergy, ...] = ()
    assertion: Assertion | None = None
    """The assertion behind ``none-known``; for ``known``, the one a later allergy superseded, if any."""

    @property
    def label(self) -> str:
        """What the ward reads, in a few words."""
        if self.state == "known":
            names = ", ".join(a.substance for a in self.allergies)
            return f"Allergies: {names}"
        if self.state == "none-known":
            assert self.assertion is not None
            who = self.assertion.recorder or self.assertion.asserted_by
            return f"No known drug allergies (asserted by {who}, {format_time(self.assertion.asserted_at)})"
        if self.state == "not-recorded":
            return "Allergies not recorded: ask the patient"
        return "Allergies not shared by the patient's grant"

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "label": self.label,
            "allergies": [
                {
                    "substance": a.substance,
                    "rxcui": a.rxcui,
                    "category": a.category,
                    "criticality": a.criticality,
                    "reaction": a.reaction,
                    "entry": a.entry_id,
                }
                for a in self.allergies
            ],
            "assertion": None if self.assertion is None else self.assertion.as_json(),
            "superseded": self.state == "known" and self.assertion is not None,
        }


def no_known_allergies_body(
    *,
    resource_id: str,
    patient: str,
    recorded: datetime,
    asserter: Mapping[str, Any] | None = None,
    contained: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The assertion's FHIR AllergyIntolerance; ``asserter`` is a FHIR Reference (default: the patient),
    which may refer to a resource in ``contained`` (a practitioner's PractitionerRole)."""
    who = dict(asserter) if asserter is not None else fhir.identity_ref(patient)
    body: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": resource_id,
        "clinicalStatus": {"coding": [{"system": fhir.CLINICAL_STATUS, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": fhir.VERIFICATION_STATUS, "code": "confirmed"}]},
        "type": "allergy",
        "category": ["medication"],
        "code": {
            "coding": [{"system": fhir.SNOMED, "code": fhir.NO_KNOWN_DRUG_ALLERGY, "display": NO_KNOWN_TEXT}],
            "text": NO_KNOWN_TEXT,
        },
        "patient": fhir.identity_ref(patient),
        "recordedDate": format_time(recorded),
        "recorder": who,
        "asserter": who,
    }
    if contained:
        body["contained"] = [dict(c) for c in contained]
    return body


def no_known_allergies(
    author: Identity,
    *,
    now: datetime,
    patient: str | None = None,
    grant: str | None = None,
    asserter: Mapping[str, Any] | None = None,
    contained: Sequence[Mapping[str, Any]] = (),
) -> SignedEntry:
    """The signed assertion: by the patient (``author``), or by a practitioner under write ``grant``."""
    owner = patient or author.public_id
    body = no_known_allergies_body(
        resource_id=fhir.new_resource_id(),
        patient=owner,
        recorded=now,
        asserter=asserter,
        contained=contained,
    )
    return sign_entry(author, kind="allergy", patient=owner, body=body, created=now, grant=grant)


def refuse_if_allergies(entry: SignedEntry, allergy_entries: Iterable[SignedEntry]) -> None:
    """AllergiesRecorded when ``entry`` asserts no known drug allergies and allergies are recorded."""
    if entry.kind != "allergy" or not fhir.is_no_known_allergy(entry.body):
        return
    recorded = fhir.current_allergies(allergy_entries)
    if recorded:
        names = ", ".join(sorted({a.substance for a in recorded}))
        raise AllergiesRecorded(
            f"allergy entry {entry.id} asserts no known drug allergies, but the ledger records "
            f"{len(recorded)} allergies ({names}); an allergy cannot be ended, so this is refused"
        )


def _assertion(entry: SignedEntry) -> Assertion:
    asserter = entry.body.get("asserter")
    display = asserter.get("display") if isinstance(asserter, dict) else None
    practitioner = entry.author != entry.patient
    return Assertion(
        entry_id=entry.id,
        asserted_by="practitioner" if practitioner else "patient",
        author=entry.author,
        recorder=display if practitioner and isinstance(display, str) else None,
        asserted_at=entry.created,
    )


def allergy_status(trees: Mapping[str, Sequence[SignedEntry]], grant: Grant | None) -> AllergyStatus:
    """The status from a slice's (or a whole ledger's) trees and the grant it was shared under (None:
    the patient's own view of her whole ledger). Pure."""
    if grant is not None and "allergies" not in grant.scope:
        return AllergyStatus("not-shared")
    entries = trees.get("allergies", ())
    allergies = fhir.current_allergies(entries)
    assertions = [_assertion(e) for e in entries if fhir.is_no_known_allergy(e.body)]
    latest = max(assertions, key=lambda a: a.asserted_at) if assertions else None
    if allergies:
        return AllergyStatus("known", allergies, latest)
    if latest is not None:
        return AllergyStatus("none-known", (), latest)
    return AllergyStatus("not-recorded")
