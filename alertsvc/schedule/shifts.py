"""Wards and their shifts, in the ward's own time zone, daylight saving included.

A shift starts at a local wall-clock time and ends when the next shift starts, so shift lengths follow the
clocks: the night shift 23:00-07:00 lasts 9 hours on the night the clocks go back and 7 hours on the night
they go forward. Shift starts are resolved like wall-clock doses (see ``timing.local_instant``): an
ambiguous start is its first occurrence, a start in the spring-forward gap moves to the end of the gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alertsvc.errors import ScheduleError
from alertsvc.schedule.timing import local_instant

DEFAULT_SHIFTS: tuple[tuple[str, time], ...] = (("day", time(7)), ("evening", time(15)), ("night", time(23)))


@dataclass(frozen=True)
class ShiftPattern:
    """The shifts of a ward's day: (name, local start time), names unique, times strictly increasing.

    The last shift of the day runs until the first one starts the next day.
    """

    starts: tuple[tuple[str, time], ...] = DEFAULT_SHIFTS

    def __post_init__(self) -> None:
        if not self.starts:
            raise ScheduleError("a shift pattern needs at least one shift")
        names = [name for name, _ in self.starts]
        if len(set(names)) != len(names) or not all(names):
            raise ScheduleError(f"shift names must be unique and non-empty: {names}")
        times = [at for _, at in self.starts]
        if any(at.tzinfo is not None for at in times):
            raise ScheduleError("shift start times are ward-local wall-clock times, without a zone")
        if any(later <= earlier for earlier, later in pairwise(times)):
            raise ScheduleError(
                "shift start times must be strictly increasing within a day: "
                + ", ".join(f"{name} {at.isoformat('minutes')}" for name, at in self.starts)
            )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.starts)


@dataclass(frozen=True)
class Ward:
    """A ward: an id, a display name, an IANA time zone, its shift pattern and the locale its alerts are
    written in (``en-US``: RxNorm's drug names; ``en-GB``: British names, e.g. paracetamol)."""

    id: str
    name: str
    timezone: str
    shifts: ShiftPattern = ShiftPattern()
    locale: str = "en-US"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ScheduleError(f"ward {self.id!r}: unknown time zone {self.timezone!r}") from exc

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Shift:
    """One occurrence of a ward's shift: ``start`` inclusive, ``end`` exclusive, both aware UTC."""

    ward: str
    name: str
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def label(self, tz: ZoneInfo | str) -> str:
        """Like "night 23:00–07:00 (Europe/London)", in local time of ``tz``."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        start, end = self.start.astimezone(zone), self.end.astimezone(zone)
        return f"{self.name} {start:%H:%M}–{end:%H:%M} ({zone.key})"


def shift_at(ward: Ward, now: datetime) -> Shift:
    """The shift of ``ward`` that ``now`` falls in (a shift's start belongs to it, its end to the next)."""
    now = _utc(now, "now")
    today = now.astimezone(ward.zone).date()
    for shift in _shifts_between(ward, today - timedelta(days=1), today + timedelta(days=1)):
        if shift.start <= now < shift.end:
            return shift
    raise AssertionError(f"no shift of ward {ward.id!r} covers {now.isoformat()}")  # pragma: no cover


def shift_occurrence(ward: Ward, name: str, now: datetime) -> Shift:
    """The shift called ``name`` that is current at ``now``, else the next one of that name to start."""
    if name not in ward.shifts.names:
        raise ScheduleError(
            f"ward {ward.id!r} has no shift {name!r} (shifts: {', '.join(ward.shifts.names)})"
        )
    now = _utc(now, "now")
    today = now.astimezone(ward.zone).date()
    for shift in _shifts_between(ward, today - timedelta(days=1), today + timedelta(days=3)):
        if shift.name == name and shift.end > now:
            return shift
    raise AssertionError(f"shift {name!r} of ward {ward.id!r} never starts")  # pragma: no cover


def shift_starts(ward: Ward, start: datetime, end: datetime) -> list[Shift]:
    """Every shift of ``ward`` starting in ``[start, end)``, in order: the shift-change timers."""
    start, end = _utc(start, "start"), _utc(end, "end")
    if end <= start:
        return []
    zone = ward.zone
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    return [s for s in _shifts_between(ward, first - timedelta(days=1), last) if start <= s.start < end]


def _shifts_between(ward: Ward, first_day: date, last_day: date) -> list[Shift]:
    """The shifts starting on local days ``first_day``..``last_day``, in order. A shift whose start
    collapses onto the next one's (both inside one spring-forward gap) is dropped: it lasts no time."""
    zone = ward.zone
    starts: list[tuple[str, datetime]] = []
    day = first_day
    while day <= last_day + timedelta(days=1):
        starts.extend((name, local_instant(day, at, zone)) for name, at in ward.shifts.starts)
        day += timedelta(days=1)
    return [
        Shift(ward=ward.id, name=name, start=begin, end=finish)
        for (name, begin), (_, finish) in pairwise(starts)
        if finish > begin
    ]


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(f"{name} must be an aware date-time, not naive {value.isoformat()}")
    return value.astimezone(UTC)
