"""The FHIR export other systems accept: every resource validated by FHIR R4B models (fhir.resources),
the invariants they do not check (bdl-7 unique fullUrl, ppc-1 policy) checked here, one resource per
ledger resource in its current state, RxNorm codings where the normaliser knows, allergy categories,
and a Bundle that imports back into the same ledger only when nothing in it was changed."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fhir.resources.R4B import get_fhir_model_class

from alertsvc import errors
from alertsvc.cli import main
from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.codings import rxnorm_coder
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger import actions, fhir, grants
from alertsvc.ledger.allergy_status import no_known_allergies
from alertsvc.ledger.canonical import canonical
from alertsvc.ledger.entries import sign_entry
from alertsvc.ledger.exchange import export_fhir, import_ledger
from alertsvc.ledger.fhir_export import DERIVED_CODING_URL, SIGNED_ENTRY_URL
from alertsvc.ledger.log import Ledger, LedgerSnapshot
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, PRACTITIONER, add, grant_to, medication, reaction

T = [NOW + timedelta(minutes=m) for m in range(12)]
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.fixture(scope="module")
def coder() -> Callable[[str, str], tuple[str, str] | None]:
    return rxnorm_coder(Normalizer(kb_files.load(kb_files.DEFAULT_DATA_DIR)))


@pytest.fixture
def story(ledger: Ledger) -> LedgerSnapshot:
    """Every kind a ledger holds, with a stop, a revocation and a superseded "no known drug allergies"."""
    add(ledger, no_known_allergies(PATIENT, now=T[0]), at=T[0])
    warfarin = medication("warfarin", at=T[1])
    add(ledger, warfarin, medication("5640", at=T[1]), at=T[1])
    stop = fhir.stopped_statement(warfarin.body, now=T[2])
    add(
        ledger,
        sign_entry(PATIENT, kind="medication", patient=PATIENT.public_id, body=stop, created=T[2]),
        at=T[2],
    )
    for substance in ("amoxicillin", "peanut", "latex"):
        add(
            ledger,
            actions.allergy(PATIENT, substance, reaction="hives", criticality="high", now=T[3]),
            at=T[3],
        )
    # an allergy signed before categories were read from the name: "medication" for a food
    legacy = fhir.allergy_intolerance(
        resource_id=fhir.new_resource_id(), patient=PATIENT.public_id, substance="egg", rxcui=None,
        criticality="low", reaction=None, recorded=T[3],
    )  # fmt: skip
    add(
        ledger,
        sign_entry(PATIENT, kind="allergy", patient=PATIENT.public_id, body=legacy, created=T[3]),
        at=T[3],
    )
    write = grant_to(PRACTITIONER, scope=(), write=("reactions",), at=T[4])
    read = grant_to(HOSPITAL, scope=("medications", "allergies", "reactions"), at=T[4])
    add(ledger, write, read, at=T[4])
    by_practitioner = reaction("morphine", author=PRACTITIONER, grant=write.id, at=T[5])
    add(ledger, reaction("codeine", at=T[5]), by_practitioner, at=T[5])
    add(ledger, grants.new_revocation(PATIENT, grants.read_grant(read), now=T[6]), at=T[6])
    return ledger.read()


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def validate(resource: dict[str, Any]) -> None:
    """FHIR R4B validation of one resource (pydantic models: types, cardinality, required fields, ids)."""
    get_fhir_model_class(resource["resourceType"]).parse_obj(resource)


def test_every_exported_resource_and_the_bundle_validate(story: LedgerSnapshot, coder: Any) -> None:
    bundle = json.loads(export_fhir(story, coder=coder))
    validate(bundle)
    for item in bundle["entry"]:
        validate(item["resource"])
        for extension in item["resource"].get("extension", []):  # ext-1: a value or extensions, not both
            assert ("extension" in extension) != any(k.startswith("value") for k in extension)
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds == {"MedicationStatement", "AllergyIntolerance", "Consent", "Binary"}


def test_every_signed_body_validates_on_its_own(story: LedgerSnapshot) -> None:
    for entries in story.trees.values():
        for entry in entries:
            validate(entry.body)


def test_full_urls_and_resource_ids_are_unique(story: LedgerSnapshot) -> None:
    bundle = json.loads(export_fhir(story))
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls)) and all(u.startswith("urn:uuid:") for u in urls)  # bdl-7
    ids = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]]
    assert len(ids) == len(set(ids))
    for item in bundle["entry"]:
        if item["resource"]["resourceType"] != "Binary":
            assert item["fullUrl"] == f"urn:uuid:{item['resource']['id']}"


def test_a_stop_is_a_status_change_of_one_statement(story: LedgerSnapshot) -> None:
    statements = resources(json.loads(export_fhir(story)), "MedicationStatement")
    assert len(statements) == 2
    stopped = next(s for s in statements if s["status"] == "stopped")
    assert stopped["medicationCodeableConcept"]["text"] == "warfarin"
    assert stopped["meta"]["versionId"] == "2" and stopped["effectivePeriod"]["end"] == "2026-03-08T02:02:00Z"
    signed = [e["extension"] for e in stopped["extension"] if e["url"] == SIGNED_ENTRY_URL]
    versions = [(parts[0]["valueCode"], parts[1]["valueUnsignedInt"]) for parts in signed]
    assert versions == [("medications", 0), ("medications", 2)]


def test_a_revocation_is_a_status_change_of_the_consent(story: LedgerSnapshot) -> None:
    consents = resources(json.loads(export_fhir(story)), "Consent")
    assert sorted(c["status"] for c in consents) == ["active", "inactive"]
    revoked = next(c for c in consents if c["status"] == "inactive")
    assert revoked["meta"]["versionId"] == "2" and "provision" in revoked
    for consent in consents:  # ppc-1: Either a Policy or PolicyRule
        assert "policy" in consent or "policyRule" in consent
        assert consent["policyRule"]["coding"][0]["code"] == "OPTIN"


def test_allergy_categories_and_the_superseded_assertion(story: LedgerSnapshot) -> None:
    allergies = resources(json.loads(export_fhir(story)), "AllergyIntolerance")
    by_text = {a["code"]["text"]: a for a in allergies}
    categories = {text: a["category"] for text, a in by_text.items() if a["type"] == "allergy"}
    assert categories == {
        "No known drug allergy": ["medication"],
        "amoxicillin": ["medication"],
        "peanut": ["food"],
        "latex": ["environment"],
        "egg": ["food"],
    }
    nkda = by_text["No known drug allergy"]
    assert nkda["code"]["coding"][0] == {
        "system": "http://snomed.info/sct", "code": "409137002", "display": "No known drug allergy"
    }  # fmt: skip
    assert nkda["clinicalStatus"]["coding"][0]["code"] == "inactive"  # a recorded allergy superseded it


def test_rxnorm_codings_where_the_normaliser_knows(story: LedgerSnapshot, coder: Any) -> None:
    bundle = json.loads(export_fhir(story, coder=coder))
    codes = {}
    for resource in [*resources(bundle, "MedicationStatement"), *resources(bundle, "AllergyIntolerance")]:
        concept = resource.get("medicationCodeableConcept") or resource["code"]
        codes[concept["text"]] = [(c["system"], c["code"]) for c in concept.get("coding", [])]
    assert codes["warfarin"] == [(RXNORM, "11289")]
    assert codes["5640"] == [(RXNORM, "5640")]  # signed as given
    assert codes["amoxicillin"] == [(RXNORM, "723")]
    assert codes["codeine"] == [(RXNORM, "2670")]
    assert codes["peanut"] == [] and codes["latex"] == []  # no RxNorm concept for a food or latex
    derived = next(
        c for c in resources(bundle, "MedicationStatement")[0]["medicationCodeableConcept"]["coding"]
    )
    assert derived["extension"][0]["url"] == DERIVED_CODING_URL and derived["userSelected"] is False


@pytest.mark.parametrize("with_codings", [pytest.param(True, id="rxnorm"), pytest.param(False, id="plain")])
def test_the_bundle_imports_back_into_the_same_ledger(
    story: LedgerSnapshot, coder: Any, tmp_path: Path, with_codings: bool
) -> None:
    data = export_fhir(story, coder=coder if with_codings else None)
    imported = import_ledger(data, tmp_path / "copy.ledger")
    assert imported.trees == story.trees
    assert [h.payload for h in imported.heads] == [h.payload for h in story.heads]


def _change_status(bundle: dict[str, Any]) -> None:
    resources(bundle, "MedicationStatement")[0]["status"] = "active"


def _drop_resource(bundle: dict[str, Any]) -> None:
    del bundle["entry"][1]


def _copy_resource(bundle: dict[str, Any]) -> None:
    bundle["entry"].append(copy.deepcopy(bundle["entry"][0]))


def _drop_version(bundle: dict[str, Any]) -> None:
    statement = next(s for s in resources(bundle, "MedicationStatement") if s["status"] == "stopped")
    statement["extension"] = statement["extension"][1:]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        pytest.param(_change_status, "differs from the body", id="status-changed"),
        pytest.param(_drop_resource, "missing", id="resource-dropped"),
        pytest.param(_copy_resource, "inserted|twice", id="resource-twice"),
        pytest.param(_drop_version, "medications", id="version-dropped"),
    ],
)
def test_a_changed_bundle_is_refused_and_no_file_is_left(
    story: LedgerSnapshot, tmp_path: Path, edit: Callable[[dict[str, Any]], None], match: str
) -> None:
    bundle = json.loads(export_fhir(story))
    edit(bundle)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(errors.AlertsvcError, match=match):
        import_ledger(json.dumps(bundle).encode(), out / "copy.ledger")
    assert list(out.iterdir()) == []


def test_a_bundle_of_the_earlier_format_still_imports(story: LedgerSnapshot, tmp_path: Path) -> None:
    """Bundles written before: each entry's body as signed with one valueString signed-entry extension."""
    entries = [
        {"resource": {**entry.body, "extension": [
            {"url": SIGNED_ENTRY_URL, "valueString": json.dumps(entry.envelope())}]}}
        for tree in story.trees for entry in story.trees[tree]
    ]  # fmt: skip
    heads = [e for e in json.loads(export_fhir(story))["entry"] if e["resource"]["resourceType"] == "Binary"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [*entries, *heads]}
    assert import_ledger(canonical(bundle), tmp_path / "copy.ledger").trees == story.trees


