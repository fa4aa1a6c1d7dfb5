"""Practitioner entries: built by the hospital, signed by its identity under the patient's write grant,
accepted by her ledger only when that grant allows them, and read back as "recorded by"."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alertsvc.errors import GrantExpired, GrantRevoked, InputError, OutOfScope, UnknownSigner
from alertsvc.ledger import fhir, grants, observations
from alertsvc.ledger.allergy_status import allergy_status
from alertsvc.ledger.entries import SignedEntry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.practitioners import (
    Clinician,
    Hospital,
    allergy_body,
    annotated,
    discharge_statement_body,
    no_known_allergies_entry,
    observation_body,
    patient_note,
    practitioner_entry,
    reaction_body,
    recorded_by,
)
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, STRANGER

NURSE = Clinician(name="Nia Brown", role="nurse", ward="ward-5")
ST_ELSEWHERE = Hospital(public_id=HOSPITAL.public_id, name="St Elsewhere")


def write_grant(scope: tuple[str, ...] = ("reactions", "allergies")) -> SignedEntry:
    return grants.new_grant(
        PATIENT,
        grantee=HOSPITAL.public_id,
        scope=("medications", "allergies", "reactions"),
        write_scope=scope,
        not_before=NOW,
        hours=48,
        now=NOW,
    )


def rash(
    grant_id: str, *, at: datetime = NOW, signer: Identity = HOSPITAL, hospital: Hospital = ST_ELSEWHERE
) -> SignedEntry:
    body = reaction_body(
        patient=PATIENT.public_id,
        clinician=NURSE,
        hospital=hospital,
        drug="amoxicillin",
        rxcui="723",
        reaction="rash",
        severity="moderate",
        observed=at,
        recorded=at,
        note="widespread rash 2 h after the 08:00 dose",
    )
    return practitioner_entry(
        signer, kind="reaction", patient=PATIENT.public_id, body=body, grant_id=grant_id, now=at
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.init(tmp_path / "p.ledger", PATIENT, now=NOW)


def test_a_reaction_seen_on_the_ward_is_a_signed_allergy_intolerance_naming_the_clinician(
    ledger: Ledger,
) -> None:
    grant = write_grant()
    entry = rash(grant.id)
    body = entry.body
    assert entry.author == HOSPITAL.public_id and entry.grant == grant.id
    assert body["resourceType"] == "AllergyIntolerance" and body["type"] == "intolerance"
    assert body["recorder"] == body["asserter"]
    assert body["recorder"]["reference"] == "#recorder"
    [role] = body["contained"]
    assert role["resourceType"] == "PractitionerRole"
    assert role["practitioner"]["display"] == "Nia Brown"
    assert role["organization"]["display"] == "St Elsewhere"
    assert body["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert body["note"][0]["text"].startswith("widespread rash")
    read = fhir.read_reaction(entry)
    assert read.flagged_by == HOSPITAL.public_id and read.drug == "amoxicillin"
    ledger.append([grant], patient=PATIENT, now=NOW)
    ledger.append([entry], patient=PATIENT, now=NOW + timedelta(minutes=1))
    snapshot = ledger.verify()
    assert snapshot.trees["reactions"][0].id == entry.id
    who = recorded_by(snapshot.trees["reactions"][0])
    assert who is not None
    assert who.as_json() == {
        "clinician": "Nia Brown",
        "role": "nurse",
        "ward": "ward-5",
        "hospital": "St Elsewhere",
        "hospital_id": HOSPITAL.public_id,
    }


def test_an_allergy_and_a_discharge_medicine(ledger: Ledger) -> None:
    grant = write_grant(("allergies", "medications"))
    allergy = practitioner_entry(
        HOSPITAL,
        kind="allergy",
        patient=PATIENT.public_id,
        body=allergy_body(
            patient=PATIENT.public_id,
            clinician=NURSE,
            hospital=ST_ELSEWHERE,
            substance="penicillin",
            rxcui="70618",
            criticality="high",
            reaction="hives",
            recorded=NOW,
        ),
        grant_id=grant.id,
        now=NOW,
    )
    discharge = practitioner_entry(
        HOSPITAL,
        kind="medication",
        patient=PATIENT.public_id,
        body=discharge_statement_body(
            patient=PATIENT.public_id,
            clinician=Clinician("Dr Okafor", "physician", "ward-5"),
            hospital=ST_ELSEWHERE,
            drug="doxycycline",
            rxcui="3640",
            dose="100 mg twice daily",
            effective=NOW,
        ),
        grant_id=grant.id,
        now=NOW,
    )
    assert fhir.read_allergy(allergy).criticality == "high"
    assert discharge.body["informationSource"]["type"] == "PractitionerRole"
    assert fhir.read_medication(discharge).status == "active"
    ledger.append([grant, allergy, discharge], patient=PATIENT, now=NOW)
    snapshot = ledger.verify()
    who = recorded_by(snapshot.trees["medications"][0])
    assert who is not None and who.clinician.role == "physician"
    assert recorded_by(grant) is None


@pytest.mark.parametrize(
    ("name", "role", "ward", "wrong"),
    [
        pytest.param("", "nurse", "w", "name", id="no-name"),
        pytest.param("Nia", "porter", "w", "role", id="unknown-role"),
        pytest.param("Nia", "nurse", " ", "ward", id="no-ward"),
        pytest.param("N" * 201, "nurse", "w", "name", id="long-name"),
    ],
)
def test_a_clinician_is_named_in_full(name: str, role: str, ward: str, wrong: str) -> None:
    with pytest.raises(InputError, match=wrong):
        Clinician(name, role, ward)


def test_a_grant_without_write_scope_refuses_the_entry_and_nothing_is_stored(ledger: Ledger) -> None:
    read_only = write_grant(())
    ledger.append([read_only], patient=PATIENT, now=NOW)
    with pytest.raises(OutOfScope, match="write scope does not cover reaction"):
        ledger.append([rash(read_only.id)], patient=PATIENT, now=NOW)
    assert ledger.verify().trees["reactions"] == ()


def test_wrong_kind_expired_revoked_and_forged_entries_are_refused(ledger: Ledger) -> None:
    grant = write_grant(("allergies",))  # allergies only: a reaction is the wrong kind
    ledger.append([grant], patient=PATIENT, now=NOW)
    with pytest.raises(OutOfScope, match="does not cover reaction"):
        ledger.append([rash(grant.id)], patient=PATIENT, now=NOW)
    scoped = write_grant()
    ledger.append([scoped], patient=PATIENT, now=NOW)
    with pytest.raises(InputError, match=r"asserter .* is not the entry's author"):  # names the hospital
        ledger.append([rash(scoped.id, signer=STRANGER)], patient=PATIENT, now=NOW)
    stranger = Hospital(public_id=STRANGER.public_id, name="St Elsewhere")
    with pytest.raises(UnknownSigner, match=r"but grant .* is for"):  # names itself: not the grantee
        ledger.append([rash(scoped.id, signer=STRANGER, hospital=stranger)], patient=PATIENT, now=NOW)
    late = NOW + timedelta(hours=49)
    with pytest.raises(UnknownSigner, match="outside grant"):
        ledger.append([rash(scoped.id, at=late)], patient=PATIENT, now=late)
    with pytest.raises(GrantExpired):
        ledger.append([rash(scoped.id)], patient=PATIENT, now=late)
    terms = ledger.read().grants()[scoped.id]
    ledger.append([grants.new_revocation(PATIENT, terms, now=NOW)], patient=PATIENT, now=NOW)
    with pytest.raises(GrantRevoked):
        ledger.append([rash(scoped.id)], patient=PATIENT, now=NOW)
    assert ledger.verify().trees["reactions"] == ()


def test_the_patient_cannot_sign_as_the_hospital() -> None:
    with pytest.raises(InputError, match="signed by the hospital"):
        rash("sha256:" + "0" * 64, signer=PATIENT)


def test_every_practitioner_body_and_her_note_validate_as_fhir_r4b() -> None:
    """FHIR R4B models (fhir.resources): types, cardinality, references, the contained PractitionerRole."""
    from fhir.resources.R4B import get_fhir_model_class

    grant = write_grant(("allergies", "reactions", "medications"))
    reaction = rash(grant.id)
    allergy = practitioner_entry(
        HOSPITAL,
        kind="allergy",
        patient=PATIENT.public_id,
        body=allergy_body(
            patient=PATIENT.public_id,
            clinician=NURSE,
            hospital=ST_ELSEWHERE,
            substance="penicillin",
            rxcui="70618",
            criticality="high",
            reaction="hives",
            recorded=NOW,
            note="seen at the 08:00 round",
        ),
        grant_id=grant.id,
        now=NOW,
    )
    discharge = discharge_statement_body(
        patient=PATIENT.public_id,
        clinician=Clinician("Dr Okafor", "physician", "ward-5"),
        hospital=ST_ELSEWHERE,
        drug="doxycycline",
        rxcui="3640",
        dose="100 mg twice daily",
        effective=NOW,
        note="for 7 days",
    )
    note = patient_note(PATIENT, reaction, "I had this with co-amoxiclav too", now=NOW)
    for body in (reaction.body, allergy.body, discharge, note.body):
        model = get_fhir_model_class(body["resourceType"]).parse_obj(body)
        assert model.id == body["id"]
    assert annotated(note) == reaction.id and annotated(reaction) is None
    statement = practitioner_entry(
        HOSPITAL, kind="medication", patient=PATIENT.public_id, body=discharge, grant_id=grant.id, now=NOW
    )
    with pytest.raises(InputError, match="notes are on reactions and allergies"):
        patient_note(PATIENT, statement, "x", now=NOW)


def test_a_ward_allergy_to_a_food_is_signed_as_food_not_medication() -> None:
    """``allergy_body`` reads the category from the allergen's name (``allergen_category.category_of``)."""
    from fhir.resources.R4B import get_fhir_model_class

    def category(substance: str) -> list[str]:
        body = allergy_body(
            patient=PATIENT.public_id,
            clinician=NURSE,
            hospital=ST_ELSEWHERE,
            substance=substance,
            rxcui=None,
            criticality="high",
            reaction="wheeze",
            recorded=NOW,
        )
        get_fhir_model_class("AllergyIntolerance").parse_obj(body)
        categories: list[str] = body["category"]
        return categories

    assert category("peanut") == ["food"]
    assert category("latex gloves") == ["environment"]
    assert category("amoxicillin") == ["medication"]


