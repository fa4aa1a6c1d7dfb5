"""The ONC class tables: parsing, the members the mapped CSV lacks, corrections, severities."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge import sources_onc
from alertsvc.knowledge.rules_common import NameLookup

NAMES = {
    "dextroamphetamine": "3288",
    "lisdexamfetamine": "700810",
    "tranylcypromine": "10734",
    "phenelzine": "8123",
    "moclobemide": "30121",
    "methylene blue": "6878",
    "atazanavir": "343047",
    "omeprazole": "7646",
    "esomeprazole": "283742",
    "febuxostat": "73689",
    "azathioprine": "1256",
    "mercaptopurine": "103",
    "ritonavir": "85762",
    "rifampin": "9384",
    "st. john's wort": "258326",
    "sumatriptan": "37418",
    "aspirin": "1191",
    "salsalate": "9524",
    "methacholine": "6807",
    "lisinopril": "29046",
    "levothyroxine": "10582",
    "calcium carbonate": "1897",
    "warfarin": "11289",
    "dipyridamole": "3521",
    "acetaminophen": "161",
}

HP_HEADER = (
    "pair_id(filled-down)\tobject_class(as-in-xls, blank=same-cell-group)\tobject_drug\t"
    "precipitant_class(as-in-xls)\tprecipitant_drug\n"
)
HP_TABLE = (
    HP_HEADER
    + """3\tAmphetamine derivatives\tDextroamphetamine\tMAOI\tTranylcypromine
3\t\tLisdexamefetamine\t\tPhenelzine
4\t\tAtazanavir\tProton Pump Inhibitors\tOmeprazole
4\t\t\t\tEsmoprazole
6\t\tFebuxostat\t\tAzathioprine
6\t\t\t\tMercaptopurine
21\tQT prolonging agents\t\tQT prolonging agents\t
23\tProtease inhibitors\tRitonavir\tStrong CYP3A4 inducers\tRifampin
23\t\tNSAID\t\tSt John\u2019s wort
31\tTriptans\tSumatriptan\tMonoamine oxidase (MAO) inhibitors\tTranylcypromine
31\t\t\t\tMoclobamide
31\t\t\t\tMethylene blue
"""
)

NI_HEADER = (
    "ID\tObject_Class\tObject_Drug\tObj_DrugbankID\tPreciptiant_Class\tPrecipitant_Drug\tPre_DrugbankID\n"
)
NI_TABLE = (
    NI_HEADER
    + """1\tACE inhibitors\tlisinopril\t\tSalicylates\tAminosalicylate\t
