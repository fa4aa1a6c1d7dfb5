"""The ANSM thesaurus: severity spellings, class resolution, merging both directions of a pair."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.knowledge import sources_ansm
from alertsvc.knowledge.rules_common import NameLookup

NAMES = {
    "warfarin": "11289",
    "acenocoumarol": "154",
    "aspirin": "1191",
    "ibuprofen": "5640",
    "naproxen": "7258",
    "clopidogrel": "32968",
    "naltrexone": "7243",
    "morphine": "7052",
    "gentamicin": "1596450",
    "amikacin": "641",
    "lithium": "6448",
    "furosemide": "4603",
    "insulin glargine": "274783",
    "insulin lispro": "86009",
    "propranolol": "8787",
}

GROUPS = """Drug Name\tRxNorm\tSource File\tClinical Source\tClass Name\tClass Code
WARFARIN\t11289\tVITAMIN-K-ANTAGONISTS.html\tANSM\tVITAMIN K ANTAGONISTS\tB01AA-001
ACENOCOUMAROL\t154\tVITAMIN-K-ANTAGONISTS.html\tANSM\tVITAMIN K ANTAGONISTS\tB01AA-001
FLUINDIONE\t\tVITAMIN-K-ANTAGONISTS.html\tANSM\tVITAMIN K ANTAGONISTS\tB01AA-001
IBUPROFEN\t5640\tNSAIDS.html\tANSM\tNON STEROIDAL ANTI-INFLAMMATORY DRUGS\tM01A-002
NAPROXEN\t7258\tNSAIDS.html\tANSM\tNON STEROIDAL ANTI-INFLAMMATORY DRUGS\tM01A-002
NALTREXONE\t7243\tOPIOID RECEPTOR ANTAGONISTS.html\tANSM\tOPIOID RECEPTOR ANTAGONISTS\tN07BB0
MORPHINE\t7052\tSTEP-III.html\tANSM\tSTEP III OPIOID ANALGESICS\tN02A-002
GENTAMICIN\t142438\tAMINOGLYCOSIDES.html\tANSM\tAMINOGLYCOSIDES\tJ01GB-001
AMIKACIN\t641\tAMINOGLYCOSIDES.html\tANSM\tAMINOGLYCOSIDES\tJ01GB-001
FUROSEMIDE\t4603\tLOOP-DIURETICS.html\tANSM\tLOOP DIURETICS\tC03CA-001
INSULIN\t5856\tINSULIN.html\tANSM\tINSULIN\tA10A
"""

HEADER = (
    "Drug Interaction ID\tDrug 1 Name\tDrug 1 RxCUI\tDrug 1 Class Name\tDrug 1 Code\tDrug 2 Name\t"
    "Drug 2 RxCUI\tDrug 2 Class Name\tDrug 2 Code\tClinical Source\tSource File\tDescription\t"
    "Severity\tComment\n"
)
RULES = HEADER + (
    "1\t\t\tVITAMIN K ANTAGONISTS\tB01AA-001\t\t\tNON STEROIDAL ANTI-INFLAMMATORY DRUGS\tM01A-002\tANSM"
    "\ta.html"
    "\tIncrease of the hemorrhagic risk\tPrecaution for use\tMonitor INR\n"
    "2\t\t\tOTHER NON STEROIDAL ANTI-INFLAMMATORY DRUGS\tM01A-002\t\t\tVITAMIN K ANTAGONISTS\tB01AA-001\tANSM"
    "\tb.html\tIncrease of the hemorrhagic risk (both)\tNot recommended with:\t\n"
    "3\t\t\tPARTIAL AGONIST OPIOIDS\tPARAG\t\t\tSTEP III OPIOID ANALGESICS\tN02A-002\tANSM\tc.html"
    "\tRisk of decrease of the antalgic effect\tCONTRAINDICATON\t\n"
    "4\tCLOPIDOGREL\t3296\t\t\tASPIRIN\t1191\t\t\tANSM\td.html\tBleeding\tTale into account\t\n"
    "5\t\t\tAMINOGLYCOSIDES\tJ01GB-001\t\t\tOTHER AMINOGLYCOSIDES\tJ01GB-001\tANSM\te.html"
    "\tOtotoxicity\tContraindication - Not recommended - Precaution for use\t\n"
    "6\t\t\tLOOP DIURETICS\tC03CA-001\tLITHIUM\t6448\t\t\tANSM\tf.html\tLithium overdose\t\t\n"
    "7\tLITHIUM\t6448\t\t\t\t\tLOOP DIURETICS\tC03CA-001\tANSM\tg.html\tLithium overdose\tNot recommended\t\n"
    "8\tUNKNOWNINE\t\t\t\tASPIRIN\t1191\t\t\tANSM\th.html\tSomething\tPrecaution for use\t\n"
    "9\t\t\t\t\t\t\t\t\tANSM\ti.html\t\t\t\n"
    "10\tINSULIN\t\t\t\tPROPRANOLOL\t8787\t\t\tANSM\tj.html\tMasked hypoglycemia\tPrecaution for use\t\n"
)


def write_ansm(root: Path) -> Path:
    ansm = root / "ansm"
    ansm.mkdir(parents=True, exist_ok=True)
    (ansm / sources_ansm.GROUPS_FILE).write_text(GROUPS, encoding="utf-8")
    (ansm / sources_ansm.RULES_FILE).write_text(RULES, encoding="utf-8")
    return ansm


@pytest.mark.parametrize(
    ("text", "level"),
    [
        pytest.param("CONTRAINDICATION", "critical", id="upper"),
        pytest.param("Contraindication:", "critical", id="colon"),
        pytest.param("CONTRAINDICATON", "critical", id="typo-1"),
        pytest.param("CONTRANDICATION", "critical", id="typo-2"),
        pytest.param("C0NTRAINDICATION", "critical", id="zero-for-o"),
        pytest.param("Contraindication with:", "critical", id="with"),
        pytest.param("Not Recommended", "major", id="not-recommended"),
        pytest.param("Not recommended with:", "major", id="not-recommended-with"),
        pytest.param("Nor recommended", "major", id="nor"),
        pytest.param("Not recommeded:", "major", id="recommeded"),
        pytest.param("Precautions for use", "moderate", id="precautions"),
        pytest.param("Precaution of use", "moderate", id="precaution-of"),
        pytest.param("Precaution for use.", "moderate", id="precaution-dot"),
        pytest.param("Take into account", "minor", id="take"),
        pytest.param("Tale into account", "minor", id="tale"),
    ],
)
def test_severity_spellings_merge_into_four_levels(text: str, level: str) -> None:
    assert sources_ansm.parse_severity(text) == (level, False)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Contraindication - Not recommended - Precaution for use", id="several-levels"),
        pytest.param("With doses of methotrexate > 20 mg/week", id="condition-only"),
    ],
)
def test_qualified_severity_is_major_and_flagged(text: str) -> None:
    assert sources_ansm.parse_severity(text) == ("major", True)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_any_severity_text_gives_a_level_or_none(text: str) -> None:
    level, qualified = sources_ansm.parse_severity(text)
    assert level in {None, "critical", "major", "moderate", "minor"}
    assert level is not None or not qualified


def test_both_directions_of_a_pair_merge_keeping_the_most_severe(tmp_path: Path) -> None:
    result = sources_ansm.build(write_ansm(tmp_path), NameLookup(NAMES))
    vka_nsaid = [
        rule
        for rule in result.part.rules
        if {rule.left, rule.right}
        == {"class:ansm:vitamin-k-antagonists", "class:ansm:non-steroidal-anti-inflammatory-drugs"}
    ]
    assert len(vka_nsaid) == 1
    assert vka_nsaid[0].severity == "major"
    assert vka_nsaid[0].id == "ansm-2"
    assert vka_nsaid[0].mechanism == "Increase of the hemorrhagic risk (both)"


def test_description_is_mechanism_and_comment_is_management(tmp_path: Path) -> None:
    lookup = NameLookup(NAMES)
    rows = {row.id: row for row in sources_ansm.read_rows(write_ansm(tmp_path) / sources_ansm.RULES_FILE)}
    assert rows["1"].comment == "Monitor INR"
    result = sources_ansm.build(tmp_path / "ansm", lookup)
    assert all(rule.sources == ("ansm",) for rule in result.part.rules)


def test_class_found_by_name_other_prefix_and_code_alias(tmp_path: Path) -> None:
    result = sources_ansm.build(write_ansm(tmp_path), NameLookup(NAMES))
    rules = {rule.id: rule for rule in result.part.rules}
    antagonists = rules["ansm-3"]
    assert {antagonists.left, antagonists.right} == {
        "class:ansm:opioid-receptor-antagonists",
        "class:ansm:step-iii-opioid-analgesics",
    }
    assert antagonists.severity == "critical"
    within = rules["ansm-5"]
    assert within.left == within.right == "class:ansm:aminoglycosides"
    assert within.severity == "major" and "ANSM level: Contraindication" in within.management


def test_names_win_over_a_wrong_rxcui_and_blank_severity_takes_the_mirror(tmp_path: Path) -> None:
    result = sources_ansm.build(write_ansm(tmp_path), NameLookup(NAMES))
    rules = {rule.id: rule for rule in result.part.rules}
    assert {rules["ansm-4"].left, rules["ansm-4"].right} == {"in:32968", "in:1191"}  # not 3296
    assert rules["ansm-4"].severity == "minor"
    lithium = [r for r in result.part.rules if "in:6448" in (r.left, r.right)]
    assert len(lithium) == 1 and lithium[0].severity == "major"
    gentamicin_class = result.part.classes["ansm:aminoglycosides"]
    assert gentamicin_class.members == {"1596450", "641"}


def test_unmapped_and_empty_rows_are_counted_not_kept(tmp_path: Path) -> None:
    lookup = NameLookup(NAMES)
    result = sources_ansm.build(write_ansm(tmp_path), lookup)
    assert "unknownine" in lookup.misses["ansm"]
    assert "fluindione" in lookup.misses["ansm"]
    assert not any(rule.id in {"ansm-8", "ansm-9"} for rule in result.part.rules)
    assert "2 rows dropped" in result.part.notes[0]


def test_generic_insulin_is_the_insulin_class_completed_with_us_insulins(tmp_path: Path) -> None:
    result = sources_ansm.build(write_ansm(tmp_path), NameLookup(NAMES))
    insulin = result.part.classes["ansm:insulin"]
    assert insulin.members == {"274783", "86009"}  # RxNorm lists each insulin; the French table says INSULIN
    rules = {rule.id: rule for rule in result.part.rules}
    assert {rules["ansm-10"].left, rules["ansm-10"].right} == {"class:ansm:insulin", "in:8787"}
