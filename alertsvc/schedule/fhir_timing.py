"""Reading FHIR ``Dosage.timing`` (R4 and the STU3 shapes) into a :class:`DoseTiming`.

The code tables (GTS abbreviations such as BID or Q6H, ``when`` codes such as MORN or HS, period and
duration units) and the ward's standard administration times live here; the arithmetic of when doses
fall due is in :mod:`alertsvc.schedule.timing`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from alertsvc.clock import FIRST_YEAR, LAST_YEAR
from alertsvc.errors import ScheduleError
from alertsvc.schedule.timing import MIN_EVERY, Bound, DoseTiming

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

MAX_SPAN = timedelta(days=100 * 366)
"""The longest dosing period or bounds duration read: longer ones cannot matter on a ward, and far longer
ones overflow date arithmetic."""
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
    if not isinstance(unit, str) or unit not in UNIT_SECONDS:
        raise ScheduleError(
            f"timing.repeat.periodUnit: {unit!r} cannot be planned on a ward MAR"
            " (use s, min, h, d or wk, or explicit timing.event instants)"
        )
    seconds = period * UNIT_SECONDS[unit]
    if seconds > MAX_SPAN.total_seconds():
        raise ScheduleError(
            f"timing.repeat.period: {period:g} {unit} is longer than we can plan ({MAX_SPAN.days} days)"
        )
    every = timedelta(seconds=seconds / frequency)
    if every < MIN_EVERY:
        raise ScheduleError(
            f"timing.repeat: {frequency} doses every {period:g} {unit} is more often than once a minute"
        )
    if unit in ("s", "min", "h"):
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
        return {"every": every}
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
    codings = codings if isinstance(codings, list) else []
    candidates = [
        c.get("code") for c in codings if isinstance(c, Mapping) and _code_in(c.get("system"), GTS_SYSTEMS)
    ]
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
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise ScheduleError(f"timing.repeat.when: {when!r} is not a list of event codes")
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
        if not _code_in(value, WEEKDAYS):
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
        seconds = _positive_number(duration, "value", f"{field_name}.value") * UNIT_SECONDS[unit]
        if seconds > MAX_SPAN.total_seconds():
            raise ScheduleError(f"{field_name}: longer than we can plan ({MAX_SPAN.days} days)")
        result["bounds_duration"] = timedelta(seconds=seconds)
    return result


def _date_or_datetime(value: Any, field_name: str) -> Bound:
    if not isinstance(value, str):
        raise ScheduleError(f"{field_name}: {value!r} is not a FHIR date or dateTime")
    try:
        if "T" not in value:
            return _in_range(date.fromisoformat(value), value, field_name)
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ScheduleError(f"{field_name}: {value!r} is not a full FHIR date or dateTime") from exc
    if parsed.tzinfo is None:
        raise ScheduleError(f"{field_name}: {value!r} has a time but no zone offset")
    return _in_range(parsed, value, field_name)


def _in_range(bound: Bound, value: str, field_name: str) -> Bound:
    """``bound`` if it lies in years FIRST_YEAR to LAST_YEAR, where moving it by days cannot overflow."""
    try:
        year = bound.astimezone(UTC).year if isinstance(bound, datetime) else bound.year
    except OverflowError:
        year = 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ScheduleError(f"{field_name}: {value!r} is outside years {FIRST_YEAR} to {LAST_YEAR}")
    return bound


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


def _code_in(value: Any, codes: Collection[str]) -> bool:
    """Whether ``value`` is one of ``codes`` (a list or object where a code belongs is not)."""
    return isinstance(value, str) and value in codes


def _string(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        raise ScheduleError(f"{field_name}: must be a string")
    return value
