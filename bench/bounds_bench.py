"""Bounded requests: how long ``/healthz`` waits while the largest admission the limits allow is worked
on, and what bodies over the limit cost the server.

Run with ``python -m bench bench.bounds_bench``. Each figure comes from the real ``alertsvc serve`` in its
own process on 127.0.0.1 (its memory read from ``/proc/<pid>/status``). The largest admission: 2,000
entries (100 active medications that interact, 850 started and stopped, 99 allergies and 100 flagged
reactions that do not resolve), posted while another client asks ``/healthz`` in a loop. The raw HTTP
client and the slice builder are the tests' own (``tests.web.bounds``).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from alertsvc.access import issue_staff_token
from alertsvc.clock import utc_now
from alertsvc.config import Settings
from alertsvc.knowledge.graph import build_graph
from alertsvc.knowledge.kb import load
from alertsvc.ledger.identity import Identity
from tests.web.bounds import (
    alertsvc_serve,
    free_port,
    memory_kib,
    patient_slice,
    raw_post,
    reset_peak,
    serve_env,
)

WARD = "bench"
MIB = 1024 * 1024


def run() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        identity = Identity.generate()
        identity.save(folder / "service.key")
        env = serve_env(folder, free_port(), wards=f"{WARD}=Europe/London")
        with alertsvc_serve(env, folder) as (process, url):
            now = utc_now()
            tokens = {
                role: issue_staff_token(identity, ward=WARD, name="b", role=role, now=now, hours=1)
                for role in ("admission", "nurse")
            }
            lines = healthz_during_largest_admission(url, folder, identity, tokens["admission"])
            lines += oversized_bodies(process.pid, url, tokens["admission"])
    return lines


def _interacting_drugs(count: int) -> list[str]:
    graph = build_graph(load(Settings().data_dir))
    names = sorted(i.name for i in graph.ingredients.values() if graph.partners_above.get(i.rxcui))
    return names[:count]


def healthz_during_largest_admission(
    url: str, folder: Path, identity: Identity, token: str, *, rounds: int = 3
) -> list[str]:
    """``rounds`` largest admissions (each a new patient), one after another, with ``/healthz`` asked in
    a loop meanwhile: how long each answer waited, over all of them, and the longest in each round."""
    known = _interacting_drugs(100)
    waits: list[float] = []
    longest: list[float] = []
    took: list[float] = []
    alerts = 0
    for round_ in range(rounds):
        body = {
            "slice": patient_slice(
                folder,
                identity.public_id,
                utc_now(),
                medications=known,
                stopped=[known[i % 100] for i in range(850)],
                allergies=[f"allergen {i}" for i in range(99)],
                reactions=[f"reactant {i}" for i in range(100)],
            ),
            "ward": WARD,
            "bed": str(round_ + 1),
        }
        result: dict[str, Any] = {}

        def admit(body: dict[str, Any] = body, result: dict[str, Any] = result) -> None:
            started = time.perf_counter()
            response = httpx.post(
                url + "/admissions", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=300
            )
            result.update(
                seconds=time.perf_counter() - started, status=response.status_code, json=response.json()
            )

        these: list[float] = []
        with httpx.Client(base_url=url, timeout=60) as client:
            client.get("/healthz")
            admitting = threading.Thread(target=admit)
            admitting.start()
            while admitting.is_alive():
                started = time.perf_counter()
                client.get("/healthz")
                these.append(time.perf_counter() - started)
            admitting.join()
        if result["status"] != 201:
            raise RuntimeError(f"the largest admission was refused: {result['json']}")
        waits += these
        longest.append(max(these))
        took.append(result["seconds"])
        alerts = result["json"]["alerts"]
    waits.sort()
    p99 = waits[max(0, int(len(waits) * 0.99) - 1)]
    return [
        f"largest admission (2,000 entries, 100 active medications) x {rounds}: "
        f"{', '.join(f'{t:.2f}' for t in took)} s, {alerts} alerts each",
        f"/healthz during them: {len(waits)} answers, median {statistics.median(waits) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, longest {waits[-1] * 1000:.0f} ms "
        f"(longest in each: {', '.join(f'{w * 1000:.0f}' for w in longest)} ms)",
    ]


def oversized_bodies(pid: int, url: str, token: str) -> list[str]:
    lines = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for declared in (True, False):
        reset_peak(pid)
        before = memory_kib(pid)["VmHWM"]
        answer = raw_post(url, "/admissions", headers, size=200 * MIB, declared=declared)
        grown = (memory_kib(pid)["VmHWM"] - before) / 1024
        how = "with its Content-Length" if declared else "chunked (length unknown)"
        lines.append(
            f"200 MB body {how}: {answer.status} after {answer.sent / MIB:.1f} MiB sent, in "
            f"{answer.seconds * 1000:.0f} ms; server peak RSS +{grown:.0f} MiB"
        )
    reset_peak(pid)
    before = memory_kib(pid)["VmHWM"]
    forged = issue_staff_token(Identity.generate(), ward=WARD, name="e", role="nurse", now=utc_now(), hours=1)
    answers: list[Any] = []
    bad = {"Authorization": f"Bearer {forged}", "Content-Type": "application/json"}
    threads = [
        threading.Thread(
            target=lambda: answers.append(
                raw_post(url, "/admissions/adm-0000000000000000/entries", bad, size=200 * MIB)
            )
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grown = (memory_kib(pid)["VmHWM"] - before) / 1024
    lines.append(
        f"three 200 MB ledger updates at once, forged tokens: {[a.status for a in answers]}, longest "
        f"{max(a.seconds for a in answers) * 1000:.0f} ms; server peak RSS +{grown:.0f} MiB"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
