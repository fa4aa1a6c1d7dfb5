"""Cross-process fan-out of ward events: the outbox table is the truth, LISTEN/NOTIFY only wakes readers.

Writing: ``append_event`` inserts an event into the schema's ``events`` table and sends
``pg_notify(channel, {"ward", "seq"})`` in the same transaction, so the notification is delivered only if
the event commits, and in commit order. Appends first take a transaction-level advisory lock, so events
commit in ``seq`` order: a reader that has seen ``seq`` n has seen every event before it (without the lock,
a transaction holding seq 7 could commit after one holding seq 8, and a reader already past 8 would never
see 7). Every insert into ``events`` must go through ``append_event``; keep the transaction short after it.

Reading: each process runs one ``Fanout`` (one dedicated connection, LISTEN on the schema's channel) and
one ``OutboxFollower``, which on every wake-up reads the events after its last ``seq`` from the table and
hands them, in order, to the local hub. A lost notification costs only latency: the follower also reads
every ``poll_every`` seconds, and after (re)connecting the listener, before waiting for anything.
A stream resumes from ``Last-Event-ID`` against the same table, as it does on one process.

    fanout = Fanout(conninfo, schema)
    follower = OutboxFollower(pool, schema, publish=hub_publish, after=await last_seq(conn, schema))
    await fanout.run(follower.on_wake)          # until fanout.stop()
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from alertsvc.errors import ConfigError
from alertsvc.store.lease import connect_dedicated, lease_key, pause

logger = logging.getLogger(__name__)

READ_PAGE = 500
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,55}")


@dataclass(frozen=True)
class OutboxEvent:
    """One committed row of the ``events`` table."""

    seq: int
    ward: str
    type: str
    data: str
    admission: str | None
    at: datetime


@dataclass(frozen=True)
class Wake:
    """A notification's payload: the ward and seq of an event just committed."""

    ward: str
    seq: int


@dataclass(frozen=True)
class Notice:
    """One process's word to the others of its cluster, sent after a commit: ``admission``'s data changed
    (drop what is cached of it: its verified slice, its data key), and/or the timers wanted may have
    changed (the lease holder plans them again), and/or it now checks with ``knowledge`` (the others
    read their knowledge files again)."""

    sender: str
    admission: str | None = None
    timers: bool = False
    knowledge: str | None = None

    def payload(self) -> str:
        fields = {"notice": self.sender, "admission": self.admission, "timers": self.timers}
        return json.dumps(fields | ({"knowledge": self.knowledge} if self.knowledge else {}))


Heard = Wake | Notice
"""What a notification on the channel says."""


def checked_schema(schema: str) -> str:
    """The schema name, if it is a plain lower-case identifier short enough to name a channel."""
    if not _SCHEMA.fullmatch(schema):
        raise ConfigError(f"database schema {schema!r} must be lower-case letters, digits and _ (<= 56)")
    return schema


def channel_name(schema: str) -> str:
    """The NOTIFY channel of a schema's events: one per schema, so test schemas do not hear each other."""
    return f"{checked_schema(schema)}.events"


def _table(schema: str) -> sql.Composed:
    return sql.SQL("{}.events").format(sql.Identifier(checked_schema(schema)))


async def create_events_table(conn: psycopg.AsyncConnection[Any], schema: str) -> None:
    """Create the schema's ``events`` table (the outbox) if it does not exist."""
    table = _table(schema)
    await conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "ward TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, admission TEXT, "
            "at TIMESTAMPTZ NOT NULL)"
        ).format(table)
    )
    await conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS events_by_ward ON {} (ward, seq)").format(table))


async def append_event(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    *,
    ward: str,
    type: str,
    data: str,
    at: datetime,
    admission: str | None = None,
) -> int:
    """Insert an event and notify its channel; its seq. On a connection in autocommit mode this is a
    transaction of its own; otherwise it joins the caller's transaction, and the caller commits.

    The append lock is held until that transaction ends, so events commit in seq order. The lock, the
    insert and the notification go to the server together (pipeline mode): one round trip, then the
    commit."""
    async with conn.pipeline():
        if conn.autocommit:
            async with conn.transaction():
                return await _append(conn, schema, ward, type, data, at, admission)
        return await _append(conn, schema, ward, type, data, at, admission)


async def _append(
    conn: psycopg.AsyncConnection[Any],
    schema: str,
    ward: str,
    type: str,
    data: str,
    at: datetime,
    admission: str | None,
) -> int:
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", [lease_key(f"{schema}:events")])
    cursor = await conn.execute(
        sql.SQL(
            "INSERT INTO {} (ward, type, data, admission, at) VALUES (%s, %s, %s, %s, %s) "
            "RETURNING seq, pg_notify(%s, json_build_object('ward', ward, 'seq', seq)::text)"
        ).format(_table(schema)),
        [ward, type, data, admission, at, channel_name(schema)],
    )
    row = await cursor.fetchone()
    assert row is not None  # INSERT ... RETURNING returns the row
    return int(row[0])


async def notify(conn: psycopg.AsyncConnection[Any], schema: str, ward: str, seq: int) -> None:
    """Send the wake-up for event ``seq`` of ``ward``; delivered when (and if) the transaction commits.
    (``append_event`` sends the same payload from its INSERT; this is for a replay or a manual nudge.)"""
    payload = json.dumps({"ward": ward, "seq": seq})
    await conn.execute("SELECT pg_notify(%s, %s)", [channel_name(schema), payload])


