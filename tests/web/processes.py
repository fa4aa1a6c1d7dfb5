"""The real ``alertsvc serve`` in a process of its own (to kill with SIGKILL), and the patient's and the
hospital's command lines, for crash and durability tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.postgres import database_url_for
from tests.web.conftest import REPO


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Site:
    """A directory holding one hospital service's database and key, and the environment to run it."""

    directory: Path
    env: dict[str, str]
    url: str

    @classmethod
    def make(cls, directory: Path, *, wards: str, key: Path | None = None) -> Site:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "ALERTSVC_DB_PATH": str(directory / "service.db"),
            "ALERTSVC_SERVICE_KEY": str(key or directory / "service.key"),
            "ALERTSVC_PORT": str(port),
            "ALERTSVC_WARDS": wards,
        }
        database_url = database_url_for(directory / "service.db")  # ALERTSVC_TEST_ENGINE=postgres
        if database_url:
            env["ALERTSVC_DATABASE_URL"] = database_url
        return cls(directory, env, f"http://127.0.0.1:{port}")

    @property
    def db_path(self) -> Path:
        return Path(self.env["ALERTSVC_DB_PATH"])

    def cli(self, *args: str) -> str:
        """``alertsvc ARGS`` in this site's directory and environment; its stdout."""
        return cli(self.env, self.directory, *args)

    @contextmanager
    def serving(self, **extra_env: str) -> Iterator[subprocess.Popen[bytes]]:
        """``alertsvc serve`` until the block ends (SIGTERM), or until the test kills it."""
        process = subprocess.Popen(
            [sys.executable, "-m", "alertsvc", "serve"],
            env=self.env | extra_env,
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until_up(self.url, process)
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
            if process.stderr:
                process.stderr.close()


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "alertsvc", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"alertsvc {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "the service exited")
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)


def killed(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, as a power cut would; wait until it is gone."""
    process.send_signal(signal.SIGKILL)
    assert process.wait(20) == -signal.SIGKILL


def patient_slice(
    site: Site, name: str, service_id: str, *medications: str, flag: tuple[str, str] | None = None
) -> dict[str, Any]:
    """A patient made with the real command line in ``site.directory/name``: a ledger with
    ``medications`` (and a flagged reaction), a 24-hour grant to ``service_id``, and its slice."""
    home = site.directory / name
    home.mkdir()
    run = lambda *args: cli(site.env, home, *args)  # noqa: E731
    run("keys", "new", "patient.key")
    run("ledger", "init", "p.ledger", "--key", "patient.key")
    for drug in medications:
        run("ledger", "add-medication", "p.ledger", "--key", "patient.key", drug)
    if flag is not None:
        run("ledger", "flag-reaction", "p.ledger", "--key", "patient.key", flag[0], "--reaction", flag[1])
    run("ledger", "grant", "p.ledger", "--key", "patient.key", "--to", service_id, "--scope",
        "medications,allergies,reactions", "--hours", "24", "--out", "grant.json")  # fmt: skip
    run("ledger", "slice", "p.ledger", "--grant", "grant.json", "--out", "slice.json")
    slice_doc: dict[str, Any] = json.loads((home / "slice.json").read_text())
    return slice_doc
