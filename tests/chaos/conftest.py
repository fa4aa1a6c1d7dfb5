"""The chaos tests use the real service of tests/web/conftest (uvicorn on 127.0.0.1, a FakeClock).

One staff token stands in for the many dashboards these tests open (each would hold a token of its own on
a ward), so the service here lets one token hold that many streams; the cap itself is tested in
tests/web/test_token_rules.py.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from alertsvc.config import Settings
from tests.web.conftest import FakeClock, RunningService, clock, patient, serve  # noqa: F401 (fixtures)

STREAMS_PER_TEST_TOKEN = 2_000


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:  # noqa: F811
    settings = Settings(
        db_path=tmp_path / "service.db",
        service_key=tmp_path / "service.key",
        ward_timezone="Europe/London",
        max_streams_per_token=STREAMS_PER_TEST_TOKEN,
    )
    yield from serve(settings, clock)
