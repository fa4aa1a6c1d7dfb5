"""Service speed: admission intake of a 200-entry slice; a flagged reaction reaching 1,000 stream clients;
signed alerts per second against raw PyNaCl signing.

Run with ``python -m bench bench.service_bench``. The fan-out figure starts the real ``alertsvc serve`` in
its own process on 127.0.0.1 and holds 1,000 event-stream connections from this one (plain asyncio
sockets, so the client side costs little); latency is from sending the ledger update to each client
reading the alert.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import nacl.signing
import uvloop

from alertsvc.access import issue_staff_token
from alertsvc.clock import utc_now
from alertsvc.config import Settings
from alertsvc.ledger import actions, fhir, grants, jws
from alertsvc.ledger.canonical import canonical, loads
from alertsvc.ledger.entries import SignedEntry, sign_entry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice, make_update
from alertsvc.service import Service

WARD = "bench"
DRUGS = [
    "warfarin",
    "simvastatin",
    "clarithromycin",
    "sertraline",
    "phenelzine",
    "tizanidine",
    "ciprofloxacin",
    "ibuprofen",
    "metformin",
    "lisinopril",
    "amlodipine",
    "atorvastatin",
    "omeprazole",
    "levothyroxine",
    "metoprolol",
    "losartan",
    "gabapentin",
    "hydrochlorothiazide",
    "furosemide",
    "prednisone",
    "citalopram",
    "tramadol",
    "digoxin",
    "allopurinol",
]
CLIENTS = 1000
INTAKES = 5
SIGNATURES = 20000


def run() -> list[str]:
    return [*intake(), *fan_out(), *signing()]


def _ledger(folder: Path, patient: Identity, service_id: str, now: datetime, grants_wanted: int) -> list[str]:
    """A 200-entry ledger (60 medications started, 40 of them stopped, 50 allergies, 50 reactions)."""
    entries: list[SignedEntry] = []
    started = [
        actions.medication(patient, DRUGS[i % len(DRUGS)], dose="1 tablet", now=now) for i in range(60)
    ]
    entries += started
    entries += [
        sign_entry(
            patient,
            kind="medication",
            patient=patient.public_id,
            body=fhir.stopped_statement(entry.body, now=now),
            created=now,
        )
        for entry in started[:40]
    ]
    entries += [actions.allergy(patient, DRUGS[(i + 5) % len(DRUGS)], now=now) for i in range(50)]
    entries += [
        actions.flagged_reaction(patient, DRUGS[(i + 9) % len(DRUGS)], reaction="rash", now=now)
        for i in range(50)
    ]
    ids = []
    with Ledger.init(folder / "bench.ledger", patient, now=now) as ledger:
        ledger.append(entries, patient=patient, now=now)
        for _ in range(grants_wanted):
            grant = grants.new_grant(
                patient,
                grantee=service_id,
                scope=("medications", "allergies", "reactions"),
                not_before=now - timedelta(minutes=5),
                hours=24,
                now=now,
            )
            ledger.append([grant], patient=patient, now=now)
            ids.append(grant.id)
    return ids


def intake() -> list[str]:
    """Median time of ``Service.admit`` (verify, store, normalise, check, sign, outbox), 200-entry slice."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(
            db_path=folder / "s.db", service_key=folder / "s.key", wards=f"{WARD}=Europe/London"
        )
        now = utc_now()

        async def measure() -> list[float]:
            service = Service(settings)
            await service.start()
            try:
                patient = Identity.generate()
                grant_ids = _ledger(folder, patient, service.identity.public_id, now, INTAKES)
                with Ledger.open(folder / "bench.ledger") as ledger:
                    snapshot = ledger.read()
                slices = [loads(make_slice(snapshot, g, now=now), what="slice") for g in grant_ids]
                staff = service.staff(
                    issue_staff_token(
                        service.identity, ward=WARD, name="b", role="admission", now=now, hours=1
                    )
                )
                times = []
                for i, body in enumerate(slices):
                    start = time.perf_counter()
                    await service.admit({"slice": body, "ward": WARD, "bed": str(i)}, staff)
                    times.append(time.perf_counter() - start)
                return times
            finally:
                await service.stop()

        times = asyncio.run(measure())
    return [
        f"admission intake, 200-entry slice: median {statistics.median(times) * 1000:.1f} ms over {INTAKES}"
    ]


def signing() -> list[str]:
    """Signing one alert (canonical JSON + compact JWS) against raw PyNaCl signing the alert's canonical
    bytes, timed alternately one by one so a shared machine's load falls on both alike."""
    identity = Identity.generate()
    claims = {
        "id": "alert-0123456789abcdef",
        "version": 1,
        "admission": "adm-0123456789abcdef",
        "ward": "ward-7",
        "bed": "12",
        "kind": "reaction",
        "severity": "critical",
        "summary": "ibuprofen: the patient flagged a severe reaction (swollen lips and wheeze)",
        "rule": "flagged-reaction",
        "sources": ["patient ledger"],
        "dose": {"id": "dose-1", "drug": "ibuprofen", "due": "2026-11-25T02:00:00Z"},
    }
    raw_key = nacl.signing.SigningKey.generate()
    message = canonical(claims)
    ours, raw = [], []
    clock = time.perf_counter_ns
    for _ in range(SIGNATURES):
        started = clock()
        jws.sign(claims, identity, typ="alertsvc-alert+jwt")
        middle = clock()
        raw_key.sign(message)
        raw.append(clock() - middle)
        ours.append(middle - started)
    ours_median, raw_median = statistics.median(ours), statistics.median(raw)
    return [
        f"signed alerts: median {ours_median / 1000:.1f} µs, p99 {_p99(ours) / 1000:.1f} µs "
        f"({1e9 / ours_median:,.0f}/s, JWS over canonical JSON) vs raw PyNaCl median "
        f"{raw_median / 1000:.1f} µs, p99 {_p99(raw) / 1000:.1f} µs ({1e9 / raw_median:,.0f}/s): "
        f"{raw_median / ours_median:.2f}x over {SIGNATURES:,} each (target >= 0.5x)"
    ]


