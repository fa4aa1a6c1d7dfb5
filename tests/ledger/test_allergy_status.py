"""Allergy status the ward can tell apart, and the signed "no known drug allergies" assertion."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from alertsvc.cli import main
from alertsvc.errors import UnknownSigner
from alertsvc.ledger import fhir
from alertsvc.ledger.allergen_category import category_of
from alertsvc.ledger.allergy_status import AllergiesRecorded, allergy_status, no_known_allergies
from alertsvc.ledger.grants import read_grant
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice, verify_slice
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, STRANGER, add, allergy, grant_to

LATER = NOW + timedelta(hours=1)
NURSE = {"reference": "#recorder", "display": "Nia Brown (nurse, ward-5), St Elsewhere"}


def status_of(ledger: Ledger, scope: tuple[str, ...] = ("medications", "allergies")) -> dict[str, object]:
    """The status as the hospital sees it: through a real slice verified under a read grant."""
    grant = grant_to(HOSPITAL, scope=scope, at=LATER)
    add(ledger, grant, at=LATER)
    verified = verify_slice(
        make_slice(ledger.read(), grant.id, now=LATER), patient=PATIENT.public_id, now=LATER
    )
    return allergy_status(verified.entries, verified.grant).as_json()


def test_not_recorded_when_allergies_are_shared_but_empty(ledger: Ledger) -> None:
    status = status_of(ledger)
    assert status["state"] == "not-recorded" and status["allergies"] == []
    assert status["label"] == "Allergies not recorded: ask the patient"


def test_not_shared_when_the_grant_lacks_allergies(ledger: Ledger) -> None:
    add(ledger, allergy("penicillin"))
    status = status_of(ledger, scope=("medications", "reactions"))
    assert status["state"] == "not-shared" and status["allergies"] == []


def test_known_lists_the_allergies(ledger: Ledger) -> None:
    add(ledger, allergy("penicillin"), allergy("sulfamethoxazole"))
    status = status_of(ledger)
    assert status["state"] == "known"
    assert [a["substance"] for a in status["allergies"]] == ["penicillin", "sulfamethoxazole"]  # type: ignore[index]
    assert status["assertion"] is None and status["superseded"] is False


def test_none_known_names_who_asserted_it_and_when(ledger: Ledger) -> None:
    entry = no_known_allergies(PATIENT, now=NOW)
    add(ledger, entry)
    status = status_of(ledger)
    assert status["state"] == "none-known" and status["allergies"] == []
    assert status["assertion"] == {
        "entry": entry.id,
        "asserted_by": "patient",
        "author": PATIENT.public_id,
        "recorder": None,
        "asserted_at": "2026-03-08T02:00:00Z",
    }
    assert status["label"] == "No known drug allergies (asserted by patient, 2026-03-08T02:00:00Z)"
    body = entry.body
    assert body["code"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "409137002", "display": "No known drug allergy"}
    ]
    assert body["verificationStatus"]["coding"][0]["code"] == "confirmed"


def test_a_later_real_allergy_supersedes_it(ledger: Ledger) -> None:
    add(ledger, no_known_allergies(PATIENT, now=NOW))
    add(ledger, allergy("amoxicillin", at=LATER), at=LATER)
    status = status_of(ledger)
    assert status["state"] == "known" and status["superseded"] is True
    assert [a["substance"] for a in status["allergies"]] == ["amoxicillin"]  # type: ignore[index]


def test_it_is_refused_while_allergies_are_recorded_and_nothing_is_written(ledger: Ledger) -> None:
    add(ledger, allergy("penicillin"))
    before = ledger.read().latest.seq
    with pytest.raises(AllergiesRecorded, match=r"records 1 allergies \(penicillin\)"):
        add(ledger, no_known_allergies(PATIENT, now=LATER), at=LATER)
    assert ledger.read().latest.seq == before


def test_a_real_allergy_in_the_same_batch_counts_too(ledger: Ledger) -> None:
    with pytest.raises(AllergiesRecorded):
        add(ledger, allergy("penicillin"), no_known_allergies(PATIENT, now=NOW))
    assert ledger.read().trees["allergies"] == ()


def test_a_practitioner_asserts_it_under_a_write_grant(ledger: Ledger) -> None:
    grant = grant_to(HOSPITAL, scope=("allergies",), write=("allergies",))
    add(ledger, grant)
    entry = no_known_allergies(HOSPITAL, patient=PATIENT.public_id, grant=grant.id, asserter=NURSE, now=LATER)
    add(ledger, entry, at=LATER)
    status = allergy_status(ledger.read().trees, read_grant(grant)).as_json()
    assert status["state"] == "none-known"
    assertion = status["assertion"]
    assert isinstance(assertion, dict)
    assert (assertion["asserted_by"], assertion["author"]) == ("practitioner", HOSPITAL.public_id)
    assert assertion["recorder"] == NURSE["display"]


def test_someone_not_the_grantee_is_refused(ledger: Ledger) -> None:
    grant = grant_to(HOSPITAL, scope=("allergies",))
    add(ledger, grant)
    entry = no_known_allergies(STRANGER, patient=PATIENT.public_id, grant=grant.id, now=LATER)
    with pytest.raises(UnknownSigner):
        add(ledger, entry, at=LATER)


def test_it_is_not_an_allergen(ledger: Ledger) -> None:
    add(ledger, no_known_allergies(PATIENT, now=NOW))
    (entry,) = ledger.read().trees["allergies"]
    assert fhir.read_allergy(entry).no_known
    assert fhir.current_allergies([entry]) == ()


def test_the_patients_own_view_has_no_grant(ledger: Ledger) -> None:
    assert allergy_status(ledger.read().trees, None).state == "not-recorded"


@pytest.mark.parametrize(
    ("substance", "category"),
    [
        pytest.param("peanut", "food", id="peanut"),
        pytest.param("Hen's eggs", "food", id="egg"),
        pytest.param("latex", "environment", id="latex"),
        pytest.param("bee sting", "environment", id="bee"),
        pytest.param("gelatin", "biologic", id="gelatin"),
        pytest.param("amoxicillin", "medication", id="amoxicillin"),
    ],
)
def test_allergen_category(substance: str, category: str) -> None:
    assert category_of(substance) == category


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_command_line(tmp_path: Path) -> None:
    key, book = tmp_path / "p.key", tmp_path / "p.ledger"
    assert cli("keys", "new", key).exit_code == 0
    assert cli("ledger", "init", book, "--key", key).exit_code == 0
    result = cli("ledger", "assert-no-allergies", book, "--key", key)
    assert result.exit_code == 0 and "added allergy" in result.stdout, result.output
    shown = cli("ledger", "show", book)
    assert "no known drug allergies (SNOMED CT 409137002)" in shown.stdout
    assert cli("ledger", "add-allergy", book, "--key", key, "peanut").exit_code == 0
    entries = json.loads(cli("ledger", "show", book, "--json").stdout)["entries"]
    assert [e["body"]["category"] for e in entries if e["kind"] == "allergy"] == [["medication"], ["food"]]
    refused = cli("ledger", "assert-no-allergies", book, "--key", key)
    assert refused.exit_code == 1
    assert "records 1 allergies (peanut)" in refused.stderr
    assert cli("ledger", "verify", book).exit_code == 0


def test_the_hospital_reads_a_practitioners_assertion_through_its_slice(ledger: Ledger) -> None:
    grant = grant_to(HOSPITAL, scope=("medications", "allergies"), write=("allergies",))
    add(ledger, grant)
    entry = no_known_allergies(HOSPITAL, patient=PATIENT.public_id, grant=grant.id, asserter=NURSE, now=LATER)
    add(ledger, entry, at=LATER)
    verified = verify_slice(
        make_slice(ledger.read(), grant.id, now=LATER), patient=PATIENT.public_id, now=LATER
    )
    status = allergy_status(verified.entries, verified.grant)
    assert status.state == "none-known" and verified.allergies == ()
    assert status.label == f"No known drug allergies (asserted by {NURSE['display']}, 2026-03-08T03:00:00Z)"
