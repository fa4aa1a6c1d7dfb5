"""The timer lease: at most one process of a cluster fires timers, holding a PostgreSQL advisory lock.

The lock is session-level (``pg_try_advisory_lock``) and taken on a connection of its own, kept open for
as long as the lease is held. PostgreSQL drops the lock with the session, so the lease needs no expiry
of its own:

- the holder is killed: the kernel closes its socket at once, its backend ends, and the next try of a
  waiting process (every ``retry_every`` seconds) takes the lease;
- the holder's machine vanishes from the network: the server's TCP keepalives (set for this session
  below: probes after 4 s of silence, then 3 one second apart) end the backend after about 7 s;
- the holder's connection fails or a check does not answer within ``check_timeout``: it calls
  ``on_lost`` at once (stop firing). On a broken network it gives up after at most ``check_every +
  check_timeout`` (3 s by default), before the server's keepalives (7 s) free the lock for another.
  When the server itself ends the session (restart, ``pg_terminate_backend``) the lock is free at once
  and the old holder notices within ``check_every`` (1 s): for that long two processes may fire.

So the lease is not a fence. A timer fires in a transaction that also records it under a unique key, so
a double firing across a takeover writes nothing twice; ``still_held`` lets that transaction check, on
its own connection, that the lease's session is still alive. ``idle_session_timeout`` is switched off
for the lease's session (and the fan-out listener's), or a server configured with one would end an idle
holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

logger = logging.getLogger(__name__)

# Server-side settings of a dedicated session (a lease's, a listener's): never end it for idleness, and
# notice a vanished peer in about 4 + 3 × 1 = 7 s. They replace any ``options`` of the connection string.
SESSION_OPTIONS = (
    "-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0 "
    "-c tcp_keepalives_idle=4 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3"
)

_HELD_SQL = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND pid = %(pid)s AND objsubid = 1
      AND classid::bigint = %(high)s AND objid::bigint = %(low)s
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
)
"""


async def connect_dedicated(conninfo: str, application_name: str) -> psycopg.AsyncConnection[Any]:
    """A connection of its own (autocommit) for a lease or a listener, with client-side (libpq) keepalives
    and a connect bound, so a dead server or network is noticed here too."""
    return await psycopg.AsyncConnection.connect(
        conninfo,
        autocommit=True,
        application_name=application_name,
        options=SESSION_OPTIONS,
        keepalives=1,
        keepalives_idle=4,
        keepalives_interval=1,
        keepalives_count=3,
        connect_timeout=5,
    )