def _p99(values: list[int]) -> float:
    return statistics.quantiles(values, n=100)[98]


def fan_out(processes: int = 1, database_url: str = "") -> list[str]:
    """From a flagged reaction arriving to the alert being read by each of ``CLIENTS`` stream clients,
    spread evenly over ``processes`` service processes (more than one share PostgreSQL at
    ``database_url``: a cluster; the update goes to the first)."""
    if processes > 1 and not database_url:
        raise ValueError("several processes need a PostgreSQL database_url")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ports = [_free_port() for _ in range(processes)]
        env = {
            **os.environ,
            "ALERTSVC_DB_PATH": str(folder / "s.db"),
            "ALERTSVC_SERVICE_KEY": str(folder / "s.key"),
            "ALERTSVC_WARDS": f"{WARD}=Europe/London",
        }
        if database_url:
            env["ALERTSVC_DATABASE_URL"] = database_url
        service = Identity.generate()
        service.save(folder / "s.key")
        now = utc_now()
        patient = Identity.generate()
        with Ledger.init(folder / "p.ledger", patient, now=now) as ledger:
            grant = grants.new_grant(
                patient,
                grantee=service.public_id,
                scope=("medications", "allergies", "reactions"),
                not_before=now - timedelta(minutes=5),
                hours=2,
                now=now,
            )
            ledger.append(
                [actions.medication(patient, "ibuprofen", now=now), grant], patient=patient, now=now
            )
            snapshot = ledger.read()
            body = {
                "slice": loads(make_slice(snapshot, grant.id, now=now), what="slice"),
                "ward": WARD,
                "bed": "1",
            }
            head = snapshot.latest.seq
            ledger.append(
                [actions.flagged_reaction(patient, "ibuprofen", reaction="hives", now=now)],
                patient=patient,
                now=now,
            )
            update = make_update(ledger.read(), grant.id, head)
        admission = issue_staff_token(service, ward=WARD, name="a", role="admission", now=now, hours=1)
        nurse = issue_staff_token(service, ward=WARD, name="n", role="nurse", now=now, hours=1)
        # One token per dashboard: a token holds at most max_streams_per_token (5) streams.
        nurses = [
            issue_staff_token(service, ward=WARD, name=f"n{i}", role="nurse", now=now, hours=1)
            for i in range(CLIENTS)
        ]
        url = f"http://127.0.0.1:{ports[0]}"
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "alertsvc", "serve"],
                env=env | {"ALERTSVC_PORT": str(port)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for port in ports
        ]
        try:
            for port in ports:
                _wait_up(f"http://127.0.0.1:{port}")
            admitted = httpx.post(
                url + "/admissions", json=body, headers={"Authorization": f"Bearer {admission}"}, timeout=30
            ).json()
            last = httpx.get(
                f"{url}/wards/{WARD}/alerts", headers={"Authorization": f"Bearer {nurse}"}, timeout=30
            ).json()["last_event_id"]
            clients = _clients(ports, nurses, last, admitted["admission"], update, admission)
            latencies = uvloop.run(clients)  # the client side must not be the bottleneck
        finally:
            for process in running:
                process.send_signal(signal.SIGTERM)
            for process in running:
                process.wait(30)
    latencies.sort()
    last_latencies[:] = latencies
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    spread = f" over {processes} processes" if processes > 1 else ""
    return [
        f"flagged reaction -> alert at {len(latencies)} stream clients{spread}: p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f} ms "
        f"(the update request answered in {answered[0] * 1000:.1f} ms)"
    ]


answered: list[float] = []
"""How long the update request itself took (verify, re-check, sign, commit, publish), for the report."""
last_latencies: list[float] = []
"""Each client's latency (seconds) in the last ``fan_out``, for bench.hospital_bench."""


async def _clients(
    ports: list[int], tokens: list[str], last: int, admission: str, update: bytes, admission_token: str
) -> list[float]:
    def request(token: str) -> bytes:
        return (
            f"GET /wards/{WARD}/alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nLast-Event-ID: {last}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()

    connected = 0
    all_connected = asyncio.Event()
    sent_at: list[float] = []
    answered.clear()

    async def client(token: str, port: int) -> float:
        nonlocal connected
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request(token))
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        connected += 1
        if connected == len(tokens):
            all_connected.set()
        buffer = b""
        while b"event: alert" not in buffer:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError("stream closed before the alert arrived")
            buffer += chunk
        received = time.perf_counter()
        writer.close()
        return received - sent_at[0]

    tasks = [asyncio.create_task(client(t, ports[i % len(ports)])) for i, t in enumerate(tokens)]
    await asyncio.wait_for(all_connected.wait(), 60)
    await asyncio.sleep(1.0)  # let the server finish subscribing every stream
    # The update goes out as one raw HTTP request on an open connection, so the figure is the service's
    # (verify, re-check, sign, commit, push), not an HTTP client's start-up.
    head = (
        f"POST /admissions/{admission}/entries HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {admission_token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(update)}\r\nConnection: close\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", ports[0])
    sent_at.append(time.perf_counter())
    writer.write(head + update)
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"update refused: {status!r} {await reader.read()!r}")
    answered.append(time.perf_counter() - sent_at[0])
    writer.close()
    return list(await asyncio.wait_for(asyncio.gather(*tasks), 60))


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("alertsvc serve did not start")


if __name__ == "__main__":
    print("\n".join(run()))
