"""What an Idempotency-Key costs a write: acknowledgements posted without a key, with a new key each, and
sent again with a key already answered (a replay), against the real ``alertsvc serve`` on 127.0.0.1.

Run with ``python -m bench bench.write_bench``. Each write is one ``BEGIN IMMEDIATE`` transaction with
``synchronous=FULL`` (an fsync), so the figures depend on the disk more than on the code.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import httpx

from alertsvc.access import issue_staff_token
from alertsvc.clock import utc_now
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice

WARD = "bench"
WRITES = 200


def run() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        return acknowledgements(Path(tmp))


def acknowledgements(folder: Path) -> list[str]:
    service = Identity.generate()
    service.save(folder / "s.key")
    now = utc_now()
    patient = Identity.generate()
    with Ledger.init(folder / "p.ledger", patient, now=now) as ledger:
        grant = grants.new_grant(
            patient, grantee=service.public_id, scope=("medications", "reactions"),
            not_before=now - timedelta(minutes=5), hours=24, now=now,
        )  # fmt: skip
        entries = [
            actions.medication(patient, "warfarin", now=now),
            actions.flagged_reaction(patient, "warfarin", reaction="bleeding", now=now),
        ]
        ledger.append([*entries, grant], patient=patient, now=now)
        slice_doc = loads(make_slice(ledger.read(), grant.id, now=now), what="slice")
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "ALERTSVC_DB_PATH": str(folder / "s.db"),
        "ALERTSVC_SERVICE_KEY": str(folder / "s.key"),
        "ALERTSVC_PORT": str(port),
        "ALERTSVC_WARDS": f"{WARD}=Europe/London",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "alertsvc", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url)
        token = {
            role: issue_staff_token(service, ward=WARD, name="b", role=role, now=now, hours=1)
            for role in ("nurse", "admission")
        }
        with httpx.Client(base_url=url, timeout=30) as client:
            admitted = client.post(
                "/admissions",
                json={"slice": slice_doc, "ward": WARD, "bed": "1"},
                headers={"Authorization": f"Bearer {token['admission']}"},
            )
            admitted.raise_for_status()
            nurse = {"Authorization": f"Bearer {token['nurse']}"}
            [alert] = [
                a["id"]
                for a in client.get(f"/wards/{WARD}/alerts", headers=nurse).json()["alerts"]
                if a["alert"]["severity"] == "critical"
            ]
            body = {"reason": {"code": "prescriber-informed"}, "comment": "bench"}
            path = f"/alerts/{alert}/acknowledgements"

            def timed(keys: list[str | None]) -> list[float]:
                times = []
                for key in keys:
                    headers = nurse | ({"Idempotency-Key": key} if key else {})
                    start = time.perf_counter()
                    response = client.post(path, json=body, headers=headers)
                    times.append(time.perf_counter() - start)
                    if response.status_code != 201:
                        raise RuntimeError(response.text)
                return times

            timed([None] * 50)  # warm up (connection, caches, the WAL's first pages)
            plain, keyed, replays = [], [], []
            for i in range(WRITES):  # interleaved, so drift in the machine's load hits all three alike
                plain += timed([None])
                keyed += timed([f"k{i}"])
                replays += timed([f"k{i}"])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    return [
        f"acknowledgement, {name}: median {statistics.median(t) * 1000:.2f} ms, "
        f"p95 {statistics.quantiles(t, n=20)[-1] * 1000:.2f} ms over {WRITES}"
        for name, t in (("no key", plain), ("new Idempotency-Key", keyed), ("replayed key", replays))
    ]


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("alertsvc serve did not start")


if __name__ == "__main__":
    print("\n".join(run()))
