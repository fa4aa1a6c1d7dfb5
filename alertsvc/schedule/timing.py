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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from alertsvc.errors import ScheduleError

TimingKind = Literal["as-needed", "events", "interval", "wall-clock"]

GTS_SYSTEMS = frozenset(
    {
        "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation",  # R4
        "http://hl7.org/fhir/v3/GTSAbbreviation",  # STU3
    }
)

STANDARD_TIMES: dict[int, tuple[time, ...]] = {
    1: (time(8),),
    2: (time(8), time(20)),
    3: (time(8), time(14), time(22)),
    4: (time(8), time(12), time(16), time(20)),
}
"""Ward administration times for n doses a day when the order names no times (QD, BID, TID, QID)."""

WHEN_TIMES: dict[str, time] = {
    "WAKE": time(7),
    "MORN": time(8),
    "MORN.early": time(6),
    "MORN.late": time(10),
    "NOON": time(12),
    "AFT": time(14),
    "AFT.early": time(13),
    "AFT.late": time(16),
    "EVE": time(18),
    "EVE.early": time(17),
    "EVE.late": time(20),
    "NIGHT": time(22),
    "HS": time(22),
    "PHS": time(22),
    "CM": time(8),
    "ACM": time(8),
    "PCM": time(8),
    "CD": time(12),
    "ACD": time(12),
    "PCD": time(12),
    "CV": time(18),
    "ACV": time(18),
    "PCV": time(18),
}
"""Ward times for FHIR event-timing codes (Timing.repeat.when); meals at 08:00, 12:00 and 18:00."""

MEAL_CODES: dict[str, tuple[str, ...]] = {
    "C": ("CM", "CD", "CV"),
    "AC": ("ACM", "ACD", "ACV"),
    "PC": ("PCM", "PCD", "PCV"),
}

# Timing.code (GTS abbreviation) -> (times of day, every n days) or an interval in hours.
CODE_WALL_CLOCK: dict[str, tuple[tuple[time, ...], int]] = {
    "QD": (STANDARD_TIMES[1], 1),
    "AM": ((time(8),), 1),
    "PM": ((time(20),), 1),
    "BED": ((time(22),), 1),
    "BID": (STANDARD_TIMES[2], 1),
    "TID": (STANDARD_TIMES[3], 1),
    "QID": (STANDARD_TIMES[4], 1),
    "QOD": (STANDARD_TIMES[1], 2),
    "WK": (STANDARD_TIMES[1], 7),
}
CODE_INTERVAL_HOURS: dict[str, int] = {"Q1H": 1, "Q2H": 2, "Q3H": 3, "Q4H": 4, "Q6H": 6, "Q8H": 8}

UNIT_SECONDS: dict[str, int] = {"s": 1, "min": 60, "h": 3600, "d": 86400, "wk": 7 * 86400}
DURATION_UNITS: dict[str, str] = {
    "s": "s",
    "sec": "s",
    "second": "s",
    "seconds": "s",
    "min": "min",
    "minute": "min",
    "minutes": "min",
    "h": "h",
    "hour": "h",
    "hours": "h",
    "d": "d",
    "day": "d",
    "days": "d",
    "wk": "wk",
    "week": "wk",
    "weeks": "wk",
}
WEEKDAYS: dict[str, int] = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

Bound = date | datetime


@dataclass(frozen=True)
class DoseTiming:
    """When doses of one dosage instruction fall due; build it with :func:`timing_from_fhir`.

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
        if self.every is not None and self.every <= timedelta(0):
            raise ScheduleError(f"DoseTiming.every must be positive, not {self.every}")
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


def dose_times(timing: DoseTiming, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every instant a dose falls due in ``[start, end)`` (and within the timing's bounds), aware UTC,
    sorted, one per dose slot. Wall-clock slots that collapse onto one instant (two slots inside the same
    spring-forward gap) give one dose. See the module docstring for the daylight-saving rules."""
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
    if timing.events:
        candidates: Iterator[datetime] = iter(sorted({e.astimezone(UTC) for e in timing.events}))
    elif timing.every is not None:
        candidates = _interval_slots(timing, timing.every, origin, tz)
    else:  # without a count, start near the window rather than walking every day since the origin
        candidates = _wall_clock_slots(timing, origin, low if timing.count is None else origin, tz)
    result: list[datetime] = []
    taken = 0
    for instant in candidates:
        if instant >= high or (timing.count is not None and taken >= timing.count):
            break
        if instant < origin or (result and instant == result[-1]):
            continue
        taken += 1
        if instant >= low:
            result.append(instant)
    return result


