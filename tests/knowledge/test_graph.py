"""The interaction graph built from the small hand-made knowledge base: nodes, edges and indexes."""

from __future__ import annotations

import itertools

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.knowledge.graph import InteractionGraph, build_graph, class_id_of, class_node, ingredient_node
from alertsvc.knowledge.model import KnowledgeBase
from tests.knowledge.conftest import RXCUI


def test_node_ids_and_kinds(graph: InteractionGraph, kb: KnowledgeBase) -> None:
    g = graph.graph
    assert g.nodes["in:11289"] == {"kind": "ingredient", "name": "warfarin"}
    assert g.nodes["class:pddi:nsaids"]["kind"] == "class"
    assert g.nodes["class:pddi:nsaids"]["class_kind"] == "interaction"
    assert g.nodes["class:allergen:penicillins"]["class_kind"] == "allergen"
    assert {n for n in g if n.startswith("in:")} == {f"in:{r}" for r in kb.ingredients}
    assert {n for n in g if n.startswith("class:")} == {f"class:{c}" for c in kb.classes}


def test_membership_edges(graph: InteractionGraph, kb: KnowledgeBase) -> None:
    members = {
        (u, v) if u.startswith("in:") else (v, u)
        for u, v, kind in graph.graph.edges(data="kind")
        if kind == "member"
    }
    expected = {(f"in:{m}", f"class:{c.id}") for c in kb.classes.values() for m in c.members}
    assert members == expected


def test_interaction_and_cross_sensitivity_edges_carry_their_rule(
    graph: InteractionGraph, kb: KnowledgeBase
) -> None:
    edge = graph.graph.get_edge_data("in:11289", "class:pddi:nsaids")["pddi-warfarin-nsaids"]
    assert edge["kind"] == "interaction"
    assert edge["severity"] == "major"
    assert edge["sources"] == ("pddi",)
    assert edge["mechanism"].startswith("Bleeding risk")
    assert edge["management"]
    self_loop = graph.graph.get_edge_data("class:allergen:penicillins", "class:allergen:penicillins")
    assert self_loop["xs-penicillins"]["kind"] == "cross-sensitivity"
    rule_edges = [k for _, _, k, kind in graph.graph.edges(keys=True, data="kind") if kind != "member"]
    assert sorted(rule_edges) == sorted(r.id for r in kb.rules)


def test_indexes(graph: InteractionGraph) -> None:
    warfarin, ibuprofen, diclofenac = RXCUI["warfarin"], RXCUI["ibuprofen"], RXCUI["diclofenac"]
    assert graph.partners_above[warfarin] >= {ibuprofen, diclofenac}  # "11289" < "3355" < "5640"
    assert warfarin not in graph.partners_above.get(ibuprofen, frozenset())  # listed once, under the smaller
    assert graph.interacts(ibuprofen, warfarin) and graph.interacts(warfarin, ibuprofen)
    assert not graph.interacts(RXCUI["amoxicillin"], warfarin)  # allergen groups carry no interaction rule
    assert graph.allergen_groups_of[RXCUI["amoxicillin"]] == {"allergen:penicillins"}
    assert graph.therapeutic_of[RXCUI["sotalol"]] == {"vsac:beta-blockers"}
    assert [r.id for r in graph.cross_rules["class:allergen:penicillins"]] == [
        "xs-aminopenicillins-cephalosporins",
        "xs-penicillins",
    ]
    assert graph.terminology_source == "rxnorm"
    assert graph.version == "test-kb-1"
    assert graph.node_name("class:vsac:statins") == "statins"
    assert graph.name("999999", "unknown drug") == "unknown drug"


def test_pair_verdicts(graph: InteractionGraph) -> None:
    verdict = graph.pairs[(RXCUI["warfarin"], RXCUI["ibuprofen"])]
    assert [m[0].id for m in verdict.matches] == ["pddi-warfarin-nsaids", "ansm-warfarin-ibuprofen"]
    assert [m[1:] for m in verdict.matches] == [("11289", "5640"), ("5640", "11289")]  # each rule's own left
    assert verdict.systemic is not None and verdict.oral is verdict.systemic
    assert not verdict.route_limited
    limited = graph.pairs[(RXCUI["warfarin"], RXCUI["miconazole"])]
    assert limited.route_limited
    assert limited.systemic is None  # its only rule lists routes
    assert limited.oral is not None and limited.oral.rule == "ansm-miconazole-warfarin"
    # a class with itself: every two members, once
    qt = ["citalopram", "clarithromycin", "sotalol"]
    for a, b in itertools.combinations(sorted(RXCUI[n] for n in qt), 2):
        assert "onc-hp-21" in [m[0].id for m in graph.pairs[(a, b)].matches]


def test_node_id_helpers() -> None:
    assert ingredient_node("5640") == "in:5640"
    assert class_node("pddi:nsaids") == class_node("class:pddi:nsaids") == "class:pddi:nsaids"
    assert class_id_of("class:pddi:nsaids") == class_id_of("pddi:nsaids") == "pddi:nsaids"


def _nodes_of(kb: KnowledgeBase, rxcui: str) -> set[str]:
    return {f"in:{rxcui}"} | {f"class:{c.id}" for c in kb.classes.values() if rxcui in c.members}


@settings(max_examples=80, deadline=None)
@given(pair=st.sampled_from(list(itertools.combinations(sorted(RXCUI.values()), 2))))
def test_index_agrees_with_the_rules_and_with_path_search(
    graph: InteractionGraph, kb: KnowledgeBase, pair: tuple[str, str]
) -> None:
    a, b = pair
    indexed = b in graph.partners_above.get(a, frozenset())
    assert indexed == (pair in graph.pairs) == graph.interacts(b, a)
    by_rules = any(
        r.kind == "interaction"
        and (
            (r.left in _nodes_of(kb, a) and r.right in _nodes_of(kb, b))
            or (r.right in _nodes_of(kb, a) and r.left in _nodes_of(kb, b))
        )
        for r in kb.rules
    )
    assert indexed == by_rules
    # the naive way: a simple path in:a [-member- class] -interaction- [class -member-] in:b
    shapes = {
        ("interaction",),
        ("member", "interaction"),
        ("interaction", "member"),
        ("member", "interaction", "member"),
    }
    paths = nx.all_simple_edge_paths(graph.graph, f"in:{a}", f"in:{b}", cutoff=3)
    by_paths = any(tuple(graph.graph.edges[e]["kind"] for e in path) in shapes for path in paths)
    # self-rules (class with itself) are loops, which simple paths cannot walk: the index must cover them
    if not any(r.left == r.right and r.left in _nodes_of(kb, a) & _nodes_of(kb, b) for r in kb.rules):
        assert indexed == by_paths


def test_building_twice_gives_equal_indexes(kb: KnowledgeBase) -> None:
    first, second = build_graph(kb), build_graph(kb)
    assert dict(first.pairs) == dict(second.pairs)
    assert dict(first.partners_above) == dict(second.partners_above)
    assert nx.utils.graphs_equal(first.graph, second.graph)
