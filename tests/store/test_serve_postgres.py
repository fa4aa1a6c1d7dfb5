"""The real ``alertsvc serve --database-url postgresql://...``: processes sharing one PostgreSQL schema."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
import pytest

from alertsvc import store
from tests.postgres import drop_schema, fresh_schema, schema_url
from tests.web.conftest import REPO
from tests.web.processes import Site, wait_until_up

WARD = "icu"


@pytest.fixture
def schema() -> Iterator[str]:
    name = fresh_schema()
    yield name
    drop_schema(name)


def test_two_processes_serve_one_postgres_database_and_share_what_it_holds(
    tmp_path: Path, schema: str
) -> None:
    sites = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        site = Site.make(tmp_path / name, wards=f"{WARD}=Europe/London", key=tmp_path / "service.key")
        site.env["ALERTSVC_DATABASE_URL"] = schema_url(schema)
        sites.append(site)
    with ExitStack() as running:
        for site in sites:  # both start at once: the tables are made once, under the write lock
            running.enter_context(site.serving())
        for site in sites:
            assert httpx.get(site.url + "/healthz", timeout=5).status_code == 200
    assert not (tmp_path / "one" / "service.db").exists()  # nothing went to a SQLite file
    with psycopg.connect(schema_url(schema)) as conn:
        wards = conn.execute("SELECT id FROM wards").fetchall()
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert wards == [(WARD,)] and version == (str(store.SCHEMA_VERSION),)


def test_serve_names_the_database_without_its_password(tmp_path: Path, schema: str) -> None:
    site = Site.make(tmp_path, wards=WARD)
    url = schema_url(schema).replace("postgresql://postgres@", "postgresql://postgres:s3cret-pw@")
    process = subprocess.Popen(
        [sys.executable, "-m", "alertsvc", "serve"],
        env=site.env | {"ALERTSVC_DATABASE_URL": url, "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_up(site.url, process)  # trust authentication: the password is not needed, only shown
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert b"postgresql://postgres@127.0.0.1" in out
    assert b"s3cret-pw" not in out + err
