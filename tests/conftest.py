"""Shared fixtures: settings on a temporary directory, a daylight-saving time zone."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alertsvc.config import Settings

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "alertsvc.db", service_key=tmp_path / "service.key")


@pytest.fixture
def dst_zone() -> ZoneInfo:
    """A zone with daylight saving (autumn change 2026-11-01, spring change 2026-03-08)."""
    return ZoneInfo("America/New_York")
