"""Purge on PostgreSQL holds by crypto-shredding: her key is gone, and neither the table data, the files
of the database nor the WAL hold her words in clear, before the purge or after it.

PostgreSQL's WAL is not the client's to empty, so what protects her there is that her values were only
ever written sealed. The words searched for carry a random token (her label, her reaction), so a hit can
only come from this test; a clear value of hers (the admission id) is searched for too, and must be found:
that shows the scan reads the right bytes. ``pg_waldump`` prints records, not their data, so it is used
to show the WAL range searched holds this test's inserts; the raw segments are what is searched.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from alertsvc.access import issue_staff_token
from alertsvc.alerts import store as alert_store
from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service
from tests.postgres import drop_schema, fresh_schema, schema_url, server_url

NOW = datetime(2030, 1, 15, 13, 0, tzinfo=UTC)
WARD = "ward-p"


def her_slice(service: Service, directory: Path, reaction: str, unknown: str) -> dict[str, Any]:
    patient = Identity.generate()
    with Ledger.init(directory / "p.ledger", patient, now=NOW) as ledger:
        grant = grants.new_grant(
            patient, grantee=service.identity.public_id, scope=("medications", "reactions"),
            not_before=NOW, hours=2, now=NOW,
        )  # fmt: skip
        entries = [
            actions.medication(patient, "zolpidem", now=NOW),
            actions.flagged_reaction(patient, "zolpidem", reaction=reaction, now=NOW),
            actions.medication(patient, unknown, now=NOW),  # no RxCUI: named in alerts as she wrote it
        ]
        ledger.append([*entries, grant], patient=patient, now=NOW)
        body: dict[str, Any] = loads(make_slice(ledger.read(), grant.id, now=NOW), what="slice")
    return body


def clear_identities(blob: bytes, admission: str) -> list[bytes]:
    """Her alert identities in ``blob`` that name what they are about in clear (an RxCUI, a drug's name,
    a dose) rather than as a keyed hash (``sealing.tag``): ``<admission>|<kind>|`` then anything but ``#``."""
    pattern = re.escape(admission.encode()) + rb"\|[a-z-]+\|[^#]"
    return [m.group(0) for m in re.finditer(pattern, blob)]


def rows_of(conn: psycopg.Connection[Any], schema: str) -> bytes:
    """Every value of every table of the schema, text and bytes, as one blob to search."""
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
    ).fetchall()
    found = bytearray()
    for (table,) in tables:
        for row in conn.execute(
            sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        ):
            for value in row:
                found += value if isinstance(value, bytes) else str(value).encode()
                found += b"\0"
    return bytes(found)


