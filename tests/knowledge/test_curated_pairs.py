"""The curated labelled pairs (alertsvc.knowledge.curated_pairs): names, shape, wording and sources.

Every name is checked against the committed knowledge (data/) with the real Normalizer: it must resolve to
exactly one ingredient, under RxNorm's own spelling. The wording rules are those the rules machinery relies
on: a summary template the machinery can fill and end with " (severity).", and ordered steps a nurse can
follow.
"""

from __future__ import annotations

import functools
import os
import re
import string

import pytest

from alertsvc.config import Settings
from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.curated_pairs import LABELLED_PAIRS, LabelledPair
from alertsvc.knowledge.model import SEVERITY_ORDER
from alertsvc.knowledge.terminology import Normalizer

MAX_TEMPLATE = 95
MAX_SUMMARY = 140  # CDS Hooks: a card summary under 140 characters
SEVERITY_WORDS = tuple(SEVERITY_ORDER)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
FIRST_STEP = {
    "critical": re.compile(r"^Do not give\b"),
    "major": re.compile(r"^(Hold|Check)\b"),
    "moderate": re.compile(r"^Give\b"),
}
NAMED_SOURCE = re.compile(r"US PI|Drug Safety (Communication|Update)|FDA|MHRA|CPIC")


@functools.cache
def normalizer() -> Normalizer:
    return Normalizer(knowledge_files.load(Settings.from_env(os.environ).data_dir))


def all_names() -> list[str]:
    return sorted({name for pair in LABELLED_PAIRS for name in (*pair.left, *pair.right)})


def by_pair() -> list[object]:
    return [pytest.param(pair, id=pair.id) for pair in LABELLED_PAIRS]


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def test_there_are_enough_pairs_across_severities() -> None:
    severities = {pair.severity for pair in LABELLED_PAIRS}
    assert len(LABELLED_PAIRS) >= 40
    assert severities == {"critical", "major", "moderate"}


def test_ids_are_unique_slugs() -> None:
    ids = [pair.id for pair in LABELLED_PAIRS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert [i for i in ids if not SLUG.match(i)] == []


def test_no_ingredient_pair_is_curated_twice() -> None:
    """One fact per pair of ingredients: two entries for a pair could disagree on its severity."""
    seen: dict[frozenset[str], str] = {}
    twice = []
    for pair in LABELLED_PAIRS:
        for left in pair.left:
            for right in pair.right:
                key = frozenset({left, right})
                if key in seen:
                    twice.append((left, right, seen[key], pair.id))
                seen[key] = pair.id
    assert twice == []


@pytest.mark.parametrize("pair", by_pair())
def test_a_pair_never_joins_a_drug_with_itself(pair: LabelledPair) -> None:
    assert set(pair.left).isdisjoint(pair.right)
    assert len(set(pair.left)) == len(pair.left) and len(set(pair.right)) == len(pair.right)


@pytest.mark.parametrize("name", all_names())
def test_every_name_resolves_to_exactly_one_ingredient_as_rxnorm_spells_it(name: str) -> None:
    resolution = normalizer().resolve(name)
    assert resolution.unresolved is None
    assert [i.name for i in resolution.ingredients] == [name]


@pytest.mark.parametrize("pair", by_pair())
def test_summary_template_fills_and_fits(pair: LabelledPair) -> None:
    template = pair.summary
    assert placeholders(template) <= {"left", "right"} and placeholders(template), template
    assert len(template) <= MAX_TEMPLATE, len(template)
    assert template == template.strip() and not template.endswith((".", "…"))
    assert not any(f"({word})" in template or word in template.split() for word in SEVERITY_WORDS)
    longest = template.format(left=max(pair.left, key=len), right=max(pair.right, key=len))
    assert len(longest + " (critical).") < MAX_SUMMARY, longest


@pytest.mark.parametrize("pair", by_pair())
def test_management_is_two_to_four_ordered_steps(pair: LabelledPair) -> None:
    steps = pair.management
    assert 2 <= len(steps) <= 4
    assert all(step.endswith(".") and step[:1].isupper() and "No action stated" not in step for step in steps)
    assert FIRST_STEP[pair.severity].match(steps[0]), steps[0]


@pytest.mark.parametrize("pair", by_pair())
def test_mechanism_is_one_or_two_plain_sentences(pair: LabelledPair) -> None:
    assert pair.mechanism.endswith(".")
    assert 1 <= len(SENTENCE_END.split(pair.mechanism)) <= 2, pair.mechanism


@pytest.mark.parametrize("pair", by_pair())
def test_source_names_a_label_or_safety_communication(pair: LabelledPair) -> None:
    assert NAMED_SOURCE.search(pair.source), pair.source
    if pair.severity == "critical":
        assert re.search(r"Contraindications|boxed warning", pair.source), pair.source
