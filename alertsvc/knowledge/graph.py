"""The interaction graph: ingredients, classes and allergen groups joined by the knowledge's rules.

Built once at start-up from a loaded :class:`~alertsvc.knowledge.model.KnowledgeBase` by
:func:`build_graph` and never changed afterwards (the check only reads it).

Nodes (ids as in ``model``): ``in:<RxCUI>`` for an ingredient, ``class:<id>`` for a class or an allergen
group. Edges of a ``networkx.MultiGraph``, each with a ``kind`` attribute:

- ``member``: an ingredient belongs to a class (``in:`` to ``class:``);
- ``interaction``: a drug-drug rule between two nodes, carrying the :class:`Rule` and its severity,
  mechanism, management, sources and id;
- ``cross-sensitivity``: a rule between two allergen groups, or an allergen group and itself.

The networkx graph is there to inspect, draw and path-search (the benchmark's naive check walks it);
the check itself uses the indexes precomputed here, so that checking a pair of ingredients is a set
intersection and not a path search:

- ``endpoints[x]``: the rule-endpoint nodes ingredient ``x`` is (``in:x``) or belongs to (its classes);
- ``partners[x]``: the nodes at the other end of any interaction rule from one of ``endpoints[x]``;
  ingredients ``a`` and ``b`` can interact exactly when ``partners[a]`` meets ``endpoints[b]``;
- ``rules_between[(n, m)]``: the interaction rules joining nodes ``n`` and ``m`` (both orders stored);
- ``node_partners[n]``: the nodes joined to node ``n`` by an interaction rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import networkx as nx

from alertsvc.knowledge.model import DrugClass, Ingredient, KnowledgeBase, Rule

INGREDIENT_PREFIX = "in:"
CLASS_PREFIX = "class:"


def ingredient_node(rxcui: str) -> str:
    """The node id of an ingredient: ``in:<RxCUI>``."""
    return INGREDIENT_PREFIX + rxcui


def class_node(class_id: str) -> str:
    """The node id of a class or allergen group: ``class:<id>`` (an id already prefixed is kept)."""
    return class_id if class_id.startswith(CLASS_PREFIX) else CLASS_PREFIX + class_id


def class_id_of(node: str) -> str:
    """The class id of a ``class:`` node (or of a bare class id)."""
    return node[len(CLASS_PREFIX) :] if node.startswith(CLASS_PREFIX) else node


@dataclass(frozen=True)
class InteractionGraph:
    """The built graph and its read-only indexes; see the module docstring. Build with :func:`build_graph`."""

    version: str
    """The knowledge version (``KnowledgeBase.version``) every finding names."""
    graph: nx.MultiGraph
    ingredients: Mapping[str, Ingredient]
    classes: Mapping[str, DrugClass]
    endpoints: Mapping[str, frozenset[str]]
    partners: Mapping[str, frozenset[str]]
    rules_between: Mapping[tuple[str, str], tuple[Rule, ...]]
    node_partners: Mapping[str, frozenset[str]]
    effects: Mapping[str, str]
    """Rule id -> the short effect a finding's summary quotes (see :func:`short_effect`)."""
    """Rule-endpoint node -> the nodes at the other end of its interaction rules."""
    classes_of: Mapping[str, frozenset[str]]
    """Ingredient RxCUI -> ids of every class (any kind) it belongs to."""
    therapeutic_of: Mapping[str, frozenset[str]]
    """Ingredient RxCUI -> ids of its therapeutic classes (for duplicate therapy)."""
    allergen_groups_of: Mapping[str, frozenset[str]]
    """Ingredient RxCUI -> ids of the allergen groups it belongs to."""
    cross_rules: Mapping[str, tuple[Rule, ...]]
    """Allergen group node (``class:<id>``) -> the cross-sensitivity rules with that group at one end."""
    terminology_source: str = ""
    """The source key of the terminology (RxNorm) that says which ingredients a product contains."""

    def name(self, rxcui: str, fallback: str = "") -> str:
        """RxNorm's name of an ingredient, or ``fallback`` (else the RxCUI) when the knowledge lacks it."""
        known = self.ingredients.get(rxcui)
        if known is not None:
            return known.name
        return fallback or rxcui

    def node_name(self, node: str) -> str:
        """A readable name for a node id: an ingredient's or a class's name."""
        if node.startswith(INGREDIENT_PREFIX):
            return self.name(node[len(INGREDIENT_PREFIX) :])
        drug_class = self.classes.get(class_id_of(node))
        return drug_class.name if drug_class is not None else node


