"""The ONC interaction lists: high-priority (Phansalkar et al., JAMIA 2012;19:735) and non-interruptive
(Phansalkar et al., JAMIA 2013;20:489), read from their class tables (dbmi-pitt/public-PDDI-analysis).

The class tables are the source, not the DrugBank-keyed ``*_Mapped.csv`` expansions: the mapped
high-priority CSV lacks 8 members (azathioprine, mercaptopurine, febuxostat, esomeprazole,
lisdexamfetamine, moclobemide, methylene blue, St John's wort). A table lists each pair's object class and
drugs beside its precipitant class and drugs, one drug a row, the pair number filled down; a class name is
written once per group. Pair 21 (QT-prolonging + QT-prolonging) has no member list: its class is given by
the caller (the ANSM torsades classes completed from US labelling).

High-priority pairs become "critical" rules; non-interruptive pairs are never critical ("moderate",
``non_interruptive=True``), oral-only where the interaction is one of gut absorption.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge.curated_onc import ONC_HP_TEXT, ONC_NI_MANAGEMENT, ONC_NI_TEXT
from alertsvc.knowledge.curated_rules import ONC_CORRECTIONS, ONC_NI_ORAL_ONLY
from alertsvc.knowledge.curated_texts import management as tier_management
from alertsvc.knowledge.model import DrugClass, Rule, Severity, Source, Wording
from alertsvc.knowledge.rules_common import NameLookup, Part, normalise_name
from alertsvc.knowledge.wording import steps

HP_FILE = "ONC_high_priority_class_table_phansalkar2012.tsv"
NI_FILE = "ONC_non_interruptive_class_table_phansalkar2013.tsv"
HP_MAPPED_FILE = "ONC_High_Priority_Mapped.csv"
HP_COLUMNS = (0, 1, 2, 3, 4)  # pair, object class, object drug, precipitant class, precipitant drug
NI_COLUMNS = (0, 1, 2, 4, 5)
QT_PAIR = 21

SOURCE_HP = Source(
    key="onc-hp",
    title="ONC high-priority drug-drug interactions (Phansalkar et al., JAMIA 2012;19(5):735-743)",
    version="2012; class table from dbmi-pitt/public-PDDI-analysis",
    licence="Published list of facts; tables from dbmi-pitt/public-PDDI-analysis",
    attribution="Phansalkar S, et al. Drug-drug interactions that should be non-interruptive... and "
    "high-priority DDIs for EHRs. JAMIA 2012;19:735. Tables: University of Pittsburgh DBMI.",
    url="https://doi.org/10.1136/amiajnl-2011-000612",
)
SOURCE_NI = Source(
    key="onc-ni",
    title="ONC non-interruptive drug-drug interactions (Phansalkar et al., JAMIA 2013;20(3):489-493)",
    version="2013; class table from dbmi-pitt/public-PDDI-analysis",
    licence="Published list of facts; tables from dbmi-pitt/public-PDDI-analysis",
    attribution="Phansalkar S, et al. Drug-drug interactions that should be non-interruptive in order to "
    "reduce alert fatigue in EHRs. JAMIA 2013;20:489. Tables: University of Pittsburgh DBMI.",
    url="https://doi.org/10.1136/amiajnl-2012-001089",
)


@dataclass(frozen=True)
class OncSide:
    """One side of a class pair as written: its class name(s) and drug names."""

    class_names: tuple[str, ...]
    drugs: tuple[str, ...]

    @property
    def name(self) -> str:
        return " + ".join(self.class_names) if self.class_names else ", ".join(self.drugs)


@dataclass(frozen=True)
class OncPair:
    """A numbered class pair of an ONC table."""

    number: int
    object: OncSide
    precipitant: OncSide


@dataclass
class OncResult:
    """The ONC part and the ingredient pairs each list covers (for other sources' severities)."""

    part: Part
    critical_pairs: set[frozenset[str]]
    non_interruptive_pairs: set[frozenset[str]]


def read_class_table(path: Path, columns: tuple[int, int, int, int, int]) -> list[OncPair]:
    """Parse an ONC class table; rows without a pair number (separators) are skipped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="\t"))
    except FileNotFoundError as exc:
        raise KnowledgeBuildError(f"{path}: source file is missing") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise KnowledgeBuildError(f"{path}: cannot be read: {exc}") from exc
    grouped: dict[int, list[list[str]]] = {}
    for line, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row] + [""] * (max(columns) + 1 - len(row))
        pair_text = cells[columns[0]]
        if not pair_text:
            continue
        if not pair_text.isdigit():
            raise KnowledgeBuildError(f"{path}:{line}: pair number {pair_text!r} is not a number")
        grouped.setdefault(int(pair_text), []).append(cells)
    if not grouped:
        raise KnowledgeBuildError(f"{path}: no class pairs found")
    return [
        OncPair(number, _side(rows_, columns[1], columns[2]), _side(rows_, columns[3], columns[4]))
        for number, rows_ in sorted(grouped.items())
    ]


def _side(rows: list[list[str]], class_column: int, drug_column: int) -> OncSide:
    classes = tuple(dict.fromkeys(row[class_column] for row in rows if row[class_column]))
    drugs = tuple(dict.fromkeys(row[drug_column] for row in rows if row[drug_column]))
    return OncSide(classes, drugs or classes)


def build(onc_dir: Path, lookup: NameLookup, qt_members: frozenset[str]) -> OncResult:
    """Classes and rules from both ONC class tables. ``qt_members`` is the class for pair 21."""
    result = OncResult(Part(sources={"onc-hp": SOURCE_HP, "onc-ni": SOURCE_NI}), set(), set())
    hp_pairs = read_class_table(onc_dir / HP_FILE, HP_COLUMNS)
    ni_pairs = read_class_table(onc_dir / NI_FILE, NI_COLUMNS)
    for pair in hp_pairs:
        _add_pair(result, "hp", pair, lookup, qt_members)
    for pair in ni_pairs:
        _add_pair(result, "ni", pair, lookup, qt_members)
    hp_rules = sum(1 for rule in result.part.rules if rule.id.startswith("onc-hp-"))
    ni_rules = len(result.part.rules) - hp_rules
    result.part.notes.append(
        f"ONC high-priority: {len(hp_pairs)} class pairs read from the class table, {hp_rules} critical "
        f"rules; pair {QT_PAIR} uses a class of {len(qt_members)} QT-prolonging ingredients."
    )
    result.part.notes.append(
        f"ONC non-interruptive: {len(ni_pairs)} class pairs read, {ni_rules} rules (moderate, never "
        f"critical; {len(ONC_NI_ORAL_ONLY)} pairs oral forms only)."
    )
    result.part.notes.append(mapped_csv_check(onc_dir / HP_MAPPED_FILE, lookup, result))
    for correction in ONC_CORRECTIONS:
        result.part.notes.append(
            f"ONC {correction.table} pair {correction.pair} side {correction.side}: removed "
            f"{', '.join(correction.remove) or 'nothing'}; added {', '.join(correction.add) or 'nothing'}: "
            f"{correction.reason}."
        )
    return result


def _corrected(table: str, number: int, side: str, drugs: tuple[str, ...]) -> tuple[str, ...]:
    names = [normalise_name(drug) for drug in drugs]
    for correction in ONC_CORRECTIONS:
        if (correction.table, correction.pair, correction.side) == (table, number, side):
            names = [name for name in names if name not in correction.remove] + list(correction.add)
    return tuple(dict.fromkeys(names))


def _side_node(
    result: OncResult, table: str, pair: OncPair, side_key: str, lookup: NameLookup, qt: frozenset[str]
) -> tuple[str, frozenset[str]] | None:
    """The node and members for one side of a pair: ``in:`` for a lone drug, else an ONC class."""
    side = pair.object if side_key == "a" else pair.precipitant
    source = f"onc-{table}"
    if table == "hp" and pair.number == QT_PAIR:
        drug_class = DrugClass(f"onc:hp-{QT_PAIR:02d}-qt", "QT-prolonging drugs", "interaction", source, qt)
        return (result.part.add_class(drug_class), qt) if qt else None
    drugs = _corrected(table, pair.number, side_key, side.drugs)
    members = lookup.members(drugs, source)
    if not members:
        return None
    lone_drug = len(drugs) == 1 and (not side.class_names or normalise_name(side.class_names[0]) == drugs[0])
    if lone_drug:
        return f"in:{next(iter(members))}", members
    class_id = f"onc:{table}-{pair.number:02d}-{side_key}"
    return result.part.add_class(DrugClass(class_id, side.name, "interaction", source, members)), members


def _add_pair(result: OncResult, table: str, pair: OncPair, lookup: NameLookup, qt: frozenset[str]) -> None:
    source = f"onc-{table}"
    sides = [_side_node(result, table, pair, key, lookup, qt) for key in ("a", "b")]
    if sides[0] is None or sides[1] is None:
        result.part.notes.append(
            f"ONC {table} pair {pair.number}: a side has no member that maps; rule dropped."
        )
        return
    nodes = [sides[0][0], sides[1][0]]
    member_sets = [sides[0][1], sides[1][1]]
    expanded = {frozenset({a, b}) for a in member_sets[0] for b in member_sets[1] if a != b}
    summary = ""
    wording: Wording = ""
    if table == "hp":
        severity: Severity = "critical"
        text = ONC_HP_TEXT.get(pair.number)
        mechanism, summary = (text.mechanism, text.summary) if text else ("", "")
        management = steps(tier_management(severity, text.watch if text else ()))
        wording = "curated" if text else ""
        rating = "high priority: contraindicated (ONC, Phansalkar et al. 2012)"
        routes: frozenset[str] = frozenset()
        result.critical_pairs |= expanded
    else:
        mechanism, management = ONC_NI_TEXT.get(pair.number, ""), ONC_NI_MANAGEMENT
        severity = "moderate"
        rating = "non-interruptive (ONC, Phansalkar et al. 2013)"
        routes = frozenset({"oral"}) if pair.number in ONC_NI_ORAL_ONLY else frozenset()
        result.non_interruptive_pairs |= expanded
    sources = (source, "ansm", "curated") if table == "hp" and pair.number == QT_PAIR else (source,)
    if any(c.table == table and c.pair == pair.number for c in ONC_CORRECTIONS):
        sources = (*sources, "curated")
    result.part.rules.append(
        Rule(
            id=f"onc-{table}-{pair.number:02d}",
            kind="interaction",
            left=nodes[0],
            right=nodes[1],
            severity=severity,
            mechanism=mechanism,
            management=management,
            sources=sources,
            non_interruptive=table == "ni",
            routes=routes,
            rating=rating,
            summary=summary,
            wording=wording,
        )
    )


def mapped_csv_check(path: Path, lookup: NameLookup, result: OncResult) -> str:
    """Compare the class-table build with the DrugBank-keyed expansion (``name$DB id$name$DB id$`` rows):
    how many of its ingredient pairs the rules cover, and which class-table members it lacks."""
    if not path.exists():
        return f"ONC high-priority: {path.name} absent; no cross-check against the mapped expansion."
    pairs: set[frozenset[str]] = set()
    names: set[str] = set()
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            cells = line.strip().split("$")
            if len(cells) < 3:
                continue
            names |= {normalise_name(cells[0]), normalise_name(cells[2])}
            left, right = lookup.find(cells[0]), lookup.find(cells[2])
            if left and right and left != right:
                pairs.add(frozenset({left, right}))
    in_csv = {lookup.find(name) for name in names} - {None}
    members: set[str] = set()
    for pair in result.critical_pairs:
        members |= pair
    lacking = sorted(lookup.name_of(rxcui) for rxcui in members - in_csv)
    covered = len(pairs & result.critical_pairs)
    return (
        f"ONC high-priority cross-check: the DrugBank-keyed {path.name} maps to {len(pairs)} ingredient "
        f"pairs, {covered} of them covered by the class-table rules; the class table has {len(lacking)} "
        f"member ingredients the mapped file lacks: {', '.join(lacking)}."
    )