async def read_events_after(
    conn: psycopg.AsyncConnection[Any], schema: str, after: int, *, limit: int = READ_PAGE
) -> list[OutboxEvent]:
    """Every ward's events with a seq above ``after``, in seq order, at most ``limit``."""
    cursor = await conn.execute(
        sql.SQL(
            "SELECT seq, ward, type, data, admission, at FROM {} WHERE seq > %s ORDER BY seq LIMIT %s"
        ).format(_table(schema)),
        [after, limit],
    )
    return [OutboxEvent(*row) for row in await cursor.fetchall()]


async def last_seq(conn: psycopg.AsyncConnection[Any], schema: str) -> int:
    """The highest committed seq (0 for an empty outbox): where a follower starting now begins."""
    cursor = await conn.execute(sql.SQL("SELECT coalesce(max(seq), 0) FROM {}").format(_table(schema)))
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


def parse_wake(payload: str) -> Heard | None:
    """A notification's payload as a Wake or a Notice, or None if it is neither (it only prompts a read)."""
    try:
        fields = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    if isinstance(fields.get("notice"), str):
        admission, knowledge = fields.get("admission"), fields.get("knowledge")
        return Notice(
            fields["notice"],
            admission if isinstance(admission, str) else None,
            fields.get("timers") is True,
            knowledge if isinstance(knowledge, str) else None,
        )
    ward, seq = fields.get("ward"), fields.get("seq")
    if not isinstance(ward, str) or not isinstance(seq, int):
        return None
    return Wake(ward, seq)


class OutboxFollower:
    """Reads the outbox after its last seq on each wake-up and publishes each event once, in seq order."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        schema: str,
        *,
        publish: Callable[[OutboxEvent], None],
        after: int,
    ) -> None:
        self._pool = pool
        self.schema = checked_schema(schema)
        self._publish = publish
        self.last_seq = after

    async def on_wake(self, wake: Heard | None) -> None:
        """Catch up with the outbox; a wake-up for an event already read costs nothing."""
        if isinstance(wake, Wake) and wake.seq <= self.last_seq:
            return
        async with self._pool.connection() as conn:
            while True:
                events = await read_events_after(conn, self.schema, self.last_seq)
                for event in events:
                    self._publish(event)
                    self.last_seq = event.seq
                if len(events) < READ_PAGE:
                    return


class Fanout:
    """Listens on the schema's channel on a connection of its own and wakes ``on_wake`` (until ``stop()``).

    ``on_wake(Wake)`` (or ``Notice``) follows a notification; ``on_wake(None)`` asks for a read with no
    news: after each (re)connection (notifications sent while not listening are lost) and every
    ``poll_every`` seconds, after checking that the listening connection still answers. A dropped
    connection is reopened after ``reconnect_after`` seconds; ``stop()`` ends ``run()`` at once.
    """

    def __init__(
        self,
        conninfo: str,
        schema: str,
        *,
        poll_every: float = 3.0,
        reconnect_after: float = 1.0,
        check_timeout: float = 2.0,
        application_name: str = "alertsvc fanout",
    ) -> None:
        self._conninfo = conninfo
        self.channel = channel_name(schema)
        self.poll_every = poll_every
        self.reconnect_after = reconnect_after
        self.check_timeout = check_timeout
        self._application_name = application_name
        self._stopping = asyncio.Event()
        self.connections = 0  # how many times the listener has connected (1 + reconnections)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self, on_wake: Callable[[Heard | None], Awaitable[None]]) -> None:
        """Listen, wake ``on_wake``, and reconnect when the connection drops, until ``stop()``. A database
        error raised by ``on_wake`` (its read failed) counts as a drop: the read is retried after
        reconnecting."""
        while not self._stopping.is_set():
            try:
                await self._listen(on_wake)
            except (psycopg.Error, OSError, TimeoutError) as exc:
                logger.warning("fan-out listener on %s dropped (%s)", self.channel, type(exc).__name__)
            await pause(self._stopping, self.reconnect_after)

    async def _listen(self, on_wake: Callable[[Heard | None], Awaitable[None]]) -> None:
        conn = await connect_dedicated(self._conninfo, self._application_name)
        try:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self.connections += 1
            await on_wake(None)  # listening now: read what was committed while we were not
            listening = asyncio.create_task(self._wake_on_notifications(conn, on_wake))
            stopping = asyncio.create_task(self._stopping.wait())
            try:
                await asyncio.wait({listening, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                listening.cancel()
                stopping.cancel()
                await asyncio.wait({listening, stopping})
            if not listening.cancelled():
                listening.result()  # the error that ended it, if one did
        finally:
            await conn.close()

    async def _wake_on_notifications(
        self, conn: psycopg.AsyncConnection[Any], on_wake: Callable[[Heard | None], Awaitable[None]]
    ) -> None:
        while True:
            async for note in conn.notifies(timeout=self.poll_every):
                await on_wake(parse_wake(note.payload))
            await asyncio.wait_for(conn.execute("SELECT 1"), self.check_timeout)  # still listening?
            await on_wake(None)