1\t\t\t\t\tMethacholine\t
\t\t\t\t\t\t
6\tThyroid hormones  \tLevothyroxine\t\tCalcium salts   \tCalcium Carbonate\t
18\tAnticoagulants \tWarfarin\t\tAcetaminophen\t\t
18\t\tDipyridamole\t\t\t\t
"""
)

QT = frozenset({"2556", "6813", "4053"})  # citalopram, methadone, erythromycin


def write_onc(root: Path, hp: str = HP_TABLE, ni: str = NI_TABLE) -> Path:
    onc = root / "onc"
    onc.mkdir(parents=True, exist_ok=True)
    (onc / sources_onc.HP_FILE).write_text(hp, encoding="utf-8")
    (onc / sources_onc.NI_FILE).write_text(ni, encoding="utf-8")
    return onc


def test_class_table_fills_class_names_down_and_keeps_each_side(tmp_path: Path) -> None:
    pairs = sources_onc.read_class_table(write_onc(tmp_path) / sources_onc.HP_FILE, sources_onc.HP_COLUMNS)
    by_number = {pair.number: pair for pair in pairs}
    assert sorted(by_number) == [3, 4, 6, 21, 23, 31]
    assert by_number[3].object.class_names == ("Amphetamine derivatives",)
    assert by_number[3].object.drugs == ("Dextroamphetamine", "Lisdexamefetamine")
    assert by_number[4].precipitant.drugs == ("Omeprazole", "Esmoprazole")
    assert by_number[6].object.class_names == ()
    assert by_number[21].object.drugs == ("QT prolonging agents",)


def test_the_eight_members_the_mapped_csv_lacks_are_members(tmp_path: Path) -> None:
    result = sources_onc.build(write_onc(tmp_path), NameLookup(NAMES), QT)
    members: set[str] = set()
    for drug_class in result.part.classes.values():
        members |= drug_class.members
    nodes = {node for rule in result.part.rules for node in (rule.left, rule.right)}
    in_rules = members | {node.removeprefix("in:") for node in nodes if node.startswith("in:")}
    for name in (
        "azathioprine",
        "mercaptopurine",
        "febuxostat",
        "esomeprazole",
        "lisdexamfetamine",
        "moclobemide",
        "methylene blue",
        "st. john's wort",
    ):
        assert NAMES[name] in in_rules, name


def test_high_priority_rules_are_critical_and_a_lone_drug_is_an_ingredient_node(tmp_path: Path) -> None:
    result = sources_onc.build(write_onc(tmp_path), NameLookup(NAMES), QT)
    rules = {rule.id: rule for rule in result.part.rules if rule.id.startswith("onc-hp-")}
    assert set(rules) == {"onc-hp-03", "onc-hp-04", "onc-hp-06", "onc-hp-21", "onc-hp-23", "onc-hp-31"}
    assert {rule.severity for rule in rules.values()} == {"critical"}
    assert rules["onc-hp-06"].left == "in:73689"  # febuxostat alone
    thiopurines = result.part.classes["onc:hp-06-b"]
    assert thiopurines.members == {"1256", "103"}
    assert frozenset({"73689", "1256"}) in result.critical_pairs
    assert "Xanthine oxidase" in rules["onc-hp-06"].mechanism


def test_qt_pair_is_one_class_on_both_sides(tmp_path: Path) -> None:
    result = sources_onc.build(write_onc(tmp_path), NameLookup(NAMES), QT)
    rule = next(rule for rule in result.part.rules if rule.id == "onc-hp-21")
    assert rule.left == rule.right == "class:onc:hp-21-qt"
    assert result.part.classes["onc:hp-21-qt"].members == QT
    assert frozenset({"2556", "6813"}) in result.critical_pairs
    assert set(rule.sources) == {"onc-hp", "ansm", "curated"}


def test_nsaid_slip_in_protease_inhibitors_is_corrected_to_atazanavir(tmp_path: Path) -> None:
    lookup = NameLookup(NAMES)
    result = sources_onc.build(write_onc(tmp_path), lookup, QT)
    assert result.part.classes["onc:hp-23-a"].members == {"85762", "343047"}
    assert "nsaid" not in lookup.misses.get("onc-hp", set())
    assert any("atazanavir" in note and "pair 23" in note for note in result.part.notes)


def test_non_interruptive_rules_are_never_critical_and_curated(tmp_path: Path) -> None:
    result = sources_onc.build(write_onc(tmp_path), NameLookup(NAMES), QT)
    rules = {rule.id: rule for rule in result.part.rules if rule.id.startswith("onc-ni-")}
    assert set(rules) == {"onc-ni-01", "onc-ni-06", "onc-ni-18"}
    assert all(rule.non_interruptive and rule.severity == "moderate" for rule in rules.values())
    salicylates = result.part.classes["onc:ni-01-b"].members
    assert "1191" in salicylates and "9524" in salicylates
    assert "6807" not in salicylates  # methacholine is no salicylate
    assert rules["onc-ni-06"].routes == {"oral"}
    assert result.part.classes["onc:ni-18-a"].members == {"11289"}  # dipyridamole is no anticoagulant
    assert rules["onc-ni-18"].right == "in:161"  # a class name with no drugs is its own member
    assert frozenset({"29046", "1191"}) in result.non_interruptive_pairs


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(sorted(NAMES)), min_size=1, max_size=6, unique=True))
def test_any_non_interruptive_table_gives_no_critical_rule(drugs: list[str]) -> None:
    rows = "".join(f"7\tClass A\t{drug}\t\tClass B\t{drugs[-1 - i]}\t\n" for i, drug in enumerate(drugs))
    header = NI_TABLE.splitlines()[0] + "\n"
    with tempfile.TemporaryDirectory() as root:
        result = sources_onc.build(write_onc(Path(root), ni=header + rows), NameLookup(NAMES), QT)
    assert all(rule.severity != "critical" for rule in result.part.rules if rule.non_interruptive)
    assert any(rule.id == "onc-ni-07" for rule in result.part.rules)


def test_missing_table_names_the_file(tmp_path: Path) -> None:
    onc = write_onc(tmp_path)
    (onc / sources_onc.NI_FILE).unlink()
    with pytest.raises(KnowledgeBuildError, match="ONC_non_interruptive"):
        sources_onc.build(onc, NameLookup(NAMES), QT)


def test_pair_number_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    onc = write_onc(tmp_path, hp=HP_TABLE.replace("\n6\t\tFebuxostat", "\nsix\t\tFebuxostat"))
    with pytest.raises(KnowledgeBuildError, match="six"):
        sources_onc.build(onc, NameLookup(NAMES), QT)


def test_cross_check_names_class_table_members_the_mapped_csv_lacks(tmp_path: Path) -> None:
    onc = write_onc(tmp_path)
    (onc / sources_onc.HP_MAPPED_FILE).write_text(
        "\ufeffDextroamphetamine$DB01576$Tranylcypromine$DB00752$\nFebuxostat$DB04854$Nowhere$DB0$\n",
        encoding="utf-8",
    )
    result = sources_onc.build(onc, NameLookup(NAMES), QT)
    note = next(note for note in result.part.notes if "cross-check" in note)
    assert "maps to 1 ingredient pairs, 1 of them covered" in note
    for name in ("azathioprine", "mercaptopurine", "esomeprazole", "methylene blue"):
        assert name in note
    assert "tranylcypromine" not in note.split("lacks:")[1]