def _interval_slots(
    timing: DoseTiming, every: timedelta, origin: datetime, tz: ZoneInfo
) -> Iterator[datetime]:
    if isinstance(timing.bounds_start, datetime) and timing.first_dose_at is None:
        anchor = origin
    else:
        anchor = local_instant(origin.astimezone(tz).date(), timing.first_dose_at or time(0), tz)
    step = max(0, math.ceil((origin - anchor) / every))
    while True:
        yield anchor + step * every
        step += 1


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


def timing_from_fhir(
    dosage_instruction: Mapping[str, Any],
    *,
    standard_times: Mapping[int, tuple[time, ...]] = STANDARD_TIMES,
) -> DoseTiming:
    """Read a FHIR R4 (or STU3) Dosage into a :class:`DoseTiming`.

    Understood: ``asNeeded[x]`` (not planned), ``timing.event``, ``timing.code`` (QD, AM, PM, BED, BID,
    TID, QID, QOD, WK, Q1H-Q8H), and ``timing.repeat`` with frequency/period/periodUnit (s, min, h, d, wk),
    timeOfDay, when (+ offset), dayOfWeek, count and boundsPeriod/boundsDuration. ``periodMax`` and
    ``frequencyMax`` are read as their minimum (period, frequency). Raises ScheduleError naming the field
    it cannot understand.
    """
    if not isinstance(dosage_instruction, Mapping):
        raise ScheduleError(f"dosage instruction must be an object, not {type(dosage_instruction).__name__}")
    text = _string(dosage_instruction.get("text", ""), "text")
    as_needed = (
        dosage_instruction.get("asNeededBoolean") is True
        or dosage_instruction.get("asNeeded") is True
        or "asNeededCodeableConcept" in dosage_instruction
        or "asNeededFor" in dosage_instruction
    )
    timing = dosage_instruction.get("timing")
    if timing is None:
        if as_needed:
            return DoseTiming(as_needed=True, text=text)
        raise ScheduleError("timing: missing on a dosage that is not as-needed")
    if not isinstance(timing, Mapping):
        raise ScheduleError("timing: must be an object")
    repeat = timing.get("repeat") or {}
    if not isinstance(repeat, Mapping):
        raise ScheduleError("timing.repeat: must be an object")
    bounds = _bounds(repeat)
    count = _positive_int(repeat, "count") if "count" in repeat else None
    common: dict[str, Any] = {**bounds, "count": count, "text": text}
    if as_needed:
        return DoseTiming(as_needed=True, **common)
    shape = _repeat_shape(repeat, standard_times)
    if shape is None and "code" in timing:
        shape = _code_shape(timing["code"])
    if shape is None and "event" in timing:
        shape = {"events": _events(timing["event"])}
    if shape is None:
        raise ScheduleError("timing: no repeat frequency, timeOfDay, when, code or event to schedule from")
    try:
        return DoseTiming(**shape, **common)
    except ScheduleError as exc:
        raise ScheduleError(f"timing: {exc}") from exc


