"""The interaction graph: ingredients, classes and allergen groups joined by the knowledge's rules.

Built once at start-up from a loaded :class:`~alertsvc.knowledge.model.KnowledgeBase` by
:func:`build_graph` and never changed afterwards (the check only reads it).

Nodes (ids as in ``model``): ``in:<RxCUI>`` for an ingredient, ``class:<id>`` for a class or an allergen
group. Edges of a ``networkx.MultiGraph``, each with a ``kind`` attribute:

- ``member``: an ingredient belongs to a class (``in:`` to ``class:``);
- ``interaction``: a drug-drug rule between two nodes, carrying the :class:`Rule` and its severity,
  mechanism, management, sources and id (the edge key);
- ``cross-sensitivity``: a rule between two allergen groups, or an allergen group and itself.

The networkx graph is there to inspect, draw and path-search (the benchmark's naive check walks it).
The check uses indexes computed here once, so that a request does dictionary and set look-ups only:

- ``partners_above[a]``: the ingredients ``b > a`` (by RxCUI) that some interaction rule joins to ingredient
  ``a`` (through ``in:a`` or any class of ``a``); each pair is listed once, under its smaller RxCUI;
- ``pairs[(a, b)]`` (``a < b``): a :class:`PairVerdict`, every rule joining the two ingredients and the
  finding they make when both are given systemically (built in advance: most pairs a patient meets
  need no work at request time beyond attaching the medications' refs);
- class memberships by kind (therapeutic classes for duplicate therapy, allergen groups), and the
  cross-sensitivity rules of each allergen group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import networkx as nx

from alertsvc.knowledge.curated_texts import retier
from alertsvc.knowledge.model import (
    LOCAL_ROUTES,
    SEVERITY_ORDER,
    DrugClass,
    Finding,
    Ingredient,
    KnowledgeBase,
    Rating,
    Rule,
    Severity,
)
from alertsvc.knowledge.wording import MAX_SUMMARY, fill, sentence

INGREDIENT_PREFIX = "in:"
CLASS_PREFIX = "class:"
ONC_HIGH_PRIORITY = "onc-hp"
WORDING_RANK: dict[str, int] = {
    "labelled": 0,
    "mechanism": 1,
    "curated": 1,
    "category": 2,
    "source": 3,
    "": 4,
}
"""Whose words a finding shows when several rules of its severity match: the most specific first."""

__all__ = ["MAX_SUMMARY"]
"""Rule ids and source keys of the ONC high-priority list start with this."""

RuleMatch = tuple[Rule, str, str]
"""A rule joining two ingredients: the rule, the RxCUI on its left side, the RxCUI on its right side."""


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
class PairVerdict:
    """What the knowledge says about two ingredients given together.

    ``systemic`` is the finding when both are given by systemic routes (rules without routes apply);
    ``oral`` when both are oral (rules listing "oral" apply too). When ``route_limited`` is False no rule of
    the pair lists routes, so ``oral`` is ``systemic`` and a local route means no finding; otherwise
    other route combinations are worked out from ``matches`` at request time.
    """

    matches: tuple[RuleMatch, ...]
    systemic: Finding | None
    oral: Finding | None
    route_limited: bool


@dataclass(frozen=True)
class Triple:
    """A three-drug rule, the ingredients on each of its sides (left, right, also), and the finding (without
    refs) of every combination of three different ingredients, made once at build like pair verdicts."""

    rule: Rule
    left: frozenset[str]
    right: frozenset[str]
    also: frozenset[str]
    findings: Mapping[tuple[str, str, str], Finding]


@dataclass(frozen=True)
class InteractionGraph:
    """The built graph and its read-only indexes; see the module docstring. Build with :func:`build_graph`."""

    version: str
    """The knowledge version (``KnowledgeBase.version``) every finding names."""
    graph: nx.MultiGraph
    ingredients: Mapping[str, Ingredient]
    classes: Mapping[str, DrugClass]
    partners_above: Mapping[str, frozenset[str]]
    pairs: Mapping[tuple[str, str], PairVerdict]
    triples: tuple[Triple, ...]
    """Three-drug rules (``Rule.also``), with the members of each of their three sides."""
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

    def pair_finding(self, pair: tuple[str, str], route_a: str, route_b: str) -> Finding | None:
        """The finding (without refs) for ingredients ``pair`` (a < b) given by these routes, or None."""
        verdict = self.pairs[pair]
        if route_a == "oral" and route_b == "oral":
            return verdict.oral
        if not verdict.route_limited:
            return verdict.systemic if route_a not in LOCAL_ROUTES and route_b not in LOCAL_ROUTES else None
        matches = [m for m in verdict.matches if rule_applies(m[0], route_a) and rule_applies(m[0], route_b)]
        return interaction_finding(matches, self.ingredients, self.version)

    def interacts(self, a: str, b: str) -> bool:
        """Whether some interaction rule joins ingredients ``a`` and ``b`` (any routes)."""
        return (a, b) in self.pairs if a < b else (b, a) in self.pairs

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
    for drug_class in kb.classes.values():
        node = class_node(drug_class.id)
        graph.add_node(node, kind="class", name=drug_class.name, class_kind=drug_class.kind)
        graph.nodes[node]["source"] = drug_class.source
        for rxcui in drug_class.members:
            member = ingredient_node(rxcui)
            if member not in graph:
                graph.add_node(member, kind="ingredient", name=rxcui)
            graph.add_edge(member, node, kind="member")
            classes_of[rxcui].add(drug_class.id)

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

    ingredients = MappingProxyType(dict(kb.ingredients))
    pairs = _pair_verdicts(kb, ingredients)
    partners_above: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        partners_above[a].add(b)

    def of_kind(kind: str) -> dict[str, set[str]]:
        return {x: {c for c in ids if kb.classes[c].kind == kind} for x, ids in classes_of.items()}

    return InteractionGraph(
        version=kb.version,
        graph=graph,
        ingredients=ingredients,
        classes=MappingProxyType(dict(kb.classes)),
        partners_above=_freeze(partners_above),
        pairs=MappingProxyType(pairs),
        triples=tuple(
            _triple(kb, rule, ingredients) for rule in sorted(kb.rules, key=lambda r: r.id) if rule.also
        ),
        classes_of=_freeze(classes_of),
        therapeutic_of=_freeze(of_kind("therapeutic")),
        allergen_groups_of=_freeze(of_kind("allergen")),
        cross_rules=MappingProxyType({k: tuple(v) for k, v in cross_rules.items()}),
        terminology_source=next((key for key in sorted(kb.sources) if "rxnorm" in key.lower()), ""),
    )


def _triple(kb: KnowledgeBase, rule: Rule, ingredients: Mapping[str, Ingredient]) -> Triple:
    left, right, also = _members(kb, rule.left), _members(kb, rule.right), _members(kb, rule.also)
    findings = {
        (a, b, c): three_drug_finding(rule, (a, b, c), ingredients, kb.version)
        for a in left
        for b in right
        for c in also
        if len({a, b, c}) == 3
    }
    return Triple(rule, left, right, also, MappingProxyType(findings))


def three_drug_finding(
    rule: Rule, drugs: tuple[str, str, str], ingredients: Mapping[str, Ingredient], version: str
) -> Finding:
    """The finding (without refs) of a three-drug rule for three ingredients, in the rule's side order."""
    items = (
        _ingredient(drugs[0], ingredients),
        _ingredient(drugs[1], ingredients),
        _ingredient(drugs[2], ingredients),
    )
    names = {"left": items[0].name, "right": items[1].name, "also": items[2].name}
    return Finding(
        kind="interaction",
        severity=rule.severity,
        ingredients=items,
        summary=sentence(rule.summary, rule.severity, **names),
        mechanism=fill(rule.mechanism, **names),
        management=fill(rule.management, **names),
        rule=rule.id,
        sources=rule.sources,
        evidence=(
            INGREDIENT_PREFIX + drugs[0],
            rule.left,
            INGREDIENT_PREFIX + drugs[1],
            rule.right,
            INGREDIENT_PREFIX + drugs[2],
            rule.also,
        ),
        knowledge_version=version,
        ratings=(Rating(rule.sources[0] if rule.sources else "", rule.id, rule.severity, rule.rating),),
    )


