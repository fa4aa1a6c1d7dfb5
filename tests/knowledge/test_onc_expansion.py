"""The ONC lists over the committed knowledge (data/): every pair of member ingredients of each ONC
high-priority class pair is critical; no pair of the non-interruptive class pairs is critical unless it
is also a high-priority pair (see alertsvc.knowledge.check: the high-priority list wins).

The expansion is taken from the knowledge itself: the rules ``onc-hp-NN`` / ``onc-ni-NN`` and the classes
they join (``class:onc:hp-NN-a``, ``class:onc:hp-21-qt``, ... or a lone ``in:<RxCUI>``). The test is
parametrised by rule and by member of the rule's left side; each case checks that member against every
member of the right side, so the whole expansion is covered.
"""

from __future__ import annotations

import functools
import os

import pytest

from alertsvc.config import Settings
from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import InteractionGraph, build_graph, class_id_of
from alertsvc.knowledge.model import Ingredient, KnowledgeBase, Medication, Rule

HIGH_PRIORITY_PAIRS = 15
NON_INTERRUPTIVE_PAIRS = 33


@functools.cache
def knowledge() -> tuple[KnowledgeBase, InteractionGraph]:
    kb = knowledge_files.load(Settings.from_env(os.environ).data_dir)
    return kb, build_graph(kb)


def members(kb: KnowledgeBase, node: str) -> frozenset[str]:
    if node.startswith("in:"):
        return frozenset({node[3:]})
    return kb.classes[class_id_of(node)].members


def onc_rules(prefix: str) -> list[Rule]:
    kb, _ = knowledge()
    return sorted((r for r in kb.rules if r.id.startswith(prefix)), key=lambda r: r.id)


def expansion(prefix: str) -> set[frozenset[str]]:
    kb, _ = knowledge()
    return {
        frozenset({a, b})
        for rule in onc_rules(prefix)
        for a in members(kb, rule.left)
        for b in members(kb, rule.right)
        if a != b
    }


def cases(prefix: str) -> list[object]:
    kb, _ = knowledge()
    found = []
    for rule in onc_rules(prefix):
        for left in sorted(members(kb, rule.left)):
            name = kb.ingredients[left].name if left in kb.ingredients else left
            found.append(pytest.param(rule.id, left, id=f"{rule.id}:{name}"))
    return found


def oral(kb: KnowledgeBase, rxcui: str) -> Medication:
    ingredient = kb.ingredients.get(rxcui, Ingredient(rxcui, rxcui))
    return Medication(ingredient.name, (ingredient,), route="oral", ref=rxcui)


def severities(kb: KnowledgeBase, graph: InteractionGraph, a: str, b: str) -> set[str]:
    findings = check([oral(kb, a), oral(kb, b)], [], [], graph)
    return {
        f.severity for f in findings if f.kind == "interaction" and {i.rxcui for i in f.ingredients} == {a, b}
    }


def test_the_knowledge_has_every_onc_class_pair() -> None:
    assert len(onc_rules("onc-hp-")) == HIGH_PRIORITY_PAIRS
    assert len(onc_rules("onc-ni-")) == NON_INTERRUPTIVE_PAIRS
    assert all(r.severity == "critical" for r in onc_rules("onc-hp-"))
    assert all(r.non_interruptive and r.severity != "critical" for r in onc_rules("onc-ni-"))


@pytest.mark.parametrize(("rule_id", "left"), cases("onc-hp-"))
def test_every_high_priority_pair_is_critical(rule_id: str, left: str) -> None:
    kb, graph = knowledge()
    rule = next(r for r in kb.rules if r.id == rule_id)
    partners = sorted(members(kb, rule.right) - {left})
    assert partners
    not_critical = [
        (b, severities(kb, graph, left, b))
        for b in partners
        if "critical" not in severities(kb, graph, left, b)
    ]
    assert not_critical == []


@pytest.mark.parametrize(("rule_id", "left"), cases("onc-ni-"))
def test_no_non_interruptive_pair_is_critical(rule_id: str, left: str) -> None:
    kb, graph = knowledge()
    rule = next(r for r in kb.rules if r.id == rule_id)
    high_priority = expansion("onc-hp-")
    partners = sorted(
        b for b in members(kb, rule.right) - {left} if frozenset({left, b}) not in high_priority
    )
    critical = [b for b in partners if "critical" in severities(kb, graph, left, b)]
    assert critical == []


def test_pairs_on_both_lists_are_few_and_come_from_the_qt_class() -> None:
    kb, _ = knowledge()
    both = expansion("onc-hp-") & expansion("onc-ni-")
    qt = {
        frozenset({a, b})
        for r in onc_rules("onc-hp-21")
        for a in members(kb, r.left)
        for b in members(kb, r.right)
    }
    # the lists were meant to be disjoint: overlaps arise only through class expansion, mostly QT drugs
    assert len(both) < 0.05 * len(expansion("onc-ni-"))
    assert len(both - qt) <= len(both) // 2
