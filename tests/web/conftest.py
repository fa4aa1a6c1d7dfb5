"""A real alertsvc on 127.0.0.1 (uvicorn in a thread) with an injected clock, and helpers to drive it:
the patient's CLI, staff tokens, the event stream and JWS checks with an independent Ed25519."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from alertsvc.access import Role, issue_staff_token
from alertsvc.config import Settings
from alertsvc.service import Service
from alertsvc.web.app import create_app
from tests.postgres import database_url_for
from tests.servers import uvicorn_thread

REPO = Path(__file__).resolve().parents[2]


@dataclass
class FakeClock:
    """The service's clock: tests set the time; nothing sleeps."""

    now: datetime = field(default_factory=lambda: datetime(2030, 1, 15, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RunningService:
    url: str
    service: Service
    clock: FakeClock
    loop: asyncio.AbstractEventLoop
    settings: Settings

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's event loop (e.g. ``service.tick()`` after moving the clock)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def token(self, ward: str, name: str, role: Role = "nurse", hours: float = 24) -> str:
        return issue_staff_token(
            self.service.identity, ward=ward, name=name, role=role, now=self.clock.now, hours=hours
        )

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


def serve(settings: Settings, clock: FakeClock) -> Iterator[RunningService]:
    if (
        settings.database_url is None
    ):  # ALERTSVC_TEST_ENGINE=postgres: a schema of its own (tests/postgres.py)
        settings = dataclasses.replace(settings, database_url=database_url_for(settings.db_path))
    app = create_app(settings, clock=clock)
    with uvicorn_thread(app) as (url, loop):
        yield RunningService(url, app.state.service, clock, loop, settings)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    settings = Settings(
        db_path=tmp_path / "service.db",
        service_key=tmp_path / "service.key",
        ward_timezone="Europe/London",
    )
    yield from serve(settings, clock)


class PatientCLI:
    """The patient's side, through the real command line in a separate process."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = directory / "patient.key"
        self.ledger = directory / "patient.ledger"
        self.public_id = self("keys", "new", str(self.key)).strip().split()[-1]
        self("ledger", "init", str(self.ledger), "--key", str(self.key))

    def __call__(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "alertsvc", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=self.directory,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"alertsvc {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def ledger_cmd(self, command: str, *args: str) -> str:
        return self("ledger", command, str(self.ledger), "--key", str(self.key), *args)

    def read_json(self, name: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads((self.directory / name).read_text())
        return value


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    directory = tmp_path / "patient"
    directory.mkdir()
    return PatientCLI(directory)


def read_events(
    running: RunningService,
    ward: str,
    token: str,
    *,
    last_event_id: int = 0,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 10,
) -> list[dict[str, Any]]:
    """Read the ward's event stream until ``until(events)`` holds (or fail after ``timeout``)."""
    headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": str(last_event_id)}
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    with (
        httpx.Client(base_url=running.url, timeout=timeout) as client,
        client.stream("GET", f"/wards/{ward}/alerts/stream", headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        with closing(response.iter_lines()) as lines:
            for line in lines:
                if time.monotonic() > deadline:
                    break
                if not line:
                    if "data" in current:
                        events.append(current)
                        if until(events):
                            return events
                    current = {}
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    current["data"] = json.loads(value)
                elif name in ("event", "id"):
                    current[name] = value
    raise AssertionError(f"the stream did not deliver what was expected in {timeout} s: {events}")


def verify_with_cryptography(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Verify a compact JWS with the ``cryptography`` package's Ed25519 (not PyNaCl) and the JWKS."""

    def b64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64(header_b64))
    assert header["alg"] == "EdDSA"
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
    public = Ed25519PublicKey.from_public_bytes(b64(key["x"]))
    public.verify(b64(signature_b64), f"{header_b64}.{payload_b64}".encode())  # raises InvalidSignature
    claims: dict[str, Any] = json.loads(b64(payload_b64))
    return claims
