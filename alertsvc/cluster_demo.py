"""``make cluster``: the demo ward served by three processes on one PostgreSQL database, to watch failover.

The demo's patients are seeded (as ``make run`` seeds them) into a schema of their own, ``alertsvc_cluster``
(dropped and made again at each start), of the server at ``ALERTSVC_DATABASE_URL`` (default: this
project's test server, ``postgresql://postgres@127.0.0.1:5432/test``). Then three ``alertsvc serve``
processes start on ports 8001 to 8003. Open a dashboard on any of them; ``kill -9`` the process that fires
the timers (printed, and shown by each process's ``/healthz``) and watch another take over, and the
dashboard reconnect to a live process. Ctrl-C stops them all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from alertsvc import store
from alertsvc.access import issue_staff_token
from alertsvc.clock import ShiftedClock, utc_now
from alertsvc.demo import DAY_ACKNOWLEDGED_AT, WARD, ZONE, _last_local, prepare, seed
from alertsvc.ledger.identity import Identity
from alertsvc.service import Service

SCHEMA = "alertsvc_cluster"
PORTS = (8001, 8002, 8003)
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def fresh_schema(server: str) -> None:
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))


def holder(ports: tuple[int, ...]) -> int | None:
    """The port of the process firing the timers, if one answers that it does."""
    for port in ports:
        try:
            found = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
        except (httpx.HTTPError, ValueError):
            continue
        if found.get("cluster", {}).get("timers"):
            return port
    return None


def main() -> int:
    from zoneinfo import ZoneInfo

    server = os.environ.get("ALERTSVC_DATABASE_URL", DEFAULT_SERVER)
    fresh_schema(server)
    url = store.with_schema(server, SCHEMA)
    folder = Path("run/cluster")
    settings = dataclasses.replace(prepare(folder, dict(os.environ)), database_url=url)
    now = utc_now()
    seeded_at = _last_local(now, DAY_ACKNOWLEDGED_AT, ZoneInfo(ZONE))

    async def seed_and_stop() -> None:
        service = Service(settings, clock=ShiftedClock.starting_at(seeded_at))
        await service.start()
        try:
            await seed(service, folder, seeded_at)
        finally:
            await service.stop()

    asyncio.run(seed_and_stop())
    env = {
        **os.environ,
        "ALERTSVC_DATABASE_URL": url,
        "ALERTSVC_DB_PATH": str(settings.db_path),
        "ALERTSVC_SERVICE_KEY": str(settings.service_key),
        "ALERTSVC_WARDS": settings.wards,
    }
    processes = {
        port: subprocess.Popen(
            [sys.executable, "-m", "alertsvc", "serve", "--port", str(port)],
            env=env,
        )
        for port in PORTS
    }
    token = issue_staff_token(
        Identity.load(settings.service_key), ward=WARD, name="Night Nurse", role="nurse", now=now, hours=12
    )
    try:
        deadline = time.monotonic() + 60
        while (firing := holder(PORTS)) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        print(f"\nalertsvc cluster: three processes on PostgreSQL (schema {SCHEMA}); {WARD} ({ZONE}).\n")
        for port, process in processes.items():
            role = "fires the timers" if port == firing else "stands by"
            print(f"  http://127.0.0.1:{port}/#token={token}\n      pid {process.pid}, {role}")
        print("\n  kill -9 the pid that fires the timers and watch another take over. Ctrl-C stops all.\n")
        while any(p.poll() is None for p in processes.values()):
            time.sleep(1)
            now_firing = holder(PORTS)
            if now_firing != firing and now_firing is not None:
                print(f"  the process on port {now_firing} now fires the timers", flush=True)
            firing = now_firing or firing
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            process.wait(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
