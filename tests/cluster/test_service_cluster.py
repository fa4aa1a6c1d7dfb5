"""The real ``alertsvc serve``, several processes on one PostgreSQL schema: fan-out across processes and
failover of the timers after ``kill -9``.

Each process is a Site of its own (its own port) sharing the hospital's service key, its key-encryption
key (beside the service key) and the database URL, as a hospital's processes behind a load balancer do.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from alertsvc.access import Role, issue_staff_token
from alertsvc.config import Settings
from alertsvc.knowledge import kb
from alertsvc.ledger.identity import Identity
from tests.postgres import drop_schema, fresh_schema, schema_url, server_url
from tests.web.processes import Site, killed, patient_slice

WARD = "ward-c"
GRACE_ZERO = {"ALERTSVC_OVERDUE_GRACE_MINUTES": "0"}
"""A dose falls overdue at its due time: the timer that raises its alert fires then."""


@pytest.fixture
def database(database_url: str) -> Iterator[tuple[str, str]]:
    """A fresh schema of the test server: (its URL, its name)."""
    schema = fresh_schema()
    try:
        yield schema_url(schema), schema
    finally:
        drop_schema(schema)


def site(tmp_path: Path, name: str, url: str, key: Path) -> Site:
    directory = tmp_path / name
    directory.mkdir()
    made = Site.make(directory, wards=f"{WARD}=UTC", key=key)
    return Site(made.directory, made.env | {"ALERTSVC_DATABASE_URL": url}, made.url)


def hospital(tmp_path: Path, url: str, names: str) -> tuple[Identity, list[Site]]:
    """The hospital's service key, saved in ``tmp_path``, and one process's Site per letter of ``names``,
    each holding that key and sharing the database at ``url``."""
    identity = Identity.generate()
    identity.save(tmp_path / "service.key")
    return identity, [site(tmp_path, name, url, tmp_path / "service.key") for name in names]


def token(identity: Identity, role: Role = "nurse") -> str:
    return issue_staff_token(identity, ward=WARD, name=f"{role}-1", role=role, now=datetime.now(UTC), hours=2)


def health(process_site: Site) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(process_site.url + "/healthz", timeout=5).json()
    return found


def claims_of(jws: str) -> dict[str, Any]:
    payload = jws.split(".")[1]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return value


class Stream:
    """A dashboard's event stream on one process, read in a thread until it ends or is closed."""

    def __init__(self, url: str, bearer: str, last_event_id: int = 0) -> None:
        self.events: list[tuple[int, str, dict[str, Any]]] = []
        self.opened = threading.Event()
        self.ended = threading.Event()
        self._stop = False
        self._args = (url, bearer, last_event_id)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.opened.wait(10), "the stream did not open"

    def _read(self) -> None:
        url, bearer, last_event_id = self._args
        headers = {"Authorization": f"Bearer {bearer}", "Last-Event-ID": str(last_event_id)}
        current: dict[str, str] = {}
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(5, read=60)) as client,
                client.stream("GET", f"{url}/wards/{WARD}/alerts/stream", headers=headers) as response,
                closing(response.iter_lines()) as lines,
            ):
                assert response.status_code == 200
                self.opened.set()
                for line in lines:
                    if self._stop:
                        return
                    if not line:
                        if "id" in current and "data" in current:
                            self.events.append(
                                (int(current["id"]), current["event"], json.loads(current["data"]))
                            )
                        current = {}
                        continue
                    name, _, value = line.partition(":")
                    current[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass  # the process died: the dashboard reconnects elsewhere
        finally:
            self.opened.set()
            self.ended.set()

    def close(self) -> None:
        self._stop = True

    @property
    def last_id(self) -> int:
        return self.events[-1][0] if self.events else 0

    def wait_for(self, seq: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.last_id < seq:
            assert time.monotonic() < deadline, f"the stream stopped at {self.last_id}, short of {seq}"
            time.sleep(0.05)


def outbox_seqs(schema: str) -> list[int]:
    with psycopg.connect(server_url()) as conn:
        rows = conn.execute(
            f"SELECT seq FROM {schema}.events WHERE ward = %s ORDER BY seq", [WARD]
        ).fetchall()
    return [int(row[0]) for row in rows]


def overdue_alerts_per_dose(schema: str) -> Counter[str]:
    with psycopg.connect(server_url()) as conn:
        rows = conn.execute(f"SELECT dose FROM {schema}.alerts WHERE dedupe LIKE '%%|overdue|%%'").fetchall()
    return Counter(str(row[0]) for row in rows)


def admit(process_site: Site, identity: Identity, *drugs: str) -> str:
    body = {
        "slice": patient_slice(process_site, "patient", identity.public_id, *drugs),
        "ward": WARD,
        "bed": "1",
    }
    response = httpx.post(
        process_site.url + "/admissions",
        json=body,
        headers={"Authorization": f"Bearer {token(identity, 'admission')}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    admission: str = response.json()["admission"]
    return admission


def schedule(process_site: Site, identity: Identity, admission: str, due: datetime, *drugs: str) -> list[str]:
    items = [{"admission": admission, "drug": drug, "due": due.isoformat()} for drug in drugs]
    response = httpx.post(
        f"{process_site.url}/wards/{WARD}/schedule",
        json={"administrations": items},
        headers={"Authorization": f"Bearer {token(identity)}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return [dose["id"] for dose in response.json()["administrations"]]


def test_events_written_on_one_process_reach_streams_on_the_others_in_order_once(
    tmp_path: Path, database: tuple[str, str]
) -> None:
    url, schema = database
    identity, (a, b, c) = hospital(tmp_path, url, "abc")
    with ExitStack() as running:
        for process_site in (a, b, c):
            running.enter_context(process_site.serving())
        holders = [health(s)["cluster"]["timers"] for s in (a, b, c)]
        assert holders.count(True) == 1, holders  # one process fires the timers
        on_b, on_c = Stream(b.url, token(identity)), Stream(c.url, token(identity))
        admission = admit(a, identity, "warfarin", "aspirin", "ibuprofen")  # interactions: alerts on A
        schedule(c, identity, admission, datetime.now(UTC) + timedelta(hours=1), "warfarin", "aspirin")
        written = outbox_seqs(schema)
        assert len(written) >= 3, written
        for stream in (on_b, on_c):
            stream.wait_for(written[-1])
            stream.close()
    for stream in (on_b, on_c):
        assert [seq for seq, _, _ in stream.events] == written  # every event, in order, exactly once
    assert any(kind == "alert" for _, kind, _ in on_b.events)


def test_kill_9_of_the_timer_holder_the_other_fires_each_due_dose_once_and_streams_miss_nothing(
    tmp_path: Path, database: tuple[str, str]
) -> None:
    url, schema = database
    identity, (a, b) = hospital(tmp_path, url, "ab")
    with a.serving(**GRACE_ZERO) as first, b.serving(**GRACE_ZERO):
        assert health(a)["cluster"]["timers"] and not health(b)["cluster"]["timers"]
        dashboard = Stream(a.url, token(identity))
        admission = admit(a, identity, "warfarin", "aspirin")
        due = (datetime.now(UTC) + timedelta(seconds=15)).replace(microsecond=0)
        doses = schedule(a, identity, admission, due, "warfarin", "aspirin", "paracetamol")
        assert overdue_alerts_per_dose(schema) == Counter()  # not yet due

        killed(first)  # the lease holder, and the process the dashboard was connected to
        died = time.monotonic()
        assert dashboard.ended.wait(10), "the stream to the dead process did not end"
        while not health(b)["cluster"]["timers"]:
            assert time.monotonic() - died < 10, "the other process did not take the timer lease in 10 s"
            time.sleep(0.05)
        took_over = time.monotonic() - died
        resumed = Stream(b.url, token(identity), last_event_id=dashboard.last_id)  # the dashboard reconnects

        deadline = time.monotonic() + 40
        while set(overdue_alerts_per_dose(schema)) != set(doses):
            assert time.monotonic() < deadline, f"overdue alerts raised: {overdue_alerts_per_dose(schema)}"
            time.sleep(0.2)
        assert datetime.now(UTC) >= due  # raised by the timer at the due time, not before
        time.sleep(2)  # time for a double firing to show
        assert overdue_alerts_per_dose(schema) == Counter(dict.fromkeys(doses, 1))
        written = outbox_seqs(schema)
        resumed.wait_for(written[-1])
        resumed.close()

    seen = [seq for seq, _, _ in dashboard.events] + [seq for seq, _, _ in resumed.events]
    assert seen == written  # across the reconnection: nothing missed, nothing twice
    raised = Counter(
        claims["dose"]["id"]
        for _, kind, data in dashboard.events + resumed.events
        if kind == "alert" and (claims := claims_of(data["jws"]))["kind"] == "overdue"
    )
    assert raised == Counter(dict.fromkeys(doses, 1))
    assert took_over < 10
    print(f"timer lease taken over {took_over:.2f} s after kill -9")


def test_a_knowledge_reload_signalled_to_one_process_reaches_the_others(
    tmp_path: Path, database: tuple[str, str]
) -> None:
    url, _ = database
    _, (a, b) = hospital(tmp_path, url, "ab")
    data_dir = tmp_path / "data"  # the knowledge files every process reads
    original = kb.load(Settings().data_dir)
    kb.save(original, data_dir)
    with (
        a.serving(ALERTSVC_DATA_DIR=str(data_dir)) as on_a,
        b.serving(ALERTSVC_DATA_DIR=str(data_dir)) as on_b,
    ):
        assert [health(s)["knowledge"] for s in (a, b)] == [original.version] * 2
        kb.save(dataclasses.replace(original, rules=original.rules[1:]), data_dir)
        new = kb.load(data_dir).version
        on_a.send_signal(signal.SIGHUP)  # A alone is signalled
        deadline = time.monotonic() + 60
        while [health(s)["knowledge"] for s in (a, b)] != [new] * 2:
            assert on_a.poll() is None and on_b.poll() is None
            assert time.monotonic() < deadline, [health(s)["knowledge"] for s in (a, b)]
            time.sleep(0.2)
