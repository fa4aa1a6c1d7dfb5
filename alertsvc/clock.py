"""Time at the edges: the one real clock, and UTC ISO 8601 text for storage and the wire.

Core code never calls ``utc_now``; it is handed ``now``. The service takes a ``Clock`` so tests drive
time forward without sleeping; a ``ShiftedClock`` lets a real ``alertsvc serve`` process live at another
time (setting ``clock_start``: drills and tests only), its timers firing by that clock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
FIRST_YEAR, LAST_YEAR = 2, 9998
"""Instants read from outside are kept a year clear of Python's limits (years 1 and 9999), so that
moving them by a lead time, a shift or a dosing period cannot overflow."""


def utc_now() -> datetime:
    """The real clock, aware and in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ShiftedClock:
    """The real clock moved by a fixed ``offset``: it runs at real speed from another instant.

    For drills and tests of a real process (a stop at 06:50 and a restart at 07:10, whenever the test
    runs); never for a ward. The timer runner subtracts the offset so timers fire by this clock.
    """

    offset: timedelta

    @classmethod
    def starting_at(cls, start: datetime) -> ShiftedClock:
        """A clock that reads ``start`` now (aware) and runs on from there."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("naive datetime: alertsvc only handles aware times")
        return cls(start - utc_now())

    def __call__(self) -> datetime:
        return utc_now() + self.offset


def offset_of(clock: Clock) -> timedelta:
    """How far ``clock`` runs ahead of the real one: a ShiftedClock's offset, else none (a test's fixed
    clock is driven by hand, not by timers)."""
    return clock.offset if isinstance(clock, ShiftedClock) else timedelta(0)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, to the second (aware datetimes only; four-digit years)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: alertsvc only handles aware times")
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


@functools.lru_cache(maxsize=2**16)
def parse_iso(text: str) -> datetime:
    """An aware UTC datetime from ISO 8601 text; text without an offset, or an instant outside years
    ``FIRST_YEAR`` to ``LAST_YEAR`` in UTC, is refused with ValueError. Remembered (2**16 texts): the
    timers read the same stored due times after every change, and wards share their round times."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        moment = datetime.min.replace(tzinfo=UTC)  # refused below
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"{text!r} is out of the range of dates (years {FIRST_YEAR} to {LAST_YEAR} in UTC)")
    return moment