def _repeat_shape(
    repeat: Mapping[str, Any], standard_times: Mapping[int, tuple[time, ...]]
) -> dict[str, Any] | None:
    times = _times_of_day(repeat)
    days = _days_of_week(repeat)
    has_period = "period" in repeat or "frequency" in repeat
    if not has_period and not times and not days:
        return None
    frequency = _positive_int(repeat, "frequency") if "frequency" in repeat else 1
    period = _positive_number(repeat, "period", "timing.repeat.period") if "period" in repeat else 1.0
    unit = repeat.get("periodUnit", "d")
    if unit not in UNIT_SECONDS:
        raise ScheduleError(
            f"timing.repeat.periodUnit: {unit!r} cannot be planned on a ward MAR"
            " (use s, min, h, d or wk, or explicit timing.event instants)"
        )
    seconds = period * UNIT_SECONDS[unit]
    if unit in ("s", "min", "h"):
        every = timedelta(seconds=seconds / frequency)
        per_day = timedelta(days=1) / every
        if len(times) == 1 or not times:
            return {"every": every, "first_dose_at": times[0] if times else None}
        if not math.isclose(per_day, len(times)):
            raise ScheduleError(
                f"timing.repeat.timeOfDay: {len(times)} times do not match a dose every {every}"
            )
        return {"times_of_day": times}
    whole_days = seconds / 86400
    if not whole_days.is_integer():
        return {"every": timedelta(seconds=seconds / frequency)}
    every_days = int(whole_days)
    slots_per_period = len(days) * (len(times) or 1) if days else len(times)
    if "frequency" in repeat and frequency != 1 and slots_per_period and frequency != slots_per_period:
        raise ScheduleError(
            f"timing.repeat.frequency: {frequency} per period does not match"
            f" {slots_per_period} listed times or days"
        )
    if days:
        if every_days % 7:
            raise ScheduleError("timing.repeat.dayOfWeek: needs a period of whole weeks (or 1 d)")
        return {"times_of_day": times or standard_times[1], "days_of_week": days, "every_days": every_days}
    if times:
        return {"times_of_day": times, "every_days": every_days}
    if every_days == 1:
        return {"times_of_day": _standard(frequency, standard_times)}
    if frequency == 1:
        return {"times_of_day": standard_times[1], "every_days": every_days}
    raise ScheduleError(
        f"timing.repeat: {frequency} doses every {every_days} days needs timeOfDay or dayOfWeek to plan"
    )


