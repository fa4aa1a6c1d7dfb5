"""Fixtures for the schedule tests: two zones with daylight saving and their 2026 change days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alertsvc.schedule.shifts import Ward


@dataclass(frozen=True)
class DstZone:
    """A zone with its autumn (clocks back) and spring (clocks forward) days in 2026.

    ``gap_time`` is a local time that does not exist on the spring day; ``gap_end`` is the local time the
    clocks jump to. ``ambiguous_time`` happens twice on the autumn day.
    """

    zone: ZoneInfo
    autumn: date
    spring: date
    gap_time: time
    gap_end: time
    ambiguous_time: time = time(1, 30)

    @property
    def name(self) -> str:
        return self.zone.key

    def ward(self) -> Ward:
        return Ward(id=f"ward-{self.name}", name="Ward 7", timezone=self.name)


NEW_YORK = DstZone(ZoneInfo("America/New_York"), date(2026, 11, 1), date(2026, 3, 8), time(2, 30), time(3))
LONDON = DstZone(ZoneInfo("Europe/London"), date(2026, 10, 25), date(2026, 3, 29), time(1, 30), time(2))
DST_ZONES = [pytest.param(NEW_YORK, id="new-york"), pytest.param(LONDON, id="london")]


@pytest.fixture(params=DST_ZONES)
def dst(request: pytest.FixtureRequest) -> DstZone:
    """Each daylight-saving zone in turn."""
    value = request.param
    assert isinstance(value, DstZone)
    return value


def local(zone: ZoneInfo, day: date, at: time, *, fold: int = 0) -> datetime:
    """The aware UTC instant of a (valid) local wall-clock time."""
    return datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC)


def local_day(zone: ZoneInfo, day: date, days: int = 1) -> tuple[datetime, datetime]:
    """``[local midnight of day, local midnight ``days`` later)`` as aware UTC instants."""
    return local(zone, day, time(0)), local(zone, day + timedelta(days=days), time(0))
