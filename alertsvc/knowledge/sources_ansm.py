"""The French medicines agency (ANSM) interaction thesaurus, in the English translation by WorldVistA (2016).

Two files: the class table (drug name, RxCUI, class name, class code; one member a row) and the rule table
(drug or class on each side, description, severity, comment). The translation spells severities many ways
("CONTRAINDICATION", "Contra-indication:", "Not recommeded", "Tale into account", ...): they are merged
into four levels, Contraindication -> critical, Not recommended -> major, Precaution for use -> moderate,
Take into account -> minor. A contraindication the thesaurus limits to a dose, a route or a group of
patients ("Contraindication with:" whose condition the translation lost; a description starting "With the
dexamethasone for systemic use", "In case of intake of 10,000 IU/day"; a class "in heart failure") is one
alertsvc cannot verify from a drug list: it becomes major, and the condition is kept in the rating so the
ward is told to check it (``conditional``). A severity naming several levels, or only a condition
("With doses of methotrexate > 20 mg/week"), becomes major with the source's words kept in
``management``; a blank one takes the level of the same pair written from the other drug's page, or
moderate. The description becomes ``mechanism``, the comment ``management`` (``rules_text`` later replaces
them with alertsvc's words where the rule is major or critical).

Rules name classes by name and code; the two do not always agree with the class table ("OTHER
AMINOGLYCOSIDES", "BRADYCARIA", codes absent from the class table), so a class is found by its name
first ("OTHER X" is X), then by its code, then through ``CODE_ALIASES``. The thesaurus lists most pairs
twice (once on each drug's page): rules with the same two nodes merge into one, keeping the most severe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from alertsvc.knowledge.curated_rules import ANSM_CLASS_ADDITIONS
from alertsvc.knowledge.model import SEVERITY_ORDER, DrugClass, Rule, Severity, Source
from alertsvc.knowledge.rules_common import NameLookup, Part, read_tsv, slug, unordered

GROUPS_FILE = "eng_groups2016_xml-v3.tsv"
RULES_FILE = "eng_tables2016-xml-v3.tsv"
GROUP_COLUMNS = ("Drug Name", "RxNorm", "Class Name", "Class Code")
RULE_COLUMNS = (
    "Drug Interaction ID",
    "Drug 1 Name",
    "Drug 1 RxCUI",
    "Drug 1 Class Name",
    "Drug 1 Code",
    "Drug 2 Name",
    "Drug 2 RxCUI",
    "Drug 2 Class Name",
    "Drug 2 Code",
    "Description",
    "Severity",
    "Comment",
)

CODE_ALIASES: dict[str, str] = {
    # class codes used by the rule table -> the class table's code for the same class (checked by name)
    "J01AA": "D06AA-J01AA",  # tetracycline antibiotics
    "MLBP": "MABT",  # medications that lower blood pressure
    "L01XA": "ORGAPLA",  # platinum-based antineoplastic drugs
    "COMT": "catomet",  # catechol-O-methyltransferase inhibitors
    "N06A-002": "OSEROSYN",  # medications at the origin of a serotonin syndrome
    "N0-R0-002": "NO-R0-002",  # medications at risk when withdrawing from tobacco
    "METGL": "CO-DO-RO",  # methemoglobinizing medications
    "ACETCHO": "NO6DA-001",  # acetylcholinesterase inhibitors
    "LO4AB": "4ABO",  # anti-TNF alpha
    "NO6AB": "N06AB",  # SSRIs
    # "partial agonist opioids" mistranslates "antagonistes partiels morphiniques" (nalmefene,
    # naltrexone): the rules (loss of analgesia, withdrawal) fit the opioid receptor antagonists class.
    "PARAG": "N07BB0",
}

SOURCE = Source(
    key="ansm",
    title="ANSM Thesaurus des interactions medicamenteuses, English translation by WorldVistA",
    version="2016 thesaurus; translation 2016 (eng_tables2016-xml-v3, eng_groups2016_xml-v3)",
    licence="ANSM public data; the WorldVistA translation's licence is not stated",
    attribution="Agence nationale de securite du medicament et des produits de sante (ANSM), Thesaurus "
    "des interactions medicamenteuses; English translation by WorldVistA (2016).",
    url="https://ansm.sante.fr/documents/reference/thesaurus-des-interactions-medicamenteuses-1",
)

_LEVELS: tuple[tuple[Severity, re.Pattern[str]], ...] = (
    ("critical", re.compile(r"\bcontr[a-z]*")),
    ("major", re.compile(r"\bno[tr]\s+recomm?[a-z]*")),
    ("moderate", re.compile(r"\bprecaution")),
    ("minor", re.compile(r"\b(take|tale)\s+into\s+account")),
)


def parse_severity(text: str) -> tuple[Severity | None, bool]:
    """The level an ANSM severity names and whether it is qualified (several levels or a condition).

    >>> parse_severity("Contra-indication:")
    ('critical', False)
    >>> parse_severity("Contraindication - Not recommended - Precaution for use")
    ('major', True)
    >>> parse_severity("")
    (None, False)
    """
    compact = re.sub(r"[^a-z ]+", " ", text.lower().replace("0", "o"))
    levels = [level for level, pattern in _LEVELS if pattern.search(compact)]
    if len(levels) == 1:
        return levels[0], False
    if levels or compact.strip():
        return "major", True
    return None, False


def _level_words(text: str) -> str:
    """The ANSM level as the source writes it, tidied ("CONTRAINDICATION" -> "Contraindication")."""
    words = re.sub(r"\s+", " ", text).strip(" :.")
    return words[:1].upper() + words[1:].lower() if words else "no level stated"


_CONDITION_START = re.compile(
    r"^(with|in case|in cases|when|only with|for doses|at doses|in patients|in women)\b[^:.;,]*", re.I
)
_CONDITION_CLASS = re.compile(r"\b(in heart failure|for systemic use|by iv|intravenous)\b", re.I)


def conditional(severity: str, description: str, class_names: tuple[str, ...]) -> str:
    """The condition limiting a contraindication, in the source's words, or "" when it has none.

    >>> conditional("Contraindication with:", "Increase of the risk of hemorrhage", ())
    'with conditions the translation does not state (doses, routes or patients)'
    >>> conditional("CONTRAINDICATION", "Risk of bradycardia", ("BETA-BLOCKING AGENTS IN HEART FAILURE",))
    'in heart failure'
    """
    found = _CONDITION_START.match(description.strip())
    if found:
        return found.group(0).strip().rstrip(",")
    for name in class_names:
        named = _CONDITION_CLASS.search(name)
        if named:
            return named.group(1).lower()
    if re.search(r"\bwith\b", severity, re.I):
        return "with conditions the translation does not state (doses, routes or patients)"
    return ""


@dataclass(frozen=True)
class AnsmClass:
    """A class of the thesaurus: code, name and members as (name, RxCUI as given, possibly blank)."""

    code: str
    name: str
    members: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AnsmRef:
    """One side of a rule: a drug (name, RxCUI) or a class (name, code)."""

    drug: str
    rxcui: str
    class_name: str
    code: str


@dataclass(frozen=True)
class AnsmRow:
    """One row of the rule table."""

    id: str
    left: AnsmRef
    right: AnsmRef
    severity: str
    description: str
    comment: str


def class_key(name: str) -> str:
    """Compare class names ignoring case, punctuation and a leading "OTHER"."""
    key = re.sub(r"[^A-Z0-9]+", "", name.upper())
    return key[len("OTHER") :] if key.startswith("OTHER") else key


def read_classes(path: Path) -> list[AnsmClass]:
    """The classes of the class table; duplicates (same code, same members) are merged."""
    members: dict[tuple[str, str], dict[str, str]] = {}
    names: dict[tuple[str, str], str] = {}
    for row in read_tsv(path, GROUP_COLUMNS):
        code, name = row["Class Code"].strip(), row["Class Name"].strip()
        if not code or not name or not row["Drug Name"].strip():
            continue
        key = (code, class_key(name))
        names.setdefault(key, name)
        members.setdefault(key, {})[row["Drug Name"].strip()] = row["RxNorm"].strip()
    classes: list[AnsmClass] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    for key, drugs in members.items():
        identity = (key[0], frozenset(drugs))
        if identity not in seen:
            seen.add(identity)
            classes.append(AnsmClass(key[0], names[key], tuple(sorted(drugs.items()))))
    return classes


def read_rows(path: Path) -> list[AnsmRow]:
    """Every row of the rule table."""

    def ref(row: dict[str, str], n: int) -> AnsmRef:
        return AnsmRef(
            row[f"Drug {n} Name"].strip(),
            row[f"Drug {n} RxCUI"].strip(),
            row[f"Drug {n} Class Name"].strip(),
            row[f"Drug {n} Code"].strip(),
        )

    return [
        AnsmRow(
            row["Drug Interaction ID"].strip(),
            ref(row, 1),
            ref(row, 2),
            row["Severity"].strip(),
            re.sub(r"\s+", " ", row["Description"]).strip(),
            re.sub(r"\s+", " ", row["Comment"]).strip(),
        )
        for row in read_tsv(path, RULE_COLUMNS)
    ]


@dataclass
class AnsmResult:
    """The ANSM part and its classes by class-table code (for the ONC QT class)."""

    part: Part
    classes_by_code: dict[str, list[DrugClass]]


class _Resolver:
    def __init__(self, classes: list[AnsmClass], lookup: NameLookup, part: Part) -> None:
        self.lookup = lookup
        self.by_key: dict[str, DrugClass] = {}
        self.by_code: dict[str, list[DrugClass]] = {}
        for ansm_class in classes:
            members = frozenset(m for m in (self.drug(n, r) for n, r in ansm_class.members) if m)
            added = ANSM_CLASS_ADDITIONS.get(ansm_class.code)
            if added:
                members |= lookup.members(added[0], "curated")
            drug_class = DrugClass(
                f"ansm:{slug(ansm_class.name)}", ansm_class.name, "interaction", "ansm", members
            )
            part.add_class(drug_class)
            self.by_key.setdefault(class_key(ansm_class.name), drug_class)
            self.by_code.setdefault(ansm_class.code, []).append(drug_class)

    def drug(self, name: str, rxcui: str) -> str | None:
        """By name first (the translation's RxCUIs are sometimes wrong: clopidogrel 3296, furosemide
        460), then the RxCUI given when the terminology knows it as an ingredient."""
        found = self.lookup.find(name)
        if found is None and rxcui and self.lookup.is_ingredient(rxcui):
            return rxcui
        return found or self.lookup.rxcui(name, "ansm")

    def node(self, ref: AnsmRef) -> str | None:
        if not ref.class_name:
            found = self.drug(ref.drug, ref.rxcui) if ref.drug else None
            if found:
                return f"in:{found}"
            named = self.by_key.get(class_key(ref.drug)) if ref.drug else None  # "INSULIN" is a class
            return f"class:{named.id}" if named and named.members else None
        drug_class = self.by_key.get(class_key(ref.class_name))
        if drug_class is None:
            candidates = self.by_code.get(ref.code) or self.by_code.get(CODE_ALIASES.get(ref.code, ""), [])
            drug_class = candidates[0] if len(candidates) == 1 else None
        return f"class:{drug_class.id}" if drug_class and drug_class.members else None


def build(ansm_dir: Path, lookup: NameLookup) -> AnsmResult:
    """Classes and merged rules from the thesaurus."""
    part = Part(sources={"ansm": SOURCE})
    resolver = _Resolver(read_classes(ansm_dir / GROUPS_FILE), lookup, part)
    rows = read_rows(ansm_dir / RULES_FILE)
    by_pair: dict[tuple[str, str], list[tuple[AnsmRow, Severity | None, bool]]] = {}
    unresolved: list[str] = []
    for row in rows:
        left, right = resolver.node(row.left), resolver.node(row.right)
        if left is None or right is None:
            unresolved.append(row.id)
            continue
        if left == right and left.startswith("in:"):
            continue
        severity, qualified = parse_severity(row.severity)
        by_pair.setdefault(unordered(left, right), []).append((row, severity, qualified))
    blank = conditional_count = 0
    for (left, right), entries in by_pair.items():
        known = [entry for entry in entries if entry[1] is not None]
        if not known:
            blank += 1
        row, severity, qualified = min(
            known or entries, key=lambda e: (SEVERITY_ORDER[e[1] or "moderate"], e[2], int(e[0].id or 0))
        )
        management = row.comment
        if qualified:
            management = f"ANSM level: {row.severity}. {management}".strip()
        rating = f"ANSM: {_level_words(row.severity)}"
        condition = ""
        if severity == "critical":
            condition = conditional(
                row.severity, row.description, (row.left.class_name, row.right.class_name)
            )
        if condition:
            severity, conditional_count = "major", conditional_count + 1
            rating = f"{rating}, when: {condition}"
        part.rules.append(
            Rule(
                id=f"ansm-{row.id}",
                kind="interaction",
                left=left,
                right=right,
                severity=severity or "moderate",
                mechanism=row.description,
                management=management,
                sources=("ansm",),
                rating=rating,
            )
        )
    members = sum(len(c.members) for c in part.classes.values())
    part.notes.append(
        f"ANSM: {len(part.classes)} classes ({members} ingredient memberships), {len(rows)} rule rows -> "
        f"{len(part.rules)} rules after merging the two directions of each pair; {len(unresolved)} rows "
        f"dropped because a drug or class did not map; {blank} pairs without a stated level taken as "
        f"moderate; {conditional_count} contraindications limited to a dose, route or group of patients "
        "taken as major, the condition kept in the rating."
    )
    route_named = sorted(
        c.name for c in part.classes.values() if re.search(r"\([^)]*\b(ROUTES?|ORAL|NASAL|IM)\b", c.name)
    )
    part.notes.append(
        "ANSM classes named for a route (" + "; ".join(route_named) + ") keep the default systemic routes: "
        "alertsvc's routes cannot tell sub-cutaneous from intramuscular or intravenous, and nasal and oral "
        "are systemic already."
    )
    return AnsmResult(part, resolver.by_code)
