"""Cross-process fan-out on PostgreSQL: from ``append_event`` in one process to the event published in the
hub of another (LISTEN/NOTIFY wake-up, then a read of the outbox), p50 and p99.

The writer (this process) appends events to a fresh schema (``b_<random>``, dropped after) of the
database at ``ALERTSVC_TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``);
listener processes (``python -m bench.fanout_bench listen ...``) run ``Fanout`` + ``OutboxFollower`` with
a 60 s poll, so only notifications explain a quick arrival, and print each event's latency, measured on
``time.monotonic()`` (one clock for all processes on Linux). Two loads: paced (an event every 5 ms,
a ward's alerts arriving one by one) and a burst (appends as fast as one connection commits them).
Then the same path with Redis pub/sub (127.0.0.1:6379, published after the commit; a few lines of RESP
here, as redis-py is not installed) as the wake-up instead of NOTIFY, and the append's cost against a
bare insert.

    PYTHONPATH=. python -m bench bench.fanout_bench
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from alertsvc.store.fanout import (
    Fanout,
    OutboxEvent,
    OutboxFollower,
    append_event,
    channel_name,
    create_events_table,
    parse_wake,
)
from alertsvc.store.lease import lease_key

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
WARDS = [f"ward-{n}" for n in range(40)]
REDIS = ("127.0.0.1", 6379)
PACED, PACE_SECONDS, BURST = 500, 0.005, 2000


def run() -> Iterator[str]:
    url = os.environ.get("ALERTSVC_TEST_DATABASE_URL", DEFAULT_URL)
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError:
        yield "skipped: no PostgreSQL answers at ALERTSVC_TEST_DATABASE_URL"
        return
    yield f"psycopg {psycopg.__version__}, PostgreSQL {_server_version(url)}, {os.cpu_count()} cores"
    p99s: dict[int, float] = {}
    for listeners in (1, 4):
        for load, count, pace in (("paced", PACED, PACE_SECONDS), ("burst", BURST, 0.0)):
            latencies, appends_per_s = _measure(url, listeners, count, pace)
            p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
            if load == "paced":
                p99s[listeners] = p99
            yield (
                f"{load:5} {count} events, {listeners} listener process(es): append → publish p50 "
                f"{p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms "
                f"({appends_per_s:,.0f} appends/s)"
            )
    yield f"paced p99, 4 listener processes / 1: {p99s[4] / p99s[1]:.2f}×"
    yield from _against_redis(url)
    for writers in (1, 4):
        plain, appended = _commit_rates(url, writers)
        yield (
            f"one event per commit, {writers} writer connection(s), no listener: plain INSERT "
            f"{plain:,.0f}/s, append_event (append lock + NOTIFY) {appended:,.0f}/s: {appended / plain:.2f}×"
        )


def _against_redis(url: str) -> Iterator[str]:
    """The same path with Redis pub/sub as the wake-up (published after the commit) instead of NOTIFY."""
    try:
        asyncio.run(_redis_command(REDIS, "PING"))
    except OSError:
        yield f"Redis comparison skipped: nothing answers at {REDIS[0]}:{REDIS[1]}"
        return
    for listeners in (1, 4):
        pg, _ = _measure(url, listeners, PACED, PACE_SECONDS, "pg")
        redis, _ = _measure(url, listeners, PACED, PACE_SECONDS, "redis")
        pg50, pg99, r50, r99 = (_percentile(v, f) for v in (pg, redis) for f in (0.5, 0.99))
        yield (
            f"paced, {listeners} listener process(es), wake-up by NOTIFY / by Redis pub/sub: p50 "
            f"{pg50 * 1000:.1f} / {r50 * 1000:.1f} ms ({pg50 / r50:.2f}×), p99 {pg99 * 1000:.1f} / "
            f"{r99 * 1000:.1f} ms ({pg99 / r99:.2f}×)"
        )


def _server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "?"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _measure(
    url: str, listeners: int, count: int, pace: float, wake: str = "pg"
) -> tuple[list[float], float]:
    """Latencies (s) seen by every listener process, and the writer's appends per second."""
    schema = f"b_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    processes: list[subprocess.Popen[str]] = []
    try:
        asyncio.run(_create(url, schema))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "bench.fanout_bench", "listen", url, schema, str(count), wake]
        for _ in range(listeners):
            processes.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True))
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        appends_per_s = asyncio.run(_append(url, schema, count, pace, wake))
        latencies: list[float] = []
        for process in processes:
            out, _ = process.communicate(timeout=120)
            latencies += [float(value) for value in out.split()]
        assert len(latencies) == count * listeners, "a listener missed events"
        return latencies, appends_per_s
    finally:
        for process in processes:
            process.kill()
            process.wait()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _commit_rates(url: str, writers: int, count: int = BURST) -> tuple[float, float]:
    """Commits per second of a bare INSERT into the outbox and of ``append_event`` (``writers``
    connections at once, ``count`` events in all), in one schema."""
    schema = f"b_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        asyncio.run(_create(url, schema))
        return (
            asyncio.run(_together(writers, count, _plain_inserts, url, schema)),
            asyncio.run(_together(writers, count, _appends, url, schema)),
        )
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


