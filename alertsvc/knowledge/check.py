"""The pure check: a patient's medications, allergies and flagged reactions against the interaction graph.

``check(medications, allergies, flagged, graph) -> list[Finding]`` reads no clock, file or network and
never changes the graph. It gives the same findings in the same order whatever the order of its inputs.

Decisions worth knowing (see also DESIGN.md, "Severity tiers"):

- Several rules matching one pair of ingredients make one finding: the most severe rule is named, the
  sources of every matching rule are merged. A pair also matched by a rule on the ONC non-interruptive
  list is capped at "major" (still shown, as a warning, never interruptive), unless an ONC high-priority
  rule matches the same pair: the high-priority list is ONC's own list of pairs that must interrupt, and a
  pair on both lists only through class expansion (e.g. sotalol, a beta blocker that prolongs QT, with
  citalopram) is the more dangerous reading, so it stays critical.
- Medications given by a local route (topical, ophthalmic, otic) take part in no interaction unless the
  rule lists that route (``Rule.routes``; a rule with routes applies to medications given by those routes
  only). Allergy and flagged-reaction findings apply whatever the route.
- Duplicate therapy (the same ingredient in two products: major; two ingredients of one therapeutic
  class: moderate) counts two products given systemically, or two given by the same local route.
- A flagged reaction makes any product with that ingredient critical, and a drug sharing a class with the
  flagged drug major, naming the most specific shared class (therapeutic and allergen classes preferred;
  interaction classes only when no such class is shared).
- One finding per (kind, ingredient set), keeping the most severe; allergy, reaction and same-ingredient
  duplicate findings are keyed by the ingredient on the chart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from alertsvc.knowledge.graph import InteractionGraph, class_id_of, class_node, ingredient_node
from alertsvc.knowledge.model import (
    LOCAL_ROUTES,
    SEVERITY_ORDER,
    Allergy,
    DrugClass,
    Finding,
    FindingKind,
    FlaggedReaction,
    Ingredient,
    Medication,
    Rule,
    Severity,
)

MAX_SUMMARY = 139
"""CDS Hooks cards want a summary under 140 characters."""

ONC_HIGH_PRIORITY = "onc-hp"
"""Rule ids (and source keys) of the ONC high-priority list start with this."""

_EMPTY: frozenset[str] = frozenset()
_PREFERRED_CLASS_KINDS = ("therapeutic", "allergen")
_REVIEW_FLAG = "Do not give before reviewing the flagged reaction with the patient and prescriber."

_Key = tuple[str, frozenset[str]]
_Match = tuple[Severity, str, str, tuple[str, ...], tuple[str, ...]]
"""An allergy match: severity, rule id, detail for the summary, evidence path, sources."""


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
    meds = sorted((m for m in medications if m.active), key=_medication_order)
    candidates: dict[_Key, list[Finding]] = defaultdict(list)
    _pair_findings(meds, graph, candidates)
    for allergy in allergies:
        _allergy_findings(meds, allergy, graph, candidates)
    for flag in flagged:
        _reaction_findings(meds, flag, graph, candidates)
    findings = [_merge(group) for group in candidates.values()]
    return sorted(findings, key=_finding_order)


# --- pairs of medications: interactions and duplicate therapy ---------------------------------------


def _pair_findings(
    meds: Sequence[Medication], graph: InteractionGraph, out: dict[_Key, list[Finding]]
) -> None:
    """Interactions and duplicates between every two medications (never within one product)."""
    endpoints, partners, therapeutic = graph.endpoints, graph.partners, graph.therapeutic_of
    prepared = [
        (
            med,
            [
                (i.rxcui, partners.get(i.rxcui, _EMPTY), endpoints.get(i.rxcui), therapeutic.get(i.rxcui))
                for i in med.ingredients
            ],
        )
        for med in meds
    ]
    hits: dict[tuple[str, str], _PairHits] = {}
    for index, (first, first_ingredients) in enumerate(prepared):
        for second, second_ingredients in prepared[index + 1 :]:
            for a, partners_a, _, classes_a in first_ingredients:
                for b, _, ends_b, classes_b in second_ingredients:
                    if a == b:
                        _same_ingredient(a, first, second, graph, out)
                        continue
                    if ends_b is not None and not partners_a.isdisjoint(ends_b):
                        _match_rules(a, b, first, second, graph, hits)
                    if classes_a and classes_b and not classes_a.isdisjoint(classes_b):
                        _same_class(a, b, classes_a & classes_b, first, second, graph, out)
    for (a, b), pair_hits in hits.items():
        if pair_hits.rules:
            _add(out, _interaction(a, b, pair_hits, graph))


class _PairHits:
    """The rules matched between two ingredients (by rule id, with its orientation) and the refs involved."""

    __slots__ = ("refs", "rules")

    def __init__(self) -> None:
        self.rules: dict[str, tuple[Rule, str, str]] = {}
        self.refs: set[str] = set()


def _match_rules(
    a: str,
    b: str,
    med_a: Medication,
    med_b: Medication,
    graph: InteractionGraph,
    hits: dict[tuple[str, str], _PairHits],
) -> None:
    """Record the interaction rules joining ``a`` and ``b`` that apply to these medications' routes."""
    if b < a:
        a, b, med_a, med_b = b, a, med_b, med_a  # one key per pair, whatever the input order
    pair_hits = hits.get((a, b))
    if pair_hits is None:
        pair_hits = hits[(a, b)] = _PairHits()
    matches = pair_hits.rules
    ends_a = graph.endpoints[a]
    found = False
    for node_b in graph.partners[a] & graph.endpoints[b]:
        for node_a in ends_a & graph.node_partners[node_b]:
            for rule in graph.rules_between[(node_a, node_b)]:
                if not (_applies(rule, med_a.route) and _applies(rule, med_b.route)):
                    continue
                found = True
                # orientation: which ingredient is on the rule's left (both can be: keep a canonical one)
                a_left = rule.left in ends_a and (rule.right == node_b or rule.left == rule.right)
                oriented = (rule, a, b) if a_left else (rule, b, a)
                if rule.id not in matches or oriented[1:] < matches[rule.id][1:]:
                    matches[rule.id] = oriented
    if found:
        pair_hits.refs.update(r for r in (med_a.ref, med_b.ref) if r)


