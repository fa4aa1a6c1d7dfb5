"""Allergen groups and cross-sensitivity rules."""

from __future__ import annotations

from alertsvc.knowledge import sources_allergy
from alertsvc.knowledge.rules_common import NameLookup

NAMES = {
    "penicillin g": "7980",
    "amoxicillin": "723",
    "ampicillin": "733",
    "cephalexin": "2231",
    "cefadroxil": "2177",
    "ceftriaxone": "2193",
    "cefotaxime": "2186",
    "cefoxitin": "2189",
    "meropenem": "29561",
    "imipenem": "5690",
    "sulfamethoxazole": "10180",
    "sulfadiazine": "10171",
    "furosemide": "4603",
    "hydrochlorothiazide": "5487",
    "aspirin": "1191",
    "ibuprofen": "5640",
    "celecoxib": "140587",
}
STATINS = frozenset({"36567", "83367"})


def test_every_group_is_an_allergen_class_and_rules_are_cross_sensitivity() -> None:
    part = sources_allergy.build(NameLookup(NAMES), STATINS)
    assert all(drug_class.kind == "allergen" for drug_class in part.classes.values())
    assert all(drug_class.id.startswith("allergen:") for drug_class in part.classes.values())
    assert all(rule.kind == "cross-sensitivity" for rule in part.rules)
    assert all(rule.left.startswith("class:allergen:") for rule in part.rules)


def test_aminopenicillins_share_r1_with_cephalexin_not_with_ceftriaxone() -> None:
    part = sources_allergy.build(NameLookup(NAMES), STATINS)
    group = part.classes["allergen:r1-aminobenzyl"].members
    assert {"723", "733", "2231", "2177"} <= group
    assert "2193" not in group and "7980" not in group
    assert part.classes["allergen:r1-methoxyimino"].members == {"2193", "2186"}
    assert part.classes["allergen:r1-benzyl"].members == {"7980", "2189"}
    rules = {rule.id: rule for rule in part.rules}
    assert rules["allergy-r1-aminobenzyl"].left == rules["allergy-r1-aminobenzyl"].right
    assert rules["allergy-r1-aminobenzyl"].severity == "major"
    assert "Zagursky" in rules["allergy-r1-aminobenzyl"].management


def test_severities_within_and_between_groups() -> None:
    part = sources_allergy.build(NameLookup(NAMES), STATINS)
    rules = {rule.id: rule for rule in part.rules}
    assert rules["allergy-penicillins"].severity == "major"
    assert rules["allergy-carbapenems-penicillins"].severity == "moderate"
    assert {
        rules["allergy-carbapenems-penicillins"].left,
        rules["allergy-carbapenems-penicillins"].right,
    } == {
        "class:allergen:carbapenems",
        "class:allergen:penicillins",
    }
    nonantibiotics = rules["allergy-sulfonamide-nonantibiotics"]
    assert nonantibiotics.severity == "minor" and "No group-wide" in nonantibiotics.mechanism
    assert not any(r.left == r.right == "class:allergen:sulfonamide-nonantibiotics" for r in part.rules)
    assert "140587" not in part.classes["allergen:nsaids"].members  # celecoxib is usually tolerated
    assert {"1191", "5640"} <= part.classes["allergen:nsaids"].members


def test_statin_group_comes_from_vsac() -> None:
    part = sources_allergy.build(NameLookup(NAMES), STATINS)
    statins = part.classes["allergen:statins"]
    assert statins.members == STATINS and statins.source == "vsac"
    rule = next(rule for rule in part.rules if rule.id == "allergy-statins")
    assert rule.sources == ("vsac", "curated")


def test_a_group_without_members_drops_its_rule() -> None:
    part = sources_allergy.build(NameLookup(NAMES), frozenset())
    assert not any(rule.id == "allergy-statins" for rule in part.rules)
    assert any("allergy-statins dropped" in note for note in part.notes)
