"""One SQLite file per patient ledger, through sqlite-utils: the only module that touches the database.

Tables: ``meta`` (patient id, format version), ``entries`` (tree, idx, id, payload, signature, author,
created) and ``heads`` (seq, payload, signature). The file runs in WAL mode with synchronous=FULL. Every
write happens in one ``BEGIN IMMEDIATE`` transaction that first reads the current log, so two processes
appending at once serialise (the second waits up to the busy timeout, then fails with LedgerBusy) instead
of losing writes, which sqlite-utils' plain ``BEGIN`` would allow. Nothing here checks signatures or
roots: that is ``alertsvc.ledger.log``'s job; this module stores and returns bytes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from alertsvc.errors import LedgerBusy, LedgerError, LedgerExists, LedgerNotFound

FORMAT_VERSION = "1"
BUSY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class StoredEntry:
    """One row of ``entries``: where an entry sits and its exact bytes."""

    tree: str
    index: int
    id: str
    payload: bytes
    signature: bytes
    author: str
    created: str


@dataclass(frozen=True)
class StoredHead:
    """One row of ``heads``."""

    seq: int
    payload: bytes
    signature: bytes


@dataclass(frozen=True)
class StoredLog:
    """Everything in a ledger file, read in one transaction: entries by (tree, idx), heads by seq."""

    patient: str
    entries: tuple[StoredEntry, ...]
    heads: tuple[StoredHead, ...]


def _translate(path: Path, exc: sqlite3.Error) -> LedgerError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return LedgerBusy(
            f"{path}: ledger is busy (another process held it for {BUSY_TIMEOUT_SECONDS:.0f} s)"
        )
    return LedgerError(f"{path}: not a readable alertsvc ledger ({text})")


def _connect(path: Path) -> sqlite_utils.Database:
    """Open an existing file without ever creating it (SQLite URI mode=rw)."""
    uri = path.resolve().as_uri() + "?mode=rw"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.Error:
        conn.close()
        raise
    return sqlite_utils.Database(conn)


class LedgerStore:
    """A ledger file. Use :meth:`create` or :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, path: Path, db: sqlite_utils.Database, patient: str) -> None:
        self.path = path
        self._db = db
        self.patient = patient

    def __enter__(self) -> LedgerStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @classmethod
    def open(cls, path: Path) -> LedgerStore:
        """Open an existing ledger: LedgerNotFound when there is no file, LedgerError when it is not one."""
        path = Path(path)
        if not path.is_file():
            raise LedgerNotFound(f"{path}: no ledger there (create one with `alertsvc ledger init`)")
        try:
            db = _connect(path)
        except sqlite3.Error as exc:
            raise _translate(path, exc) from exc
        try:
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            db.close()
            raise _translate(path, exc) from exc
        if rows.get("format_version") != FORMAT_VERSION or not isinstance(rows.get("patient"), str):
            db.close()
            raise LedgerError(f"{path}: not an alertsvc ledger of format version {FORMAT_VERSION}")
        return cls(path, db, rows["patient"])

    @classmethod
    def create(
        cls, path: Path, patient: str, *, entries: Sequence[StoredEntry], heads: Sequence[StoredHead]
    ) -> LedgerStore:
        """Create a new ledger file (mode 0600) holding ``entries`` and ``heads``, all or nothing.

        LedgerExists when anything is already at ``path``; on any failure the new file is removed.
        """
        path = Path(path)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise LedgerExists(f"{path}: a file is already there; refusing to overwrite it") from exc
        except OSError as exc:
            raise LedgerError(f"{path}: cannot create the ledger file ({exc.strerror})") from exc
        os.close(fd)
        try:
            db = _connect(path)
            try:
                db.execute("PRAGMA journal_mode = WAL")
                store = cls(path, db, patient)
                with store._transaction() as conn:
                    _create_tables(db)
                    db.table("meta").insert_all(
                        [
                            {"key": "patient", "value": patient},
                            {"key": "format_version", "value": FORMAT_VERSION},
                        ]
                    )
                    _insert(conn, entries, heads)
            except BaseException:
                db.close()
                raise
        except BaseException as exc:
            remove_ledger_files(path)
            if isinstance(exc, sqlite3.Error):
                raise _translate(path, exc) from exc
            raise
        return store

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translate(self.path, exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _translate(self.path, exc) from exc
            raise

    def _read(self, conn: sqlite3.Connection, *, latest_head_only: bool = False) -> StoredLog:
        entries = tuple(
            StoredEntry(
                str(tree), idx, str(entry_id), _blob(payload), _blob(signature), str(author), str(created)
            )
            for tree, idx, entry_id, payload, signature, author, created in conn.execute(
                "SELECT tree, idx, id, payload, signature, author, created FROM entries ORDER BY tree, idx"
            )
        )
        heads = tuple(
            StoredHead(seq, _blob(payload), _blob(signature))
            for seq, payload, signature in conn.execute(
                "SELECT seq, payload, signature FROM heads ORDER BY seq"
                + (" DESC LIMIT 1" if latest_head_only else "")
            )
        )
        return StoredLog(self.patient, entries, heads)

    def read(self) -> StoredLog:
        """The whole log as one consistent snapshot."""
        conn = self._db.conn
        try:
            conn.execute("BEGIN")
            try:
                return self._read(conn)
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _translate(self.path, exc) from exc

    def data_version(self) -> int:
        """A number that changes whenever another connection (any process) commits to this file
        (``PRAGMA data_version``): a cheap way to learn that the ledger may have changed."""
        try:
            row = self._db.conn.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error as exc:
            raise _translate(self.path, exc) from exc
        return int(row[0])

    @contextlib.contextmanager
    def writing(self) -> Iterator[StoreWriter]:
        """A write transaction: read the log, decide, add rows; committed only if the block succeeds."""
        with self._transaction() as conn:
            writer = StoreWriter(self._read(conn, latest_head_only=True))
            yield writer
            _insert(conn, writer.new_entries, writer.new_heads)


class StoreWriter:
    """What a write transaction sees (``log``: every entry, the latest head only) and collects (``add``)."""

    def __init__(self, log: StoredLog) -> None:
        self.log = log
        self.new_entries: list[StoredEntry] = []
        self.new_heads: list[StoredHead] = []

    def add(self, entries: Sequence[StoredEntry], head: StoredHead) -> None:
        self.new_entries.extend(entries)
        self.new_heads.append(head)


def _blob(value: object) -> bytes:
    """A stored payload or signature as bytes, even if someone rewrote the column with text or a number."""
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    return str(value).encode("utf-8", errors="surrogateescape")


def _create_tables(db: sqlite_utils.Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("entries").create(
        {
            "tree": str,
            "idx": int,
            "id": str,
            "payload": bytes,
            "signature": bytes,
            "author": str,
            "created": str,
        },
        pk=("tree", "idx"),
        not_null={"id", "payload", "signature", "author", "created"},
    )
    db.table("entries").create_index(["id"], unique=True)
    db.table("heads").create(
        {"seq": int, "payload": bytes, "signature": bytes}, pk="seq", not_null={"payload", "signature"}
    )


def _insert(conn: sqlite3.Connection, entries: Sequence[StoredEntry], heads: Sequence[StoredHead]) -> None:
    conn.executemany(
        "INSERT INTO entries (tree, idx, id, payload, signature, author, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(e.tree, e.index, e.id, e.payload, e.signature, e.author, e.created) for e in entries],
    )
    conn.executemany(
        "INSERT INTO heads (seq, payload, signature) VALUES (?, ?, ?)",
        [(h.seq, h.payload, h.signature) for h in heads],
    )


def remove_ledger_files(path: Path) -> None:
    """Remove a ledger file this process just created, with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()
