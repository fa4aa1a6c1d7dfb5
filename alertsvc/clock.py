"""Time at the edges: the one real clock, and UTC ISO 8601 text for storage and the wire.

Core code never calls ``utc_now``; it is handed ``now``. The service takes a ``Clock`` so tests drive
time forward without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock, aware and in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, to the second (aware datetimes only)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: alertsvc only handles aware times")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """An aware UTC datetime from ISO 8601 text; text without an offset is refused."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset")
    return moment.astimezone(UTC)