def test_the_export_command_codes_with_the_offline_knowledge(tmp_path: Path) -> None:
    runner = CliRunner()

    def cli(*args: str | Path) -> str:
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    key, book = tmp_path / "p.key", tmp_path / "p.ledger"
    cli("keys", "new", key)
    cli("ledger", "init", book, "--key", key)
    cli("ledger", "add-medication", book, "--key", key, "warfarin")
    cli("ledger", "export", book, "--format", "fhir", "--out", tmp_path / "coded.json")
    cli("ledger", "export", book, "--format", "fhir", "--no-rxnorm", "--out", tmp_path / "plain.json")
    for name, expected in (("coded.json", [("11289", "warfarin")]), ("plain.json", [])):
        bundle = json.loads((tmp_path / name).read_text())
        validate(bundle)
        (statement,) = resources(bundle, "MedicationStatement")
        codings = statement["medicationCodeableConcept"].get("coding", [])
        assert [(c["code"], c["display"]) for c in codings] == expected
    cli("ledger", "import", tmp_path / "coded.json", "--out", tmp_path / "copy.ledger")


def test_a_clash_of_ids_and_a_consent_signed_without_policy(ledger: Ledger) -> None:
    """An allergy and a reaction the patient gave one resource id, and a grant signed before Consents
    carried policyRule: still unique ids, and ppc-1 holds."""
    shared = fhir.new_resource_id()
    allergy_body = fhir.allergy_intolerance(
        resource_id=shared, patient=PATIENT.public_id, substance="latex", rxcui=None, criticality="low",
        reaction=None, recorded=NOW,
    )  # fmt: skip
    reaction_body = fhir.reaction_intolerance(
        resource_id=shared, patient=PATIENT.public_id, flagged_by=PATIENT.public_id, drug="codeine",
        rxcui=None, reaction="rash", severity=None, observed=NOW, recorded=NOW,
    )  # fmt: skip
    grant_body = dict(grant_to(HOSPITAL).body)
    del grant_body["policyRule"]
    add(ledger, *(sign_entry(PATIENT, kind=kind, patient=PATIENT.public_id, body=body, created=NOW)
                  for kind, body in (("allergy", allergy_body), ("reaction", reaction_body),
                                     ("grant", grant_body))))  # fmt: skip
    bundle = json.loads(export_fhir(ledger.read()))
    validate(bundle)
    ids = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]]
    assert len(ids) == len(set(ids)) and ("AllergyIntolerance", shared) in ids
    (consent,) = resources(bundle, "Consent")
    assert consent["policyRule"]["coding"][0]["code"] == "OPTIN"
    assert (
        import_ledger(export_fhir(ledger.read()), ledger.path.with_name("copy.ledger")).trees
        == ledger.read().trees
    )
