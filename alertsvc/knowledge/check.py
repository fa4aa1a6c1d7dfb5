"""The pure check: a patient's medications, allergies and flagged reactions against the interaction graph.

``check(medications, allergies, flagged, graph) -> list[Finding]`` reads no clock, file or network and
never changes the graph. It gives the same findings in the same order whatever the order of its inputs.
With ``observations`` (the patient's INR, potassium, creatinine, eGFR, QTc with their dates) and ``now``,
the observation modifiers of :mod:`alertsvc.knowledge.observations` change and add findings.

Decisions worth knowing (see also docs/design.md, "Severity tiers"):

- Several rules matching one pair of ingredients make one finding: the most severe rule is named, the
  sources of every matching rule are merged. A pair also matched by a rule on the ONC non-interruptive
  list is capped at "major" (still shown, as a warning, never interruptive), unless an ONC high-priority
  rule matches the same pair (see :func:`alertsvc.knowledge.graph.interaction_finding`).
- Medications given by a local route (topical, ophthalmic, otic) take part in no interaction unless the
  rule lists that route (``Rule.routes``; a rule with routes applies to medications given by those routes
  only). Allergy and flagged-reaction findings apply whatever the route.
- Duplicate therapy (the same ingredient in two products: major; two ingredients of one therapeutic
  class: moderate) counts two products given systemically, or two given by the same local route.
- Three-drug rules (``Rule.also``, e.g. the renal "triple whammy") make one finding naming all three
  ingredients when a member of each side is given systemically.
- Allergies and flagged reactions: see :mod:`alertsvc.knowledge.allergy_check`.
- One finding per (kind, ingredient set), keeping the most severe; allergy, reaction and same-ingredient
  duplicate findings are keyed by the ingredient on the chart. Interactions and duplicates are looked for
  between two medications, never within one product.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

from alertsvc.knowledge.allergy_check import allergy_findings, reaction_findings
from alertsvc.knowledge.findings import (
    DUPLICATE_STEPS,
    Candidates,
    add,
    ingredient,
    merge,
    rank,
    refs,
    unique,
)
from alertsvc.knowledge.graph import InteractionGraph, class_node, ingredient_node, summary, with_refs
from alertsvc.knowledge.model import (
    LOCAL_ROUTES,
    SEVERITY_ORDER,
    Allergy,
    DrugClass,
    Finding,
    FlaggedReaction,
    Medication,
)
from alertsvc.knowledge.observations import LabValue, modify
from alertsvc.knowledge.wording import steps

T = TypeVar("T")
_ORDER_WITHIN_SEVERITY = attrgetter("summary", "kind", "evidence")
_EMPTY: frozenset[str] = frozenset()


def check(
    medications: Iterable[Medication],
    allergies: Iterable[Allergy],
    flagged: Iterable[FlaggedReaction],
    graph: InteractionGraph,
    *,
    observations: Iterable[LabValue] = (),
    now: datetime | None = None,
) -> list[Finding]:
    """Every finding for a patient, most severe first, then by summary; inactive medications are ignored.
    ``observations`` need ``now``, to tell a current value from a stale one.

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
    'Warfarin + ibuprofen: bleeding risk (major).'
    >>> finding.evidence, finding.rule, finding.indicator, finding.knowledge_version
    (('in:11289', 'class:pddi:nsaids', 'in:5640'), 'pddi-warfarin-nsaids', 'warning', 'v1')
    """
    meds = [m for m in medications if m.active]
    candidates: Candidates = defaultdict(list)
    findings = _interactions(meds, graph, candidates)
    for allergy in allergies:
        allergy_findings(meds, allergy, graph, candidates)
    for flag in flagged:
        reaction_findings(meds, flag, graph, candidates)
    findings += [merge(group) for group in candidates.values()]
    values = list(observations)
    if values:
        if now is None:
            raise ValueError("check: observations need now, to tell current values from stale ones")
        findings = modify(findings, meds, values, graph, now=now)
    return _in_order(findings)


# --- pairs of medications: interactions and duplicate therapy ---------------------------------------


def _interactions(
    meds: Sequence[Medication], graph: InteractionGraph, duplicates: Candidates
) -> list[Finding]:
    """Interaction findings between every two medications; duplicate therapy goes into ``duplicates``.

    Walks the patient's ingredients, not every pair of medications: an ingredient's known partners are
    intersected with the ingredients present, so the work grows with the findings, not with n².
    """
    by_rxcui: dict[str, list[Medication]] = defaultdict(list)
    for med in meds:
        for item in med.ingredients:
            by_rxcui[item.rxcui].append(med)
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
                        if rank(finding) < rank(known[0]):
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
    interactions += [with_refs(entry[0], entry[1:]) for entry in found.values()]
    if graph.triples:
        interactions += _three_drug(by_rxcui, present, graph)
    return interactions


def _two_of(items: Sequence[T]) -> Iterable[tuple[T, T]]:
    return ((items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


def _duplicate(
    a: str,
    b: str,
    drug_class: DrugClass | None,
    first: Medication,
    second: Medication,
    graph: InteractionGraph,
    out: Candidates,
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
            ingredients=(ingredient(a, graph.ingredients),),
            summary=summary(f"{name} in two products", "duplicate therapy", "major"),
            mechanism=f"The same ingredient, {name}, is in two active products ({labels}): additive dose.",
            management=steps(DUPLICATE_STEPS["major"]),
            rule="duplicate-ingredient",
            sources=unique([graph.terminology_source]),
            evidence=(ingredient_node(a),),
            knowledge_version=graph.version,
            refs=refs(first.ref, second.ref),
        )
    else:
        if (graph.name(b), b) < (graph.name(a), a):
            a, b = b, a
        finding = Finding(
            kind="duplicate",
            severity="moderate",
            ingredients=(ingredient(a, graph.ingredients), ingredient(b, graph.ingredients)),
            summary=summary(
                f"{graph.name(a)} + {graph.name(b)}", f"two {drug_class.name}, duplicate therapy", "moderate"
            ),
            mechanism=f"Two drugs of one therapeutic class ({drug_class.name}): additive effects.",
            management=steps(DUPLICATE_STEPS["moderate"]),
            rule=f"duplicate-class:{drug_class.id}",
            sources=unique([drug_class.source]),
            evidence=(ingredient_node(a), class_node(drug_class.id), ingredient_node(b)),
            knowledge_version=graph.version,
            refs=refs(first.ref, second.ref),
        )
    add(out, finding)


def _three_drug(
    by_rxcui: dict[str, list[Medication]], present: frozenset[str], graph: InteractionGraph
) -> list[Finding]:
    """Findings of three-drug rules: one per combination of a systemic member of each side."""
    systemic = frozenset(x for x in present if any(m.route not in LOCAL_ROUTES for m in by_rxcui[x]))
    found: list[Finding] = []
    for triple in graph.triples:
        sides = (triple.left & systemic, triple.right & systemic, triple.also & systemic)
        if not all(sides):
            continue
        for a in sorted(sides[0]):
            for b in sorted(sides[1]):
                for c in sorted(sides[2]):
                    template = triple.findings.get((a, b, c))
                    if template is not None:
                        given = [m.ref for x in (a, b, c) for m in by_rxcui[x] if m.route not in LOCAL_ROUTES]
                        found.append(with_refs(template, given))
    return found


# --- helpers ----------------------------------------------------------------------------------------------


def _same_exposure(first: str, second: str) -> bool:
    return first == second or (first not in LOCAL_ROUTES and second not in LOCAL_ROUTES)


def _most_specific(classes: Iterable[DrugClass]) -> DrugClass:
    return min(classes, key=lambda c: (len(c.members), c.id))


def _in_order(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by summary; kind and evidence (which names every ingredient) break ties."""
    by_severity: dict[str, list[Finding]] = {severity: [] for severity in SEVERITY_ORDER}
    for finding in findings:
        by_severity[finding.severity].append(finding)
    ordered: list[Finding] = []
    for severity in sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__):
        ordered += sorted(by_severity[severity], key=_ORDER_WITHIN_SEVERITY)
    return ordered