def _interaction(a: str, b: str, pair_hits: _PairHits, graph: InteractionGraph) -> Finding:
    """One finding for ingredients ``a`` and ``b``: the most severe matching rule, capped if need be."""
    ranked = sorted(pair_hits.rules.values(), key=lambda m: (SEVERITY_ORDER[m[0].severity], m[0].id))
    rule, left, right = ranked[0]
    if rule.left == rule.right and (graph.name(right), right) < (graph.name(left), left):
        left, right = right, left  # a class with itself: alphabetical
    severity: Severity = rule.severity
    management = rule.management
    rules = [m[0] for m in ranked]
    capping = [r for r in rules if r.non_interruptive]
    if severity == "critical" and capping and not any(_high_priority(r) for r in rules):
        severity = "major"
        note = f"ONC non-interruptive pair ({capping[0].id}): shown, not interruptive."
        management = _join(management, note)
    left_node = rule.left if rule.left != ingredient_node(left) else ""
    right_node = rule.right if rule.right != ingredient_node(right) else ""
    middle = tuple(n for n in dict.fromkeys((left_node, right_node)) if n)
    names = f"{graph.name(left)} + {graph.name(right)}"
    return Finding(
        kind="interaction",
        severity=severity,
        ingredients=(_ingredient(left, graph), _ingredient(right, graph)),
        summary=_summary(names, graph.effects[rule.id], severity),
        mechanism=rule.mechanism,
        management=management,
        rule=rule.id,
        sources=_unique(s for r in rules for s in r.sources),
        evidence=(ingredient_node(left), *middle, ingredient_node(right)),
        knowledge_version=graph.version,
        refs=tuple(sorted(pair_hits.refs)),
    )


def _same_ingredient(
    rxcui: str, first: Medication, second: Medication, graph: InteractionGraph, out: dict[_Key, list[Finding]]
) -> None:
    if not _same_exposure(first.route, second.route):
        return
    name = graph.name(rxcui)
    labels = " and ".join(sorted({first.label, second.label}))
    _add(
        out,
        Finding(
            kind="duplicate",
            severity="major",
            ingredients=(_ingredient(rxcui, graph),),
            summary=_summary(f"{name} in two products", "duplicate therapy", "major"),
            mechanism=f"The same ingredient, {name}, is in two active products ({labels}): additive dose.",
            management="Check that both are intended; stop one or adjust the total dose.",
            rule="duplicate-ingredient",
            sources=_unique([graph.terminology_source]),
            evidence=(ingredient_node(rxcui),),
            knowledge_version=graph.version,
            refs=_refs(first.ref, second.ref),
        ),
    )


