"""The ward's view of each admitted patient's allergy status (known, none known, not recorded, not
shared), listed beside the ward's alerts so the night shift can tell "no allergies" from "nobody asked".

The status is computed from the admission's verified slice and grant (``ledger.allergy_status``, pure);
reading it is a read of the patient's data, so each admission listed is audited.

A clinician may assert "no known drug allergies" from the ward (``POST /admissions/{id}/allergies`` with
``{"no_known_allergies": true, "clinician"}``, recorded by ``alertsvc.bedside``): ``none_known_entry``
signs it, or refuses it when allergies are recorded or not shared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alertsvc import admissions as adm
from alertsvc import audit, observation_desk, practitioner_entries, store
from alertsvc.access import Staff, require
from alertsvc.admissions import Admission
from alertsvc.clock import iso
from alertsvc.errors import Conflict, InputError
from alertsvc.knowledge.observations import LabValue, latest
from alertsvc.ledger import fhir
from alertsvc.ledger.allergy_status import AllergiesRecorded, allergy_status, refuse_if_allergies
from alertsvc.ledger.entries import SignedEntry
from alertsvc.ledger.practitioners import Clinician, no_known_allergies_entry
from alertsvc.ledger.slices import VerifiedSlice
from alertsvc.service_api import ServiceApi


async def ward_admissions(service: ServiceApi, ward_id: str, staff: Staff) -> list[dict[str, Any]]:
    """Each active admission of the ward (by bed) with its ``allergy_status`` object and its ``labs``: the
    latest value of each analyte the check uses (the slice's and the ward's), stale ones marked."""
    require(staff, ward=ward_id, roles=("nurse",))
    now = service.clock()
    admitted = sorted(adm.active_admissions(service.db, ward=ward_id), key=lambda a: (a.bed, a.id))
    patients = await service.patients_of([a.id for a in admitted], now)
    listed = []
    for admission in admitted:
        verified = patients[admission.id].verified
        listed.append(
            {
                "admission": admission.id,
                "bed": admission.bed,
                "patient": admission.label,
                "allergy_status": allergy_status(
                    *practitioner_entries.allergy_trees(
                        service.db, admission.id, verified
                    )  # with the ward's own
                ).as_json(),
                "labs": labs_json(
                    observation_desk.observations_of(service, admission.id, patients[admission.id]), now
                ),
            }
        )
    with store.write(service.db):
        for admission in admitted:
            audit.record(
                service.db,
                now=now,
                actor=staff.name,
                action="read-allergy-status",
                admission=admission.id,
                ward=ward_id,
            )
    return listed


def labs_json(values: list[LabValue], now: datetime) -> list[dict[str, Any]]:
    """The latest value per analyte, in a fixed order, each ``stale`` when too old for the check to use."""
    found = latest(values, now=now)
    rows = [(v, False) for v in found.current.values()] + [(v, True) for v in found.stale.values()]
    return [
        {"analyte": v.analyte, "text": v.text, "measured": iso(v.measured), "stale": stale}
        for v, stale in sorted(rows, key=lambda row: ANALYTE_ORDER.index(row[0].analyte))
    ]


ANALYTE_ORDER = ("inr", "potassium", "creatinine", "egfr", "qtc")


NONE_KNOWN_FIELDS = frozenset({"no_known_allergies", "clinician"})


def asserts_none_known(body: dict[str, Any]) -> bool:
    """Whether an allergy request asserts "no known drug allergies" (then it says nothing else); false or
    absent: it records an allergy."""
    if body.get("no_known_allergies", False) is False:
        return False
    if body["no_known_allergies"] is not True:
        raise InputError("'no_known_allergies' is true or false")
    other = sorted(set(body) - NONE_KNOWN_FIELDS)
    if other:
        raise InputError(
            f"'no_known_allergies' is asserted alone, with 'clinician': remove {', '.join(map(repr, other))}"
        )
    return True


def none_known_entry(
    service: ServiceApi, admission: Admission, verified: VerifiedSlice, clinician: Clinician, now: datetime
) -> SignedEntry:
    """The clinician's signed "no known drug allergies", refused (Conflict, nothing stored) when the
    admission records allergies, or when its grant does not share them: the ward cannot know there are
    none, and the assertion would hide allergies the patient has not shared."""
    if "allergies" not in verified.grant.scope:
        raise Conflict(
            f"admission {admission.id}: the patient's grant does not share her allergies, so the ward "
            "cannot assert she has none; ask for the allergies scope (POST /admissions/{id}/scope-requests)"
        )
    entry = no_known_allergies_entry(
        service.identity,
        patient=admission.patient,
        clinician=clinician,
        hospital=practitioner_entries.hospital_of(service),
        grant_id=verified.grant.id,
        now=now,
    )
    trees, _ = practitioner_entries.allergy_trees(service.db, admission.id, verified)
    try:
        refuse_if_allergies(entry, trees.get("allergies", ()))
    except AllergiesRecorded as exc:
        names = ", ".join(sorted({a.substance for a in fhir.current_allergies(trees.get("allergies", ()))}))
        raise Conflict(
            f"admission {admission.id} records allergies ({names}): 'no known drug allergies' is refused "
            "(an allergy cannot be ended)"
        ) from exc
    return entry
