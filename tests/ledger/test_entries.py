"""Signed entries and heads (entries.py) and their FHIR bodies (fhir.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from alertsvc import errors
from alertsvc.ledger import fhir, merkle
from alertsvc.ledger.canonical import b64url, canonical, loads, sha256_hex
from alertsvc.ledger.entries import (
    TREES,
    TreeState,
    format_time,
    parse_time,
    read_entry,
    read_entry_parts,
    read_head,
    sign_entry,
    sign_head,
)
from tests.ledger.conftest import NOW, PATIENT, PRACTITIONER, allergy, medication, reaction


def test_entry_round_trips_through_its_envelope_and_is_named_by_its_payload_hash() -> None:
    entry = medication("warfarin")
    again = read_entry(json.loads(json.dumps(entry.envelope())), what="test")
    assert again == entry
    assert entry.id == "sha256:" + sha256_hex(entry.payload)
    assert (entry.kind, entry.tree, entry.author, entry.patient) == (
        "medication",
        "medications",
        PATIENT.public_id,
        PATIENT.public_id,
    )
    assert entry.created == NOW
    assert entry.leaf_data == entry.payload + entry.signature


def test_signature_is_checked_over_the_exact_bytes_received() -> None:
    entry = medication("warfarin")
    altered = entry.payload.replace(b"warfarin", b"warfarim")
    with pytest.raises(errors.BadSignature, match="warfarin test"):
        read_entry_parts(altered, entry.signature, what="warfarin test")


def test_a_validly_signed_but_non_canonical_payload_is_refused() -> None:
    entry = medication("warfarin")
    spaced = json.dumps(json.loads(entry.payload), indent=1).encode()
    with pytest.raises(errors.InputError, match="canonical"):
        read_entry_parts(spaced, PATIENT.sign(spaced), what="spaced", require_canonical=True)
    assert read_entry_parts(spaced, PATIENT.sign(spaced), what="spaced").body == entry.body


def test_unknown_kind_and_unknown_fields_are_refused() -> None:
    with pytest.raises(errors.UnknownKind, match="prescription"):
        sign_entry(PATIENT, kind="prescription", patient=PATIENT.public_id, body={}, created=NOW)
    payload = canonical(
        {"v": 1, "kind": "medication", "patient": PATIENT.public_id, "author": PATIENT.public_id,
         "created": format_time(NOW), "body": {}, "role": "admin"}
    )  # fmt: skip
    with pytest.raises(errors.InputError, match="role"):
        read_entry_parts(payload, PATIENT.sign(payload), what="extra")


def test_an_envelope_with_duplicate_keys_is_refused() -> None:
    entry = medication("warfarin")
    text = f'{{"payload":"{b64url(entry.payload)}","signature":"{b64url(entry.signature)}","payload":"x"}}'
    with pytest.raises(errors.InputError, match="duplicate"):
        read_entry(loads(text, what="envelope"), what="envelope")


def test_head_round_trips_and_must_be_the_patients() -> None:
    trees = {t: TreeState(0, merkle.EMPTY_ROOT) for t in TREES}
    head = sign_head(PATIENT, seq=3, timestamp=NOW, trees=trees)
    again = read_head(head.envelope(), patient=PATIENT.public_id, what="head")
    assert (again.seq, again.patient, again.timestamp, dict(again.trees)) == (
        3,
        PATIENT.public_id,
        NOW,
        trees,
    )
    other = sign_head(PRACTITIONER, seq=3, timestamp=NOW, trees=trees)
    with pytest.raises(errors.UnknownSigner, match="not by the patient"):
        read_head(other.envelope(), patient=PATIENT.public_id, what="head")


def test_times_are_utc_to_the_second() -> None:
    assert format_time(datetime(2026, 3, 8, 3, 0, 0, 999, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-03-08T02:00:00Z"
    )
    with pytest.raises(errors.InputError, match="time zone"):
        format_time(datetime(2026, 3, 8))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-03-08T02:00:00", id="no-zone"),
        pytest.param("2026-03-08T02:00:00+00:00", id="offset"),
        pytest.param("2026-02-30T02:00:00Z", id="no-such-day"),
        pytest.param("2026-03-08T02:00:00.5Z", id="fraction"),
        pytest.param("2026-03-08T24:00:00Z", id="hour-24"),
        pytest.param("2026-03-08T23:59:60Z", id="leap-second"),
        pytest.param("0000-01-01T00:00:00Z", id="year-0"),
        pytest.param("\u0662\u0660\u0662\u0666-03-08T02:00:00Z", id="arabic-indic-digits"),
    ],
)
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(errors.InputError, match="created"):
        parse_time(text, what="created")
    assert parse_time("2026-03-08T02:00:00Z", what="created") == NOW.astimezone(UTC)


def test_medication_statement_carries_rxnorm_when_known_and_a_stop_replaces_it() -> None:
    known, unknown = medication("5640"), medication("warfarin")
    concept = known.body["medicationCodeableConcept"]
    assert concept == {"text": "5640", "coding": [{"system": fhir.RXNORM, "code": "5640"}]}
    assert "coding" not in unknown.body["medicationCodeableConcept"]
    assert known.body["subject"] == {
        "identifier": {"system": "urn:ietf:params:alertsvc:identity", "value": PATIENT.public_id}
    }
    stop_body = fhir.stopped_statement(unknown.body, now=NOW + timedelta(days=1))
    stop = sign_entry(PATIENT, kind="medication", patient=PATIENT.public_id, body=stop_body, created=NOW)
    assert stop_body["id"] == unknown.body["id"] and stop_body["status"] == "stopped"
    current = fhir.current_medications([known, unknown, stop])
    assert [m.drug for m in current] == ["5640"]
    assert current[0].rxcui == "5640" and current[0].dose == "1 tablet daily"


def test_allergy_and_reaction_bodies_read_back_typed() -> None:
    (penicillin,) = fhir.current_allergies([allergy("penicillin")])
    assert (penicillin.substance, penicillin.criticality, penicillin.reaction) == (
        "penicillin",
        "high",
        "hives",
    )
    entry = reaction("codeine", author=PRACTITIONER)
    assert entry.body["type"] == "intolerance"
    assert entry.body["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
    (flagged,) = fhir.current_reactions([entry])
    assert (flagged.drug, flagged.reaction, flagged.severity) == ("codeine", "swollen lips", "severe")
    assert flagged.flagged_by == PRACTITIONER.public_id


def test_a_reaction_may_have_no_known_severity() -> None:
    body = fhir.reaction_intolerance(
        resource_id="r", patient=PATIENT.public_id, flagged_by=PATIENT.public_id, drug="codeine", rxcui=None,
        reaction="rash", severity=None, observed=NOW, recorded=NOW,
    )  # fmt: skip
    entry = sign_entry(PATIENT, kind="reaction", patient=PATIENT.public_id, body=body, created=NOW)
    assert fhir.read_reaction(entry).severity is None


def test_a_body_for_another_patient_is_refused_when_read() -> None:
    body = fhir.medication_statement(
        resource_id="m", patient=PRACTITIONER.public_id, drug="x", rxcui=None, dose=None, effective=NOW
    )
    entry = sign_entry(PATIENT, kind="medication", patient=PATIENT.public_id, body=body, created=NOW)
    with pytest.raises(errors.InputError, match="subject"):
        fhir.read_medication(entry)


@pytest.mark.parametrize(
    ("field", "value"),
    [pytest.param("criticality", "fatal", id="criticality"), pytest.param("rxcui", "12a", id="rxcui")],
)
def test_builders_refuse_values_outside_their_code_sets(field: str, value: str) -> None:
    arguments = {"criticality": "low", "rxcui": None, field: value}
    with pytest.raises(errors.InputError, match=field if field != "rxcui" else "RxCUI"):
        fhir.allergy_intolerance(
            resource_id="a",
            patient=PATIENT.public_id,
            substance="x",
            reaction=None,
            recorded=NOW,
            **arguments,
        )