def _standard(per_day: int, standard_times: Mapping[int, tuple[time, ...]]) -> tuple[time, ...]:
    """Ward times for ``per_day`` doses a day: the standard table, else evenly spaced from midnight."""
    if per_day in standard_times:
        return tuple(standard_times[per_day])
    if 1440 % per_day:
        raise ScheduleError(f"timing.repeat.frequency: {per_day} a day cannot be spaced in whole minutes")
    step = 1440 // per_day
    return tuple(time(m // 60, m % 60) for m in range(0, 1440, step))


def _code_shape(code: Any) -> dict[str, Any]:
    if not isinstance(code, Mapping):
        raise ScheduleError("timing.code: must be a CodeableConcept")
    codings = code.get("coding") or []
    candidates = [c.get("code") for c in codings if isinstance(c, Mapping) and c.get("system") in GTS_SYSTEMS]
    candidates += [c.get("code") for c in codings if isinstance(c, Mapping)]
    candidates.append(code.get("text"))
    for value in candidates:
        key = str(value).strip().upper() if value else ""
        if key in CODE_WALL_CLOCK:
            times, every_days = CODE_WALL_CLOCK[key]
            return {"times_of_day": times, "every_days": every_days}
        if key in CODE_INTERVAL_HOURS:
            return {"every": timedelta(hours=CODE_INTERVAL_HOURS[key])}
    raise ScheduleError(f"timing.code: {candidates[0] if candidates else None!r} is not a code we can plan")


def _times_of_day(repeat: Mapping[str, Any]) -> tuple[time, ...]:
    times: set[time] = set()
    raw = repeat.get("timeOfDay", [])
    for i, value in enumerate(raw if isinstance(raw, list) else [raw]):
        try:
            parsed = time.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise ScheduleError(f"timing.repeat.timeOfDay[{i}]: {value!r} is not a time") from exc
        if parsed.tzinfo is not None:
            raise ScheduleError(f"timing.repeat.timeOfDay[{i}]: {value!r} must not carry a zone")
        times.add(parsed)
    when = repeat.get("when", [])
    codes = [when] if isinstance(when, str) else when
    if codes and times:
        raise ScheduleError("timing.repeat.when: cannot be combined with timeOfDay")
    offset = (
        timedelta(minutes=_positive_int(repeat, "offset", allow_zero=True)) if "offset" in repeat else None
    )
    for code in codes:
        for each in MEAL_CODES.get(code, (code,)):
            if each not in WHEN_TIMES:
                raise ScheduleError(f"timing.repeat.when: {code!r} is not an event we can plan")
            at = datetime.combine(date(2000, 1, 2), WHEN_TIMES[each])
            if offset is not None:
                at = at - offset if each.startswith("AC") else at + offset
            times.add(at.time())
    return tuple(sorted(times))


def _days_of_week(repeat: Mapping[str, Any]) -> frozenset[int]:
    raw = repeat.get("dayOfWeek", [])
    days = set()
    for value in raw if isinstance(raw, list) else [raw]:
        if value not in WEEKDAYS:
            raise ScheduleError(f"timing.repeat.dayOfWeek: {value!r} is not mon..sun")
        days.add(WEEKDAYS[value])
    return frozenset(days)


def _events(raw: Any) -> tuple[datetime, ...]:
    values: Sequence[Any] = raw if isinstance(raw, list) else [raw]
    events = []
    for i, value in enumerate(values):
        parsed = _date_or_datetime(value, f"timing.event[{i}]")
        if not isinstance(parsed, datetime):
            raise ScheduleError(f"timing.event[{i}]: {value!r} needs a time and a zone offset")
        events.append(parsed)
    return tuple(events)


def _bounds(repeat: Mapping[str, Any]) -> dict[str, Any]:
    if "boundsRange" in repeat:
        raise ScheduleError(
            "timing.repeat.boundsRange: cannot be planned; use boundsPeriod or boundsDuration"
        )
    result: dict[str, Any] = {}
    period = repeat.get("boundsPeriod")
    if period is not None:
        if not isinstance(period, Mapping):
            raise ScheduleError("timing.repeat.boundsPeriod: must be a Period")
        if "start" in period:
            result["bounds_start"] = _date_or_datetime(period["start"], "timing.repeat.boundsPeriod.start")
        if "end" in period:
            result["bounds_end"] = _date_or_datetime(period["end"], "timing.repeat.boundsPeriod.end")
    duration = repeat.get("boundsDuration")
    if duration is not None:
        field_name = "timing.repeat.boundsDuration"
        if not isinstance(duration, Mapping):
            raise ScheduleError(f"{field_name}: must be a Duration")
        unit = DURATION_UNITS.get(str(duration.get("code") or duration.get("unit") or ""))
        if unit is None:
            raise ScheduleError(f"{field_name}: unit {duration.get('unit')!r} is not s, min, h, d or wk")
        result["bounds_duration"] = timedelta(
            seconds=_positive_number(duration, "value", f"{field_name}.value") * UNIT_SECONDS[unit]
        )
    return result


def _date_or_datetime(value: Any, field_name: str) -> Bound:
    if not isinstance(value, str):
        raise ScheduleError(f"{field_name}: {value!r} is not a FHIR date or dateTime")
    try:
        if "T" not in value:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ScheduleError(f"{field_name}: {value!r} is not a full FHIR date or dateTime") from exc
    if parsed.tzinfo is None:
        raise ScheduleError(f"{field_name}: {value!r} has a time but no zone offset")
    return parsed


def _positive_int(mapping: Mapping[str, Any], key: str, *, allow_zero: bool = False) -> int:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        raise ScheduleError(f"timing.repeat.{key}: {value!r} is not a positive whole number")
    return value


def _positive_number(mapping: Mapping[str, Any], key: str, field_name: str) -> float:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ScheduleError(f"{field_name}: {value!r} is not a positive number")
    return float(value)


def _string(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        raise ScheduleError(f"{field_name}: must be a string")
    return value