def _members(kb: KnowledgeBase, node: str) -> frozenset[str]:
    if node.startswith(INGREDIENT_PREFIX):
        return frozenset({node[len(INGREDIENT_PREFIX) :]})
    drug_class = kb.classes.get(class_id_of(node))
    return drug_class.members if drug_class is not None else frozenset()


def _pair_verdicts(
    kb: KnowledgeBase, ingredients: Mapping[str, Ingredient]
) -> dict[tuple[str, str], PairVerdict]:
    """Expand every two-drug interaction rule to its ingredient pairs and judge each pair once."""
    matched: dict[tuple[str, str], dict[str, RuleMatch]] = defaultdict(dict)
    for rule in kb.rules:
        if rule.kind != "interaction" or rule.also:
            continue
        right_members = sorted(_members(kb, rule.right))
        for a in sorted(_members(kb, rule.left)):
            for b in right_members:
                if a == b:
                    continue
                key = (a, b) if a < b else (b, a)
                found = matched[key].get(rule.id)
                # both orientations possible (a class on both sides): keep one, always the same
                if found is None or (a, b) < found[1:]:
                    matched[key][rule.id] = (rule, a, b)

    verdicts: dict[tuple[str, str], PairVerdict] = {}
    for key, by_rule in matched.items():
        matches = (
            tuple(by_rule.values())
            if len(by_rule) == 1
            else tuple(sorted(by_rule.values(), key=_match_order))
        )
        limited = any(m[0].routes for m in matches)
        systemic = interaction_finding([m for m in matches if not m[0].routes], ingredients, kb.version)
        oral = systemic
        if limited:
            oral_matches = [m for m in matches if rule_applies(m[0], "oral")]
            oral = interaction_finding(oral_matches, ingredients, kb.version)
        verdicts[key] = PairVerdict(matches, systemic, oral, limited)
    return verdicts