def ward_inr(grant_id: str, *, value: float = 4.2, signer: Identity = HOSPITAL) -> SignedEntry:
    body = observation_body(
        patient=PATIENT.public_id,
        clinician=NURSE,
        hospital=ST_ELSEWHERE,
        quantity=observations.resolve("INR", value, None),
        measured=NOW - timedelta(hours=1),
        recorded=NOW,
        note="point-of-care INR",
    )
    return practitioner_entry(
        signer, kind="observation", patient=PATIENT.public_id, body=body, grant_id=grant_id, now=NOW
    )


def test_an_observation_measured_on_the_ward_names_the_clinician_as_performer(ledger: Ledger) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    grant = write_grant(("observations",))
    entry = ward_inr(grant.id)
    body = entry.body
    get_fhir_model_class("Observation").parse_obj(body)
    [performer] = body["performer"]
    assert performer["reference"] == "#recorder" and performer["type"] == "PractitionerRole"
    assert performer["display"] == "Nia Brown (nurse, ward-5), St Elsewhere"
    assert body["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "6301-6",
        "display": "INR in Platelet poor plasma by Coagulation assay",
    }
    read = observations.read_observation(entry)
    assert read.quantity.value == 4.2 and read.performer.startswith("Nia Brown (nurse, ward-5)")
    ledger.append([grant, entry], patient=PATIENT, now=NOW)
    [stored] = ledger.verify().trees["observations"]
    who = recorded_by(stored)
    assert stored.id == entry.id and who is not None and who.clinician.name == "Nia Brown"


