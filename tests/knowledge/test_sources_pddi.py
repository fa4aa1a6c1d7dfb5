"""PDDI-CDS: the two rules, their groups, and the topical/ophthalmic exclusions."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertsvc.knowledge import sources_pddi
from alertsvc.knowledge.model import LOCAL_ROUTES
from alertsvc.knowledge.rules_common import NameLookup

NAMES = {
    "warfarin": "11289",
    "ibuprofen": "5640",
    "diclofenac": "3355",
    "mefenamic acid": "6693",
    "omeprazole": "7646",
    "digoxin": "3407",
    "cyclosporine": "3008",
    "furosemide": "4603",
}
HEADER = "source_file\tvalueset_id\ttitle\tkind\tsystem\tcode\tdisplay\n"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"


def code(valueset: str, title: str, rxcui: str, display: str, system: str = RX) -> str:
    return f"artifacts/bundle.xml\t{valueset}\t{title}\tcompose\t{system}\t{rxcui}\t{display}\n"


ROWS = (
    code("valueset-warfarin", "Warfarin Medications Value Set", "855332", "warfarin sodium 5 MG Oral Tablet")
    + code("valueset-ibuprofen", "Ibuprofen Medications Value Set", "197806", "ibuprofen 600 MG Oral Tablet")
    + code(
        "valueset-ibuprofen-exclude",
        "Exclude Ibuprofen Medications Value Set",
        "1",
        "Ibuprofen 5% Topical Gel",
    )
    + code(
        "valueset-ibuprofen-exclude",
        "Exclude Ibuprofen Medications Value Set",
        "380812",
        "Ibuprofen Extended Release Oral Capsule",
    )
    + code("valueset-diclofenac", "Diclofenac Medications Value Set", "2", "diclofenac 50 MG Oral Tablet")
    + code(
        "valueset-diclofenac-exclude",
        "Exclude Diclofenac Medications Value Set",
        "3",
        "Diclofenac 1 MG/ML Ophthalmic Solution",
    )
    + code(
        "valueset-mefenamate", "Mefenamate Medications Value Set", "4", "mefenamic acid 250 MG Oral Capsule"
    )
    + code(
        "valueset-omeprazole",
        "Omeprazole Medications Value Set",
        "5",
        "omeprazole 20 MG Delayed Release Oral Capsule",
    )
    + code("valueset-digoxin", "Digoxin Medications Value Set", "202988", "Lanoxin")
    + code(
        "valueset-cyclosporine", "Cyclosporine Medications Value Set", "6", "cyclosporine 100 MG Oral Capsule"
    )
    + code(
        "valueset-cyclosporine-exclude",
        "Exclude Cyclosporine Medications Value Set",
        "7",
        "cyclosporine 0.5 MG/ML Ophthalmic Emulsion",
    )
    + code(
        "valueset-digoxin-LOINC",
        "LOINC Codes for Digoxin Concentration",
        "10535-3",
        "Digoxin",
        "http://loinc.org",
    )
)


def write_pddi(root: Path, rows: str = ROWS) -> Path:
    folder = root / "pddi_cds"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / sources_pddi.FILE).write_text(HEADER + rows, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("title", "ingredient"),
    [
        pytest.param("Ibuprofen Medications Value Set", "ibuprofen", id="include"),
        pytest.param("Exclude Ketorolac Medications Value Set", "ketorolac", id="exclude"),
    ],
)
def test_value_set_title_names_its_ingredient(title: str, ingredient: str) -> None:
    assert sources_pddi.ingredient_of_title(title) == ingredient


def test_warfarin_nsaid_rule_is_major_and_systemic_only(tmp_path: Path) -> None:
    part = sources_pddi.build(write_pddi(tmp_path), NameLookup(NAMES))
    rule = next(rule for rule in part.rules if rule.id == "pddi-warfarin-nsaid")
    assert (rule.left, rule.right, rule.severity) == ("in:11289", "class:pddi:nsaids", "major")
    assert rule.routes == frozenset()  # systemic routes only: topical and ophthalmic forms never fire
    assert part.classes["pddi:nsaids"].members == {"5640", "3355", "6693"}
    assert part.classes["pddi:ppis"].members == {"7646"}
    assert "acetaminophen" in rule.management and "proton pump" in rule.management


def test_digoxin_cyclosporine_rule(tmp_path: Path) -> None:
    part = sources_pddi.build(write_pddi(tmp_path), NameLookup(NAMES))
    rule = next(rule for rule in part.rules if rule.id == "pddi-digoxin-cyclosporine")
    assert {rule.left, rule.right} == {"in:3407", "in:3008"}
    assert "P-glycoprotein" in rule.mechanism


def test_exclusions_are_local_routes_and_systemic_ones_are_reported(tmp_path: Path) -> None:
    assert sources_pddi.route_of_display("Diclofenac 1 MG/ML Ophthalmic Solution") in LOCAL_ROUTES
    assert sources_pddi.route_of_display("Ibuprofen 5% Topical Gel") in LOCAL_ROUTES
    part = sources_pddi.build(write_pddi(tmp_path), NameLookup(NAMES))
    assert "4 exclude codes" in part.notes[0]
    assert "1 exclude codes are systemic forms" in part.notes[0]
    assert "Ibuprofen Extended Release Oral Capsule" in part.notes[0]


def test_no_rule_without_its_drugs(tmp_path: Path) -> None:
    names = {key: value for key, value in NAMES.items() if key not in {"warfarin", "digoxin"}}
    part = sources_pddi.build(write_pddi(tmp_path), NameLookup(names))
    assert part.rules == []