def rule_applies(rule: Rule, route: str) -> bool:
    """Whether ``rule`` applies to a medication given by ``route``: one of its routes, else any systemic."""
    if rule.routes:
        return route in rule.routes
    return route not in LOCAL_ROUTES


def interaction_finding(
    matches: Sequence[RuleMatch],
    ingredients: Mapping[str, Ingredient],
    version: str,
) -> Finding | None:
    """The one finding for the rules matching a pair (in :func:`_match_order`), or None when there are none.

    The finding takes the most severe rating and lists every source's own (``Finding.ratings``). Its words
    are those of the most specific rule of that severity (:data:`WORDING_RANK`), which it names. A critical
    pair also matched by an ONC non-interruptive rule is capped at "major", unless an ONC high-priority rule
    matches too (the high-priority list is ONC's own list of pairs that must interrupt; a pair on both lists
    only through class expansion, e.g. sotalol, a beta blocker that prolongs QT, with citalopram, keeps the
    more dangerous reading).
    """
    if not matches:
        return None
    severity: Severity = matches[0][0].severity
    same = [m for m in matches if m[0].severity == severity]
    rule, left, right = min(same, key=_wording_order) if len(same) > 1 else matches[0]
    first, second = _ingredient(left, ingredients), _ingredient(right, ingredients)
    if rule.left == rule.right and second.name < first.name:
        first, second = second, first  # a class with itself: alphabetical
    names = {"left": first.name, "right": second.name}
    management = fill(rule.management.strip(), **names)
    if severity == "critical":
        capping = [m[0].id for m in matches if m[0].non_interruptive]
        if capping and not any(_high_priority(m[0]) for m in matches):
            severity = "major"
            management = (
                f"{retier(management, 'critical', 'major')} ONC non-interruptive pair ({capping[0]})."
            )
    if len(matches) == 1:
        sources = rule.sources
    else:
        sources = tuple(dict.fromkeys(s for m in matches for s in m[0].sources if s))
    first_node, second_node = INGREDIENT_PREFIX + first.rxcui, INGREDIENT_PREFIX + second.rxcui
    ends = (rule.left,) if rule.left == rule.right else (rule.left, rule.right)
    middle = tuple(n for n in ends if n != first_node and n != second_node)
    template = rule.summary or "{left} + {right}: " + short_effect(rule.mechanism)
    return Finding(
        kind="interaction",
        severity=severity,
        ingredients=(first, second),
        summary=sentence(template, severity, **names),
        mechanism=fill(rule.mechanism, **names),
        management=management,
        rule=rule.id,
        sources=sources,
        evidence=(first_node, *middle, second_node),
        knowledge_version=version,
        ratings=tuple(
            Rating(m[0].sources[0] if m[0].sources else "", m[0].id, m[0].severity, m[0].rating)
            for m in matches
        ),
    )


def with_refs(template: Finding, refs: Sequence[str]) -> Finding:
    """``dataclasses.replace(template, refs=sorted unique non-empty refs)``, without re-running ``__init__``.

    A check of a busy patient copies dozens of templates; replace() costs ~8 µs each on the reference
    machine, this ~1 µs. The result is an ordinary, equal, still frozen Finding (tests compare the two).
    """
    if len(refs) == 2 and refs[0] and refs[1] and refs[0] != refs[1]:  # the usual case: two medications
        ordered: tuple[str, ...] = (refs[0], refs[1]) if refs[0] < refs[1] else (refs[1], refs[0])
    else:
        ordered = tuple(sorted({r for r in refs if r}))
    finding: Finding = object.__new__(Finding)
    fields = finding.__dict__
    fields.update(template.__dict__)
    fields["refs"] = ordered
    return finding


def summary(head: str, detail: str, severity: str) -> str:
    """``Head: detail (severity).`` as one sentence under 140 characters, never cut inside a word."""
    return sentence(f"{head}: {detail}" if detail else head, severity)


def short_effect(mechanism: str) -> str:
    """A short effect for a summary: the first sentence or clause of the mechanism, lower-cased."""
    text = mechanism.strip()
    for stop in (". ", ": ", "; "):
        text = text.split(stop, 1)[0]
    text = text.rstrip(".").strip()
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text or "interaction"


def _match_order(match: RuleMatch) -> tuple[int, bool, str]:
    """Most severe first; among equals an ONC high-priority rule, then by id."""
    rule = match[0]
    return (SEVERITY_ORDER[rule.severity], not _high_priority(rule), rule.id)


def _wording_order(match: RuleMatch) -> tuple[int, bool, str]:
    """Among rules of one severity, whose words to show: the most specific wording, then as above."""
    rule = match[0]
    return (WORDING_RANK.get(rule.wording, 9), not _high_priority(rule), rule.id)


def _high_priority(rule: Rule) -> bool:
    return rule.id.startswith(ONC_HIGH_PRIORITY) or any(s.startswith(ONC_HIGH_PRIORITY) for s in rule.sources)


def _ingredient(rxcui: str, ingredients: Mapping[str, Ingredient]) -> Ingredient:
    return ingredients.get(rxcui) or Ingredient(rxcui, rxcui)


def _freeze(index: Mapping[str, set[str]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({key: frozenset(values) for key, values in index.items()})
