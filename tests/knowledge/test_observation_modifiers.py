"""Observations as modifiers, against the real knowledge in data/: each rule with values on both sides
of its threshold and a stale value; renal limits; a QT-prolonging drug alone; purity."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest

from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import Finding, Medication
from alertsvc.knowledge.observation_rules import RENAL_LIMITS, USEFUL_LIFE
from alertsvc.knowledge.observations import LabValue, latest, modify
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.knowledge.wording import MAX_SUMMARY

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
CODES = {"inr": "6301-6", "potassium": "2823-3", "creatinine": "2160-0", "egfr": "98979-8", "qtc": "8636-3"}
UNITS = {"inr": "", "potassium": "mmol/L", "creatinine": "mg/dL", "egfr": "mL/min/1.73m2", "qtc": "ms"}


@functools.cache
def knowledge() -> tuple[Normalizer, InteractionGraph]:
    kb = kb_files.load(kb_files.DEFAULT_DATA_DIR)
    return Normalizer(kb), build_graph(kb)


def lab(analyte: str, value: float, *, days_ago: float = 1, unit: str | None = None) -> LabValue:
    return LabValue(
        analyte,  # type: ignore[arg-type]
        value,
        UNITS[analyte] if unit is None else unit,
        NOW - timedelta(days=days_ago),
        CODES[analyte],
        f"observation:{analyte}-{value}",
    )


def run(drugs: list[str], *values: LabValue) -> tuple[list[Finding], list[Finding]]:
    normalizer, graph = knowledge()
    meds: list[Medication] = [normalizer.medication(d, ref=f"drug:{d}") for d in drugs]
    before = check(meds, [], [], graph)
    return before, modify(before, meds, values, graph, now=NOW)


def one(findings: list[Finding], kind: str = "interaction") -> Finding:
    [found] = [f for f in findings if f.kind == kind]
    return found


CASES = [
    pytest.param(["warfarin", "ibuprofen"], "inr", 3.0, 3.1, "inr-above-range", id="inr+warfarin+nsaid"),
    pytest.param(["warfarin", "fluconazole"], "inr", 3.0, 4.2, "inr-above-range", id="inr+warfarin+azole"),
    pytest.param(["apixaban", "aspirin"], "inr", 2.9, 3.5, "inr-above-range", id="inr+apixaban+aspirin"),
    pytest.param(
        ["lisinopril", "spironolactone"], "potassium", 5.0, 5.1, "potassium-above-5", id="k+acei+mra"
    ),
    pytest.param(
        ["lisinopril", "potassium chloride"], "potassium", 4.8, 5.6, "potassium-above-5", id="k+acei+kcl"
    ),
    pytest.param(
        ["citalopram", "ondansetron"], "qtc", 500, 501, "qtc-above-500", id="qtc+citalopram+ondansetron"
    ),
]


@pytest.mark.parametrize(("drugs", "analyte", "at_or_below", "above", "rule"), CASES)
def test_a_value_above_the_threshold_makes_the_interaction_critical_and_names_it(
    drugs: list[str], analyte: str, at_or_below: float, above: float, rule: str
) -> None:
    before, after = run(drugs, lab(analyte, above))
    original, raised = one(before), one(after)
    assert raised.severity == "critical" and raised.interruptive
    assert raised.rule == rule and raised.sources[0].startswith(("Coumadin", "2022 AHA", "AHA/ACCF"))
    label = lab(analyte, above).label(NOW)  # "INR 3.1 on 04 Dec"
    assert label in raised.summary and label in raised.mechanism and len(raised.summary) < 140
    assert raised.management.startswith(
        f"1. Do not give this dose until the prescriber has seen the {label}."
    )
    assert f"loinc:{CODES[analyte]}" in raised.evidence
    assert [r.rule for r in raised.ratings][-1] == rule
    assert original.rule in [r.rule for r in raised.ratings]  # the rule it changed is kept


@pytest.mark.parametrize(("drugs", "analyte", "at_or_below", "above", "rule"), CASES)
def test_a_value_at_or_below_the_threshold_changes_no_severity(
    drugs: list[str], analyte: str, at_or_below: float, above: float, rule: str
) -> None:
    before, after = run(drugs, lab(analyte, at_or_below))
    original, kept = one(before), one(after)
    assert (kept.severity, kept.rule, kept.summary) == (original.severity, original.rule, original.summary)
    assert f"{lab(analyte, at_or_below).label(NOW)}: not above" in kept.mechanism


@pytest.mark.parametrize(("drugs", "analyte", "at_or_below", "above", "rule"), CASES)
def test_a_stale_value_is_shown_as_stale_and_not_used(
    drugs: list[str], analyte: str, at_or_below: float, above: float, rule: str
) -> None:
    days = USEFUL_LIFE[analyte].days + 1
    before, after = run(drugs, lab(analyte, above, days_ago=days))
    original, kept = one(before), one(after)
    assert (kept.severity, kept.rule) == (original.severity, original.rule)
    assert "older than its useful life" in kept.mechanism and "not used" in kept.mechanism
    assert lab(analyte, above, days_ago=days).label(NOW) in kept.mechanism


def test_the_latest_value_counts_not_the_highest() -> None:
    _, after = run(["warfarin", "ibuprofen"], lab("inr", 5.0, days_ago=3), lab("inr", 2.4, days_ago=1))
    assert one(after).severity == "major"
    _, after = run(["warfarin", "ibuprofen"], lab("inr", 2.4, days_ago=3), lab("inr", 5.0, days_ago=1))
    assert one(after).severity == "critical"


def test_a_value_at_the_edge_of_its_useful_life_is_still_used() -> None:
    edge = USEFUL_LIFE["inr"].days
    assert latest([lab("inr", 4.0, days_ago=edge)], now=NOW).current
    assert latest([lab("inr", 4.0, days_ago=edge + 0.01)], now=NOW).stale


def test_an_interaction_that_lowers_warfarin_is_not_about_bleeding() -> None:
    before, after = run(["warfarin", "rifampin"], lab("inr", 4.2))
    assert one(after) == one(before)


def test_a_qt_prolonging_drug_alone_with_a_long_qtc_is_a_critical_finding_of_its_own() -> None:
    _, after = run(["ondansetron", "amoxicillin"], lab("qtc", 520))
    found = one(after, "long-qt")
    assert found.severity == "critical" and found.rule == "qtc-above-500"
    assert [i.name for i in found.ingredients] == ["ondansetron"]
    assert found.summary == "Ondansetron, a QT-prolonging drug, with QTc 520 ms on 04 Dec (critical)."
    assert "Drew BJ" in found.sources[0] and set(found.refs) == {"drug:ondansetron", "observation:qtc-520"}
    assert not [f for f in run(["ondansetron"], lab("qtc", 500))[1] if f.kind == "long-qt"]
    [stale] = [f for f in run(["ondansetron"], lab("qtc", 520, days_ago=31))[1] if f.kind == "long-qt"]
    assert (stale.severity, stale.rule) == ("minor", "qtc-above-500:stale")
    assert stale.summary == "Ondansetron: the latest QTc (QTc 520 ms on 04 Nov) is too old to use (minor)."


def test_drugs_of_an_escalated_qt_interaction_get_no_second_finding() -> None:
    _, after = run(["citalopram", "ondansetron"], lab("qtc", 520))
    assert [f.kind for f in after] == ["interaction"]


RENAL = [
    pytest.param(
        "metformin",
        lab("egfr", 29),
        lab("egfr", 30),
        "renal-dose:metformin-egfr-below-30",
        "critical",
        id="metformin-30",
    ),
    pytest.param(
        "metformin",
        lab("egfr", 44),
        lab("egfr", 45),
        "renal-dose:metformin-egfr-below-45",
        "moderate",
        id="metformin-45",
    ),
    pytest.param(
        "dabigatran",
        lab("egfr", 30),
        lab("egfr", 31),
        "renal-dose:dabigatran-crcl-30",
        "major",
        id="dabigatran",
    ),
    pytest.param(
        "rivaroxaban",
        lab("egfr", 14),
        lab("egfr", 15),
        "renal-dose:rivaroxaban-crcl-below-15",
        "major",
        id="rivaroxaban-15",
    ),
    pytest.param(
        "rivaroxaban",
        lab("egfr", 50),
        lab("egfr", 51),
        "renal-dose:rivaroxaban-crcl-50",
        "moderate",
        id="rivaroxaban-50",
    ),
    pytest.param(
        "apixaban",
        lab("creatinine", 1.5),
        lab("creatinine", 1.4),
        "renal-dose:apixaban-creatinine-1.5",
        "moderate",
        id="apixaban-mg",
    ),
    pytest.param(
        "apixaban",
        lab("creatinine", 133, unit="µmol/L"),
        lab("creatinine", 132, unit="µmol/L"),
        "renal-dose:apixaban-creatinine-1.5",
        "moderate",
        id="apixaban-umol",
    ),
    pytest.param(
        "nitrofurantoin",
        lab("egfr", 29),
        lab("egfr", 30),
        "renal-dose:nitrofurantoin-crcl-below-30",
        "critical",
        id="nitrofurantoin-30",
    ),
    pytest.param(
        "nitrofurantoin",
        lab("egfr", 59),
        lab("egfr", 60),
        "renal-dose:nitrofurantoin-crcl-below-60",
        "major",
        id="nitrofurantoin-60",
    ),
    pytest.param(
        "gabapentin",
        lab("egfr", 59),
        lab("egfr", 60),
        "renal-dose:gabapentin-crcl-below-60",
        "moderate",
        id="gabapentin",
    ),
    pytest.param(
        "enoxaparin",
        lab("egfr", 29),
        lab("egfr", 30),
        "renal-dose:enoxaparin-crcl-below-30",
        "major",
        id="enoxaparin",
    ),
]


@pytest.mark.parametrize(("drug", "under", "over", "rule", "severity"), RENAL)
def test_a_renally_cleared_drug_under_its_labelled_threshold_is_an_alert_of_its_own(
    drug: str, under: LabValue, over: LabValue, rule: str, severity: str
) -> None:
    _, after = run([drug], under)
    found = one(after, "renal-dose")
    assert (found.rule, found.severity) == (rule, severity)
    assert under.label(NOW) in found.summary and len(found.summary) <= MAX_SUMMARY + 1
    assert "US prescribing information" in found.sources[0] and found.management.startswith("1. ")
    assert [f.rule for f in run([drug], over)[1] if f.kind == "renal-dose"] != [rule]
    stale = dataclass_replace_days(under, USEFUL_LIFE[under.analyte].days + 1)
    [shown] = [f for f in run([drug], stale)[1] if f.kind == "renal-dose"]  # shown, not used
    assert (shown.severity, shown.rule) == ("minor", f"{rule}:stale")
    assert stale.label(NOW) in shown.summary and "too old to use" in shown.summary
    old_over = dataclass_replace_days(over, USEFUL_LIFE[over.analyte].days + 1)
    assert [f.rule for f in run([drug], old_over)[1] if f.kind == "renal-dose"] != [f"{rule}:stale"]


def dataclass_replace_days(value: LabValue, days: int) -> LabValue:
    return LabValue(value.analyte, value.value, value.unit, NOW - timedelta(days=days), value.code, value.ref)


def test_every_renal_limit_names_a_us_label_and_a_known_ingredient() -> None:
    _, graph = knowledge()
    for limit in RENAL_LIMITS:
        assert "US prescribing information" in limit.source, limit.id
        assert graph.name(limit.rxcui) == limit.drug, limit.id


def test_no_values_change_nothing_and_the_result_does_not_depend_on_input_order() -> None:
    before, after = run(["warfarin", "ibuprofen", "metformin"])
    assert after == before
    values = [lab("inr", 4.2), lab("egfr", 25), lab("potassium", 5.9)]
    _, forward = run(["warfarin", "ibuprofen", "metformin"], *values)
    _, backward = run(["warfarin", "ibuprofen", "metformin"], *reversed(values))
    assert forward == backward
