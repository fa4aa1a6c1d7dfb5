"""The pure check: a patient's medications, allergies and flagged reactions against the interaction graph.

``check(medications, allergies, flagged, graph) -> list[Finding]`` reads no clock, file or network and
never changes the graph. It gives the same findings in the same order whatever the order of its inputs.

Decisions worth knowing (see also DESIGN.md, "Severity tiers"):

- Several rules matching one pair of ingredients make one finding: the most severe rule is named, the
  sources of every matching rule are merged. A pair also matched by a rule on the ONC non-interruptive
  list is capped at "major" (still shown, as a warning, never interruptive), unless an ONC high-priority
  rule matches the same pair (see :func:`alertsvc.knowledge.graph.interaction_finding`).
- Medications given by a local route (topical, ophthalmic, otic) take part in no interaction unless the
  rule lists that route (``Rule.routes``; a rule with routes applies to medications given by those routes
  only). Allergy and flagged-reaction findings apply whatever the route.
- Duplicate therapy (the same ingredient in two products: major; two ingredients of one therapeutic
  class: moderate) counts two products given systemically, or two given by the same local route.
- A flagged reaction makes any product with that ingredient critical, and a drug sharing a class with the
  flagged drug major, naming the most specific shared class (therapeutic and allergen classes preferred;
  interaction classes only when no such class is shared).
- One finding per (kind, ingredient set), keeping the most severe; allergy, reaction and same-ingredient
  duplicate findings are keyed by the ingredient on the chart. Interactions and duplicates are looked for
  between two medications, never within one product.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from alertsvc.knowledge.graph import (
    InteractionGraph,
    class_id_of,
    class_node,
    ingredient_node,
    summary,
    with_refs,
)
from alertsvc.knowledge.model import (
    LOCAL_ROUTES,
    SEVERITY_ORDER,
    Allergy,
    DrugClass,
    Finding,
    FlaggedReaction,
    Ingredient,
    Medication,
    Severity,
)

T = TypeVar("T")
_ORDER_WITHIN_SEVERITY = attrgetter("summary", "kind", "evidence")
_EMPTY: frozenset[str] = frozenset()
_PREFERRED_CLASS_KINDS = ("therapeutic", "allergen")
_AVOID_ALLERGEN = "Do not give unless the allergy is re-assessed; choose an unrelated drug."
_REVIEW_FLAG = "Do not give before reviewing the flagged reaction with the patient and prescriber."

_Key = tuple[str, frozenset[str]]


def check(
    medications: Iterable[Medication],
    allergies: Iterable[Allergy],
    flagged: Iterable[FlaggedReaction],
    graph: InteractionGraph,
) -> list[Finding]:
    """Every finding for a patient, most severe first, then by summary; inactive medications are ignored.

    A tiny graph: warfarin interacts with the class of NSAIDs (ibuprofen, naproxen).

    >>> from alertsvc.knowledge.graph import build_graph
    >>> from alertsvc.knowledge.model import DrugClass, Ingredient, KnowledgeBase, Medication, Rule
    >>> warfarin, ibuprofen = Ingredient("11289", "warfarin"), Ingredient("5640", "ibuprofen")
    >>> nsaids = DrugClass("pddi:nsaids", "NSAIDs", "interaction", "pddi", frozenset({"5640", "7258"}))
    >>> rule = Rule("pddi-warfarin-nsaids", "interaction", "in:11289", "class:pddi:nsaids", "major",
    ...             "Bleeding risk: NSAIDs impair platelets.", "Avoid; use paracetamol.", ("pddi",))
    >>> kb = KnowledgeBase("v1", "2025-10-06", {}, {"11289": warfarin, "5640": ibuprofen}, {}, {}, {},
    ...                    {}, {}, {"pddi:nsaids": nsaids}, (rule,))
    >>> meds = [Medication("warfarin 5 mg", (warfarin,)), Medication("ibuprofen 400 mg", (ibuprofen,))]
    >>> [finding] = check(meds, [], [], build_graph(kb))
    >>> finding.summary
    'warfarin + ibuprofen: bleeding risk (major)'
    >>> finding.evidence, finding.rule, finding.indicator, finding.knowledge_version
    (('in:11289', 'class:pddi:nsaids', 'in:5640'), 'pddi-warfarin-nsaids', 'warning', 'v1')
    """
    meds = [m for m in medications if m.active]
    candidates: dict[_Key, list[Finding]] = defaultdict(list)
    findings = _interactions(meds, graph, candidates)
    for allergy in allergies:
        _allergy_findings(meds, allergy, graph, candidates)
    for flag in flagged:
        _reaction_findings(meds, flag, graph, candidates)
    findings += [_merge(group) for group in candidates.values()]
    return _in_order(findings)


# --- pairs of medications: interactions and duplicate therapy ---------------------------------------


def _interactions(
    meds: Sequence[Medication], graph: InteractionGraph, duplicates: dict[_Key, list[Finding]]
) -> list[Finding]:
    """Interaction findings between every two medications; duplicate therapy goes into ``duplicates``.

    Walks the patient's ingredients, not every pair of medications: an ingredient's known partners are
    intersected with the ingredients present, so the work grows with the findings, not with n².
    """
    by_rxcui: dict[str, list[Medication]] = defaultdict(list)
    for med in meds:
        for ingredient in med.ingredients:
            by_rxcui[ingredient.rxcui].append(med)
    present = frozenset(by_rxcui)
    interactions: list[Finding] = []
    found: dict[tuple[str, str], list[Any]] = {}  # several products of one ingredient: [finding, ref, ...]
    by_class: dict[str, list[str]] = defaultdict(list)
    for a, meds_a in by_rxcui.items():
        if len(meds_a) > 1:
            for first, second in _two_of(meds_a):
                _duplicate(a, a, None, first, second, graph, duplicates)
        for class_id in graph.therapeutic_of.get(a, _EMPTY):
            by_class[class_id].append(a)
        partners = graph.partners_above.get(a)
        if not partners:
            continue
        for b in partners & present:
            key = (a, b)
            meds_b = by_rxcui[b]
            if len(meds_a) == 1 and len(meds_b) == 1:  # the usual case: one product each
                first, second = meds_a[0], meds_b[0]
                if first is not second:
                    if first.route == "oral" and second.route == "oral":
                        finding = graph.pairs[key].oral
                    else:
                        finding = graph.pair_finding(key, first.route, second.route)
                    if finding is not None:
                        interactions.append(with_refs(finding, (first.ref, second.ref)))
                continue
            for first in meds_a:
                for second in meds_b:
                    if first is second:
                        continue  # both in one product: not an interaction to alert on
                    finding = graph.pair_finding(key, first.route, second.route)
                    if finding is None:
                        continue
                    known = found.get(key)
                    if known is None:
                        found[key] = [finding, first.ref, second.ref]
                    else:
                        if _rank(finding) < _rank(known[0]):
                            known[0] = finding
                        known += (first.ref, second.ref)
    same_class = {pair for members in by_class.values() for pair in _two_of(sorted(members))}
    for a, b in same_class:
        drug_class = _most_specific(
            graph.classes[c] for c in graph.therapeutic_of[a] & graph.therapeutic_of[b]
        )
        for first in by_rxcui[a]:
            for second in by_rxcui[b]:
                if first is not second:
                    _duplicate(a, b, drug_class, first, second, graph, duplicates)
    return interactions + [with_refs(entry[0], entry[1:]) for entry in found.values()]


def _two_of(items: Sequence[T]) -> Iterable[tuple[T, T]]:
    return ((items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


def _duplicate(
    a: str,
    b: str,
    drug_class: DrugClass | None,
    first: Medication,
    second: Medication,
    graph: InteractionGraph,
    out: dict[_Key, list[Finding]],
) -> None:
    """The same ingredient in two products (``a == b``, major), or two of one therapeutic class (moderate)."""
    if not _same_exposure(first.route, second.route):
        return
    if drug_class is None:
        name = graph.name(a)
        labels = " and ".join(sorted({first.label, second.label}))
        finding = Finding(
            kind="duplicate",
            severity="major",
            ingredients=(_ingredient(a, graph),),
            summary=summary(f"{name} in two products", "duplicate therapy", "major"),
            mechanism=f"The same ingredient, {name}, is in two active products ({labels}): additive dose.",
            management="Check that both are intended; stop one or adjust the total dose.",
            rule="duplicate-ingredient",
            sources=_unique([graph.terminology_source]),
            evidence=(ingredient_node(a),),
            knowledge_version=graph.version,
            refs=_refs(first.ref, second.ref),
        )
    else:
        if (graph.name(b), b) < (graph.name(a), a):
            a, b = b, a
        finding = Finding(
            kind="duplicate",
            severity="moderate",
            ingredients=(_ingredient(a, graph), _ingredient(b, graph)),
            summary=summary(
                f"{graph.name(a)} + {graph.name(b)}", f"two {drug_class.name}, duplicate therapy", "moderate"
            ),
            mechanism=f"Two drugs of one therapeutic class ({drug_class.name}): additive effects.",
            management="Check that both are intended; usually one drug of a class is enough.",
            rule=f"duplicate-class:{drug_class.id}",
            sources=_unique([drug_class.source]),
            evidence=(ingredient_node(a), class_node(drug_class.id), ingredient_node(b)),
            knowledge_version=graph.version,
            refs=_refs(first.ref, second.ref),
        )
    _add(out, finding)


# --- allergies and flagged reactions -------------------------------------------------------------------


class _AllergyMatch(NamedTuple):
    """Why an allergy reaches an ingredient on the chart."""

    severity: Severity
    rule: str
    detail: str  # for the summary
    evidence: tuple[str, ...]
    sources: tuple[str, ...]
    mechanism: str
    management: str = _AVOID_ALLERGEN


def _allergy_findings(
    meds: Sequence[Medication], allergy: Allergy, graph: InteractionGraph, out: dict[_Key, list[Finding]]
) -> None:
    """Allergy to an ingredient or class: critical; cross-sensitivity through allergen groups: the rule's."""
    allergens = {i.rxcui for i in allergy.ingredients}
    class_ids = sorted({class_id_of(c) for c in allergy.class_ids if class_id_of(c) in graph.classes})
    # where cross-sensitivity starts: (evidence so far, allergen group, what the patient is allergic to)
    starts: list[tuple[tuple[str, ...], str, str]] = [
        ((ingredient_node(a),), g, graph.name(a))
        for a in sorted(allergens)
        for g in graph.allergen_groups_of.get(a, ())
    ]
    starts += [((), c, graph.classes[c].name) for c in class_ids]
    recorded = f"Documented allergy, recorded as {allergy.label!r}"
    for med in meds:
        for ingredient in med.ingredients:
            x = ingredient.rxcui
            name = graph.name(x, ingredient.name)
            found: list[_AllergyMatch] = []
            if x in allergens:
                found.append(
                    _AllergyMatch(
                        severity="critical",
                        rule="allergy-ingredient",
                        detail=f"documented allergy to {name}",
                        evidence=(ingredient_node(x),),
                        sources=(graph.terminology_source,),
                        mechanism=f"{recorded}: {name} is this allergen.",
                    )
                )
            for class_id in class_ids:
                drug_class = graph.classes[class_id]
                if x in drug_class.members:
                    found.append(
                        _AllergyMatch(
                            severity="critical",
                            rule=f"allergy-class:{class_id}",
                            detail=f"documented allergy to {drug_class.name}",
                            evidence=(class_node(class_id), ingredient_node(x)),
                            sources=(drug_class.source,),
                            mechanism=f"{recorded}: {name} is one of {drug_class.name}.",
                        )
                    )
            if x not in allergens:
                found += _cross_sensitivity(x, starts, graph, recorded)
            for match in found:
                _add(
                    out,
                    Finding(
                        kind="allergy",
                        severity=match.severity,
                        ingredients=(_ingredient(x, graph, ingredient.name),),
                        summary=summary(name, match.detail, match.severity),
                        mechanism=match.mechanism,
                        management=match.management,
                        rule=match.rule,
                        sources=_unique(match.sources),
                        evidence=match.evidence,
                        knowledge_version=graph.version,
                        refs=_refs(med.ref, allergy.ref),
                    ),
                )


