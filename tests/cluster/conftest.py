"""A real PostgreSQL (ALERTSVC_TEST_DATABASE_URL), a fresh schema per test, and worker processes."""

from __future__ import annotations

import asyncio
import os
import queue
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from alertsvc.store.fanout import create_events_table

REPO = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("ALERTSVC_TEST_DATABASE_URL", DEFAULT_URL)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"no PostgreSQL answers at ALERTSVC_TEST_DATABASE_URL ({exc.__class__.__name__})")
    return url


@pytest.fixture
def schema(database_url: str) -> Iterator[str]:
    """A schema of this test's own (``t_<random>``) with an ``events`` table; dropped afterwards."""
    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    asyncio.run(_create_events(database_url, name))
    try:
        yield name
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


async def _create_events(url: str, schema: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await create_events_table(conn, schema)


class Worker:
    """A ``tests.cluster.workers`` command in its own OS process, its output lines collected as they come."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self._errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.cluster.workers", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        self.lines: list[str] = []
        self._incoming: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._incoming.put(line.rstrip("\n"))

    def wait_for(self, done: Callable[[list[str]], bool], timeout: float) -> list[str]:
        """Collect lines until ``done(lines)`` holds; fail after ``timeout`` s or if the process ends."""
        deadline = time.monotonic() + timeout
        while not done(self.lines):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout} s; saw {self.lines[-10:]}{self._stderr()}")
            try:
                self.lines.append(self._incoming.get(timeout=min(left, 0.2)))
            except queue.Empty:
                if self.process.poll() is not None and self._incoming.empty():
                    raise AssertionError(f"worker exited {self.process.returncode}{self._stderr()}") from None
        return self.lines

    def collect(self, seconds: float) -> list[str]:
        """Collect whatever lines come in the next ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.lines.append(self._incoming.get(timeout=left))
            except queue.Empty:
                break
        return self.lines

    def _stderr(self) -> str:
        self._errors.seek(0)
        return "\n" + self._errors.read()[-2000:]

    def kill(self) -> None:
        """``kill -9``: no clean-up of any kind runs in the process."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._reader.join(5)

    def close(self) -> None:
        self.kill()
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._errors.close()

    def finish(self, timeout: float = 60) -> None:
        """Wait for a worker that ends by itself; fail if it failed."""
        code = self.process.wait(timeout)
        self._reader.join(5)
        while not self._incoming.empty():
            self.lines.append(self._incoming.get())
        assert code == 0, f"worker exited {code}{self._stderr()}"


@pytest.fixture
def workers() -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(*args: str) -> Worker:
        worker = Worker(*args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()