async def pause(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, waking early when ``stopping`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


def lease_key(name: str) -> int:
    """The advisory-lock key of a lease name (e.g. ``"<schema>:timers"``): a signed 64-bit hash, so
    leases of different schemas or purposes never share a lock."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def still_held(conn: psycopg.AsyncConnection[Any], key: int, pid: int) -> bool:
    """Whether the session ``pid`` (a lease's ``backend_pid``) still holds the advisory lock ``key``,
    asked on any connection (the one about to commit a timer's effects)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    params = {"pid": pid, "high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF}
    cursor = await conn.execute(_HELD_SQL, params)
    row = await cursor.fetchone()
    return bool(row and row[0])


class TimerLease:
    """Tries to hold the lease named ``name`` until ``stop()``; tells the caller when it gains and loses it.

    ``on_gained`` is called when this process becomes the one that fires timers; ``on_lost`` as soon as it
    may no longer be (a lost connection is a lost lease): stop firing at once. Both run on the event loop
    and must not block. ``run()`` returns after ``stop()``, having released the lease.
    """

    def __init__(
        self,
        conninfo: str,
        name: str,
        *,
        on_gained: Callable[[], None],
        on_lost: Callable[[], None],
        retry_every: float = 2.0,
        check_every: float = 1.0,
        check_timeout: float = 2.0,
        application_name: str = "alertsvc timer lease",
    ) -> None:
        self._conninfo = conninfo
        self.name = name
        self.key = lease_key(name)
        self._on_gained = on_gained
        self._on_lost = on_lost
        self.retry_every = retry_every
        self.check_every = check_every
        self.check_timeout = check_timeout
        self._application_name = application_name
        self._stopping = asyncio.Event()
        self.held = False
        self.backend_pid: int | None = None
        self.tried = asyncio.Event()
        """Set once the first try for the lock has been answered (held or not)."""

    def stop(self) -> None:
        """Ask ``run()`` to release the lease and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Try for the lease, hold it, and try again after losing it, until ``stop()``."""
        while not self._stopping.is_set():
            try:
                await self._session()
            except (psycopg.Error, OSError, TimeoutError) as exc:
                logger.warning("timer lease %r: connection lost (%s)", self.name, type(exc).__name__)
            finally:
                self._lose()
            await pause(self._stopping, self.retry_every)

    async def _session(self) -> None:
        """One connection's life: try until the lock is ours, check it is alive, release it at stop."""
        conn = await connect_dedicated(self._conninfo, self._application_name)
        try:
            self.backend_pid = conn.info.backend_pid
            while not self._stopping.is_set():
                if self.held:
                    await self._ask(conn, "SELECT 1")
                    await pause(self._stopping, self.check_every)
                elif await self._ask(conn, "SELECT pg_try_advisory_lock(%s)", self.key):
                    self.held = True
                    logger.info("timer lease %r gained (backend %s)", self.name, self.backend_pid)
                    self._on_gained()
                    self.tried.set()
                else:
                    self.tried.set()
                    await pause(self._stopping, self.retry_every)
            if self.held:
                await self._ask(conn, "SELECT pg_advisory_unlock(%s)", self.key)
                self._lose()
        finally:
            await conn.close()
            self.backend_pid = None

    async def _ask(self, conn: psycopg.AsyncConnection[Any], query: str, *params: object) -> object:
        """One query on the lease's connection, answered within ``check_timeout`` or TimeoutError; any
        failure loses the lease at once."""

        async def ask() -> object:
            cursor = await conn.execute(query, params or None)
            row = await cursor.fetchone()
            return row[0] if row else None

        try:
            return await asyncio.wait_for(ask(), self.check_timeout)
        except BaseException:
            self._lose()  # before anything else, even closing the connection: stop firing now
            raise

    def _lose(self) -> None:
        if self.held:
            self.held = False
            logger.warning("timer lease %r lost or released", self.name)
            self._on_lost()


class LeaseThread:
    """A ``TimerLease`` on a thread and event loop of its own, reporting to the serving loop.

    Its keep-alive checks are then answered however long the serving loop is busy: on that loop, a check
    in flight while a long tick holds it races its own timeout, and a 45 s tick once lost the lease so.
    ``on_gained`` and ``on_lost`` run on the loop that called ``start``; ``held`` turns False in the lease's
    thread first, so the serving loop stops firing before ``on_lost`` reaches it.
    """

    def __init__(
        self,
        conninfo: str,
        name: str,
        *,
        on_gained: Callable[[], None],
        on_lost: Callable[[], None],
        **options: Any,
    ) -> None:
        self._on_gained, self._on_lost = on_gained, on_lost
        self.lease = TimerLease(conninfo, name, on_gained=self._gained, on_lost=self._lost, **options)
        self.tried = asyncio.Event()
        """Set, on the serving loop, once the first try for the lock has been answered."""
        self._serving: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return self.lease.held

    @property
    def name(self) -> str:
        return self.lease.name

    def start(self) -> None:
        """Start trying for the lease, in a thread of its own."""
        self._serving = asyncio.get_running_loop()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"lease {self.name}", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Release the lease and wait for the thread to end."""
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self.lease.stop)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._lease())
        finally:
            self._loop.close()

    async def _lease(self) -> None:
        async def first_try() -> None:
            await self.lease.tried.wait()
            self._tell(self.tried.set)

        waiting = asyncio.create_task(first_try())
        try:
            await self.lease.run()
        finally:
            waiting.cancel()

    def _gained(self) -> None:
        self._tell(self._on_gained)

    def _lost(self) -> None:
        self._tell(self._on_lost)

    def _tell(self, callback: Callable[[], None]) -> None:
        assert self._serving is not None
        with contextlib.suppress(RuntimeError):  # the serving loop has closed: nobody left to tell
            self._serving.call_soon_threadsafe(callback)