def _cross_sensitivity(
    x: str, starts: Sequence[tuple[tuple[str, ...], str, str]], graph: InteractionGraph, recorded: str
) -> list[_AllergyMatch]:
    """Cross-sensitivity matches for ingredient ``x`` from the allergen groups the allergy reaches."""
    found: list[_AllergyMatch] = []
    groups_of_x = graph.allergen_groups_of.get(x, _EMPTY)
    for start, group_id, allergen in starts:
        group = class_node(group_id)
        for rule in graph.cross_rules.get(group, ()):
            other = rule.right if rule.left == group else rule.left
            if class_id_of(other) not in groups_of_x:
                continue
            groups = (
                graph.node_name(group)
                if other == group
                else f"{graph.node_name(group)} / {graph.node_name(other)}"
            )
            path = (group, ingredient_node(x)) if other == group else (group, other, ingredient_node(x))
            found.append(
                _AllergyMatch(
                    severity=rule.severity,
                    rule=rule.id,
                    detail=f"cross-sensitivity with {allergen} allergy ({groups})",
                    evidence=(*start, *path),
                    sources=rule.sources,
                    mechanism=f"{recorded}. Cross-sensitivity ({groups}): {rule.mechanism}".strip(),
                    management=rule.management or _AVOID_ALLERGEN,
                )
            )
    return found


