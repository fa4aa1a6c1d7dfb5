"""build_rules end to end over a tiny source tree, and the checks it makes on the whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge import sources_ansm
from alertsvc.knowledge.model import DrugClass, Rule
from alertsvc.knowledge.rules_build import RuleBuild, build_rules, cap_non_interruptive, check_consistency
from tests.knowledge import (
    test_sources_allergy,
    test_sources_ansm,
    test_sources_ndfrt,
    test_sources_onc,
    test_sources_pddi,
    test_sources_vsac,
)

TORSADES = (
    "CITALOPRAM\t2556\tTDP.html\tANSM\tSUBSTANCES THAT TEND TO INDUCE TORSADES DE POINTES\tC01-N05\n"
    "METHADONE\t6813\tTDP.html\tANSM\tSUBSTANCES THAT TEND TO INDUCE TORSADES DE POINTES\tC01-N05\n"
    "HALOPERIDOL\t5093\tNL.html\tANSM\tNEUROLEPTICS THAT TEND TO INDUCE TORSADES DE POINTES\tN05A-002\n"
)
NAMES = {
    **test_sources_onc.NAMES,
    **test_sources_ansm.NAMES,
    **test_sources_ndfrt.NAMES,
    **test_sources_pddi.NAMES,
    **test_sources_vsac.NAMES,
    **test_sources_allergy.NAMES,
    "citalopram": "2556",
    "methadone": "6813",
    "haloperidol": "5093",
    "ondansetron": "26225",
}
EIGHT = (
    "azathioprine",
    "mercaptopurine",
    "febuxostat",
    "esomeprazole",
    "lisdexamfetamine",
    "moclobemide",
    "methylene blue",
    "st. john's wort",
)


def write_tree(root: Path) -> Path:
    test_sources_onc.write_onc(root)
    ansm = test_sources_ansm.write_ansm(root)
    with (ansm / sources_ansm.GROUPS_FILE).open("a", encoding="utf-8") as handle:
        handle.write(TORSADES)
    test_sources_ndfrt.write_ndfrt(
        root,
        test_sources_ndfrt.row("N10", "Febuxostat", "Azathioprine", "Critical")
        + test_sources_ndfrt.row("N11", "Lisinopril", "Acetylsalicylic_acid", "Critical")
        + test_sources_ndfrt.row("N12", "Irbesartan", "Amiloride", "Significant"),
    )
    test_sources_pddi.write_pddi(root)
    test_sources_vsac.write_vsac(root)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> RuleBuild:
    return build_rules(write_tree(tmp_path_factory.mktemp("sources")), NAMES)


def test_every_source_contributes_and_is_credited(built: RuleBuild) -> None:
    prefixes = {rule.id.split("-")[0] for rule in built.rules}
    assert {"onc", "ansm", "ndfrt", "pddi", "allergy", "fda", "effect"} <= prefixes
    assert prefixes <= {"onc", "ansm", "ndfrt", "pddi", "allergy", "fda", "effect", "label"}
    expected = {"onc-hp", "onc-ni", "ansm", "ndfrt", "vsac", "pddi-cds", "curated"}
    assert expected | {"fda-ddi", "us-labelling"} <= set(built.sources)
    assert "not stated" in built.sources["ansm"].licence
    assert built.sources["vsac"].licence == built.sources["pddi-cds"].licence == "CC0 1.0"
    assert "public domain" in built.sources["ndfrt"].licence
    kinds = {drug_class.kind for drug_class in built.classes.values()}
    assert kinds == {"interaction", "therapeutic", "allergen"}


def test_rules_are_unique_named_and_point_at_known_nodes(built: RuleBuild) -> None:
    ids = [rule.id for rule in built.rules]
    assert len(ids) == len(set(ids))
    for rule in built.rules:
        assert rule.sources and all(key in built.sources for key in rule.sources)
        for node in (rule.left, rule.right):
            assert node.startswith("in:") or node.removeprefix("class:") in built.classes


def test_the_eight_members_are_in_the_high_priority_rules(built: RuleBuild) -> None:
    covered: set[str] = set()
    for rule in built.rules:
        if rule.id.startswith("onc-hp-"):
            for node in (rule.left, rule.right):
                covered |= {node[3:]} if node.startswith("in:") else set(built.classes[node[6:]].members)
    assert {NAMES[name] for name in EIGHT} <= covered


def test_qt_class_joins_ansm_torsades_and_curated_labelling(built: RuleBuild) -> None:
    qt = built.classes["onc:hp-21-qt"].members
    assert {"2556", "6813", "5093", "26225"} <= qt  # citalopram, methadone, haloperidol + ondansetron
    assert any("QT-prolonging class" in note for note in built.notes)


def test_non_interruptive_never_critical_and_ndfrt_follows_the_onc_lists(built: RuleBuild) -> None:
    assert all(rule.severity != "critical" for rule in built.rules if rule.non_interruptive)
    rules = {rule.id: rule for rule in built.rules}
    assert rules["ndfrt-N10"].severity == "critical"  # febuxostat + azathioprine is ONC high-priority
    assert rules["ndfrt-N11"].severity == "major"
    assert rules["ndfrt-N12"].severity == "moderate"


def test_notes_count_each_source(built: RuleBuild) -> None:
    text = "\n".join(built.notes)
    for word in (
        "ONC high-priority",
        "ONC non-interruptive",
        "ANSM:",
        "NDF-RT:",
        "VSAC",
        "PDDI-CDS",
        "Allergen groups",
    ):
        assert word in text


def test_missing_source_folder_names_the_file(tmp_path: Path) -> None:
    root = write_tree(tmp_path)
    (root / "ndfrt" / "combined_conservative_NDF-RT.tsv").unlink()
    with pytest.raises(KnowledgeBuildError, match=r"combined_conservative_NDF-RT\.tsv"):
        build_rules(root, NAMES)


def rule(rule_id: str, left: str, right: str, severity: str = "critical") -> Rule:
    return Rule(rule_id, "interaction", left, right, severity, "", "", ("ansm",))  # type: ignore[arg-type]


def test_critical_ingredient_pair_on_the_non_interruptive_list_is_lowered() -> None:
    rules = [
        rule("ansm-1", "in:1", "in:2"),
        rule("ansm-2", "in:1", "in:3"),
        rule("onc-hp-01", "in:2", "in:1"),
    ]
    capped, lowered = cap_non_interruptive(rules, {frozenset({"1", "2"})})
    assert lowered == 1
    assert [r.severity for r in capped] == ["major", "critical", "critical"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param(rule("x", "class:nope", "in:1"), "unknown class", id="unknown-class"),
        pytest.param(rule("x", "drug:1", "in:1"), "neither", id="bad-node"),
        pytest.param(
            Rule("x", "interaction", "in:1", "in:2", "minor", "", "", ("nope",)),
            "unknown source",
            id="unknown-source",
        ),
        pytest.param(
            Rule("x", "interaction", "in:1", "in:2", "critical", "", "", ("ansm",), non_interruptive=True),
            "cannot be critical",
            id="critical-non-interruptive",
        ),
    ],
)
def test_consistency_check_refuses_broken_results(bad: Rule, message: str) -> None:
    classes = {"c": DrugClass("c", "C", "interaction", "ansm", frozenset({"1"}))}
    with pytest.raises(KnowledgeBuildError, match=message):
        check_consistency(classes, [bad], {"ansm": sources_ansm.SOURCE})


def test_duplicate_rule_ids_are_refused() -> None:
    with pytest.raises(KnowledgeBuildError, match="used twice"):
        check_consistency(
            {},
            [rule("x", "in:1", "in:2"), rule("x", "in:1", "in:3")],
            {"ansm": sources_ansm.SOURCE},
        )
