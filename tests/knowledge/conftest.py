"""A small hand-made knowledge base and its graph, for the graph and check unit tests.

RxCUIs and names are RxNorm's; the classes and rules are a small, hand-written model of the real ones
(ONC high-priority and non-interruptive pairs, a PDDI-CDS class rule, an ANSM-style rule limited to some
routes, allergen groups with cross-sensitivity rules, therapeutic classes). One rule is invented to test
the non-interruptive cap: ``test-label-metoprolol-sertraline``.
"""

from __future__ import annotations

import pytest

from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import (
    Allergy,
    DrugClass,
    FlaggedReaction,
    Ingredient,
    KnowledgeBase,
    Medication,
    Route,
    Rule,
    Source,
)

INGREDIENTS = {
    "warfarin": "11289",
    "ibuprofen": "5640",
    "naproxen": "7258",
    "diclofenac": "3355",
    "aspirin": "1191",
    "simvastatin": "36567",
    "atorvastatin": "83367",
    "clarithromycin": "21212",
    "ketoconazole": "6135",
    "sertraline": "36437",
    "citalopram": "2556",
    "phenelzine": "8123",
    "sotalol": "9947",
    "metoprolol": "6918",
    "timolol": "10600",
    "tizanidine": "57258",
    "ciprofloxacin": "2551",
    "miconazole": "6932",
    "amoxicillin": "723",
    "penicillin v": "7984",
    "cephalexin": "2231",
    "ceftriaxone": "2193",
    "sulfamethoxazole": "10180",
    "furosemide": "4603",
    "hydrocodone": "5489",
    "st. john's wort with an unusually long name for testing summaries of findings": "258326",
}
RXCUI = INGREDIENTS


def ing(name: str) -> Ingredient:
    return Ingredient(INGREDIENTS[name], name)


def _class(class_id: str, name: str, kind: str, source: str, *members: str) -> DrugClass:
    return DrugClass(class_id, name, kind, source, frozenset(INGREDIENTS[m] for m in members))


def _rule(
    rule_id: str, left: str, right: str, severity: str, mechanism: str, *sources: str, **kw: object
) -> Rule:
    return Rule(
        id=rule_id,
        kind=kw.pop("kind", "interaction"),
        left=left,
        right=right,
        severity=severity,
        mechanism=mechanism,
        management=str(kw.pop("management", "1. Avoid the combination. 2. If given, monitor closely.")),
        sources=sources,
        **kw,
    )


CLASSES = [
    _class("onc:hp-25-a", "HMG-CoA reductase inhibitors", "interaction", "onc-hp", "simvastatin"),
    _class("onc:hp-25-b", "CYP3A4 inhibitors", "interaction", "onc-hp", "clarithromycin", "ketoconazole"),
    _class("onc:hp-08-a", "SSRIs", "interaction", "onc-hp", "sertraline", "citalopram"),
    _class("onc:hp-08-b", "MAO inhibitors", "interaction", "onc-hp", "phenelzine"),
    _class(
        "onc:hp-21-a",
        "QT prolonging agents",
        "interaction",
        "onc-hp",
        "citalopram",
        "sotalol",
        "clarithromycin",
    ),
    _class("onc:hp-28-a", "Tizanidine", "interaction", "onc-hp", "tizanidine"),
    _class("onc:hp-28-b", "CYP1A2 inhibitors", "interaction", "onc-hp", "ciprofloxacin"),
    _class(
        "onc:ni-03-a", "Beta-adrenergic blockers", "interaction", "onc-ni", "metoprolol", "sotalol", "timolol"
    ),
    _class("onc:ni-03-b", "Serotonin reuptake blockers", "interaction", "onc-ni", "citalopram", "sertraline"),
    _class("pddi:nsaids", "NSAIDs", "interaction", "pddi", "ibuprofen", "naproxen", "diclofenac"),
    _class("vsac:statins", "statins", "therapeutic", "vsac", "simvastatin", "atorvastatin"),
    _class("vsac:beta-blockers", "beta blockers", "therapeutic", "vsac", "metoprolol", "sotalol", "timolol"),
    _class("allergen:penicillins", "penicillins", "allergen", "allergen", "amoxicillin", "penicillin v"),
    _class(
        "allergen:aminocephalosporins",
        "cephalosporins with an R1 side chain like ampicillin's",
        "allergen",
        "allergen",
        "cephalexin",
    ),
    _class("allergen:cephalosporins", "cephalosporins", "allergen", "allergen", "cephalexin", "ceftriaxone"),
    _class(
        "allergen:sulfonamide-antibiotics",
        "sulfonamide antibiotics",
        "allergen",
        "allergen",
        "sulfamethoxazole",
    ),
    _class(
        "allergen:sulfonamide-non-antibiotics",
        "non-antibiotic sulfonamides",
        "allergen",
        "allergen",
        "furosemide",
    ),
    _class(
        "allergen:nsaids",
        "NSAIDs and aspirin",
        "allergen",
        "allergen",
        "ibuprofen",
        "naproxen",
        "diclofenac",
        "aspirin",
    ),
    _class("allergen:statins", "statins (allergen)", "allergen", "vsac", "simvastatin", "atorvastatin"),
]