def _reaction_findings(
    meds: Sequence[Medication], flag: FlaggedReaction, graph: InteractionGraph, out: dict[_Key, list[Finding]]
) -> None:
    """A flagged drug: its ingredient is critical, a drug of the same class is major (class named)."""
    flagged = sorted({i.rxcui for i in flag.ingredients})
    reaction = f": {flag.reaction}" if flag.reaction else ""
    mechanism = f"Flagged by the {flag.flagged_by} ({flag.severity}): reaction to {flag.label}{reaction}."
    for med in meds:
        for ingredient in med.ingredients:
            x = ingredient.rxcui
            name = graph.name(x, ingredient.name)
            if x in flagged:
                severity: Severity = "critical"
                evidence: tuple[str, ...] = (ingredient_node(x),)
                rule_id, detail = "reaction-ingredient", f"flagged reaction to {flag.label}{reaction}"
                sources = (graph.terminology_source,)
            else:
                shared = _shared_class(x, flagged, graph)
                if shared is None:
                    continue
                f, drug_class = shared
                severity = "major"
                rule_id = f"reaction-class:{drug_class.id}"
                detail = f"same class as flagged {graph.name(f)}{reaction} ({drug_class.name})"
                evidence = (ingredient_node(f), class_node(drug_class.id), ingredient_node(x))
                sources = (drug_class.source,)
            _add(
                out,
                Finding(
                    kind="reaction",
                    severity=severity,
                    ingredients=(_ingredient(x, graph, ingredient.name),),
                    summary=summary(name, detail, severity),
                    mechanism=mechanism,
                    management=_REVIEW_FLAG,
                    rule=rule_id,
                    sources=_unique(sources),
                    evidence=evidence,
                    knowledge_version=graph.version,
                    refs=_refs(med.ref, flag.ref),
                ),
            )


