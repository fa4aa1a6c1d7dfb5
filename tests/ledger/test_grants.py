"""Grants and revocations: FHIR Consent bodies, validity in time, who may write what."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alertsvc import errors
from alertsvc.ledger import fhir
from alertsvc.ledger.entries import sign_entry
from alertsvc.ledger.grants import (
    check_current,
    check_grantee,
    new_grant,
    new_revocation,
    parse_scope,
    read_grant,
    read_revocation,
    write_problem,
)
from tests.ledger.conftest import (
    HOSPITAL,
    NOW,
    PATIENT,
    PRACTITIONER,
    STRANGER,
    grant_to,
    medication,
    reaction,
)


def test_scopes_parse_and_unknown_ones_are_named() -> None:
    assert parse_scope("medications, reactions") == {"medications", "reactions"}
    assert parse_scope("") == frozenset()
    with pytest.raises(errors.UnknownKind, match="'labs'"):
        parse_scope("medications,labs", what="--scope")


def test_a_grant_is_a_fhir_consent_with_period_actor_and_smart_scopes() -> None:
    entry = grant_to(PRACTITIONER, scope=("medications", "allergies"), write=("reactions",), hours=12)
    body = entry.body
    assert (body["resourceType"], body["status"]) == ("Consent", "active")
    provision = body["provision"]
    assert provision["period"] == {"start": "2026-03-08T02:00:00Z", "end": "2026-03-08T14:00:00Z"}
    assert provision["actor"][0]["reference"]["identifier"]["value"] == PRACTITIONER.public_id
    smart = {c["code"] for concept in provision["code"] for c in concept["coding"] if "smart" in c["system"]}
    assert smart == {
        "patient/MedicationStatement.rs",
        "patient/AllergyIntolerance.rs?type=allergy",
        "patient/AllergyIntolerance.cu?type=intolerance",
    }
    assert {c["code"] for c in provision["class"]} == {"MedicationStatement", "AllergyIntolerance"}
    grant = read_grant(entry)
    assert grant.scope == {"medications", "allergies"} and grant.write_scope == {"reactions"}
    assert grant.trees == ("medications", "allergies", "revocations")
    assert grant.expires_at - grant.not_before == timedelta(hours=12)
    assert grant.purpose == "admission" and grant.id == entry.id


def test_a_revocation_is_the_same_consent_made_inactive() -> None:
    grant = read_grant(grant_to(HOSPITAL))
    entry = new_revocation(PATIENT, grant, now=NOW)
    assert entry.body["id"] == grant.resource_id and entry.body["status"] == "inactive"
    assert read_revocation(entry).grant_id == grant.id


@pytest.mark.parametrize(
    ("minutes", "error"),
    [
        pytest.param(-1, errors.GrantNotYetValid, id="a-minute-early"),
        pytest.param(0, None, id="at-start"),
        pytest.param(24 * 60 - 1, None, id="last-minute"),
        pytest.param(24 * 60, errors.GrantExpired, id="at-expiry"),
    ],
)
def test_a_grant_holds_from_not_before_until_just_before_expiry(minutes: int, error: type | None) -> None:
    grant = read_grant(grant_to(HOSPITAL, hours=24))
    now = NOW + timedelta(minutes=minutes)
    if error is None:
        check_current(grant, now=now, revocations=())
    else:
        with pytest.raises(error):
            check_current(grant, now=now, revocations=())


def test_revocation_and_grantee_checks() -> None:
    grant = read_grant(grant_to(HOSPITAL))
    revocation = read_revocation(new_revocation(PATIENT, grant, now=NOW))
    with pytest.raises(errors.GrantRevoked, match=grant.id):
        check_current(grant, now=NOW, revocations=[revocation])
    check_grantee(grant, HOSPITAL.public_id)
    check_grantee(grant, None)
    with pytest.raises(errors.WrongGrantee):
        check_grantee(grant, STRANGER.public_id)


def test_only_the_patient_signs_grants() -> None:
    body = grant_to(HOSPITAL).body
    forged = sign_entry(STRANGER, kind="grant", patient=PATIENT.public_id, body=body, created=NOW)
    with pytest.raises(errors.UnknownSigner, match="only the patient"):
        read_grant(forged)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"hours": 0}, errors.InputError, id="zero-hours"),
        pytest.param({"scope": []}, errors.InputError, id="no-scope"),
        pytest.param({"grantee": "ed25519:short"}, errors.IdentityError, id="bad-grantee"),
        pytest.param({"scope": ["labs"]}, errors.UnknownKind, id="unknown-scope"),
    ],
)
def test_bad_grants_are_refused_when_made(kwargs: dict[str, object], error: type) -> None:
    arguments: dict[str, object] = {
        "grantee": HOSPITAL.public_id, "scope": ["medications"], "not_before": NOW, "hours": 1, "now": NOW,
    }  # fmt: skip
    arguments.update(kwargs)
    with pytest.raises(error):
        new_grant(PATIENT, **arguments)  # type: ignore[arg-type]


def test_write_problem_names_why_a_practitioner_may_not_write() -> None:
    entry = grant_to(PRACTITIONER, write=("reactions",), hours=1)
    grants = {entry.id: read_grant(entry)}
    assert write_problem(reaction("x", author=PRACTITIONER, grant=entry.id), grants) is None
    assert write_problem(medication("x"), grants) is None  # the patient
    late = reaction("x", author=PRACTITIONER, grant=entry.id, at=NOW + timedelta(hours=1))
    problems = {
        "write scope": medication("x", author=PRACTITIONER, grant=entry.id),
        "names no write grant": reaction("x", author=PRACTITIONER),
        "is for": reaction("x", author=STRANGER, grant=entry.id),
        "outside": late,
    }
    for expected, candidate in problems.items():
        assert expected in (write_problem(candidate, grants) or "")
    body = fhir.revocation_consent(
        grant_resource_id="g", patient=PATIENT.public_id, grant_entry_id=entry.id, created=NOW
    )
    revocation = sign_entry(
        PRACTITIONER, kind="revocation", patient=PATIENT.public_id, body=body, created=NOW
    )
    assert "only the patient" in (write_problem(revocation, grants) or "")
