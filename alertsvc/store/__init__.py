"""The hospital service's store: one ``Database`` seam, on SQLite (the default) or PostgreSQL, and
beside it on PostgreSQL the cluster primitives (``lease``: the timer lease; ``fanout``: cross-process
fan-out of the outbox).

``open_database(db_path, database_url)`` picks the engine: no URL opens the SQLite file at ``db_path``
(``store.sqlite``), a ``postgresql://`` URL a pool of connections to that server (``store.postgres``).
The rest of the service writes one SQL for both (see ``store.engine``) and wraps every write in
``store.write(db)``. This package may import only ``alertsvc.errors``, ``alertsvc.config`` and libraries.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from alertsvc.errors import ConfigError
from alertsvc.store.engine import Database, Dialect, Rows, write
from alertsvc.store.meta import (
    CHECKPOINT,
    LIVE_GRANT_INDEX,
    SCHEMA_VERSION,
    finish_owed_checkpoint,
    is_owed,
    owe,
    schema_version,
    set_schema_version,
)

__all__ = [
    "CHECKPOINT",
    "LIVE_GRANT_INDEX",
    "SCHEMA_VERSION",
    "Database",
    "Dialect",
    "Rows",
    "finish_owed_checkpoint",
    "is_owed",
    "open_database",
    "owe",
    "schema_version",
    "set_schema_version",
    "with_schema",
    "write",
]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def with_schema(server_url: str, schema: str) -> str:
    """``server_url`` with the connection's ``search_path`` set to ``schema``: every table is made and read
    there (a test's, the bench's, the cluster demo's schema of one server)."""
    joiner = "&" if "?" in server_url else "?"
    return f"{server_url}{joiner}options={quote(f'-csearch_path={schema}')}"


def open_database(db_path: Path, database_url: str | None = None) -> Database:
    """The service database: PostgreSQL at ``database_url`` if one is given, else SQLite at ``db_path``."""
    if not database_url:
        from alertsvc.store.sqlite import open_sqlite

        return open_sqlite(db_path)
    if not database_url.startswith(POSTGRES_SCHEMES):
        raise ConfigError("database_url must start with postgresql:// (or be empty for SQLite)")
    from alertsvc.store.postgres import open_postgres  # psycopg is imported only when it is used

    return open_postgres(database_url)
