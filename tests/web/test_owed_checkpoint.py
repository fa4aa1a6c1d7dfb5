"""An owed purge checkpoint survives a crash: a purge whose WAL checkpoint a reader blocked, then SIGKILL,
then a restart, and the drug and reaction are gone from the database file and its WAL as soon as the
service is up again. The real ``alertsvc serve`` runs in its own process; the files are scanned byte by
byte."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.postgres import SQLITE_ONLY, on_postgres
from tests.web.processes import Site, cli, killed, patient_slice

WARD = "ward-c"
SECRETS = (b"zolpidem", b"sleepwalking")


def held_in(site: Site) -> dict[str, list[str]]:
    """Which of SECRETS each of the database's files holds."""
    files = [site.db_path, Path(f"{site.db_path}-wal")]
    return {p.name: [s.decode() for s in SECRETS if s in p.read_bytes().lower()] for p in files if p.exists()}


@pytest.mark.skipif(on_postgres(), reason=SQLITE_ONLY)
def test_an_owed_checkpoint_is_finished_at_start_up_after_a_kill(tmp_path: Path) -> None:
    """Before the fix the owed checkpoint lived only in memory: after the kill and restart the -wal still
    held the drug and the reaction."""
    site = Site.make(tmp_path, wards=f"{WARD}=Europe/London")
    admission_token = site.cli("staff", "token", "--ward", WARD, "--name", "Ada", "--role", "admission")
    nurse = {"Authorization": "Bearer " + site.cli("staff", "token", "--ward", WARD, "--name", "Nia")}
    service_id = site.cli("keys", "show", str(tmp_path / "service.key"))
    slice_doc = patient_slice(site, "patient", service_id, "zolpidem", flag=("zolpidem", "sleepwalking"))
    home = tmp_path / "patient"

    with (
        closing(sqlite3.connect(site.db_path, isolation_level=None)) as reader,
        site.serving() as process,
    ):
        admitted = httpx.post(
            site.url + "/admissions",
            json={"slice": slice_doc, "ward": WARD, "bed": "3"},
            headers={"Authorization": f"Bearer {admission_token}"},
            timeout=30,
        )
        assert admitted.status_code == 201, admitted.text
        admission, head = admitted.json()["admission"], admitted.json()["head"]
        reader.execute("BEGIN")
        reader.execute(
            "SELECT count(*) FROM alerts"
        ).fetchone()  # a snapshot: blocks wal_checkpoint(TRUNCATE)
        cli(site.env, home, "ledger", "revoke", "p.ledger", "--key", "patient.key", "grant.json")
        cli(site.env, home, "ledger", "slice", "p.ledger", "--grant", "grant.json", "--since", str(head),
            "--out", "revocation.json")  # fmt: skip
        revocation = json.loads((home / "revocation.json").read_text())
        ended = httpx.post(
            f"{site.url}/admissions/{admission}/entries", json=revocation, headers=nurse, timeout=30
        )
        assert ended.status_code == 200 and ended.json()["status"] == "ended", ended.text
        # The checkpoint is owed; the -wal holds her rows' old pages, but sealed (crypto-shredding): in clear,
        # neither file has held her drug or reaction at any time (before sealing: both, in the -wal).
        assert held_in(site)["service.db-wal"] == []
        with closing(sqlite3.connect(f"file:{site.db_path}?mode=ro", uri=True)) as now_:
            assert now_.execute("SELECT work FROM owed").fetchall() == [("wal-checkpoint",)]
        killed(process)
        reader.execute(
            "COMMIT"
        )  # the reader lets go; its connection stays open (closing it would checkpoint)

        with site.serving():
            held = held_in(site)
            assert held["service.db"] == [] and held.get("service.db-wal", []) == [], held
            listed = httpx.get(f"{site.url}/wards/{WARD}/alerts", headers=nurse, timeout=10)
            assert listed.status_code == 200 and listed.json()["alerts"] == []
