"""Small helpers the check's parts share: collecting findings by (kind, ingredients), merging them, and the
words every allergy, flagged-reaction and duplicate finding uses.

Findings of one kind and ingredient set are kept as candidates and merged: the most severe one is shown,
with the sources and refs of all of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Final

from alertsvc.knowledge.model import SEVERITY_ORDER, Finding, Ingredient, Severity

Key = tuple[str, frozenset[str]]
Candidates = dict[Key, list[Finding]]

ALLERGY_STEPS: Final[dict[Severity, tuple[str, ...]]] = {
    "critical": (
        "Do not give this dose: the patient is allergic to it.",
        "Tell the prescriber now and ask for an unrelated drug.",
        "If it was given already: watch for rash, swelling, wheeze or low blood pressure and call the doctor "
        "at once.",
    ),
    "major": (
        "Hold the dose unless the prescriber has reviewed the allergy history.",
        "Tell the prescriber before the dose is due.",
        "If it is given: watch for rash, swelling or wheeze during the first hour.",
    ),
    "moderate": (
        "Check the allergy history before giving.",
        "Watch for rash, swelling or wheeze after the dose.",
    ),
    "minor": ("Check the allergy history before giving.", "Watch for rash after the dose."),
}
"""What to do about a drug the patient is allergic to, or that may cross-react with her allergy."""

REACTION_STEPS: Final[dict[Severity, tuple[str, ...]]] = {
    "critical": (
        "Do not give this dose: the patient flagged a bad reaction to this drug.",
        "Tell the prescriber now.",
        "Review the flagged reaction with the patient and prescriber before any further dose.",
    ),
    "major": (
        "Hold the dose until the prescriber has reviewed the flagged reaction.",
        "Tell the prescriber before the dose is due.",
        "If it is given: watch for the reaction the patient reported.",
    ),
}
"""What to do about a drug the patient flagged (or one of the same class)."""

DUPLICATE_STEPS: Final[dict[Severity, tuple[str, ...]]] = {
    "major": (
        "Hold the second product until the prescriber confirms both are intended.",
        "Tell the prescriber before the dose is due.",
        "Check the total daily dose against the maximum.",
    ),
    "moderate": (
        "Check that both are intended.",
        "Ask the prescriber at the next review: one drug of a class is usually enough.",
    ),
}


def add(out: Candidates, finding: Finding) -> None:
    out[(finding.kind, frozenset(i.rxcui for i in finding.ingredients))].append(finding)


def merge(group: list[Finding]) -> Finding:
    """The most severe of the findings for one (kind, ingredients), with every source and ref merged."""
    best = min(group, key=rank)
    if len(group) == 1:
        return best
    extra_sources = sorted({s for f in group for s in f.sources} - set(best.sources))
    refs = tuple(sorted({r for f in group for r in f.refs}))
    return dataclasses.replace(best, sources=best.sources + tuple(extra_sources), refs=refs)


def rank(finding: Finding) -> tuple[int, str, str, tuple[str, ...], tuple[str, ...], str, str]:
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


def ingredient(rxcui: str, known: Mapping[str, Ingredient], fallback: str = "") -> Ingredient:
    found = known.get(rxcui)
    return found if found is not None else Ingredient(rxcui, fallback or rxcui)


def unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def refs(*values: str) -> tuple[str, ...]:
    return tuple(sorted({r for r in values if r}))
