"""Dose timing: FHIR Dosage shapes, one dose per wall-clock slot across clock changes, fixed intervals."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import ScheduleError
from alertsvc.schedule.fhir_timing import timing_from_fhir
from alertsvc.schedule.timing import DoseTiming, dose_times, local_instant
from tests.schedule.conftest import LONDON, NEW_YORK, DstZone, local, local_day

GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
DAILY = DoseTiming(times_of_day=(time(8),))


def repeat(**fields: Any) -> dict[str, Any]:
    return {"timing": {"repeat": fields}}


def local_times(instants: list[datetime], zone: ZoneInfo) -> list[str]:
    return [i.astimezone(zone).strftime("%m-%d %H:%M") for i in instants]


# --- daylight saving ------------------------------------------------------------------------------------


def test_daily_0130_on_the_autumn_day_is_one_dose_at_the_first_0130(dst: DstZone) -> None:
    timing = DoseTiming(times_of_day=(time(1, 30),))
    doses = dose_times(timing, *local_day(dst.zone, dst.autumn), dst.zone)
    assert doses == [local(dst.zone, dst.autumn, time(1, 30), fold=0)]
    assert doses[0].astimezone(dst.zone).dst() == timedelta(hours=1)  # still summer time


def test_daily_dose_in_the_spring_gap_happens_once_when_the_clocks_jump(dst: DstZone) -> None:
    timing = DoseTiming(times_of_day=(dst.gap_time,))
    doses = dose_times(timing, *local_day(dst.zone, dst.spring), dst.zone)
    assert len(doses) == 1
    assert doses[0].astimezone(dst.zone).time() == dst.gap_end


def test_daily_0230_in_new_york_on_the_spring_day_is_at_0300() -> None:
    timing = timing_from_fhir(repeat(frequency=1, period=1, periodUnit="d", timeOfDay=["02:30:00"]))
    days = dose_times(
        timing, *local_day(NEW_YORK.zone, NEW_YORK.spring - timedelta(days=1), 3), NEW_YORK.zone
    )
    assert local_times(days, NEW_YORK.zone) == ["03-07 02:30", "03-08 03:00", "03-09 02:30"]


@pytest.mark.parametrize("when", ["autumn", "spring"])
def test_every_6_hours_stays_6_hours_apart_across_the_change(dst: DstZone, when: str) -> None:
    change = dst.autumn if when == "autumn" else dst.spring
    timing = timing_from_fhir(repeat(frequency=1, period=6, periodUnit="h"))
    doses = dose_times(timing, *local_day(dst.zone, change - timedelta(days=1), 3), dst.zone)
    assert {b - a for a, b in pairwise(doses)} == {timedelta(hours=6)}
    hours_before = {d.astimezone(dst.zone).hour for d in doses[:4]}
    hours_after = {d.astimezone(dst.zone).hour for d in doses[-4:]}
    assert hours_before == {0, 6, 12, 18}
    shift = -1 if when == "autumn" else 1
    assert hours_after == {(h + shift) % 24 for h in hours_before}  # wall times move by the change


def test_every_8_hours_from_a_given_first_time() -> None:
    timing = timing_from_fhir(repeat(frequency=1, period=8, periodUnit="h", timeOfDay=["06:00:00"]))
    doses = dose_times(timing, *local_day(LONDON.zone, date(2026, 6, 1)), LONDON.zone)
    assert local_times(doses, LONDON.zone) == ["06-01 06:00", "06-01 14:00", "06-01 22:00"]


def test_every_6_hours_starts_at_an_exact_bounds_start() -> None:
    timing = timing_from_fhir(
        repeat(frequency=1, period=6, periodUnit="h", boundsPeriod={"start": "2026-06-01T09:15:00+01:00"})
    )
    doses = dose_times(timing, *local_day(LONDON.zone, date(2026, 6, 1)), LONDON.zone)
    assert local_times(doses, LONDON.zone) == ["06-01 09:15", "06-01 15:15", "06-01 21:15"]


def test_local_instant_maps_the_whole_gap_to_its_end(dst: DstZone) -> None:
    end = local(dst.zone, dst.spring, dst.gap_end)
    start_of_gap = (datetime.combine(dst.spring, dst.gap_end) - timedelta(hours=1)).time()
    for minute in range(0, 60, 7):
        inside = (datetime.combine(dst.spring, start_of_gap) + timedelta(minutes=minute)).time()
        assert local_instant(dst.spring, inside, dst.zone) == end
    before = (datetime.combine(dst.spring, start_of_gap) - timedelta(minutes=1)).time()
    assert end - local_instant(dst.spring, before, dst.zone) == timedelta(minutes=1)


# --- FHIR shapes ----------------------------------------------------------------------------------------

JUNE = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("dosage", "expected"),
    [
        pytest.param(
            {"timing": {"code": {"coding": [{"system": GTS, "code": "BID"}]}}},
            ["08:00", "20:00"],
            id="code-BID",
        ),
        pytest.param(
            {"timing": {"code": {"coding": [{"system": GTS, "code": "TID"}]}}},
            ["08:00", "14:00", "22:00"],
            id="code-TID",
        ),
        pytest.param(
            {
                "timing": {
                    "code": {"coding": [{"system": "http://hl7.org/fhir/v3/GTSAbbreviation", "code": "QID"}]}
                }
            },
            ["08:00", "12:00", "16:00", "20:00"],
            id="code-QID-stu3-system",
        ),
        pytest.param({"timing": {"code": {"text": "bed"}}}, ["22:00"], id="code-text-BED"),
        pytest.param(
            {"timing": {"code": {"coding": [{"code": "Q4H"}]}}},
            ["00:00", "04:00", "08:00", "12:00", "16:00", "20:00"],
            id="code-Q4H",
        ),
        pytest.param(repeat(frequency=1, period=1, periodUnit="d"), ["08:00"], id="synthea-daily"),
        pytest.param(
            repeat(frequency=4, period=1, periodUnit="d"),
            ["08:00", "12:00", "16:00", "20:00"],
            id="fhir-0304-four-times-daily",
        ),
        pytest.param(
            repeat(frequency=6, period=1, periodUnit="d"),
            ["00:00", "04:00", "08:00", "12:00", "16:00", "20:00"],
            id="six-a-day-evenly",
        ),
        pytest.param(repeat(timeOfDay=["21:00:00", "09:00:00"]), ["09:00", "21:00"], id="timeOfDay-unsorted"),
        pytest.param(
            repeat(frequency=2, period=1, periodUnit="d", timeOfDay=["09:00", "21:00"]),
            ["09:00", "21:00"],
            id="timeOfDay-with-frequency",
        ),
        pytest.param(
            repeat(frequency=1, period=12, periodUnit="h", timeOfDay=["10:00"]),
            ["10:00", "22:00"],
            id="q12h-from-10",
        ),
        pytest.param(
            repeat(frequency=1, period=12, periodUnit="h", timeOfDay=["10:00", "22:00"]),
            ["10:00", "22:00"],
            id="q12h-listed-times",
        ),
        pytest.param(
            repeat(frequency=2, period=1, periodUnit="h"),
            [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)],
            id="twice-an-hour",
        ),
        pytest.param(repeat(when=["MORN", "HS"]), ["08:00", "22:00"], id="when-morning-bedtime"),
        pytest.param(
            repeat(when=["AC"], offset=30), ["07:30", "11:30", "17:30"], id="when-before-meals-offset"
        ),
        pytest.param(repeat(when="PCV", offset=60), ["19:00"], id="when-single-code"),
        pytest.param(
            {
                "timing": {
                    "event": [
                        "2026-06-01T10:00:00+01:00",
                        "2026-06-01T16:30:00Z",
                        "2026-06-02T10:00:00+01:00",
                    ]
                }
            },
            ["10:00", "17:30"],
            id="explicit-events",
        ),
    ],
)
def test_fhir_timing_shapes(dosage: dict[str, Any], expected: list[str]) -> None:
    timing = timing_from_fhir(dosage)
    doses = dose_times(timing, *local_day(LONDON.zone, JUNE), LONDON.zone)
    assert [d.astimezone(LONDON.zone).strftime("%H:%M") for d in doses] == expected


BOUNDS_0303 = {
    "sequence": 1,
    "text": "Take 4 tablets daily for 7 days starting January 16, 2015",
    "timing": {
        "repeat": {
            "boundsPeriod": {"start": "2015-01-16", "end": "2015-01-20"},
            "frequency": 1,
            "period": 1,
            "periodUnit": "d",
        }
    },
    "doseAndRate": [{"doseQuantity": {"value": 4, "unit": "TAB"}}],
}


def test_bounds_period_dates_are_whole_local_days_end_inclusive() -> None:
    timing = timing_from_fhir(BOUNDS_0303)
    assert timing.bounds_start == date(2015, 1, 16) and timing.bounds_end == date(2015, 1, 20)
    assert timing.text.startswith("Take 4 tablets")
    doses = dose_times(timing, *local_day(NEW_YORK.zone, date(2015, 1, 1), 60), NEW_YORK.zone)
    assert local_times(doses, NEW_YORK.zone) == [f"01-{d} 08:00" for d in range(16, 21)]


def test_bounds_period_date_times_are_exact_and_inclusive() -> None:
    timing = timing_from_fhir(
        repeat(
            timeOfDay=["08:00"],
            boundsPeriod={"start": "2026-06-02T08:00:00+01:00", "end": "2026-06-04T08:00:00+01:00"},
        )
    )
    doses = dose_times(timing, *local_day(LONDON.zone, JUNE, 10), LONDON.zone)
    assert local_times(doses, LONDON.zone) == ["06-02 08:00", "06-03 08:00", "06-04 08:00"]


def test_bounds_duration_and_count_limit_the_schedule() -> None:
    for_three_days = timing_from_fhir(repeat(timeOfDay=["08:00"], boundsDuration={"value": 3, "code": "d"}))
    start, end = local_day(LONDON.zone, JUNE, 10)
    assert len(dose_times(for_three_days, start, end, LONDON.zone)) == 3
    five_doses = timing_from_fhir(
        repeat(frequency=1, period=6, periodUnit="h", count=5, boundsPeriod={"start": "2026-06-01"})
    )
    assert len(dose_times(five_doses, start, end, LONDON.zone)) == 5
    # the count runs from the schedule's first day (the bounds start), not from each window
    later = dose_times(five_doses, start + timedelta(hours=12), end, LONDON.zone)
    assert local_times(later, LONDON.zone) == ["06-01 12:00", "06-01 18:00", "06-02 00:00"]


def test_every_other_day_keeps_its_anchor_in_a_later_window() -> None:
    timing = timing_from_fhir(
        {
            "timing": {
                "code": {"coding": [{"code": "QOD"}]},
                "repeat": {"boundsPeriod": {"start": "2026-06-01"}},
            }
        }
    )
    whole = dose_times(timing, *local_day(LONDON.zone, JUNE, 10), LONDON.zone)
    assert local_times(whole, LONDON.zone) == [f"06-{d:02d} 08:00" for d in (1, 3, 5, 7, 9)]
    later = dose_times(timing, *local_day(LONDON.zone, date(2026, 6, 4), 4), LONDON.zone)
    assert later == [d for d in whole if d >= local(LONDON.zone, date(2026, 6, 4), time(0))][:2]


def test_days_of_week() -> None:
    timing = timing_from_fhir(
        repeat(dayOfWeek=["mon", "thu"], timeOfDay=["09:00"], frequency=2, period=1, periodUnit="wk")
    )
    doses = dose_times(timing, *local_day(LONDON.zone, JUNE, 14), LONDON.zone)  # 2026-06-01 is a Monday
    assert local_times(doses, LONDON.zone) == ["06-01 09:00", "06-04 09:00", "06-08 09:00", "06-11 09:00"]


@pytest.mark.parametrize(
    "dosage",
    [
        pytest.param(
            {
                "text": "one to two tablets every 4-6 hours as needed for rib pain",
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"}},
                "asNeededCodeableConcept": {
                    "coding": [{"code": "297217002", "display": "Rib Pain (finding)"}]
                },
            },
            id="fhir-0301-prn-codeable-concept",
        ),
        pytest.param({"asNeededBoolean": True, "sequence": 1}, id="synthea-prn-without-timing"),
        pytest.param({"asNeeded": True, "timing": {"code": {"text": "Q4H"}}}, id="r5-as-needed"),
    ],
)
def test_as_needed_doses_are_not_planned(dosage: dict[str, Any]) -> None:
    timing = timing_from_fhir(dosage)
    assert timing.kind == "as-needed"
    assert dose_times(timing, *local_day(LONDON.zone, JUNE, 7), LONDON.zone) == []


@pytest.mark.parametrize(
    ("dosage", "field"),
    [
        pytest.param({"sequence": 1}, "timing", id="no-timing"),
        pytest.param({"timing": {}}, "timing", id="empty-timing"),
        pytest.param(
            repeat(frequency=1, period=1, periodUnit="mo"), "timing.repeat.periodUnit", id="monthly"
        ),
        pytest.param(repeat(timeOfDay=["25:00"]), r"timing.repeat.timeOfDay\[0\]", id="bad-time"),
        pytest.param(
            repeat(timeOfDay=["08:00"], when=["MORN"]), "timing.repeat.when", id="when-and-timeOfDay"
        ),
        pytest.param(repeat(when=["SOMETIME"]), "timing.repeat.when", id="unknown-when"),
        pytest.param(
            repeat(frequency=0, period=1, periodUnit="d"), "timing.repeat.frequency", id="zero-frequency"
        ),
        pytest.param(
            repeat(frequency=1, period=-2, periodUnit="h"), "timing.repeat.period", id="negative-period"
        ),
        pytest.param(
            repeat(frequency=3, period=1, periodUnit="d", timeOfDay=["08:00", "20:00"]),
            "timing.repeat.frequency",
            id="frequency-vs-times",
        ),
        pytest.param(
            repeat(frequency=1, period=6, periodUnit="h", timeOfDay=["08:00", "20:00"]),
            "timing.repeat.timeOfDay",
            id="interval-vs-times",
        ),
        pytest.param(
            repeat(frequency=3, period=1, periodUnit="wk"), "timing.repeat", id="three-a-week-no-days"
        ),
        pytest.param(repeat(dayOfWeek=["funday"]), "timing.repeat.dayOfWeek", id="bad-weekday"),
        pytest.param(
            repeat(frequency=7, period=1, periodUnit="d"), "timing.repeat.frequency", id="seven-a-day"
        ),
        pytest.param(
            {"timing": {"code": {"coding": [{"system": GTS, "code": "MO"}]}}},
            "timing.code",
            id="code-monthly",
        ),
        pytest.param(
            {"timing": {"event": ["2026-06-01T10:00:00"]}}, r"timing.event\[0\]", id="event-without-zone"
        ),
        pytest.param(
            repeat(timeOfDay=["08:00"], boundsRange={"low": {"value": 1}}),
            "timing.repeat.boundsRange",
            id="bounds-range",
        ),
        pytest.param(
            repeat(timeOfDay=["08:00"], boundsPeriod={"start": "June"}),
            "timing.repeat.boundsPeriod.start",
            id="bad-bounds",
        ),
        pytest.param(
            repeat(timeOfDay=["08:00"], boundsDuration={"value": 1, "unit": "mo"}),
            "timing.repeat.boundsDuration",
            id="month-duration",
        ),
        pytest.param({"timing": {"repeat": "daily"}}, "timing.repeat", id="repeat-not-object"),
    ],
)
def test_timing_that_cannot_be_understood_names_the_field(dosage: dict[str, Any], field: str) -> None:
    with pytest.raises(ScheduleError, match=f"^{field}"):
        timing_from_fhir(dosage)


def test_dose_times_refuses_naive_or_reversed_windows() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(ScheduleError, match="naive"):
        dose_times(DAILY, datetime(2026, 6, 1), start, LONDON.zone)
    with pytest.raises(ScheduleError, match="before it starts"):
        dose_times(DAILY, start, start - timedelta(days=1), LONDON.zone)
    assert dose_times(DAILY, start, start, LONDON.zone) == []


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"times_of_day": (time(8),), "every": timedelta(hours=6)}, id="two-shapes"),
        pytest.param({"times_of_day": (time(20), time(8))}, id="unsorted"),
        pytest.param({"every": timedelta(0)}, id="zero-interval"),
        pytest.param({"times_of_day": (time(8),), "count": 0}, id="zero-count"),
    ],
)
def test_dose_timing_refuses_inconsistent_shapes(fields: dict[str, Any]) -> None:
    with pytest.raises(ScheduleError):
        DoseTiming(**fields)


# --- properties -----------------------------------------------------------------------------------------

DST_ZONE_NAMES = st.sampled_from(
    ["America/New_York", "Europe/London", "Australia/Sydney", "America/Santiago"]
)
DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))
INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
TIMINGS = st.one_of(
    st.lists(TIMES, min_size=1, max_size=5, unique=True).map(
        lambda ts: DoseTiming(times_of_day=tuple(sorted(ts)))
    ),
    st.integers(min_value=15, max_value=48 * 60).map(lambda m: DoseTiming(every=timedelta(minutes=m))),
    st.integers(min_value=2, max_value=9).map(lambda n: DoseTiming(times_of_day=(time(8),), every_days=n)),
)


@settings(max_examples=120, deadline=None)
@given(zone=DST_ZONE_NAMES, timing=TIMINGS, start=INSTANTS, hours=st.integers(min_value=0, max_value=24 * 10))
def test_dose_times_are_sorted_unique_and_inside_the_window(
    zone: str, timing: DoseTiming, start: datetime, hours: int
) -> None:
    end = start + timedelta(hours=hours)
    doses = dose_times(timing, start, end, ZoneInfo(zone))
    assert doses == sorted(set(doses))
    assert all(start <= d < end and d.tzinfo is UTC for d in doses)


@settings(max_examples=120, deadline=None)
@given(zone=DST_ZONE_NAMES, first=DAYS, days=st.integers(min_value=1, max_value=40), at=TIMES)
def test_a_daily_schedule_has_one_dose_per_local_calendar_day(
    zone: str, first: date, days: int, at: time
) -> None:
    tz = ZoneInfo(zone)
    doses = dose_times(DoseTiming(times_of_day=(at,)), *local_day(tz, first, days), tz)
    assert len(doses) == days
    assert [d.astimezone(tz).date() for d in doses] == [first + timedelta(days=i) for i in range(days)]
