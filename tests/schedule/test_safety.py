"""Too-soon findings (same shift and across a shift boundary) and doses falling due soon."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from alertsvc.errors import ScheduleError
from alertsvc.knowledge.model import Ingredient
from alertsvc.schedule.mar import Outcome, ScheduledDose, record_outcome
from alertsvc.schedule.safety import due_within, too_soon
from tests.schedule.conftest import LONDON, local

ACETAMINOPHEN = Ingredient("161", "acetaminophen")
HYDROCODONE = Ingredient("5489", "hydrocodone")
MORPHINE = Ingredient("7052", "morphine")
WARD = LONDON.ward()
DAY = date(2026, 6, 10)
VERSION = "kb-test"


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return local(LONDON.zone, day, time(hour, minute))


def dose(dose_id: str, due: datetime, *ingredients: Ingredient, **changes: Any) -> ScheduledDose:
    fields: dict[str, Any] = {
        "id": dose_id,
        "admission": "adm-1",
        "ward": WARD.id,
        "drug": "/".join(i.name for i in ingredients) or "mystery tablets",
        "ingredients": ingredients or (ACETAMINOPHEN,),
        "dose": "1 tablet",
        "route": "oral",
        "due": due,
    }
    return ScheduledDose(**{**fields, **changes})


def given(d: ScheduledDose, when: datetime) -> ScheduledDose:
    return record_outcome(d, Outcome("given", when, nurse="E. Nurse"))


def check(*doses: ScheduledDose, **kwargs: Any) -> list[Any]:
    return too_soon(doses, WARD, knowledge_version=VERSION, **kwargs)


def test_same_ingredient_due_twice_within_four_hours_in_one_shift() -> None:
    findings = check(dose("a", at(8)), dose("b", at(10)))
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.kind, finding.severity, finding.rule) == ("too-soon", "major", "mar-too-soon")
    assert finding.refs == ("dose:b", "earlier-dose:a")  # bound to the later dose, naming the earlier
    assert finding.ingredients == (ACETAMINOPHEN,)
    assert finding.sources == ("alertsvc-mar",)
    assert finding.knowledge_version == VERSION
    assert finding.evidence == ("in:161",)
    assert finding.summary == "Acetaminophen due 10:00, 2 h after a dose due 08:00; minimum 4 h (major)."
    assert "12:00" in finding.management  # the earliest time the later dose may be given
    assert finding.management.startswith("1. Hold this dose")
    assert finding.indicator == "warning" and not finding.interruptive


def test_given_late_in_the_evening_and_due_early_in_the_night_names_both_shifts() -> None:
    evening = given(dose("eve", at(18)), at(22, 30))
    night = dose("night", at(0, 30, DAY + timedelta(days=1)))
    [finding] = check(evening, night)
    assert finding.rule == "mar-too-soon-shift"
    assert finding.refs == ("dose:night", "earlier-dose:eve")
    assert finding.summary == (
        "Acetaminophen due 00:30 (night shift), 2 h after a dose given 22:30 (evening shift); "
        "minimum 4 h (major)."
    )
    assert finding.evidence == ("in:161", "shift:evening", "shift:night")
    assert "evening 15:00–23:00 (Europe/London)" in finding.management


def test_given_in_one_shift_and_given_again_early_in_the_next() -> None:
    day_dose = given(dose("d", at(13)), at(14, 50))
    evening_dose = given(dose("e", at(17)), at(15, 10))
    [finding] = check(day_dose, evening_dose)
    assert finding.rule == "mar-too-soon-shift"
    assert finding.refs == ("dose:e", "earlier-dose:d")
    assert "given 15:10 (evening shift)" in finding.summary and "given 14:50 (day shift)" in finding.summary


@pytest.mark.parametrize(
    ("gap", "expected"),
    [
        pytest.param(timedelta(hours=4), 0, id="exactly-the-interval"),
        pytest.param(timedelta(hours=3, minutes=59), 1, id="a-minute-short"),
        pytest.param(timedelta(0), 1, id="same-time"),
    ],
)
def test_the_minimum_interval_is_a_strict_bound(gap: timedelta, expected: int) -> None:
    assert len(check(dose("a", at(8)), dose("b", at(8) + gap))) == expected


@pytest.mark.parametrize("status", ["held", "refused"])
def test_held_and_refused_doses_do_not_count(status: str) -> None:
    first = record_outcome(dose("a", at(8)), Outcome(status, at(8), nurse="N"))  # type: ignore[arg-type]
    assert check(first, dose("b", at(10))) == []


def test_a_dose_given_late_counts_at_its_given_time() -> None:
    on_time = given(dose("a", at(8)), at(8, 5))
    late = given(dose("a", at(8)), at(11))
    noon = dose("b", at(12, 10))
    assert check(on_time, noon) == []
    [finding] = check(late, noon)
    assert finding.refs == ("dose:b", "earlier-dose:a")
    assert "1 h 10 min after a dose given 11:00" in finding.summary


def test_per_ingredient_interval_by_rxcui_or_name() -> None:
    doses = (dose("a", at(8), MORPHINE), dose("b", at(13), MORPHINE))
    assert check(*doses) == []
    assert len(check(*doses, per_ingredient={"7052": timedelta(hours=6)})) == 1
    assert len(check(*doses, per_ingredient={"morphine": timedelta(hours=6)})) == 1
    assert check(*doses, per_ingredient={"acetaminophen": timedelta(hours=6)}) == []
    assert len(check(*doses, min_interval=timedelta(hours=8))) == 1


def test_a_combination_product_clashes_on_the_shared_ingredient_only() -> None:
    combo = dose("combo", at(8), HYDROCODONE, ACETAMINOPHEN)
    plain = dose("plain", at(9), ACETAMINOPHEN)
    [finding] = check(combo, plain)
    assert finding.ingredients == (ACETAMINOPHEN,)
    assert finding.refs == ("dose:plain", "earlier-dose:combo")
    both = dose("combo2", at(10), HYDROCODONE, ACETAMINOPHEN)
    findings = check(combo, plain, both)
    by_refs = {f.refs: f.ingredients for f in findings}
    # acetaminophen: nearest earlier is "plain"; hydrocodone: nearest earlier is "combo"
    assert by_refs == {
        ("dose:plain", "earlier-dose:combo"): (ACETAMINOPHEN,),
        ("dose:combo2", "earlier-dose:combo"): (HYDROCODONE,),
        ("dose:combo2", "earlier-dose:plain"): (ACETAMINOPHEN,),
    }


def test_the_nearest_earlier_dose_is_named() -> None:
    findings = check(dose("a", at(8)), dose("b", at(9)), dose("c", at(10)))
    assert [f.refs for f in findings] == [("dose:b", "earlier-dose:a"), ("dose:c", "earlier-dose:b")]


def test_different_admissions_and_ingredients_do_not_clash() -> None:
    assert check(dose("a", at(8)), dose("b", at(9), admission="adm-2")) == []
    assert check(dose("a", at(8)), dose("b", at(9), MORPHINE)) == []


def test_drugs_not_yet_normalised_are_compared_by_term() -> None:
    first = dose("a", at(8), ingredients=(), drug="Panadol 500 mg")
    second = dose("b", at(9), ingredients=(), drug="panadol 500 mg ")
    other = dose("c", at(9), ingredients=(), drug="Nurofen")
    [finding] = check(first, second, other)
    assert finding.refs == ("dose:b", "earlier-dose:a")
    assert finding.ingredients == (Ingredient("unresolved:panadol 500 mg", "panadol 500 mg"),)
    assert finding.summary == "Panadol 500 mg due 09:00, 1 h after a dose due 08:00; minimum 4 h (major)."
    assert finding.evidence == ("drug:panadol 500 mg",)


def test_summaries_stay_under_140_characters() -> None:
    name = "x" * 200
    long = Ingredient("999", name)
    [finding] = check(dose("a", at(22), long), dose("b", at(23, 30), long))
    assert len(finding.summary) < 140


def test_intervals_must_be_positive() -> None:
    with pytest.raises(ScheduleError):
        check(dose("a", at(8)), min_interval=timedelta(0))
    with pytest.raises(ScheduleError):
        check(dose("a", at(8)), per_ingredient={"161": timedelta(hours=-1)})


# --- due soon -------------------------------------------------------------------------------------------

NOW = at(7)


def test_due_within_the_lead_time_inclusive_and_in_order() -> None:
    doses = [
        dose("later", NOW + timedelta(minutes=61)),
        dose("edge", NOW + timedelta(minutes=60)),
        dose("now", NOW),
        dose("past", NOW - timedelta(seconds=1)),
        dose("soon", NOW + timedelta(minutes=15)),
        given(dose("done", NOW + timedelta(minutes=5)), NOW),
    ]
    soon = due_within(doses, NOW, timedelta(minutes=60))
    assert [d.id for d in soon] == ["now", "soon", "edge"]


def test_due_within_accepts_any_aware_now_and_refuses_naive() -> None:
    doses = [dose("a", datetime(2026, 6, 10, 6, 30, tzinfo=UTC))]
    as_local = NOW.astimezone(LONDON.zone)
    assert [d.id for d in due_within(doses, as_local, timedelta(hours=1))] == ["a"]
    with pytest.raises(ScheduleError, match="naive"):
        due_within(doses, datetime(2026, 6, 10, 6), timedelta(hours=1))
    with pytest.raises(ScheduleError, match="negative"):
        due_within(doses, NOW, timedelta(minutes=-1))