def _same_class(
    a: str,
    b: str,
    shared: frozenset[str],
    med_a: Medication,
    med_b: Medication,
    graph: InteractionGraph,
    out: dict[_Key, list[Finding]],
) -> None:
    if not _same_exposure(med_a.route, med_b.route):
        return
    if (graph.name(b), b) < (graph.name(a), a):
        a, b = b, a
    drug_class = _most_specific(graph.classes[c] for c in shared)
    names = f"{graph.name(a)} + {graph.name(b)}"
    _add(
        out,
        Finding(
            kind="duplicate",
            severity="moderate",
            ingredients=(_ingredient(a, graph), _ingredient(b, graph)),
            summary=_summary(names, f"two {drug_class.name}, duplicate therapy", "moderate"),
            mechanism=f"Two drugs of one therapeutic class ({drug_class.name}): additive effects.",
            management="Check that both are intended; usually one drug of a class is enough.",
            rule=f"duplicate-class:{drug_class.id}",
            sources=_unique([drug_class.source]),
            evidence=(ingredient_node(a), class_node(drug_class.id), ingredient_node(b)),
            knowledge_version=graph.version,
            refs=_refs(med_a.ref, med_b.ref),
        ),
    )


# --- allergies and flagged reactions -------------------------------------------------------------------


def _allergy_findings(
    meds: Sequence[Medication], allergy: Allergy, graph: InteractionGraph, out: dict[_Key, list[Finding]]
) -> None:
    """Allergy to an ingredient or class: critical; cross-sensitivity through allergen groups: the rule's."""
    allergens = {i.rxcui for i in allergy.ingredients}
    class_ids = sorted({class_id_of(c) for c in allergy.class_ids if class_id_of(c) in graph.classes})
    starts = [(ingredient_node(a), g) for a in sorted(allergens) for g in graph.allergen_groups_of.get(a, ())]
    starts += [("", c) for c in class_ids]
    for med in meds:
        for ingredient in med.ingredients:
            x = ingredient.rxcui
            name = graph.name(x, ingredient.name)
            found: list[_Match] = []
            if x in allergens:
                detail = f"documented allergy to {name}"
                found.append(
                    (
                        "critical",
                        "allergy-ingredient",
                        detail,
                        (ingredient_node(x),),
                        (graph.terminology_source,),
                    )
                )
            for class_id in class_ids:
                drug_class = graph.classes[class_id]
                if x in drug_class.members:
                    path = (class_node(class_id), ingredient_node(x))
                    detail = f"documented allergy to {drug_class.name}"
                    found.append(
                        ("critical", f"allergy-class:{class_id}", detail, path, (drug_class.source,))
                    )
            if x not in allergens:
                found += _cross_sensitivity(x, starts, graph)
            for severity, rule_id, detail, evidence, sources in found:
                _add(
                    out,
                    Finding(
                        kind="allergy",
                        severity=severity,
                        ingredients=(_ingredient(x, graph, ingredient.name),),
                        summary=_summary(name, detail, severity),
                        mechanism=f"{detail[0].upper()}{detail[1:]} (recorded as {allergy.label!r}).",
                        management="Do not give unless the allergy is re-assessed; choose an unrelated drug.",
                        rule=rule_id,
                        sources=_unique(sources),
                        evidence=evidence,
                        knowledge_version=graph.version,
                        refs=_refs(med.ref, allergy.ref),
                    ),
                )


def _cross_sensitivity(x: str, starts: Sequence[tuple[str, str]], graph: InteractionGraph) -> list[_Match]:
    """Cross-sensitivity findings for ingredient ``x`` from allergen groups reached by the allergy."""
    found: list[_Match] = []
    groups_of_x = graph.allergen_groups_of.get(x, _EMPTY)
    for start, group_id in starts:
        group = class_node(group_id)
        for rule in graph.cross_rules.get(group, ()):
            other = rule.right if rule.left == group else rule.left
            if class_id_of(other) not in groups_of_x:
                continue
            group_name = graph.node_name(group)
            path: tuple[str, ...]
            if other == group:
                detail = f"cross-sensitivity within {group_name}"
                path = (group, ingredient_node(x))
            else:
                detail = f"cross-sensitivity {group_name} / {graph.node_name(other)}"
                path = (group, other, ingredient_node(x))
            evidence = (start, *path) if start else path
            found.append((rule.severity, rule.id, detail, evidence, rule.sources))
    return found


