"""The pure ``unchecked`` findings: one per drug as written, never below major, a whole-sentence summary
under 140 characters, ordered steps, bound to the earliest dose not yet recorded; and the alert rule that
makes such a dose-bound alert interruptive."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from alertsvc.alerts.build import DoseRef, interruptive
from alertsvc.knowledge.model import Finding, Ingredient
from alertsvc.schedule.mar import Outcome, ScheduledDose, unresolved_ingredient
from alertsvc.unchecked import Unresolved, fit, unchecked_findings

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
RECENT = timedelta(hours=24)
STEPS = re.compile(r"^1\. [^\d].+ 2\. [^\d].+ 3\. [^\d].+$")


def dose(
    dose_id: str, drug: str, hours: float, outcome: Outcome | None = None, *, known: bool = False
) -> ScheduledDose:
    return ScheduledDose(
        id=dose_id,
        admission="adm-1",
        ward="A",
        drug=drug,
        ingredients=(Ingredient("5640", "ibuprofen"),) if known else (),
        dose="",
        route="oral",
        due=NOW + timedelta(hours=hours),
        outcome=outcome,
    )


def find(unresolved: list[Unresolved], doses: list[ScheduledDose] | None = None) -> list[Finding]:
    return unchecked_findings(unresolved, doses or [], now=NOW, recent=RECENT, knowledge_version="kb-test")


def given(hours_ago: float) -> Outcome:
    return Outcome("given", NOW - timedelta(hours=hours_ago), nurse="Nico")


@pytest.mark.parametrize(
    ("items", "doses", "rule", "severity", "summary"),
    [
        pytest.param(
            [Unresolved("medication", "Biaxinn", "not in RxNorm", "entry:m1")],
            [],
            "unchecked-medication",
            "major",
            "Biaxinn could not be checked: interactions, allergies and flagged reactions unknown (major).",
            id="ledger-medication",
        ),
        pytest.param(
            [],
            [dose("d1", "Biaxinn", 2)],
            "unchecked-dose",
            "major",
            "Scheduled Biaxinn could not be checked: interactions, allergies and flagged reactions unknown"
            " (major).",
            id="scheduled-dose",
        ),
        pytest.param(
            [Unresolved("allergy", "Glarbicillin", "not in RxNorm", "entry:a1", "criticality high")],
            [],
            "unchecked-allergy",
            "major",
            "Allergy to Glarbicillin could not be checked: no medicine can be checked against it (major).",
            id="allergy",
        ),
        pytest.param(
            [Unresolved("reaction", "Frobnoxil", "not in RxNorm", "entry:r1", "rash")],
            [],
            "unchecked-reaction",
            "major",
            "Flagged reaction to Frobnoxil could not be checked: no medicine can be checked against it"
            " (major).",
            id="flagged-reaction",
        ),
        pytest.param(
            [Unresolved("reaction", "Frobnoxil", "not in RxNorm", "entry:r1", "rash")],
            [dose("d1", "frobnoxil ", 2)],
            "unchecked-same-name",
            "critical",
            "Frobnoxil is scheduled and the patient flagged a reaction to it; not checked (critical).",
            id="flagged-reaction+dose-same-name",
        ),
        pytest.param(
            [
                Unresolved("allergy", "Frobnoxil", "not in RxNorm", "entry:a1"),
                Unresolved("medication", "FROBNOXIL", "not in RxNorm", "entry:m1"),
            ],
            [],
            "unchecked-same-name",
            "critical",
            "Frobnoxil is on the medication list and the patient is allergic to it; not checked (critical).",
            id="allergy+medication-same-name",
        ),
    ],
)
def test_each_unresolved_drug_is_one_finding_at_least_major(
    items: list[Unresolved], doses: list[ScheduledDose], rule: str, severity: str, summary: str
) -> None:
    [finding] = find(items, doses)
    assert (finding.kind, finding.rule, finding.severity, finding.summary) == (
        "unchecked",
        rule,
        severity,
        summary,
    )
    assert STEPS.match(finding.management), finding.management
    assert finding.sources == ("alertsvc", "rxnorm")
    assert finding.ingredients[0].rxcui.startswith("unresolved:")
    assert finding.evidence == (finding.ingredients[0].rxcui,)
    assert "could not check it" in finding.mechanism
    assert all(item.ref in finding.refs for item in items)
    assert all(f"did not match RxNorm: {item.reason}" in finding.mechanism for item in items)


def test_two_unknown_drugs_are_two_findings_and_one_drug_written_twice_is_one() -> None:
    findings = find(
        [Unresolved("medication", "Biaxinn", "r"), Unresolved("medication", " biaxinn", "r")],
        [dose("d1", "Quexapam", 1), dose("d2", "QUEXAPAM", 2)],
    )
    assert [f.ingredients for f in findings] == [
        (Ingredient("unresolved:biaxinn", "Biaxinn"),),
        (Ingredient("unresolved:quexapam", "Quexapam"),),
    ]


def test_the_finding_names_the_earliest_dose_not_yet_recorded() -> None:
    held = Outcome("held", NOW, nurse="Nico")
    [finding] = find(
        [], [dose("d3", "Quexapam", 9), dose("d1", "Quexapam", 1, held), dose("d2", "Quexapam", 5)]
    )
    assert finding.refs == ("dose:d2",)


def test_a_dose_given_recently_still_counts_but_binds_nothing_and_an_old_one_is_gone() -> None:
    [recent] = find([], [dose("d1", "Quexapam", -3, given(3))])
    assert recent.rule == "unchecked-dose" and recent.refs == ()
    assert find([], [dose("d1", "Quexapam", -30, given(30))]) == []
    assert find([], [dose("d1", "Quexapam", 2, Outcome("refused", NOW, nurse="Nico"))]) == []


def test_resolved_doses_are_not_unchecked() -> None:
    assert find([], [dose("d1", "ibuprofen", 2, known=True)]) == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Extended release co-formulated herbal tonic with ginseng, ginkgo and kava", id="words"),
        pytest.param("X" * 300, id="one-long-word"),
    ],
)
def test_a_long_name_is_shortened_and_the_summary_stays_a_whole_sentence(name: str) -> None:
    [finding] = find([Unresolved("medication", name, "r")], [dose("d1", name, 2)])
    assert len(finding.summary) < 140
    assert finding.summary.endswith(
        " could not be checked: interactions, allergies and flagged reactions unknown (major)."
    )
    shown = finding.summary.removeprefix("Scheduled ").split(" could not be checked")[0]
    assert shown.endswith("…")
    if " " in name:
        assert name.startswith(shown.removesuffix("…")) and name[len(shown) - 1] == " ", (
            "cut at a word boundary"
        )


def test_fit_leaves_a_short_name_alone() -> None:
    assert fit("{} ok.", "Biaxinn") == "Biaxinn ok."


def test_unresolved_ingredient_keeps_one_drug_written_two_ways_together() -> None:
    assert unresolved_ingredient(" Biaxinn  500 mg") == Ingredient(
        "unresolved:biaxinn 500 mg", "Biaxinn 500 mg"
    )
    assert unresolved_ingredient("biaxinn 500 MG").rxcui == unresolved_ingredient("Biaxinn 500 mg").rxcui


def test_an_unchecked_finding_interrupts_only_when_bound_to_a_dose() -> None:
    [finding] = find([Unresolved("medication", "Biaxinn", "r")])
    bound = DoseRef("d1", "Biaxinn", "", "oral", NOW)
    assert finding.severity == "major" and not finding.interruptive
    assert interruptive(finding, bound) and not interruptive(finding, None)
    [flag] = find([Unresolved("allergy", "Glarbicillin", "r")])
    assert not interruptive(flag, None)
