"""Time at the edges: the one real clock, and UTC ISO 8601 text for storage and the wire.

Core code never calls ``utc_now``; it is handed ``now``. The service takes a ``Clock`` so tests drive
time forward without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
FIRST_YEAR, LAST_YEAR = 2, 9998
"""Instants read from outside are kept a year clear of Python's limits (years 1 and 9999), so that
moving them by a lead time, a shift or a dosing period cannot overflow."""


def utc_now() -> datetime:
    """The real clock, aware and in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, to the second (aware datetimes only; four-digit years)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: alertsvc only handles aware times")
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def parse_iso(text: str) -> datetime:
    """An aware UTC datetime from ISO 8601 text; text without an offset, or an instant outside years
    ``FIRST_YEAR`` to ``LAST_YEAR`` in UTC, is refused with ValueError."""
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
