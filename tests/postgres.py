"""Fresh PostgreSQL schemas for tests, on ``ALERTSVC_TEST_DATABASE_URL``.

Each test store gets a schema of its own (``t_<random>``), made here and named in the URL's
``search_path``, so tests never see each other's rows and need no database of their own. ``make test``
starts a server when none answers (the Makefile's ``postgres`` target).

``ALERTSVC_TEST_ENGINE=postgres`` runs the service tests (those starting the service through
``tests.web.conftest.serve`` or using the ``settings`` fixture) on PostgreSQL instead of a SQLite file:
the service's ``db_path`` is then only the key of its schema, so a test that restarts the service on
the same path finds its data again. The schemas are dropped when the test session ends.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from contextlib import AbstractContextManager, closing
from pathlib import Path
from typing import Any

import psycopg

from alertsvc import store

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("ALERTSVC_TEST_DATABASE_URL", DEFAULT_URL)


def on_postgres() -> bool:
    """The service tests run on PostgreSQL (``ALERTSVC_TEST_ENGINE=postgres``)."""
    return os.environ.get("ALERTSVC_TEST_ENGINE", "sqlite") == "postgres"


SQLITE_ONLY = (
    "about SQLite's own file (its WAL, its checkpoints, an older release's file): PostgreSQL's files \
and WAL are searched by tests/store/test_purge_postgres.py"
)
"""Why a service test is left out of ``ALERTSVC_TEST_ENGINE=postgres``."""

_made: list[str] = []
_by_path: dict[Path, str] = {}


def fresh_schema() -> str:
    """Make an empty schema; its name."""
    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    _made.append(name)
    return name


def schema_url(schema: str) -> str:
    """The test server's URL with ``search_path`` set to ``schema`` (every table is made there)."""
    return store.with_schema(server_url(), schema)


def drop_schema(schema: str) -> None:
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    if schema in _made:
        _made.remove(schema)


def database_url_for(db_path: Path) -> str | None:
    """Under ``ALERTSVC_TEST_ENGINE=postgres``, the URL of the schema standing for ``db_path``; else None."""
    if not on_postgres():
        return None
    if db_path not in _by_path:
        _by_path[db_path] = fresh_schema()
    return schema_url(_by_path[db_path])


def drop_all() -> None:
    """Drop every schema this test session made."""
    for schema in list(_made):
        drop_schema(schema)
    _by_path.clear()


def open_reader(db_path: Path) -> Any:
    """A second connection to the service's database, for a test to look at what was stored: SQLite's file
    read-only, or (``ALERTSVC_TEST_ENGINE=postgres``) the test's schema. Both have ``execute`` and ``close``;
    the SQL must be the portable kind (no ``sqlite_master`` or ``PRAGMA``)."""
    url = database_url_for(db_path)
    if url is None:
        return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    return store.open_database(db_path, url)


def stored_bytes(db_path: Path) -> bytes:
    """Everything the service's database holds, to search for words in clear: SQLite's file and its
    ``-wal``; under ``ALERTSVC_TEST_ENGINE=postgres`` every value of every row of every table of the test's
    schema (a ``bytea`` as its raw bytes, anything else as text). The PostgreSQL data files and WAL are
    searched by ``tests/store/test_purge_postgres.py``."""
    url = database_url_for(db_path)
    if url is None:
        return b"".join(p.read_bytes() for p in (db_path, Path(f"{db_path}-wal")) if p.exists())
    schema = _by_path[db_path]
    found: list[bytes] = []
    with psycopg.connect(server_url(), autocommit=True) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema]).fetchall()
        for (table,) in tables:
            for row in conn.execute(f'SELECT * FROM {schema}."{table}"').fetchall():
                found += [v if isinstance(v, bytes) else str(v).encode() for v in row if v is not None]
    return b"\n".join(found)


def reading(db_path: Path) -> AbstractContextManager[Any]:
    """``open_reader`` as a ``with`` block that closes it."""
    return closing(open_reader(db_path))
