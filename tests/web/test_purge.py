"""Purge means gone from the database file and its WAL. A reader that blocks the WAL checkpoint does not
stall the service: the checkpoint is owed, retried at the next tick, and then the bytes are gone."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alertsvc.access import issue_staff_token
from alertsvc.alerts import store as alert_store
from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service

NOW = datetime(2030, 1, 15, 13, 0, tzinfo=UTC)
WARD = "ward-p"


def test_a_blocked_checkpoint_is_owed_then_done_and_the_bytes_are_gone(tmp_path: Path) -> None:
    db_path = tmp_path / "s.db"
    clock = [NOW]
    service = Service(
        Settings(db_path=db_path, service_key=tmp_path / "s.key", wards=f"{WARD}=Europe/London"),
        clock=lambda: clock[0],
    )

    async def scenario() -> tuple[bool, bool, list[str]]:
        await service.start()
        try:
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
            await service.admit({"slice": body, "ward": WARD, "bed": "1"}, staff)
            stored = b"".join(p.read_bytes() for p in (db_path, Path(str(db_path) + "-wal")) if p.exists())
            assert alert_store.active_alerts(service.db)  # the service reads its alert (naming the drug)
            assert (
                b"zolpidem" not in stored and b"sleepwalking" not in stored
            )  # sealed, even before the purge
            with closing(sqlite3.connect(db_path)) as reader:
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM alerts").fetchone()  # holds a snapshot: blocks TRUNCATE
                clock[0] = NOW + timedelta(hours=3)
                await service.tick()
                owed_while_blocked = service.checkpoint_owed
                jobs = list(service.planned)
                reader.execute("COMMIT")
            await service.tick()
            return owed_while_blocked, service.checkpoint_owed, jobs
        finally:
            await service.stop()

    owed_while_blocked, owed_after, jobs = asyncio.run(scenario())
    assert owed_while_blocked and "checkpoint" in jobs
    assert not owed_after
    wal = Path(str(db_path) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    for path in (db_path, wal):
        if path.exists():
            data = path.read_bytes()
            assert b"zolpidem" not in data and b"sleepwalking" not in data
