"""Allergies and flagged reactions against the patient's medications (part of the pure check).

An allergy to an ingredient or a class is critical for its members; an allergen group reaches related
drugs through cross-sensitivity rules at the rule's severity. A flagged drug makes any product with that
ingredient critical, and a drug sharing a class with it major, naming the most specific shared class
(therapeutic and allergen classes preferred; interaction classes only when no such class is shared).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from alertsvc.knowledge.findings import (
    ALLERGY_STEPS,
    REACTION_STEPS,
    Candidates,
    add,
    ingredient,
    refs,
    unique,
)
from alertsvc.knowledge.graph import InteractionGraph, class_id_of, class_node, ingredient_node, summary
from alertsvc.knowledge.model import Allergy, DrugClass, Finding, FlaggedReaction, Medication, Severity
from alertsvc.knowledge.wording import steps

_EMPTY: frozenset[str] = frozenset()
_PREFERRED_CLASS_KINDS = ("therapeutic", "allergen")


class _AllergyMatch(NamedTuple):
    """Why an allergy reaches an ingredient on the chart."""

    severity: Severity
    rule: str
    detail: str  # for the summary
    evidence: tuple[str, ...]
    sources: tuple[str, ...]
    mechanism: str
    advice: str = ""  # the cross-sensitivity rule's own advice, one more step


def allergy_findings(
    meds: Sequence[Medication], allergy: Allergy, graph: InteractionGraph, out: Candidates
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
        for item in med.ingredients:
            x = item.rxcui
            name = graph.name(x, item.name)
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
                first, *rest = ALLERGY_STEPS[match.severity]
                add(
                    out,
                    Finding(
                        kind="allergy",
                        severity=match.severity,
                        ingredients=(ingredient(x, graph.ingredients, item.name),),
                        summary=summary(name, match.detail, match.severity),
                        mechanism=match.mechanism,
                        management=steps((first, match.advice, *rest)),
                        rule=match.rule,
                        sources=unique(match.sources),
                        evidence=match.evidence,
                        knowledge_version=graph.version,
                        refs=refs(med.ref, allergy.ref),
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
                    advice=rule.management,
                )
            )
    return found


def reaction_findings(
    meds: Sequence[Medication], flag: FlaggedReaction, graph: InteractionGraph, out: Candidates
) -> None:
    """A flagged drug: its ingredient is critical, a drug of the same class is major (class named)."""
    flagged = sorted({i.rxcui for i in flag.ingredients})
    reaction = f": {flag.reaction}" if flag.reaction else ""
    mechanism = f"Flagged by the {flag.flagged_by} ({flag.severity}): reaction to {flag.label}{reaction}."
    for med in meds:
        for item in med.ingredients:
            x = item.rxcui
            name = graph.name(x, item.name)
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
            add(
                out,
                Finding(
                    kind="reaction",
                    severity=severity,
                    ingredients=(ingredient(x, graph.ingredients, item.name),),
                    summary=summary(name, detail, severity),
                    mechanism=mechanism,
                    management=steps(REACTION_STEPS[severity]),
                    rule=rule_id,
                    sources=unique(sources),
                    evidence=evidence,
                    knowledge_version=graph.version,
                    refs=refs(med.ref, flag.ref),
                ),
            )


def _shared_class(x: str, flagged: Sequence[str], graph: InteractionGraph) -> tuple[str, DrugClass] | None:
    classes_x = graph.classes_of.get(x, _EMPTY)
    options = [(f, graph.classes[c]) for f in flagged for c in graph.classes_of.get(f, _EMPTY) & classes_x]
    if not options:
        return None
    preferred = [o for o in options if o[1].kind in _PREFERRED_CLASS_KINDS] or options
    return min(preferred, key=lambda o: (len(o[1].members), o[1].id, o[0]))
