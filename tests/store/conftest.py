"""One store test suite, run on both engines: a SQLite file in ``tmp_path`` and a fresh PostgreSQL schema."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alertsvc import sealing, store
from tests.postgres import drop_schema, fresh_schema, schema_url

Opener = Callable[[], store.Database]
"""Opens the test's store again (a second connection, or after closing it: a restart)."""


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    opened: list[store.Database] = []
    schema = fresh_schema() if request.param == "postgres" else None
    url = schema_url(schema) if schema else None

    def opener() -> store.Database:
        db = store.open_database(tmp_path / "store.db", url)
        sealing.attach(db, sealing.Keyring(sealing.load_or_create_kek(tmp_path / "hospital.kek")))
        if threading.current_thread() is threading.main_thread():
            opened.append(db)  # closed after the test; one opened on another thread is closed there
        if db.dialect == "sqlite":  # what the service's start-up adds to a new file (migrations.upgrade)
            with store.write(db):
                db.execute(store.LIVE_GRANT_INDEX)
                store.set_schema_version(db, store.SCHEMA_VERSION)
        return db

    yield opener
    for db in opened:
        db.close()
    if schema:
        drop_schema(schema)


@pytest.fixture
def db(open_store: Opener) -> store.Database:
    return open_store()
