"""Shared fixtures: settings on a temporary directory, a daylight-saving time zone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alertsvc.config import Settings
from tests.postgres import database_url_for, drop_all

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    db_path = tmp_path / "alertsvc.db"
    return Settings(
        db_path=db_path, service_key=tmp_path / "service.key", database_url=database_url_for(db_path)
    )


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schemas() -> Iterator[None]:
    """Drop the PostgreSQL schemas the session made (``tests/postgres.py``), if it made any."""
    yield
    drop_all()


@pytest.fixture
def dst_zone() -> ZoneInfo:
    """A zone with daylight saving (autumn change 2026-11-01, spring change 2026-03-08)."""
    return ZoneInfo("America/New_York")
