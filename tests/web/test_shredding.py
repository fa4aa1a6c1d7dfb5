"""Crypto-shredding: her values are sealed at rest before any purge; a purge destroys her data key first,
so a copy of the database taken before it reads nothing of hers afterwards; a kill between the key's
destruction and the rows' deletion is finished at restart; a version-2 database is sealed at start-up."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from alertsvc import admissions as adm
from alertsvc import failpoints, sealing, store
from alertsvc.access import issue_staff_token
from alertsvc.alerts import store as alert_store
from alertsvc.config import Settings
from alertsvc.errors import KeyShredded, SealingError
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service
from tests.postgres import on_postgres, reading, stored_bytes
from tests.web.processes import Site, patient_slice
from tests.web.sealed_db import unsealed_copy_in_place

NOW = datetime(2030, 1, 15, 13, 0, tzinfo=UTC)
WARD = "ward-s"
HERS = (b"zolpidem", b"sleepwalking", b"Ada Lovelace")
ZOLPIDEM = "39993"
"""Zolpidem's RxCUI: a drug named by a number, but named all the same."""


def files_of(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db_path, Path(str(db_path) + "-wal")) if p.exists())


def service_at(tmp_path: Path, clock: list[datetime]) -> Service:
    settings = Settings(
        db_path=tmp_path / "s.db", service_key=tmp_path / "s.key", wards=f"{WARD}=Europe/London"
    )
    return Service(settings, clock=lambda: clock[0])


async def admit_her(service: Service, tmp_path: Path) -> str:
    patient = Identity.generate()
    with Ledger.init(tmp_path / "p.ledger", patient, now=NOW) as ledger:
        grant = grants.new_grant(
            patient, grantee=service.identity.public_id, scope=("medications", "reactions"),
            not_before=NOW, hours=2, now=NOW,
        )  # fmt: skip
        entries = [
            actions.medication(patient, "zolpidem", now=NOW),
            actions.flagged_reaction(patient, "zolpidem", reaction="sleepwalking", now=NOW),
        ]
        ledger.append([*entries, grant], patient=patient, now=NOW)
        body = loads(make_slice(ledger.read(), grant.id, now=NOW), what="slice")
    staff = service.staff(
        issue_staff_token(service.identity, ward=WARD, name="a", role="admission", now=NOW, hours=1)
    )
    admitted = await service.admit({"slice": body, "ward": WARD, "bed": "1", "label": "Ada Lovelace"}, staff)
    return str(admitted["admission"])


def run(service: Service, scenario: Callable[[], object]) -> None:
    async def main() -> None:
        await service.start()
        try:
            result = scenario()
            if asyncio.iscoroutine(result):
                await result
        finally:
            await service.stop()

    asyncio.run(main())