RULES = [
    _rule("onc-hp-25", "class:onc:hp-25-a", "class:onc:hp-25-b", "critical",
          "Rhabdomyolysis: CYP3A4 inhibition raises statin levels.", "onc-hp"),
    _rule("onc-hp-08", "class:onc:hp-08-a", "class:onc:hp-08-b", "critical",
          "Serotonin syndrome.", "onc-hp"),
    _rule("onc-hp-21", "class:onc:hp-21-a", "class:onc:hp-21-a", "critical",
          "Additive QT prolongation: torsades de pointes.", "onc-hp"),
    _rule("onc-hp-28", "class:onc:hp-28-a", "class:onc:hp-28-b", "critical",
          "Tizanidine levels rise: hypotension, sedation.", "onc-hp"),
    _rule("onc-ni-03", "class:onc:ni-03-a", "class:onc:ni-03-b", "moderate",
          "Raised beta-blocker levels.", "onc-ni", non_interruptive=True),
    _rule("test-label-metoprolol-sertraline", "in:6918", "in:36437", "critical",
          "Invented label contraindication to test the cap.", "ansm"),
    _rule("pddi-warfarin-nsaids", "in:11289", "class:pddi:nsaids", "major",
          "Bleeding risk: NSAIDs impair platelet function.", "pddi"),
    _rule("ansm-warfarin-ibuprofen", "in:5640", "in:11289", "moderate",
          "Increased bleeding risk.", "ansm"),
    _rule("ansm-miconazole-warfarin", "in:6932", "in:11289", "major",
          "Raised warfarin levels, even from oral gel or large skin areas.", "ansm",
          routes=frozenset({"oral", "topical"})),
    _rule("xs-penicillins", "class:allergen:penicillins", "class:allergen:penicillins", "major",
          "Shared beta-lactam core.", "allergen", kind="cross-sensitivity"),
    _rule("xs-aminopenicillins-cephalosporins", "class:allergen:penicillins",
          "class:allergen:aminocephalosporins", "moderate", "Similar R1 side chain.", "allergen",
          kind="cross-sensitivity"),
    _rule("xs-sulfonamides", "class:allergen:sulfonamide-antibiotics",
          "class:allergen:sulfonamide-non-antibiotics", "minor", "Cross-reactivity is unlikely.", "allergen",
          kind="cross-sensitivity"),
    _rule("xs-nsaids", "class:allergen:nsaids", "class:allergen:nsaids", "major",
          "COX-1 inhibition.", "allergen", kind="cross-sensitivity"),
]  # fmt: skip


def small_kb() -> KnowledgeBase:
    sources = {
        key: Source(key, title, "test", "CC0", "hand-made test fixture")
        for key, title in [
            ("rxnorm", "RxNorm"),
            ("onc-hp", "ONC high-priority DDI list"),
            ("onc-ni", "ONC non-interruptive list"),
            ("pddi", "HL7 PDDI-CDS"),
            ("ansm", "ANSM thesaurus"),
            ("vsac", "VSAC"),
            ("allergen", "allergen groups"),
        ]
    }
    return KnowledgeBase(
        version="test-kb-1",
        built="2025-10-06",
        sources=sources,
        ingredients={rxcui: Ingredient(rxcui, name) for name, rxcui in INGREDIENTS.items()},
        salts={},
        products={},
        brands={},
        names={},
        ndc={},
        classes={c.id: c for c in CLASSES},
        rules=tuple(RULES),
    )


def med(*names: str, route: Route = "oral", ref: str = "", active: bool = True) -> Medication:
    """A medication of the named fixture ingredients, labelled by their names and route."""
    label = " / ".join(names) + f" ({route})"
    return Medication(label, tuple(ing(n) for n in names), route=route, ref=ref or label, active=active)


def allergy(*names: str, classes: tuple[str, ...] = (), ref: str = "") -> Allergy:
    label = " / ".join(names or classes)
    return Allergy(label, tuple(ing(n) for n in names), class_ids=classes, ref=ref or f"allergy {label}")


def flag(name: str, reaction: str = "rash") -> FlaggedReaction:
    return FlaggedReaction(name, (ing(name),), reaction, ref=f"flag {name}")


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return small_kb()


@pytest.fixture(scope="session")
def graph(kb: KnowledgeBase) -> InteractionGraph:
    return build_graph(kb)