def _shared_class(x: str, flagged: Sequence[str], graph: InteractionGraph) -> tuple[str, DrugClass] | None:
    classes_x = graph.classes_of.get(x, _EMPTY)
    options = [(f, graph.classes[c]) for f in flagged for c in graph.classes_of.get(f, _EMPTY) & classes_x]
    if not options:
        return None
    preferred = [o for o in options if o[1].kind in _PREFERRED_CLASS_KINDS] or options
    return min(preferred, key=lambda o: (len(o[1].members), o[1].id, o[0]))


# --- helpers ----------------------------------------------------------------------------------------------


def _same_exposure(first: str, second: str) -> bool:
    return first == second or (first not in LOCAL_ROUTES and second not in LOCAL_ROUTES)


def _most_specific(classes: Iterable[DrugClass]) -> DrugClass:
    return min(classes, key=lambda c: (len(c.members), c.id))


def _ingredient(rxcui: str, graph: InteractionGraph, fallback: str = "") -> Ingredient:
    known = graph.ingredients.get(rxcui)
    return known if known is not None else Ingredient(rxcui, fallback or rxcui)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _refs(*refs: str) -> tuple[str, ...]:
    return tuple(sorted({r for r in refs if r}))


def _add(out: dict[_Key, list[Finding]], finding: Finding) -> None:
    out[(finding.kind, frozenset(i.rxcui for i in finding.ingredients))].append(finding)


def _rank(finding: Finding) -> tuple[int, str, str, tuple[str, ...], tuple[str, ...], str, str]:
    """Which of two findings for one kind and ingredient set to keep: the most severe, then a fixed order."""
    return (
        SEVERITY_ORDER[finding.severity],
        finding.rule,
        finding.summary,
        finding.evidence,
        finding.refs,
        finding.mechanism,
        finding.management,
    )


def _merge(group: list[Finding]) -> Finding:
    """The most severe of the findings for one (kind, ingredients), with every source and ref merged."""
    best = min(group, key=_rank)
    if len(group) == 1:
        return best
    extra_sources = sorted({s for f in group for s in f.sources} - set(best.sources))
    refs = tuple(sorted({r for f in group for r in f.refs}))
    return dataclasses.replace(best, sources=best.sources + tuple(extra_sources), refs=refs)


def _in_order(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by summary; kind and evidence (which names every ingredient) break ties."""
    by_severity: dict[str, list[Finding]] = {severity: [] for severity in SEVERITY_ORDER}
    for finding in findings:
        by_severity[finding.severity].append(finding)
    ordered: list[Finding] = []
    for severity in sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__):
        ordered += sorted(by_severity[severity], key=_ORDER_WITHIN_SEVERITY)
    return ordered