def test_sealed_before_the_purge_and_unreadable_from_a_copy_after_it(tmp_path: Path) -> None:
    clock = [NOW]
    service = service_at(tmp_path, clock)
    backup = tmp_path / "backup.db"
    found: dict[str, object] = {}

    async def scenario() -> None:
        admission = await admit_her(service, tmp_path)
        found["admission"] = admission
        # The service reads her data back...
        [alert] = alert_store.active_alerts(service.db, admission=admission)
        assert "zolpidem" in json.dumps(alert.claims).lower()
        assert adm.get_admission(service.db, admission).label == "Ada Lovelace"  # type: ignore[union-attr]
        # ...and neither the database file nor its WAL holds any of it in clear.
        stored = files_of(tmp_path / "s.db")
        assert not [name for name in HERS if name in stored]
        # A backup taken now, as a hospital would.
        with closing(sqlite3.connect(backup)) as copy:
            service.db.connection.backup(copy)
        with closing(sqlite3.connect(backup)) as copy:
            found["sealed_slice"] = copy.execute(
                "SELECT slice FROM slices WHERE admission = ?", [admission]
            ).fetchone()[0]
        clock[0] = NOW + timedelta(hours=3)  # the grant has ended: the tick purges her
        await service.tick()
        db = service.db
        assert db.execute("SELECT count(*) FROM admission_keys").fetchone() == (0,)
        for table in ("slices", "alerts", "events", "doses"):
            assert db.execute(
                f"SELECT count(*) FROM {table} WHERE admission = ?", [admission]
            ).fetchone() == (0,)
        assert db.execute("SELECT status FROM admissions WHERE id = ?", [admission]).fetchone() == ("ended",)
        # Her values from the copy, opened with the live keys: her key is gone.
        with pytest.raises(KeyShredded, match=admission):
            sealing.unseal(db, admission, found["sealed_slice"])  # type: ignore[arg-type]

    run(service, scenario)
    admission = str(found["admission"])
    stored = files_of(tmp_path / "s.db")
    assert not [name for name in HERS if name in stored]
    kek = tmp_path / "hospital.kek"
    assert kek.stat().st_mode & 0o777 == 0o600

    # The backup still holds her key wrapped under the KEK: with that KEK it opens (why rotate-kek exists).
    copy_db = store.open_database(backup)
    sealing.attach(copy_db, sealing.Keyring(sealing.read_kek(kek)))
    assert b"alertsvc-slice" in (adm.slice_of(copy_db, admission) or (b"", []))[0]
    sealing.keyring(copy_db).forget(admission)
    copy_db.close()

    # After `alertsvc keys rotate-kek` on the live database, the old KEK is gone: the backup reads nothing.
    live = store.open_database(tmp_path / "s.db")
    before = kek.read_bytes()
    assert sealing.rotate_kek(live, kek) == 0  # no live admission: nothing to rewrap, but a new KEK
    live.close()
    assert kek.read_bytes() != before and not sealing.rotating(kek).exists()
    copy_db = store.open_database(backup)
    sealing.attach(copy_db, sealing.Keyring(sealing.read_kek(kek)))
    with pytest.raises(SealingError, match="does not open its data key"):
        adm.slice_of(copy_db, admission)
    copy_db.close()


def test_rotating_the_kek_keeps_live_admissions_readable(tmp_path: Path) -> None:
    clock = [NOW]
    service = service_at(tmp_path, clock)
    found: dict[str, str] = {}

    async def first() -> None:
        found["admission"] = await admit_her(service, tmp_path)

    run(service, first)
    live = store.open_database(tmp_path / "s.db")
    assert sealing.rotate_kek(live, tmp_path / "hospital.kek") == 1
    live.close()
    again = service_at(tmp_path, clock)

    def read() -> None:
        [alert] = alert_store.active_alerts(again.db, admission=found["admission"])
        assert "zolpidem" in json.dumps(alert.claims).lower()

    run(again, read)


def test_a_kek_file_is_0600_refused_when_others_can_read_it_and_never_printed(tmp_path: Path) -> None:
    path = tmp_path / "hospital.kek"
    kek = sealing.load_or_create_kek(path)
    assert path.stat().st_mode & 0o777 == 0o600
    secret = path.read_text().split()[1]
    assert secret not in repr(kek) and secret not in str(sealing.Keyring(kek))
    with pytest.raises(SealingError, match="already there"):
        sealing.write_kek(path, b"\0" * 32)
    path.chmod(0o644)
    with pytest.raises(SealingError, match="chmod 600"):
        sealing.read_kek(path)


