"""VA NDF-RT pairs: DrugBank names mapped by name, severities and the ONC lists."""

from __future__ import annotations

from pathlib import Path

from alertsvc.knowledge import sources_ndfrt
from alertsvc.knowledge.rules_common import NameLookup

NAMES = {
    "irbesartan": "83818",
    "amiloride": "644",
    "aspirin": "1191",
    "warfarin": "11289",
    "simvastatin": "36567",
    "clarithromycin": "21212",
    "lisinopril": "29046",
    "methylergonovine": "6883",
    "darunavir": "460132",
}
HEADER = "drug1\tobject\tdrug2\tprecipitant\tlabel\tseverity\turi\tsource\n"


def row(code: str, left: str, right: str, severity: str) -> str:
    label = f"{left.upper()}/{right.upper()} [VA Drug Interaction]"
    uri = f"http://purl.bioontology.org/ontology/NDFRT/{code}"
    return f"http://bio2rdf.org/drugbank:DB1\t{left}\thttp://bio2rdf.org/drugbank:DB2\t{right}\t{label}\t{severity}\t{uri}\tNDF-RT\n"


def write_ndfrt(root: Path, rows: str) -> Path:
    folder = root / "ndfrt"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / sources_ndfrt.FILE).write_text(HEADER + rows, encoding="utf-8")
    return folder


def test_levels_map_to_major_and_moderate_and_onc_pairs_to_critical(tmp_path: Path) -> None:
    rows = (
        row("N01", "Irbesartan", "Amiloride", "Significant")
        + row("N02", "Acetylsalicylic_acid", "Warfarin", "Critical")
        + row("N03", "Simvastatin", "Clarithromycin", "Critical")
        + row("N04", "Darunavir", "Methylergometrine", "Critical")
    )
    part = sources_ndfrt.build(
        write_ndfrt(tmp_path, rows), NameLookup(NAMES), {frozenset({"36567", "21212"})}, set()
    )
    rules = {rule.id: rule for rule in part.rules}
    assert rules["ndfrt-N01"].severity == "moderate"
    assert rules["ndfrt-N02"].severity == "major"
    assert {rules["ndfrt-N02"].left, rules["ndfrt-N02"].right} == {"in:1191", "in:11289"}
    assert rules["ndfrt-N03"].severity == "critical"
    assert rules["ndfrt-N04"].severity == "major"  # methylergometrine is RxNorm's methylergonovine
    assert "ACETYLSALICYLIC_ACID/WARFARIN" in rules["ndfrt-N02"].mechanism


def test_a_pair_on_both_onc_lists_is_not_critical(tmp_path: Path) -> None:
    pair = frozenset({"36567", "21212"})
    part = sources_ndfrt.build(
        write_ndfrt(tmp_path, row("N03", "Simvastatin", "Clarithromycin", "Critical")),
        NameLookup(NAMES),
        {pair},
        {pair},
    )
    assert part.rules[0].severity == "major"


def test_a_pair_listed_twice_keeps_its_most_severe_entry(tmp_path: Path) -> None:
    rows = row("N05", "Lisinopril", "Amiloride", "Significant") + row(
        "N06", "Amiloride", "Lisinopril", "Critical"
    )
    part = sources_ndfrt.build(write_ndfrt(tmp_path, rows), NameLookup(NAMES), set(), set())
    assert [(rule.id, rule.severity) for rule in part.rules] == [("ndfrt-N06", "major")]


def test_unmapped_names_are_reported(tmp_path: Path) -> None:
    rows = row("N07", "Astemizole", "Clarithromycin", "Critical") + row("N08", "Bogus", "Mystery", "Unheard")
    lookup = NameLookup(NAMES)
    part = sources_ndfrt.build(write_ndfrt(tmp_path, rows), lookup, set(), set())
    assert part.rules == []
    assert lookup.misses["ndfrt"] == {"astemizole"}
    assert "1 pairs dropped" in part.notes[0] and "astemizole" in part.notes[0]
    assert "1 with an unknown level" in part.notes[0]