async def _together(
    writers: int, count: int, write: Callable[[str, str, int], Awaitable[object]], url: str, schema: str
) -> float:
    """Events per second written by ``writers`` connections at once, ``count`` events in all."""
    start = time.monotonic()
    await asyncio.gather(*(write(url, schema, count // writers) for _ in range(writers)))
    return count / (time.monotonic() - start)


async def _appends(url: str, schema: str, count: int) -> float:
    return await _append(url, schema, count, 0.0)


async def _plain_inserts(url: str, schema: str, count: int) -> float:
    insert = sql.SQL("INSERT INTO {}.events (ward, type, data, at) VALUES (%s, 'alert', %s, %s)").format(
        sql.Identifier(schema)
    )
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        start = time.monotonic()
        for n in range(count):
            await conn.execute(insert, [WARDS[n % len(WARDS)], f"{time.monotonic():.6f}", _now()])
        return count / (time.monotonic() - start)


async def _create(url: str, schema: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await create_events_table(conn, schema)


async def _append(url: str, schema: str, count: int, pace: float, wake: str = "pg") -> float:
    """Append ``count`` events; wake listeners by NOTIFY (``append_event``) or by Redis pub/sub."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        redis = await asyncio.open_connection(*REDIS) if wake == "redis" else None
        start = time.monotonic()
        for n in range(count):
            ward, sent = WARDS[n % len(WARDS)], f"{time.monotonic():.6f}"
            if redis is None:
                await append_event(conn, schema, ward=ward, type="alert", data=sent, at=_now())
            else:
                seq = await _append_quietly(conn, schema, ward, sent)
                payload = json.dumps({"ward": ward, "seq": seq})
                await _redis_send(redis, "PUBLISH", channel_name(schema), payload)
            if pace:
                await asyncio.sleep(pace)
        rate = count / (time.monotonic() - start)
        if redis is not None:
            redis[1].close()
            await redis[1].wait_closed()
        return rate


async def _append_quietly(conn: psycopg.AsyncConnection[Any], schema: str, ward: str, data: str) -> int:
    """``append_event`` without the NOTIFY: the append lock and the insert, committed."""
    insert = sql.SQL(
        "INSERT INTO {}.events (ward, type, data, at) VALUES (%s, 'alert', %s, %s) RETURNING seq"
    ).format(sql.Identifier(schema))
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [lease_key(f"{schema}:events")])
        cursor = await conn.execute(insert, [ward, data, _now()])
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


Redis = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _redis_send(redis: Redis, *args: str) -> object:
    """One Redis command (RESP, as redis-py would send it) and its reply."""
    reader, writer = redis
    writer.write(_resp(args))
    return await _redis_reply(reader)


async def _redis_command(address: tuple[str, int], *args: str) -> object:
    reader, writer = await asyncio.open_connection(*address)
    try:
        return await _redis_send((reader, writer), *args)
    finally:
        writer.close()
        await writer.wait_closed()


def _resp(args: tuple[str, ...]) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


async def _redis_reply(reader: asyncio.StreamReader) -> object:
    line = await reader.readuntil(b"\r\n")
    kind, rest = line[:1], line[1:-2]
    if kind == b"-":
        raise OSError(f"Redis answered {rest.decode()}")
    if kind in (b"+", b":"):
        return rest
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else (await reader.readexactly(size + 2))[:-2]
    return [await _redis_reply(reader) for _ in range(int(rest))]


def _now() -> datetime:
    return datetime.now(UTC)


async def _listen(url: str, schema: str, expected: int, wake: str) -> None:
    """A listener process: print 'ready', then each event's latency once all ``expected`` have come."""
    latencies: list[float] = []
    done = asyncio.Event()

    def publish(event: OutboxEvent) -> None:
        latencies.append(time.monotonic() - float(event.data))
        if len(latencies) >= expected:
            done.set()

    async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False) as pool:
        follower = OutboxFollower(pool, schema, publish=publish, after=0)
        if wake == "redis":
            await _listen_to_redis(schema, follower, done)
        else:
            fanout = Fanout(url, schema, poll_every=60)
            task = asyncio.create_task(fanout.run(follower.on_wake))
            while fanout.connections == 0:
                await asyncio.sleep(0.01)
            print("ready", flush=True)
            await done.wait()
            fanout.stop()
            await task
    _print_latencies(latencies)


def _print_latencies(latencies: list[float]) -> None:
    print("\n".join(f"{value:.6f}" for value in latencies), flush=True)


async def _listen_to_redis(schema: str, follower: OutboxFollower, done: asyncio.Event) -> None:
    """Wake the follower on each Redis message of the schema's channel, until ``done``."""
    reader, writer = await asyncio.open_connection(*REDIS)
    writer.write(_resp(("SUBSCRIBE", channel_name(schema))))
    await _redis_reply(reader)  # the subscription's confirmation
    await follower.on_wake(None)
    print("ready", flush=True)
    while not done.is_set():
        message = await _redis_reply(reader)
        if isinstance(message, list) and message[0] == b"message":
            await follower.on_wake(parse_wake(message[2].decode()))
    writer.close()
    await writer.wait_closed()


if __name__ == "__main__":
    if sys.argv[1:2] == ["listen"]:
        asyncio.run(_listen(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]))
    else:
        for line in run():
            print(line)