def build_graph(kb: KnowledgeBase) -> InteractionGraph:
    """Build the interaction graph and its indexes from a loaded knowledge base (no I/O)."""
    graph = nx.MultiGraph(version=kb.version)
    for ingredient in kb.ingredients.values():
        graph.add_node(ingredient_node(ingredient.rxcui), kind="ingredient", name=ingredient.name)

    classes_of: dict[str, set[str]] = defaultdict(set)
    therapeutic_of: dict[str, set[str]] = defaultdict(set)
    allergen_of: dict[str, set[str]] = defaultdict(set)
    for drug_class in kb.classes.values():
        node = class_node(drug_class.id)
        graph.add_node(
            node, kind="class", name=drug_class.name, class_kind=drug_class.kind, source=drug_class.source
        )
        for rxcui in drug_class.members:
            member = ingredient_node(rxcui)
            if member not in graph:
                graph.add_node(member, kind="ingredient", name=rxcui)
            graph.add_edge(member, node, kind="member")
            classes_of[rxcui].add(drug_class.id)
            if drug_class.kind == "therapeutic":
                therapeutic_of[rxcui].add(drug_class.id)
            elif drug_class.kind == "allergen":
                allergen_of[rxcui].add(drug_class.id)

    rules_between: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    node_partners: dict[str, set[str]] = defaultdict(set)
    cross_rules: dict[str, list[Rule]] = defaultdict(list)
    for rule in sorted(kb.rules, key=lambda r: r.id):
        for end in (rule.left, rule.right):
            if end not in graph:
                graph.add_node(
                    end, kind="ingredient" if end.startswith(INGREDIENT_PREFIX) else "class", name=end
                )
        graph.add_edge(
            rule.left,
            rule.right,
            key=rule.id,
            kind=rule.kind,
            rule=rule,
            severity=rule.severity,
            mechanism=rule.mechanism,
            management=rule.management,
            sources=rule.sources,
        )
        if rule.kind == "cross-sensitivity":
            cross_rules[rule.left].append(rule)
            if rule.right != rule.left:
                cross_rules[rule.right].append(rule)
            continue
        rules_between[(rule.left, rule.right)].append(rule)
        if rule.right != rule.left:
            rules_between[(rule.right, rule.left)].append(rule)
        node_partners[rule.left].add(rule.right)
        node_partners[rule.right].add(rule.left)

    endpoints: dict[str, frozenset[str]] = {}
    partners: dict[str, frozenset[str]] = {}
    for rxcui in set(classes_of) | {n[len(INGREDIENT_PREFIX) :] for n in node_partners if _is_ingredient(n)}:
        ends = [n for n in _nodes_of(rxcui, classes_of.get(rxcui, ())) if n in node_partners]
        if not ends:
            continue
        endpoints[rxcui] = frozenset(ends)
        partners[rxcui] = frozenset().union(*(node_partners[n] for n in ends))

    return InteractionGraph(
        version=kb.version,
        graph=graph,
        ingredients=MappingProxyType(dict(kb.ingredients)),
        classes=MappingProxyType(dict(kb.classes)),
        endpoints=MappingProxyType(endpoints),
        partners=MappingProxyType(partners),
        rules_between=MappingProxyType({k: tuple(v) for k, v in rules_between.items()}),
        node_partners=_freeze(node_partners),
        effects=MappingProxyType({rule.id: short_effect(rule.mechanism) for rule in kb.rules}),
        classes_of=_freeze(classes_of),
        therapeutic_of=_freeze(therapeutic_of),
        allergen_groups_of=_freeze(allergen_of),
        cross_rules=MappingProxyType({k: tuple(v) for k, v in cross_rules.items()}),
        terminology_source=next((key for key in sorted(kb.sources) if "rxnorm" in key.lower()), ""),
    )


def short_effect(mechanism: str) -> str:
    """A short effect for a summary: the first sentence or clause of the mechanism, lower-cased."""
    text = mechanism.strip()
    for stop in (". ", ": ", "; "):
        text = text.split(stop, 1)[0]
    text = text.rstrip(".").strip()
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text or "interaction"


def _is_ingredient(node: str) -> bool:
    return node.startswith(INGREDIENT_PREFIX)


def _nodes_of(rxcui: str, class_ids: Iterable[str]) -> list[str]:
    return [ingredient_node(rxcui), *(class_node(c) for c in class_ids)]


def _freeze(index: Mapping[str, set[str]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({key: frozenset(values) for key, values in index.items()})
