"""Build the interaction and allergy knowledge (classes and rules) from the public sources.

Entry point: :func:`build_rules`, called by the knowledge build with the sources directory (laid out like
``shared/data``: ``onc/``, ``ansm/``, ``ndfrt/``, ``vsac/``, ``pddi_cds/``, ``rxnorm/``) and the
terminology's ``names`` (lower-case ingredient or salt name -> IN RxCUI). Order matters once: the ANSM
torsades classes and the curated QT additions make the class of ONC pair 21, and the ONC lists decide
which NDF-RT and ANSM pairs may be critical.

Every rule keeps its source's own rating (``Rule.rating``) beside the tier alertsvc maps it to; when
several rules match one pair, the finding takes the highest tier and lists the others (``graph``).

Severity policy (documented in data/SOURCES.md through ``notes``):
- ONC high-priority -> critical; ONC non-interruptive -> moderate and never critical.
- US labelling (``curated_pairs``): contraindicated -> critical; avoid -> major; monitor -> moderate.
- FDA enzyme and transporter table and pharmacodynamic classes: see ``curated_mechanisms`` and
  ``curated_effects`` (e.g. strong inhibitor + sensitive or narrow-range substrate -> major).
- ANSM: Contraindication -> critical, Not recommended -> major, Precaution for use -> moderate,
  Take into account -> minor.
- NDF-RT: Critical -> major, Significant -> moderate, critical only when also ONC high-priority.
- PDDI-CDS warfarin + NSAIDs, digoxin + cyclosporine -> major, systemic routes only.
- Cross-sensitivity within an allergen group -> major; carbapenems/penicillins moderate; sulfonamide
  antibiotics/non-antibiotics minor.
An ingredient-pair rule that is critical but on the ONC non-interruptive list is lowered to major.

Last, every rule without curated words gets alertsvc's (``rules_text``): no machine-translated summary
reaches a nurse, and every major or critical rule has numbered steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge import (
    sources_allergy,
    sources_ansm,
    sources_labelled,
    sources_mechanisms,
    sources_ndfrt,
    sources_onc,
    sources_pddi,
    sources_vsac,
)
from alertsvc.knowledge.curated_rules import ANSM_TORSADES_CODES, QT_ADDITIONS
from alertsvc.knowledge.model import DrugClass, Rule, Source
from alertsvc.knowledge.rules_common import NameLookup, Part
from alertsvc.knowledge.rules_text import Wordsmith
from alertsvc.knowledge.wording import has_steps

PRODUCTS_FILE = Path("rxnorm") / "product_to_IN_only.tsv"


@dataclass(frozen=True)
class RuleBuild:
    """The classes, rules and credited sources built from the public sources, with notes for SOURCES.md."""

    classes: dict[str, DrugClass]
    rules: tuple[Rule, ...]
    sources: dict[str, Source]
    notes: tuple[str, ...]


def build_rules(sources: Path, names: Mapping[str, str]) -> RuleBuild:
    """Build every class and rule from the public sources under ``sources``.

    Raises KnowledgeBuildError naming the file when a source file is missing or malformed, or when the
    result is inconsistent (a rule naming a class or source that does not exist).
    """
    lookup = NameLookup(names)
    ansm = sources_ansm.build(sources / "ansm", lookup)
    qt_members, qt_notes = qt_class(ansm.classes_by_code, lookup)
    onc = sources_onc.build(sources / "onc", lookup, qt_members)
    vsac = sources_vsac.build(sources / "vsac", sources / PRODUCTS_FILE, lookup)
    pddi = sources_pddi.build(sources / "pddi_cds", lookup)
    allergy = sources_allergy.build(lookup, vsac.statin_allergen)
    ndfrt = sources_ndfrt.build(sources / "ndfrt", lookup, onc.critical_pairs, onc.non_interruptive_pairs)
    mechanisms = sources_mechanisms.build(lookup)
    labelled = sources_labelled.build(lookup)
    parts = [onc.part, ansm.part, ndfrt, vsac.part, pddi, allergy, mechanisms.part, labelled]
    classes: dict[str, DrugClass] = {}
    rules: list[Rule] = []
    credited: dict[str, Source] = {}
    notes: list[str] = []
    for part in parts:
        classes.update(part.classes)
        rules.extend(part.rules)
        credited.update(part.sources)
    notes.extend(qt_notes)
    for part in parts:
        notes.extend(part.notes)
    rules, lowered = cap_non_interruptive(rules, onc.non_interruptive_pairs)
    if lowered:
        notes.append(
            f"{lowered} critical ingredient-pair rules on the ONC non-interruptive list lowered to major."
        )
    wordsmith = Wordsmith(classes, mechanisms.roles, mechanisms.effect_rules, lookup)
    rules = wordsmith.word(rules)
    notes.extend(wordsmith.notes())
    notes.extend(lookup_notes(lookup, onc.part))
    check_consistency(classes, rules, credited)
    return RuleBuild(classes, tuple(rules), credited, tuple(notes))


def qt_class(
    classes_by_code: dict[str, list[DrugClass]], lookup: NameLookup
) -> tuple[frozenset[str], list[str]]:
    """Members of ONC pair 21: the four ANSM torsades classes plus the curated US-labelling additions."""
    from_ansm: set[str] = set()
    for code in ANSM_TORSADES_CODES:
        for drug_class in classes_by_code.get(code, []):
            from_ansm |= drug_class.members
    added = lookup.members((name for name, _ in QT_ADDITIONS), "curated")
    notes = [
        f"QT-prolonging class (ONC pair 21): {len(from_ansm)} ingredients from the ANSM torsades classes "
        f"({', '.join(ANSM_TORSADES_CODES)}) + {len(added - from_ansm)} from US labelling "
        f"(curated_rules.QT_ADDITIONS) = {len(from_ansm | added)}."
    ]
    return frozenset(from_ansm | added), notes


def cap_non_interruptive(rules: list[Rule], non_interruptive: set[frozenset[str]]) -> tuple[list[Rule], int]:
    """Lower to major every critical ``in:``-``in:`` rule whose pair is on the ONC non-interruptive list."""
    capped: list[Rule] = []
    lowered = 0
    for rule in rules:
        pair = frozenset({rule.left.removeprefix("in:"), rule.right.removeprefix("in:")})
        if (
            rule.severity == "critical"
            and not rule.id.startswith("onc-hp-")
            and rule.left.startswith("in:")
            and rule.right.startswith("in:")
            and pair in non_interruptive
        ):
            capped.append(replace(rule, severity="major"))
            lowered += 1
        else:
            capped.append(rule)
    return capped, lowered


def lookup_notes(lookup: NameLookup, onc_part: Part) -> list[str]:
    """What did not map, per source, and which ingredients came from the curated RxCUI fallback."""
    notes: list[str] = []
    for source in ("onc-hp", "onc-ni", "ansm", "pddi-cds", "curated", "fda-ddi", "effects", "labelled"):
        misses = sorted(lookup.misses.get(source, set()))
        if misses:
            shown = ", ".join(misses[:60]) + (", ..." if len(misses) > 60 else "")
            notes.append(f"Names in {source} that map to no RxNorm ingredient ({len(misses)}): {shown}.")
    if lookup.fallbacks:
        pairs = ", ".join(f"{name} ({rxcui})" for name, rxcui in sorted(lookup.fallbacks.items()))
        notes.append(
            "Ingredients absent from the terminology, taken with the RxCUI their source gives "
            f"(curated_rules.KNOWN_INGREDIENTS): {pairs}."
        )
    return notes


def check_consistency(classes: dict[str, DrugClass], rules: list[Rule], sources: dict[str, Source]) -> None:
    """Every rule id is unique and every node, class source and rule source exists."""
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise KnowledgeBuildError(f"rule {rule.id}: id used twice")
        seen.add(rule.id)
    for rule in rules:
        for node in (rule.left, rule.right, *((rule.also,) if rule.also else ())):
            if node.startswith("class:") and node.removeprefix("class:") not in classes:
                raise KnowledgeBuildError(f"rule {rule.id}: unknown class {node}")
            if not node.startswith(("class:", "in:")):
                raise KnowledgeBuildError(f"rule {rule.id}: node {node!r} is neither in: nor class:")
        for key in rule.sources:
            if key not in sources:
                raise KnowledgeBuildError(f"rule {rule.id}: unknown source {key!r}")
        if rule.non_interruptive and rule.severity == "critical":
            raise KnowledgeBuildError(f"rule {rule.id}: a non-interruptive rule cannot be critical")
        if rule.kind == "interaction" and not rule.summary:
            raise KnowledgeBuildError(f"rule {rule.id}: no summary")
        if (
            rule.kind == "interaction"
            and rule.severity in ("critical", "major")
            and not has_steps(rule.management)
        ):
            raise KnowledgeBuildError(f"rule {rule.id}: a {rule.severity} rule needs numbered steps")
    for drug_class in classes.values():
        if drug_class.source not in sources:
            raise KnowledgeBuildError(f"class {drug_class.id}: unknown source {drug_class.source!r}")
