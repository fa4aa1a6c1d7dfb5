"""Words a nurse can act on, over the whole committed knowledge (data/): every major or critical finding the
graph can make has a one-sentence summary under 140 characters naming both drugs and its severity, never
cut inside a word and never the source's machine translation, and numbered steps to follow.

Plus the wording helpers themselves (doctests, fallbacks).
"""

from __future__ import annotations

import doctest
import functools
import os
import re

import pytest

from alertsvc.config import Settings
from alertsvc.knowledge import curated_texts, wording
from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import Finding, KnowledgeBase, Rule

OWN_WORDS = {"labelled", "mechanism", "curated", "category"}


@functools.cache
def knowledge() -> tuple[KnowledgeBase, InteractionGraph, dict[str, Rule]]:
    kb = knowledge_files.load(Settings.from_env(os.environ).data_dir)
    return kb, build_graph(kb), {rule.id: rule for rule in kb.rules}


def severe_findings() -> list[Finding]:
    _, graph, _ = knowledge()
    found: dict[tuple[str, str, str], Finding] = {}
    for pair, verdict in graph.pairs.items():
        for finding in (verdict.systemic, verdict.oral):
            if finding is not None and finding.severity in ("critical", "major"):
                found[(*pair, finding.rule)] = finding
    return list(found.values())


def test_the_knowledge_has_thousands_of_severe_pairs_to_check() -> None:
    assert len(severe_findings()) > 5000


def test_every_major_or_critical_finding_reads_as_one_whole_sentence() -> None:
    bad = []
    for finding in severe_findings():
        text = finding.summary
        first, second = (i.name.split(" ")[0].lower() for i in finding.ingredients)
        if not (
            len(text) < 140
            and text.endswith(f" ({finding.severity}).")
            and text.count(f"({finding.severity})") == 1
            and "…" not in text
            and (text[0].isupper() or not text[0].isalpha())
            and first in text.lower()
            and second in text.lower()
            and "{" not in text
        ):
            bad.append(text)
    assert bad == []


def test_every_major_or_critical_finding_has_numbered_steps_in_its_own_words() -> None:
    _, _, rules = knowledge()
    bad = []
    for finding in severe_findings():
        rule = rules[finding.rule]
        steps = re.findall(r"(?:^|\s)(\d+)\. ", finding.management)
        if (
            rule.wording not in OWN_WORDS
            or not wording.has_steps(finding.management)
            or steps != [str(n) for n in range(1, len(steps) + 1)]
            or len(steps) < 2
            or "No action stated" in finding.management
            or "{" in finding.management + finding.mechanism
            or not finding.mechanism
        ):
            bad.append((finding.rule, finding.management[:80]))
    assert bad == []


def test_critical_steps_start_by_not_giving_and_major_by_holding() -> None:
    for finding in severe_findings():
        first = finding.management.split(" 2. ")[0]
        if finding.severity == "critical":
            assert "Do not give" in first, (finding.rule, first)
        else:
            assert re.search(r"Hold|Check|Confirm|Do not give", first), (finding.rule, first)


def test_every_rule_names_its_sources_own_rating() -> None:
    kb, _, _ = knowledge()
    unrated = [r.id for r in kb.rules if r.kind == "interaction" and not r.rating]
    assert unrated == []


def test_the_wording_helpers_doctests_run() -> None:
    for module in (wording, curated_texts):
        result = doctest.testmod(module, raise_on_error=False)
        assert result.attempted >= 2 and result.failed == 0


@pytest.mark.parametrize(
    ("template", "names", "expected"),
    [
        pytest.param(
            "{left} with {right}: two anticoagulants, high bleeding risk",
            {"left": "warfarin", "right": "heparin"},
            "Warfarin with heparin: two anticoagulants, high bleeding risk (major).",
            id="fits",
        ),
        pytest.param(
            "{left} with {right} can raise potassium to dangerous levels",
            {"left": "x" * 50, "right": "y" * 50},
            f"X{'x' * 49} + {'y' * 50} interact (major).",
            id="long-names-bare-pair",
        ),
        pytest.param(
            "{right} raises {left} levels: risk of bleeding",
            {"left": "insulin, regular, human " * 4, "right": "an antibiotic " * 4},
            "Insulin, + an interact (major).",
            id="first-words",
        ),
    ],
)
def test_sentence_falls_back_without_cutting_a_word(
    template: str, names: dict[str, str], expected: str
) -> None:
    text = wording.sentence(template, "major", **names)
    assert text == expected
    assert len(text) < 140


def test_absurdly_long_single_word_names_still_fit() -> None:
    assert (
        len(wording.sentence("{left} with {right}: bleeding", "critical", left="x" * 90, right="y" * 90))
        < 140
    )


def test_a_sentence_without_drug_names_is_cut_between_words() -> None:
    text = wording.sentence("Amoxicillin: " + "very long detail " * 20, "critical")
    assert text == "Amoxicillin (critical)."
    long_head = wording.sentence("word " * 60, "minor")
    assert long_head.endswith("… (minor).") and len(long_head) < 140
    assert long_head.removesuffix("… (minor).").endswith("word")


def test_retier_rewrites_the_first_steps_for_the_lower_tier() -> None:
    critical = wording.steps(curated_texts.management("critical", ("Check INR.",)))
    assert wording.has_steps(critical) and "Do not give" in critical
    major = curated_texts.retier(critical, "critical", "major")
    assert major == wording.steps(curated_texts.management("major", ("Check INR.",)))