def test_an_observation_needs_a_write_grant_covering_observations(ledger: Ledger) -> None:
    grant = write_grant(("allergies", "reactions"))
    ledger.append([grant], patient=PATIENT, now=NOW)
    with pytest.raises(OutOfScope, match="does not cover observation"):
        ledger.append([ward_inr(grant.id)], patient=PATIENT, now=NOW)
    assert ledger.verify().trees["observations"] == ()


def test_a_practitioners_no_known_allergies_is_signed_by_the_hospital_naming_the_clinician(
    ledger: Ledger,
) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    grant = write_grant(("allergies",))
    doctor = Clinician("Dr Okafor", "physician", "ward-5")
    entry = no_known_allergies_entry(
        HOSPITAL,
        patient=PATIENT.public_id,
        clinician=doctor,
        hospital=ST_ELSEWHERE,
        grant_id=grant.id,
        now=NOW,
    )
    get_fhir_model_class("AllergyIntolerance").parse_obj(entry.body)
    assert fhir.is_no_known_allergy(entry.body) and entry.author == HOSPITAL.public_id
    assert entry.body["asserter"]["reference"] == "#recorder"
    ledger.append([grant, entry], patient=PATIENT, now=NOW)
    snapshot = ledger.verify()
    status = allergy_status(snapshot.trees, None)
    assert status.state == "none-known" and status.assertion is not None
    assert status.assertion.asserted_by == "practitioner"
    assert status.assertion.recorder == "Dr Okafor (physician, ward-5), St Elsewhere"
    who = recorded_by(snapshot.trees["allergies"][0])
    assert who is not None and who.clinician.role == "physician"
    with pytest.raises(InputError, match="signed by the hospital"):
        no_known_allergies_entry(
            PATIENT,
            patient=PATIENT.public_id,
            clinician=doctor,
            hospital=ST_ELSEWHERE,
            grant_id=grant.id,
            now=NOW,
        )
