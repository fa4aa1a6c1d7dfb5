"""The chaos tests use the real service of tests/web/conftest (uvicorn on 127.0.0.1, a FakeClock)."""

from tests.web.conftest import clock, patient, running  # noqa: F401 (fixtures)
