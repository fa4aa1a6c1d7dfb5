"""Dose timing: read FHIR Dosage.timing and compute the instants doses fall due, in a ward's time zone.

Two kinds of repeating schedule, because nurses and prescribers mean two different things:

* **Wall-clock** schedules ("daily at 08:00", timeOfDay lists, BID/TID/QID, "every other day") name local
  times. There is exactly one dose per local calendar slot (day x time of day). A slot that falls in the
  spring-forward gap (02:30 on a day the clocks jump from 02:00 to 03:00) moves to the first valid instant
  after the gap (03:00); an ambiguous autumn slot (01:30 on the day 01:00-02:00 happens twice) is taken
  once, at its first occurrence. This is unlike a cron trigger, which fires 01:30 twice in autumn and runs
  a 02:30 job at 03:30 in spring.
* **Interval** schedules ("every 6 hours", periodUnit h/min/s) are fixed elapsed times from the first dose:
  six hours stay six hours across a clock change, so the local times shift by an hour after it. The first
  dose is the exact start of ``boundsPeriod`` when that is a date-time; otherwise the given first time of
  day (a single ``timeOfDay``), or local midnight, on the first day of the schedule.

As-needed (PRN) dosages are not planned: :func:`dose_times` returns no instants for them. Explicit
``Timing.event`` instants are taken as they are.

"The first day of the schedule" is the start of ``boundsPeriod`` when known, else the local date of the
``start`` given to :func:`dose_times`: callers pass the grant's start so that every-other-day and interval
schedules keep one anchor however the window is sliced.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from alertsvc.errors import LimitExceeded, ScheduleError

TimingKind = Literal["as-needed", "events", "interval", "wall-clock"]

Bound = date | datetime
MIN_EVERY = timedelta(minutes=1)
"""The shortest interval between doses a timing may ask for: a finer one would plan without bound (one
MedicationRequest "every 0.000001 s" was hundreds of billions of doses, planned on the event loop)."""


@dataclass(frozen=True)
class DoseTiming:
    """When doses of one dosage instruction fall due (``fhir_timing.timing_from_fhir`` builds one).

    Exactly one shape applies: ``as_needed`` (not planned), ``events`` (explicit instants), ``every``
    (an interval schedule; ``first_dose_at`` is the local time of its first dose, None for midnight or the
    exact bounds start) or ``times_of_day`` (a wall-clock schedule on every ``every_days``-th day from the
    first day, restricted to ``days_of_week``, 0 = Monday, when given).
    ``bounds_start``/``bounds_end`` are dates (whole local days, the end inclusive) or aware date-times
    (the end inclusive, as FHIR periods are); ``bounds_duration`` ends the schedule that long after its
    first day starts when there is no ``bounds_end``. ``count`` caps the number of doses from the start.
    """

    times_of_day: tuple[time, ...] = ()
    every_days: int = 1
    days_of_week: frozenset[int] = frozenset()
    every: timedelta | None = None
    first_dose_at: time | None = None
    events: tuple[datetime, ...] = ()
    as_needed: bool = False
    bounds_start: Bound | None = None
    bounds_end: Bound | None = None
    bounds_duration: timedelta | None = None
    count: int | None = None
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        shapes = [self.as_needed, bool(self.events), self.every is not None, bool(self.times_of_day)]
        if sum(shapes) != 1:
            raise ScheduleError(
                "DoseTiming needs exactly one of as_needed, events, every or times_of_day"
                f" (got {sum(shapes)})"
            )
        if self.every is not None and self.every < MIN_EVERY:
            raise ScheduleError(f"a dose every {self.every} is more often than once a minute: not a ward MAR")
        if self.every_days < 1:
            raise ScheduleError(f"DoseTiming.every_days must be at least 1, not {self.every_days}")
        if self.days_of_week and self.every_days % 7:
            raise ScheduleError("DoseTiming.days_of_week needs every_days to be a whole number of weeks")
        if sorted(set(self.times_of_day)) != list(self.times_of_day):
            raise ScheduleError("DoseTiming.times_of_day must be sorted and unique")
        if any(t.tzinfo is not None for t in (*self.times_of_day, self.first_dose_at) if t is not None):
            raise ScheduleError("DoseTiming times of day are ward-local wall-clock times, without a zone")
        if any(e.tzinfo is None for e in self.events):
            raise ScheduleError("DoseTiming.events must be aware date-times")
        if self.count is not None and self.count < 1:
            raise ScheduleError(f"DoseTiming.count must be at least 1, not {self.count}")

    @property
    def kind(self) -> TimingKind:
        if self.as_needed:
            return "as-needed"
        if self.events:
            return "events"
        return "interval" if self.every is not None else "wall-clock"


SLOTS_PER_DOSE = 50
"""With a dose limit, how many slots per dose allowed a timing may walk before its window (see dose_times)."""


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ward-local wall-clock ``at`` happens on ``day``.

    An ambiguous time (autumn) is its first occurrence; a time in the spring-forward gap becomes the first
    valid instant after the gap (the instant the clocks change).
    """
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    utc = naive.replace(tzinfo=tz).astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == naive:
        return utc
    # In the gap: offset-before gives an instant after the change, offset-after one before it.
    later = utc
    earlier = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    target = later.astimezone(tz).utcoffset()
    low, high = math.floor(earlier.timestamp()), math.ceil(later.timestamp())
    while high - low > 1:  # invariant: offset at `low` differs from target; at `high` it is target
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def dose_times(
    timing: DoseTiming, start: datetime, end: datetime, tz: ZoneInfo, *, limit: int | None = None
) -> list[datetime]:
    """Every instant a dose falls due in ``[start, end)`` (and within the timing's bounds), aware UTC,
    sorted, one per dose slot. Wall-clock slots that collapse onto one instant (two slots inside the same
    spring-forward gap) give one dose. See the module docstring for the daylight-saving rules.

    With ``limit``, more than ``limit`` doses raise LimitExceeded as soon as the next one is found (a
    dose every second for a year is never built in memory), and so does a timing that would walk more
    than ``SLOTS_PER_DOSE`` slots per dose allowed from its start to the window (a count from decades
    ago). An interval timing jumps to the window arithmetically, whatever its start."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end < start:
        raise ScheduleError(f"dose window ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if timing.as_needed:
        return []
    origin = _bound_start(timing.bounds_start, tz) or start
    stop = _bound_end(timing, origin, tz)
    low, high = max(start, origin), min(end, stop) if stop else end
    taken = 0
    if timing.events:
        candidates: Iterator[datetime] = iter(sorted({e.astimezone(UTC) for e in timing.events}))
    elif timing.every is not None:
        candidates, taken = _interval_slots(timing, timing.every, origin, low, tz)
    else:  # without a count, start near the window rather than walking every day since the origin
        candidates = _wall_clock_slots(timing, origin, low if timing.count is None else origin, tz)
    result: list[datetime] = []
    walked = 0
    for instant in candidates:
        if instant >= high or (timing.count is not None and taken >= timing.count):
            break
        walked += 1
        if limit is not None and walked > limit * SLOTS_PER_DOSE:
            raise LimitExceeded(f"walks more than {limit * SLOTS_PER_DOSE} dose slots from its start")
        if instant < origin or (result and instant == result[-1]):
            continue
        taken += 1
        if instant >= low:
            if limit is not None and len(result) >= limit:
                raise LimitExceeded(f"plans more than {limit} doses")
            result.append(instant)
    return result


def _interval_slots(
    timing: DoseTiming, every: timedelta, origin: datetime, low: datetime, tz: ZoneInfo
) -> tuple[Iterator[datetime], int]:
    """The slots from the first at or after ``low``, and how many slots from the origin come before it."""
    if isinstance(timing.bounds_start, datetime) and timing.first_dose_at is None:
        anchor = origin
    else:
        anchor = local_instant(origin.astimezone(tz).date(), timing.first_dose_at or time(0), tz)
    first = max(0, math.ceil((origin - anchor) / every))
    at_low = max(first, math.ceil((low - anchor) / every))

    def slots() -> Iterator[datetime]:
        step = at_low
        while True:
            yield anchor + step * every
            step += 1

    return slots(), at_low - first


def _wall_clock_slots(
    timing: DoseTiming, origin: datetime, since: datetime, tz: ZoneInfo
) -> Iterator[datetime]:
    """Wall-clock slots in order, from the local day before ``since`` (never before the origin's day)."""
    first_day = origin.astimezone(tz).date()
    first_week = first_day - timedelta(days=first_day.weekday())
    day = max(first_day, since.astimezone(tz).date() - timedelta(days=1))
    while True:
        if timing.days_of_week:
            weeks = (day - first_week).days // 7
            wanted = day.weekday() in timing.days_of_week and weeks % (timing.every_days // 7) == 0
        else:
            wanted = (day - first_day).days % timing.every_days == 0
        if wanted:
            for at in timing.times_of_day:
                yield local_instant(day, at, tz)
        day += timedelta(days=1)


def _bound_start(bound: Bound | None, tz: ZoneInfo) -> datetime | None:
    if bound is None:
        return None
    if isinstance(bound, datetime):
        return bound.astimezone(UTC)
    return local_instant(bound, time(0), tz)


def _bound_end(timing: DoseTiming, origin: datetime, tz: ZoneInfo) -> datetime | None:
    """The exclusive end instant of the timing's bounds, if any."""
    bound = timing.bounds_end
    if isinstance(bound, datetime):
        return bound.astimezone(UTC) + timedelta(microseconds=1)  # FHIR period ends are inclusive
    if isinstance(bound, date):
        return local_instant(bound + timedelta(days=1), time(0), tz)
    if timing.bounds_duration is not None:
        return origin + timing.bounds_duration
    return None


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(f"{name} must be an aware date-time, not naive {value.isoformat()}")


# --- reading FHIR -------------------------------------------------------------------------------------
