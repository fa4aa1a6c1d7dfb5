"""The hospital service's database on PostgreSQL (``alertsvc serve --database-url postgresql://...``).

psycopg 3 with a psycopg-pool ``ConnectionPool``: each statement outside a transaction borrows a
connection in autocommit mode and gives it back; ``write()`` holds one connection for its transaction.
The service's SQL is written for both engines with ``?`` placeholders; each statement's text is translated
to psycopg's ``%s`` once and cached.

**Writers are serialised as on SQLite.** SQLite's ``BEGIN IMMEDIATE`` lets one writer at a time in, and
the service's code relies on it: it reads (is this grant already admitted? which alerts are active?),
decides, then writes, inside one ``write()``. PostgreSQL's default READ COMMITTED would let two processes
both read "not yet" and both write. So ``write()`` opens a transaction and first takes
``pg_advisory_xact_lock(key)`` on one key for the whole store (derived from the schema the connection
uses, so two hospitals' stores in two schemas of one server do not wait for each other). Every writer, in
this process or another, queues on that lock; PostgreSQL releases it at COMMIT or ROLLBACK, and when a
process dies its connection closes and the lock goes with it. Readers never take it: they see the last
committed state, as SQLite's WAL readers do. Cost: writes are one at a time per store, as on SQLite (a
write transaction here is a few statements, well under a millisecond of lock time each); the gain is that
read-then-write code stays correct across processes without SERIALIZABLE retries. It also keeps the outbox
gap-free for readers: events get their ``seq`` and commit in the same order, so a dashboard resuming
after ``Last-Event-ID`` never skips an event that committed late.

Purge's WAL checkpoint is SQLite's: ``checkpoint()`` does nothing here (see its docstring).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool

from alertsvc.errors import ConstraintViolation, StoreError, UniqueViolation
from alertsvc.store.engine import Dialect, stored_value
from alertsvc.store.fanout import channel_name
from alertsvc.store.postgres_schema import STATEMENTS

POOL_SIZE = 4
"""Connections kept open: the event loop's one, plus a few for anything run in worker threads."""

CONNECT_TIMEOUT_SECONDS = 10.0


def open_postgres(url: str) -> PostgresDatabase:
    """Connect to ``url``, make the tables (once, under the write lock), and return the store.

    StoreError, naming the server but never the password, when no server answers in time.
    """
    pool = psycopg_pool.ConnectionPool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        kwargs={"autocommit": True},
        open=False,
        name="alertsvc-store",
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg_pool.PoolTimeout as exc:
        pool.close()
        raise StoreError(
            f"PostgreSQL at {redacted(url)} did not answer in {CONNECT_TIMEOUT_SECONDS:g} s"
        ) from exc
    with pool.connection() as conn:
        row = conn.execute("SELECT current_schema()").fetchone()
    schema = str(row[0]) if row and row[0] else "public"
    db = PostgresDatabase(pool, schema=schema, where=redacted(url))
    with db.write():
        for statement in STATEMENTS:
            db.execute(statement)
    return db


class Fetched:
    """A statement's rows, read in full before its connection went back to the pool."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PostgresDatabase:
    """``alertsvc.store.Database`` on a pool of PostgreSQL connections."""

    dialect: Dialect = "postgres"

    def __init__(self, pool: psycopg_pool.ConnectionPool, *, schema: str, where: str) -> None:
        self.pool = pool
        self.schema = schema
        self.where = where
        self.write_lock_key = write_lock_key(schema)
        self._local = threading.local()  # the connection of the write() open on this thread, if any

    def __repr__(self) -> str:
        return f"PostgresDatabase({self.where!r}, schema={self.schema!r})"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Fetched:
        values = [stored_value(p) for p in params]
        held: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        try:
            if held is not None:
                return _run(held, sql, values)
            with self.pool.connection() as conn:
                return _run(conn, sql, values)
        except psycopg.Error as exc:
            raise translated(exc, sql) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        values = [[stored_value(p) for p in row] for row in rows]
        held = self._held()
        if held is None:  # one transaction for all the rows
            with self.write():
                self.executemany(sql, values)
            return
        if not values:
            return
        try:
            with held.cursor() as cursor:
                cursor.executemany(placeholders(sql), values)
        except psycopg.Error as exc:
            raise translated(exc, sql) from exc

    def insert_returning(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = self.execute(sql, params).fetchone()
        return int(row[0])

    @contextmanager
    def write(self) -> Iterator[PostgresDatabase]:
        """One transaction holding the store's advisory lock: all of it commits, or none of it."""
        if self._held() is not None:
            raise StoreError("a write() is already open on this thread: PostgreSQL transactions do not nest")
        try:
            with self.pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [self.write_lock_key])
                self._local.connection = conn
                try:
                    yield self
                finally:
                    self._local.connection = None
        except psycopg.Error as exc:
            raise translated(exc, "COMMIT") from exc

    def checkpoint(self) -> bool:
        """Nothing to do: SQLite's ``wal_checkpoint(TRUNCATE)`` moves purged bytes out of its WAL file.

        PostgreSQL's WAL segments are recycled by the server on its own schedule, and archived or
        streamed to replicas; no client can empty them. What protects a purged admission there is that
        its data were only ever stored encrypted under its own key, destroyed first (crypto-shredding).
        """
        return True

    def announce(self, payload: str) -> None:
        """``NOTIFY`` the schema's channel: sent when the transaction commits, and only if it does."""
        self.execute("SELECT pg_notify(?, ?)", [channel_name(self.schema), payload])

    def written_mark(self) -> None:
        """None: the other processes of a cluster write without this one knowing, so every read that
        matters is made again."""
        return None

    def close(self) -> None:
        self.pool.close()

    def _held(self) -> psycopg.Connection[Any] | None:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        return conn


def _run(conn: psycopg.Connection[Any], sql: str, values: list[Any]) -> Fetched:
    with conn.cursor() as cursor:
        cursor.execute(placeholders(sql), values)
        rows = cursor.fetchall() if cursor.description is not None else []
        return Fetched(rows, cursor.rowcount)


@functools.lru_cache(maxsize=2048)
def placeholders(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (and a literal ``%`` as ``%%``), outside quoted text.

    >>> placeholders("SELECT 'a?b', \\"c\\" FROM t WHERE x = ? AND y LIKE '5%'")
    'SELECT \\'a?b\\', "c" FROM t WHERE x = %s AND y LIKE \\'5%%\\''
    """
    out: list[str] = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


def write_lock_key(schema: str) -> int:
    """The advisory lock key of the store in ``schema``: a signed 64-bit number, the same in every process."""
    digest = hashlib.blake2b(f"alertsvc.store.write:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def translated(exc: psycopg.Error, sql: str) -> StoreError:
    """The driver's error as the store's: which statement, and what PostgreSQL said (never the URL)."""
    what = f"PostgreSQL refused {' '.join(sql.split()[:4])!r}: {str(exc).strip()}"
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return UniqueViolation(what)
    if isinstance(exc, psycopg.IntegrityError):
        return ConstraintViolation(what)
    return StoreError(what)


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable database URL)"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"
