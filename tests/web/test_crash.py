"""Killing the service (SIGKILL) between writing an alert and pushing it loses nothing: after a restart the
alert is in the ward's list and in its stream. The real ``alertsvc serve`` runs in its own process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

import httpx

from tests.web.conftest import REPO

WARD = "ward-9"


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "alertsvc", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@contextmanager
def _service(env: dict[str, str], cwd: Path, url: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "alertsvc", "serve"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(20)
        if process.stderr:
            process.stderr.close()


def test_an_alert_committed_but_never_pushed_survives_a_kill(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "ALERTSVC_DB_PATH": str(tmp_path / "service.db"),
        "ALERTSVC_SERVICE_KEY": str(tmp_path / "service.key"),
        "ALERTSVC_PORT": str(port),
        "ALERTSVC_WARDS": f"{WARD}=Europe/London",
    }
    admission_token = _cli(
        env, tmp_path, "staff", "token", "--ward", WARD, "--name", "Ada", "--role", "admission"
    )
    nurse_token = _cli(env, tmp_path, "staff", "token", "--ward", WARD, "--name", "Nia")
    service_id = _cli(env, tmp_path, "keys", "show", str(tmp_path / "service.key"))
    _cli(env, tmp_path, "keys", "new", "patient.key")
    _cli(env, tmp_path, "ledger", "init", "p.ledger", "--key", "patient.key")
    _cli(env, tmp_path, "ledger", "add-medication", "p.ledger", "--key", "patient.key", "warfarin")
    _cli(
        env,
        tmp_path,
        "ledger",
        "flag-reaction",
        "p.ledger",
        "--key",
        "patient.key",
        "warfarin",
        "--reaction",
        "bleeding",
    )
    _cli(env, tmp_path, "ledger", "grant", "p.ledger", "--key", "patient.key", "--to", service_id, "--scope",
         "medications,allergies,reactions", "--hours", "24", "--out", "grant.json")  # fmt: skip
    _cli(env, tmp_path, "ledger", "slice", "p.ledger", "--grant", "grant.json", "--out", "slice.json")
    body = {"slice": json.loads((tmp_path / "slice.json").read_text()), "ward": WARD, "bed": "4"}

    crashing = {**env, "ALERTSVC_FAILPOINTS": "after-commit-before-publish"}
    with _service(crashing, tmp_path, url) as process:
        with suppress(httpx.TransportError):  # the process dies mid-request, as it should
            httpx.post(url + "/admissions", json=body, headers={"Authorization": f"Bearer {admission_token}"})
        assert process.wait(20) == -signal.SIGKILL

    with _service(env, tmp_path, url):
        headers = {"Authorization": f"Bearer {nurse_token}"}
        listed = httpx.get(f"{url}/wards/{WARD}/alerts", headers=headers, timeout=10).json()["alerts"]
        [critical] = [a for a in listed if a["alert"]["severity"] == "critical"]
        assert critical["alert"]["kind"] == "reaction"
        with (
            httpx.Client(timeout=10) as client,
            client.stream(
                "GET", f"{url}/wards/{WARD}/alerts/stream", headers=headers | {"Last-Event-ID": "0"}
            ) as stream,
            closing(stream.iter_lines()) as lines,
        ):
            streamed = []
            for line in lines:
                if line.startswith("data:"):
                    data = json.loads(line[5:])
                    if data.get("id") == critical["id"]:
                        streamed.append(data)
                        break
        assert streamed and streamed[0]["jws"] == critical["jws"]
