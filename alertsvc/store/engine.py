"""The storage seam: the few things the hospital service asks of its database, whichever engine holds it.

The service's modules write plain SQL that both engines run unchanged (``?`` placeholders, ``ON CONFLICT``
instead of ``INSERT OR IGNORE/REPLACE``, ``RETURNING`` instead of ``lastrowid``) and reach the database only
through ``Database``:

- ``execute(sql, params)`` returns a ``Rows`` (``fetchone``, ``fetchall``, iteration, ``rowcount``); rows
  are tuples; a BLOB/BYTEA column reads as ``bytes``; a ``bool`` parameter is stored as 0 or 1.
- ``executemany(sql, rows)`` runs one statement over many parameter rows.
- ``insert_returning(sql, params)`` runs an ``INSERT ... RETURNING <key>`` and gives the key.
- ``write()`` is one transaction, all of it or none of it, and serialises writers: SQLite's
  ``BEGIN IMMEDIATE``, PostgreSQL's transaction holding one store-wide advisory lock (``store.postgres``).
  Code may read, decide, then write inside one ``write()`` and no other writer, in this process or another,
  can slip in between.
- ``checkpoint()`` moves purged bytes out of SQLite's WAL (True when done); PostgreSQL has no such step.
- ``announce(payload)`` tells every process sharing the database, when the transaction it is in commits
  (at once outside one): PostgreSQL's ``NOTIFY`` on the schema's channel (``store.fanout``); nothing on
  SQLite, which one process serves.
- ``dialect`` is ``"sqlite"`` or ``"postgres"``, for the rare statement the engines cannot share (DDL).

A refused row raises ``UniqueViolation`` (a unique key already stored) or ``ConstraintViolation`` (any other
constraint, e.g. the append-only audit log); any other driver failure raises ``StoreError``. The driver's
exception is the cause. On PostgreSQL a failed statement spoils its transaction: let the error leave
``write()`` (which rolls back) rather than carry on after it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]


class Rows(Protocol):
    """What a statement gives back: its rows (tuples) and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """The hospital service's database, on one engine (``alertsvc.store.open_database`` picks it)."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def insert_returning(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def write(self) -> AbstractContextManager[Database]: ...

    def checkpoint(self) -> bool: ...

    def announce(self, payload: str) -> None: ...

    def written_mark(self) -> Hashable | None:
        """A value two calls give alike only if nothing was written to the database between them (by this
        connection or any other), so a read need not be made again; None where that cannot be told."""

    def close(self) -> None: ...


def write(db: Database) -> AbstractContextManager[Database]:
    """One serialised transaction on ``db``: ``with store.write(db): ...`` commits all of it or none."""
    return db.write()


def stored_value(value: Any) -> Any:
    """A parameter as both engines store it: ``bool`` as 0 or 1 (the schema's INTEGER flags)."""
    return int(value) if isinstance(value, bool) else value
