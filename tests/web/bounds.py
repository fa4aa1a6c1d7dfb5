"""Helpers for the tests of bounded requests: raw HTTP that stops sending once the server answers, the
memory of a server process, a real ``alertsvc serve`` in its own process, and slices of any size made
with the ledger library (thousands of signed entries in a second, where the command line would take
minutes)."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from alertsvc.ledger import actions, fhir, grants
from alertsvc.ledger.entries import SignedEntry, sign_entry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from tests.postgres import reading

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Answer:
    """What came back from a raw request: the status (None if nothing came back in time), the JSON
    body, and how many body bytes had been sent when the answer arrived."""

    status: int | None
    body: dict[str, Any]
    sent: int
    seconds: float


def raw_post(
    base_url: str,
    path: str,
    headers: dict[str, str],
    *,
    size: int,
    declared: bool = True,
    send: int | None = None,
    timeout: float = 60,
) -> Answer:
    """POST ``size`` filler bytes to ``path``, stopping as soon as the server answers.

    With ``declared`` the size goes in Content-Length, otherwise the body is chunked (no length known
    in advance). Only the first ``send`` bytes (default: all) are sent; then the client waits for the
    answer, like a client on a slow link. The socket is watched for an answer before every chunk, so a
    server that refuses early is seen refusing early.
    """
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    limit = size if send is None else min(send, size)
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {size}" if declared else "Transfer-Encoding: chunked")
    filler = b"x" * 65536
    started = time.monotonic()
    received = b""
    sent = 0
    with closing(socket.create_connection((host, port), timeout=timeout)) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sock.setblocking(False)
        pending = b""
        finished = False
        while time.monotonic() - started < timeout:
            writing = [sock] if not finished else []
            readable, writable, _ = select.select([sock], writing, [], 0.5)
            if readable:
                try:
                    data = sock.recv(1 << 20)
                except (ConnectionResetError, BlockingIOError):
                    break
                if not data:
                    break
                received += data
                if _complete(received):
                    break
                continue
            if not writable:
                continue
            if not pending:
                piece = filler[: min(len(filler), limit - sent)]
                if piece:
                    pending = piece if declared else f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
                    sent += len(piece)
                elif not declared and sent >= size:
                    pending, finished = b"0\r\n\r\n", True
                else:
                    finished = True
                    continue
            try:
                pending = pending[sock.send(pending) :]
            except (BrokenPipeError, ConnectionResetError):
                finished = True
    return Answer(*_parse(received), sent=sent, seconds=time.monotonic() - started)


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _parse(data: bytes) -> tuple[int | None, dict[str, Any]]:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None, {}
    status = int(head.split(b" ", 2)[1])
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {"raw": body[:200].decode(errors="replace")}
    return status, parsed if isinstance(parsed, dict) else {"value": parsed}


def rows(db_path: Path, table: str) -> int:
    """How many rows ``table`` of the service database holds (through a read-only connection)."""
    with reading(db_path) as connection:
        count: int = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return count


def memory_kib(pid: int) -> dict[str, int]:
    """The process's resident memory now (VmRSS) and at its peak so far (VmHWM), in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def reset_peak(pid: int) -> None:
    """Start the process's peak resident size (VmHWM) afresh from its current size (Linux)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_env(directory: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of an ``alertsvc serve`` keeping its database and key in ``directory``."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "ALERTSVC_DB_PATH": str(directory / "service.db"),
        "ALERTSVC_SERVICE_KEY": str(directory / "service.key"),
        "ALERTSVC_PORT": str(port),
        **{"ALERTSVC_" + name.upper(): value for name, value in settings.items()},
    }


@contextmanager
def alertsvc_serve(env: dict[str, str], cwd: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real ``alertsvc serve`` in its own process, up (``/healthz`` answers); stopped after the block."""
    url = f"http://127.0.0.1:{env['ALERTSVC_PORT']}"
    process = subprocess.Popen(
        [sys.executable, "-m", "alertsvc", "serve"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"alertsvc serve exited with {process.returncode}: {stderr}")
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stderr:
            process.stderr.close()


def patient_slice(
    directory: Path,
    service_id: str,
    now: datetime,
    *,
    medications: Sequence[str] = (),
    stopped: Sequence[str] = (),
    allergies: Sequence[str] = (),
    reactions: Sequence[str] = (),
    patient: Identity | None = None,
) -> dict[str, Any]:
    """A slice for ``service_id`` of a new ledger in ``directory``: ``medications`` taken, ``stopped``
    started then stopped, ``allergies`` and flagged ``reactions`` (rash), granted for 24 hours."""
    patient = patient or Identity.generate()
    entries: list[SignedEntry] = [
        actions.medication(patient, d, dose="1 tablet", now=now) for d in medications
    ]
    started = [actions.medication(patient, d, dose="1 tablet", now=now) for d in stopped]
    entries += started
    entries += [
        sign_entry(
            patient,
            kind="medication",
            patient=patient.public_id,
            body=fhir.stopped_statement(entry.body, now=now),
            created=now,
        )
        for entry in started
    ]
    entries += [actions.allergy(patient, a, now=now) for a in allergies]
    entries += [actions.flagged_reaction(patient, r, reaction="rash", now=now) for r in reactions]
    grant = grants.new_grant(
        patient,
        grantee=service_id,
        scope=("medications", "allergies", "reactions"),
        not_before=now - timedelta(minutes=5),
        hours=24,
        now=now,
    )
    with Ledger.init(directory / f"{patient.public_id[8:20]}.ledger", patient, now=now) as ledger:
        ledger.append([*entries, grant], patient=patient, now=now)
        snapshot = ledger.read()
    value: dict[str, Any] = json.loads(make_slice(snapshot, grant.id, now=now))
    return value