def test_a_value_sealed_for_one_admission_does_not_open_as_another_s(tmp_path: Path) -> None:
    db = store.open_database(tmp_path / "s.db")
    sealing.attach(db, sealing.Keyring(sealing.load_or_create_kek(tmp_path / "hospital.kek")))
    with store.write(db):
        for admission in ("adm-1", "adm-2"):
            sealing.keyring(db).create(db, admission, now=NOW)
    sealed = sealing.seal(db, "adm-1", "warfarin 5 mg")
    assert b"warfarin" not in sealed and sealing.seal(db, "adm-1", "warfarin 5 mg") != sealed  # random nonce
    assert sealing.unseal_text(db, "adm-1", sealed) == "warfarin 5 mg"
    with pytest.raises(SealingError, match="adm-2"):
        sealing.unseal(db, "adm-2", sealed)
    with pytest.raises(SealingError, match="adm-1"):
        sealing.unseal(db, "adm-1", sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with store.write(db):
        sealing.keyring(db).destroy(db, "adm-1")
    with pytest.raises(KeyShredded, match="adm-1"):
        sealing.unseal(db, "adm-1", sealed)
    db.close()


def test_a_version_2_database_is_sealed_at_start_up(tmp_path: Path) -> None:
    clock = [NOW]
    service = service_at(tmp_path, clock)
    found: dict[str, str] = {}

    async def first() -> None:
        found["admission"] = await admit_her(service, tmp_path)
        [alert] = alert_store.active_alerts(service.db, admission=found["admission"])
        found["alert"] = alert.id

    run(service, first)
    unsealed_copy_in_place(tmp_path / "s.db", tmp_path / "hospital.kek", version=2)
    with closing(sqlite3.connect(tmp_path / "s.db")) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        [identity] = db.execute("SELECT dedupe FROM alerts").fetchone()
    assert identity.endswith(f"|{ZOLPIDEM}")  # as releases before version 4 named it, by its RxCUI
    assert b"zolpidem" in files_of(tmp_path / "s.db")  # as the release before sealing stored it

    upgraded = service_at(tmp_path, clock)

    def read() -> None:
        db = upgraded.db
        assert store.schema_version(db) == store.SCHEMA_VERSION == 4
        assert db.execute("SELECT count(*) FROM admission_keys").fetchone() == (1,)
        [alert] = alert_store.active_alerts(db, admission=found["admission"])
        assert alert.id == found["alert"]  # the same alert, found again under its tagged identity
        assert (
            alert.dedupe.split("|")[:2] == [found["admission"], "reaction"] and ZOLPIDEM not in alert.dedupe
        )
        assert "zolpidem" in json.dumps(alert.claims).lower()
        assert adm.get_admission(db, found["admission"]).label == "Ada Lovelace"  # type: ignore[union-attr]
        assert not upgraded.checkpoint_owed

    run(upgraded, read)
    assert not [name for name in HERS if name in files_of(tmp_path / "s.db")]


def test_a_kill_between_the_key_and_the_rows_is_finished_at_restart(tmp_path: Path) -> None:
    site = Site.make(tmp_path, wards=f"{WARD}=Europe/London")
    identity = Identity.generate()
    identity.save(tmp_path / "service.key")
    slice_doc = patient_slice(site, "p", identity.public_id, "warfarin", flag=("ibuprofen", "wheeze"))
    now = datetime.now(UTC)

    def token(role: str) -> dict[str, str]:
        issued = issue_staff_token(identity, ward=WARD, name="Nia", role=role, now=now, hours=1)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {issued}"}

    with site.serving(ALERTSVC_FAILPOINTS=failpoints.KEY_DESTROYED_BEFORE_PURGE) as process:
        admitted = httpx.post(
            site.url + "/admissions",
            json={"slice": slice_doc, "ward": WARD, "bed": "1"},
            headers=token("admission"),
            timeout=30,
        )
        assert admitted.status_code == 201, admitted.text
        admission = admitted.json()["admission"]
        with pytest.raises(httpx.TransportError):
            httpx.post(
                f"{site.url}/admissions/{admission}/discharge",
                json={"clinician": {"name": "Dr Okafor", "role": "physician"}, "medications": []},
                headers=token("nurse"),
                timeout=30,
            )
        assert process.wait(20) < 0  # killed at the failpoint
    with reading(site.db_path) as db:
        assert db.execute("SELECT count(*) FROM admission_keys").fetchone() == (0,)
        assert db.execute("SELECT status FROM admissions WHERE id = ?", [admission]).fetchone() == ("active",)
        assert db.execute("SELECT count(*) FROM slices WHERE admission = ?", [admission]).fetchone() == (1,)
        assert db.execute("SELECT work FROM owed WHERE work LIKE 'purge %'").fetchall() == [
            (f"purge {admission} discharged",)
        ]
    assert b"warfarin" not in stored_bytes(site.db_path)  # the rows left are ciphertext without a key

    with site.serving():
        nurse = token("nurse")
        listed = httpx.get(f"{site.url}/wards/{WARD}/alerts", headers=nurse, timeout=30)
        assert listed.status_code == 200 and listed.json()["alerts"] == []
        with reading(site.db_path) as db:
            assert db.execute(
                "SELECT status, end_reason FROM admissions WHERE id = ?", [admission]
            ).fetchone() == (
                "ended",
                "discharged",
            )
            for table in ("slices", "alerts", "events", "doses"):
                rows = db.execute(f"SELECT count(*) FROM {table} WHERE admission = ?", [admission]).fetchone()
                assert rows == (0,), table
            assert db.execute("SELECT count(*) FROM owed WHERE work LIKE 'purge %'").fetchone() == (0,)
            if not on_postgres():
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
