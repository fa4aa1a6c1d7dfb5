"""Shifts follow the ward's clocks: 9-hour and 7-hour nights on change nights, exact boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import ScheduleError
from alertsvc.schedule.shifts import ShiftPattern, Ward, shift_at, shift_occurrence, shift_starts
from tests.schedule.conftest import LONDON, NEW_YORK, DstZone, local, local_day

US = timedelta(microseconds=1)


def test_default_pattern_is_day_evening_night() -> None:
    assert ShiftPattern().starts == (("day", time(7)), ("evening", time(15)), ("night", time(23)))
    assert ShiftPattern().names == ("day", "evening", "night")


@pytest.mark.parametrize(
    "starts",
    [
        pytest.param((), id="empty"),
        pytest.param((("day", time(7)), ("day", time(19))), id="duplicate-name"),
        pytest.param((("day", time(19)), ("night", time(7))), id="decreasing"),
        pytest.param((("day", time(7)), ("late", time(7))), id="equal-times"),
        pytest.param((("", time(7)),), id="empty-name"),
    ],
)
def test_bad_shift_patterns_are_refused(starts: tuple[tuple[str, time], ...]) -> None:
    with pytest.raises(ScheduleError):
        ShiftPattern(starts)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_unknown_time_zone_is_refused_naming_the_ward(zone: str) -> None:
    with pytest.raises(ScheduleError, match="ward 'w7'"):
        Ward(id="w7", name="Ward 7", timezone=zone)


def test_night_is_nine_hours_on_the_autumn_change_night(dst: DstZone) -> None:
    ward = dst.ward()
    night = shift_at(ward, local(dst.zone, dst.autumn, time(4)))
    assert night.name == "night"
    assert night.start == local(dst.zone, dst.autumn - timedelta(days=1), time(23))
    assert night.end == local(dst.zone, dst.autumn, time(7))
    assert night.length == timedelta(hours=9)


def test_night_is_seven_hours_on_the_spring_change_night(dst: DstZone) -> None:
    ward = dst.ward()
    night = shift_at(ward, local(dst.zone, dst.spring, time(4)))
    assert night.name == "night"
    assert night.length == timedelta(hours=7)


def test_ordinary_shifts_are_eight_hours(dst: DstZone) -> None:
    ward = dst.ward()
    day = dst.autumn + timedelta(days=3)
    lengths = {s.name: s.length for s in shift_starts(ward, *local_day(dst.zone, day))}
    assert lengths == {"day": timedelta(hours=8), "evening": timedelta(hours=8), "night": timedelta(hours=8)}


def test_second_pass_through_the_repeated_hour_is_still_the_night_shift(dst: DstZone) -> None:
    ward = dst.ward()
    first = local(dst.zone, dst.autumn, dst.ambiguous_time, fold=0)
    second = local(dst.zone, dst.autumn, dst.ambiguous_time, fold=1)
    assert second - first == timedelta(hours=1)
    assert shift_at(ward, first) == shift_at(ward, second)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(time(7), "day", id="07:00-is-day"),
        pytest.param(time(15), "evening", id="15:00-is-evening"),
        pytest.param(time(23), "night", id="23:00-is-night"),
        pytest.param(time(0), "night", id="midnight-is-night"),
    ],
)
def test_a_shift_owns_its_start_and_not_its_end(at: time, expected: str) -> None:
    ward = LONDON.ward()
    day = date(2026, 6, 10)
    boundary = local(LONDON.zone, day, at)
    shift = shift_at(ward, boundary)
    assert shift.name == expected
    if at != time(0):
        assert shift.start == boundary
        assert shift_at(ward, boundary - US).end == boundary
        assert shift_at(ward, boundary - US).name != expected


def test_shift_label_uses_the_ward_local_times() -> None:
    ward = LONDON.ward()
    night = shift_at(ward, datetime(2026, 7, 1, 1, 0, tzinfo=UTC))
    assert night.label(LONDON.zone) == "night 23:00–07:00 (Europe/London)"
    assert night.label("America/New_York") == "night 18:00–02:00 (America/New_York)"


def test_shift_occurrence_returns_the_current_shift_of_that_name() -> None:
    ward = NEW_YORK.ward()
    now = local(NEW_YORK.zone, date(2026, 6, 10), time(23, 30))
    assert shift_occurrence(ward, "night", now) == shift_at(ward, now)


def test_shift_occurrence_returns_the_next_shift_of_that_name() -> None:
    ward = NEW_YORK.ward()
    now = local(NEW_YORK.zone, date(2026, 6, 10), time(16))
    night = shift_occurrence(ward, "night", now)
    assert night.start == local(NEW_YORK.zone, date(2026, 6, 10), time(23))
    day = shift_occurrence(ward, "day", now)
    assert day.start == local(NEW_YORK.zone, date(2026, 6, 11), time(7))


def test_shift_occurrence_refuses_an_unknown_shift_name() -> None:
    with pytest.raises(ScheduleError, match="'late'"):
        shift_occurrence(NEW_YORK.ward(), "late", datetime(2026, 6, 10, tzinfo=UTC))


def test_shift_starts_are_half_open_and_in_order(dst: DstZone) -> None:
    ward = dst.ward()
    start, end = (
        local(dst.zone, dst.autumn, time(7)),
        local(dst.zone, dst.autumn + timedelta(days=1), time(7)),
    )
    shifts = shift_starts(ward, start, end)
    assert [s.name for s in shifts] == ["day", "evening", "night"]
    assert shifts[0].start == start  # the shift starting at `start` is in
    assert all(s.start < end for s in shifts)  # the one starting at `end` is out
    assert shift_starts(ward, end, start) == []


def test_shift_starts_across_the_spring_change(dst: DstZone) -> None:
    shifts = shift_starts(dst.ward(), *local_day(dst.zone, dst.spring - timedelta(days=1), days=2))
    assert [s.name for s in shifts] == ["day", "evening", "night"] * 2
    assert [s.start.astimezone(dst.zone).hour for s in shifts] == [7, 15, 23] * 2
    assert shifts[2].length == timedelta(hours=7)


def test_a_shift_starting_in_the_spring_gap_starts_when_the_clocks_jump() -> None:
    pattern = ShiftPattern((("early", time(2, 0)), ("late", time(2, 30)), ("day", time(8))))
    ward = Ward(id="icu", name="ICU", timezone="America/New_York", shifts=pattern)
    shifts = shift_starts(ward, *local_day(NEW_YORK.zone, NEW_YORK.spring))
    jump = local(NEW_YORK.zone, NEW_YORK.spring, time(3))
    # 02:00 and 02:30 both become 03:00: the zero-length "early" shift is dropped that day.
    assert [(s.name, s.start) for s in shifts][:1] == [("late", jump)]
    assert all(s.length > timedelta(0) for s in shifts)
    assert shift_at(ward, jump).name == "late"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ScheduleError, match="naive"):
        shift_at(NEW_YORK.ward(), datetime(2026, 6, 10, 12))


ZONES = st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"])
INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@settings(max_examples=150, deadline=None)
@given(zone=ZONES, now=INSTANTS)
def test_shift_at_covers_now_and_shifts_tile_the_timeline(zone: str, now: datetime) -> None:
    ward = Ward(id="w", name="W", timezone=zone)
    shift = shift_at(ward, now)
    assert shift.start <= now < shift.end
    assert timedelta(hours=7) <= shift.length <= timedelta(hours=9)
    following = shift_at(ward, shift.end)
    assert following.start == shift.end
    names = ward.shifts.names
    assert following.name == names[(names.index(shift.name) + 1) % len(names)]
    local_start = shift.start.astimezone(ZoneInfo(zone)).time()
    assert local_start == dict(ward.shifts.starts)[shift.name]