def files_under(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def wal_between(conn: psycopg.Connection[Any], first: str, last: str) -> tuple[list[Path], Path]:
    """The WAL segment files from the one holding LSN ``first`` to the one holding ``last``."""
    data = Path(conn.execute("SHOW data_directory").fetchone()[0])  # type: ignore[index]
    names = conn.execute("SELECT pg_walfile_name(%s), pg_walfile_name(%s)", [first, last]).fetchone()
    assert names is not None
    wal = data / "pg_wal"
    found = [p for p in sorted(wal.iterdir()) if names[0] <= p.name <= names[1] and len(p.name) == 24]
    assert [p.name for p in found[:1]] == [names[0]], f"WAL segment {names[0]} was recycled: not searched"
    return found, data


@contextlib.contextmanager
def wal_kept(conn: psycopg.Connection[Any], name: str) -> Iterator[None]:
    """A physical replication slot, reserving the WAL from now on: no checkpoint recycles a segment of
    the range searched (the server's other work may fill a segment while the test runs)."""
    conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", [name])
    try:
        yield
    finally:
        conn.execute("SELECT pg_drop_replication_slot(%s)", [name])


def test_after_a_purge_on_postgres_her_key_is_gone_and_no_file_or_wal_holds_her_words(tmp_path: Path) -> None:
    token = secrets.token_hex(8)
    label, reaction, unknown = f"Ada {token}", f"sleepwalking-{token}", f"herbal{token}"
    hers = (label.encode(), reaction.encode(), unknown.encode())
    schema = fresh_schema()
    clock = [NOW]
    settings = Settings(
        db_path=tmp_path / "s.db", service_key=tmp_path / "s.key", wards=f"{WARD}=UTC",
        database_url=schema_url(schema),
    )  # fmt: skip
    service = Service(settings, clock=lambda: clock[0])
    conn = psycopg.connect(server_url(), autocommit=True)
    try:
        with wal_kept(conn, f"alertsvc_purge_{token}"):
            first_lsn = str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]
            found: dict[str, Any] = {}

            async def scenario() -> None:
                await service.start()
                try:
                    staff = service.staff(
                        issue_staff_token(
                            service.identity, ward=WARD, name="a", role="admission", now=NOW, hours=1
                        )
                    )
                    body = {
                        "slice": her_slice(service, tmp_path, reaction, unknown),
                        "ward": WARD,
                        "bed": "1",
                        "label": label,
                    }
                    admission = str((await service.admit(body, staff))["admission"])
                    found["admission"] = admission
                    alerts = alert_store.active_alerts(service.db, admission=admission)
                    found["alerts"] = [
                        a.claims for a in alerts
                    ]  # the service reads her words back, with her key
                    found["identities"] = [a.dedupe for a in alerts]
                    conn.execute("CHECKPOINT")  # her pages into the table files, not only the WAL
                    found["before"] = rows_of(conn, schema)
                    clock[0] = NOW + timedelta(hours=3)  # her grant has ended: the tick purges her
                    await service.tick()
                finally:
                    await service.stop()

            asyncio.run(scenario())
            admission = found["admission"]
            assert reaction in str(found["alerts"]) and unknown in str(found["alerts"])
            kinds = sorted(identity.split("|")[1] for identity in found["identities"])
            assert kinds == ["reaction", "unchecked"]  # found by kind, her drugs named only by a keyed hash
            assert admission.encode() in found["before"]  # the scan sees what is stored in clear...
            assert not [
                word for word in hers if word in found["before"]
            ]  # ...and none of hers, before the purge
            assert not clear_identities(found["before"], admission)

            conn.execute("CHECKPOINT")
            last_lsn = str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]
            assert conn.execute(
                sql.SQL("SELECT count(*) FROM {}.admission_keys WHERE admission = %s").format(
                    sql.Identifier(schema)
                ),
                [admission],
            ).fetchone() == (0,)
            after = rows_of(conn, schema)
            assert admission.encode() in after  # the admission row stays (ended), ids and times in clear
            assert not [word for word in hers if word in after]
            assert not clear_identities(after, admission)

            segments, data = wal_between(conn, first_lsn, last_lsn)
            assert segments, "no WAL segment found for the test's range"
            wal = b"".join(p.read_bytes() for p in segments)
            assert admission.encode() in wal  # the WAL searched did record her admission...
            assert not [word for word in hers if word in wal]  # ...and none of her words in clear
            assert not clear_identities(wal, admission)
            dboid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()
            assert dboid is not None
            stored = files_under(data / "base" / str(dboid[0]))
            assert admission.encode() in stored
            assert not [word for word in hers if word in stored]
            assert not clear_identities(stored, admission)

            bindir = conn.execute("SELECT setting FROM pg_config WHERE name = 'BINDIR'").fetchone()
            assert bindir is not None
            dumped = subprocess.run(
                [str(Path(bindir[0]) / "pg_waldump"), "--path", str(data / "pg_wal"),
                 "--start", first_lsn, "--end", last_lsn],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert "INSERT" in dumped.stdout and "DELETE" in dumped.stdout, dumped.stderr[-500:]
    finally:
        conn.close()
        drop_schema(schema)