def _reaction_findings(
    meds: Sequence[Medication], flag: FlaggedReaction, graph: InteractionGraph, out: dict[_Key, list[Finding]]
) -> None:
    """A flagged drug: its ingredient is critical, a drug of the same class is major (class named)."""
    flagged = sorted({i.rxcui for i in flag.ingredients})
    what = f"{flag.reaction} after {flag.label}" if flag.reaction else f"reaction to {flag.label}"
    for med in meds:
        for ingredient in med.ingredients:
            x = ingredient.rxcui
            name = graph.name(x, ingredient.name)
            if x in flagged:
                severity: Severity = "critical"
                evidence: tuple[str, ...] = (ingredient_node(x),)
                rule_id, detail = "reaction-ingredient", f"flagged {what}"
                sources = (graph.terminology_source,)
            else:
                shared = _shared_class(x, flagged, graph)
                if shared is None:
                    continue
                f, drug_class = shared
                severity = "major"
                rule_id = f"reaction-class:{drug_class.id}"
                detail = f"same class ({drug_class.name}) as flagged {graph.name(f)}: {what}"
                evidence = (ingredient_node(f), class_node(drug_class.id), ingredient_node(x))
                sources = (drug_class.source,)
            _add(
                out,
                Finding(
                    kind="reaction",
                    severity=severity,
                    ingredients=(_ingredient(x, graph, ingredient.name),),
                    summary=_summary(name, detail, severity),
                    mechanism=f"Flagged by the {flag.flagged_by}: {what} ({flag.severity}).",
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


def _applies(rule: Rule, route: str) -> bool:
    """Whether ``rule`` applies to a medication given by ``route`` (see ``Rule.routes``)."""
    if rule.routes:
        return route in rule.routes
    return route not in LOCAL_ROUTES


def _same_exposure(first: str, second: str) -> bool:
    return first == second or (first not in LOCAL_ROUTES and second not in LOCAL_ROUTES)


def _high_priority(rule: Rule) -> bool:
    return rule.id.startswith(ONC_HIGH_PRIORITY) or any(s.startswith(ONC_HIGH_PRIORITY) for s in rule.sources)


def _most_specific(classes: Iterable[DrugClass]) -> DrugClass:
    return min(classes, key=lambda c: (len(c.members), c.id))


def _ingredient(rxcui: str, graph: InteractionGraph, fallback: str = "") -> Ingredient:
    known = graph.ingredients.get(rxcui)
    return known if known is not None else Ingredient(rxcui, fallback or rxcui)


def _summary(head: str, detail: str, severity: str) -> str:
    """``head: detail (severity)``, shortened with an ellipsis to stay under 140 characters."""
    tail = f" ({severity})"
    text = f"{head}: {detail}" if detail else head
    room = MAX_SUMMARY - len(tail)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return text + tail


def _join(first: str, second: str) -> str:
    return f"{first.rstrip()} {second}" if first.strip() else second


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _refs(*refs: str) -> tuple[str, ...]:
    return tuple(sorted({r for r in refs if r}))


def _add(out: dict[_Key, list[Finding]], finding: Finding) -> None:
    out[(finding.kind, frozenset(i.rxcui for i in finding.ingredients))].append(finding)


def _rank(finding: Finding) -> tuple[int, str, str, tuple[str, ...], tuple[str, ...], str, str]:
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
    return Finding(
        kind=best.kind,
        severity=best.severity,
        ingredients=best.ingredients,
        summary=best.summary,
        mechanism=best.mechanism,
        management=best.management,
        rule=best.rule,
        sources=best.sources + tuple(extra_sources),
        evidence=best.evidence,
        knowledge_version=best.knowledge_version,
        refs=refs,
    )


def _finding_order(finding: Finding) -> tuple[int, str, FindingKind, tuple[str, ...], str]:
    rxcuis = tuple(i.rxcui for i in finding.ingredients)
    return (SEVERITY_ORDER[finding.severity], finding.summary, finding.kind, rxcuis, finding.rule)


def _medication_order(med: Medication) -> tuple[str, ...]:
    return (*(i.rxcui for i in med.ingredients), "|", med.route, med.product_rxcui, med.ref, med.label)
