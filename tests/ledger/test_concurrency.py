"""Two processes appending to one ledger at once: each append waits its turn; nothing is lost or corrupted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alertsvc.ledger.log import Ledger
from tests.ledger.conftest import NOW, PATIENT, REPO

WRITER = """
import sys
from datetime import UTC, datetime
from pathlib import Path

from alertsvc.errors import AlertsvcError
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from tests.ledger.conftest import medication

patient = Identity.from_seed(b"p" * 32)
name, count = sys.argv[1], int(sys.argv[2])
with Ledger.open(Path(sys.argv[3])) as ledger:
    for i in range(count):
        entry = medication(f"{name}-{i}")
        try:
            ledger.append([entry], patient=patient, now=datetime.now(UTC))
        except AlertsvcError as exc:
            print("FAILED", entry.id, exc, flush=True)
        else:
            print("OK", entry.id, flush=True)
"""


def test_two_processes_appending_50_each_lose_nothing(ledger_path: Path) -> None:
    Ledger.init(ledger_path, PATIENT, now=NOW).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, "50", str(ledger_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("left", "right")
    ]
    outputs = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err for _, err in outputs]
    lines = [line.split(" ", 2) for out, _ in outputs for line in out.splitlines()]
    succeeded = {entry_id for status, entry_id, *_ in lines if status == "OK"}
    assert len(lines) == 100
    with Ledger.open(ledger_path) as ledger:
        snapshot = ledger.verify()
    stored = {e.id for e in snapshot.trees["medications"]}
    assert succeeded <= stored
    assert len(stored) == len(succeeded)  # a failed append wrote nothing
    assert len(snapshot.heads) == len(succeeded) + 1
    assert len(succeeded) == 100  # with a 30 s busy timeout, every append waits its turn
