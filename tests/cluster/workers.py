"""Small cluster processes the tests start as real OS processes; each prints one line per thing it sees.

    python -m tests.cluster.workers lease URL NAME            "gained <t>" / "lost <t>" (t: monotonic s)
    python -m tests.cluster.workers listen URL SCHEMA APP POLL "connected <n>", "event <seq> <ward> <data>"
    python -m tests.cluster.workers append URL SCHEMA WARDS N  appends N events, "appended <seq>" each

``time.monotonic()`` is one clock for every process on Linux, so the tests compare times across them.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime

import psycopg
from psycopg_pool import AsyncConnectionPool

from alertsvc.store.fanout import Fanout, Heard, OutboxEvent, OutboxFollower, append_event, last_seq
from alertsvc.store.lease import TimerLease


def say(line: str) -> None:
    print(line, flush=True)


async def hold_lease(url: str, name: str) -> None:
    lease = TimerLease(
        url,
        name,
        on_gained=lambda: say(f"gained {time.monotonic():.6f}"),
        on_lost=lambda: say(f"lost {time.monotonic():.6f}"),
    )  # the default timings, as the service runs them
    await lease.run()


async def listen(url: str, schema: str, application_name: str, poll_every: float) -> None:
    async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False) as pool:
        async with pool.connection() as conn:
            start = await last_seq(conn, schema)

        def publish(event: OutboxEvent) -> None:
            say(f"event {event.seq} {event.ward} {event.data} {time.monotonic():.6f}")

        follower = OutboxFollower(pool, schema, publish=publish, after=start)
        fanout = Fanout(url, schema, poll_every=poll_every, application_name=application_name)

        announced = 0

        async def on_wake(wake: Heard | None) -> None:
            nonlocal announced
            await follower.on_wake(wake)
            if fanout.connections != announced:  # caught up after a (re)connection
                announced = fanout.connections
                say(f"connected {announced}")

        await fanout.run(on_wake)


async def append(url: str, schema: str, wards: list[str], count: int) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for n in range(count):
            ward = wards[n % len(wards)]
            data = f"{time.monotonic():.6f}"
            seq = await append_event(conn, schema, ward=ward, type="alert", data=data, at=datetime.now(UTC))
            say(f"appended {seq}")


def main(argv: list[str]) -> None:
    command, url, *rest = argv
    if command == "lease":
        asyncio.run(hold_lease(url, rest[0]))
    elif command == "listen":
        asyncio.run(listen(url, rest[0], rest[1], float(rest[2])))
    elif command == "append":
        asyncio.run(append(url, rest[0], rest[1].split(","), int(rest[2])))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
