"""``kill -9`` at random points while admitting, planning doses, acknowledging alerts and recording doses,
with a client that retries every write with its Idempotency-Key until it is answered.

Each run starts the real ``alertsvc serve`` on a fresh database and kills it (SIGKILL) once or twice:
at a failpoint chosen at random (the answer in the transaction before it commits; committed and not yet
answered; committed and not yet pushed), at its N-th passage chosen at random, or from outside after a
random delay. The client restarts it and retries. Afterwards: ``PRAGMA integrity_check`` is ok, every
write the client saw answered is stored, none is stored twice, and every write sent again with its key
gets its first answer byte for byte.

``make test`` runs 5 runs (seeds 0-4); ``make soak`` runs 25 (``ALERTSVC_KILL_RUNS=25``) and prints the
counts of each run and the totals.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc import failpoints
from alertsvc.access import issue_staff_token
from alertsvc.clock import utc_now
from alertsvc.errors import ConfigError
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from tests.postgres import on_postgres, reading
from tests.web.processes import Site, wait_until_up
from tests.web.sealed_db import sealed_reader

RUNS = int(os.environ.get("ALERTSVC_KILL_RUNS", "5"))
WARD = "ward-k"
KEY = "Idempotency-Key"
POINTS = (
    failpoints.ANSWER_STORED_BEFORE_COMMIT,
    failpoints.AFTER_COMMIT_BEFORE_ANSWER,
    failpoints.AFTER_COMMIT_BEFORE_PUBLISH,
)
PATIENTS = (
    # medications, a flagged reaction (drug, reaction) or None, the drug the ward plans
    (("warfarin",), ("ibuprofen", "wheeze"), "ibuprofen"),
    (("simvastatin", "clarithromycin"), None, "simvastatin"),
    (("sertraline", "tramadol"), ("zolpidem", "sleepwalking"), "zolpidem"),
)


@dataclass
class Prepared:
    """What every run shares: the service's key and each patient's slice (grants to that key)."""

    directory: Path
    key: Path
    identity: Identity
    slices: list[dict[str, Any]]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    directory = tmp_path_factory.mktemp("kill-retry")
    service = Identity.generate()
    service.save(directory / "service.key")
    now = utc_now()
    slices = []
    for n, (medications, flag, _) in enumerate(PATIENTS):
        patient = Identity.generate()
        with Ledger.init(directory / f"p{n}.ledger", patient, now=now) as ledger:
            entries = [actions.medication(patient, drug, now=now) for drug in medications]
            if flag is not None:
                entries.append(actions.flagged_reaction(patient, flag[0], reaction=flag[1], now=now))
            grant = grants.new_grant(
                patient, grantee=service.public_id, scope=("medications", "allergies", "reactions"),
                not_before=now - timedelta(minutes=1), hours=24, now=now,
            )  # fmt: skip
            ledger.append([*entries, grant], patient=patient, now=now)
            slices.append(loads(make_slice(ledger.read(), grant.id, now=now), what="slice"))
    return Prepared(directory, directory / "service.key", service, slices)


@dataclass
class Tally:
    runs: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    answered: int = 0
    retries: int = 0
    replayed: int = 0
    duplicates: int = 0
    integrity_ok: int = 0


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    totals = Tally()
    yield totals
    print(
        f"\nkill -9 with retries: {totals.runs} runs, {sum(totals.kills.values())} kills "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(totals.kills.items()))}), "
        f"{totals.answered} writes answered, {totals.retries} retries, {totals.replayed} replays identical, "
        f"{totals.duplicates} duplicates, integrity ok in {totals.integrity_ok}/{totals.runs}"
    )


class Crashy:
    """The real service, armed to die; restarted (armed again, or not) whenever the client finds it dead."""

    def __init__(self, site: Site, rng: random.Random, *, arms: int) -> None:
        self.site, self.rng, self.arms = site, rng, arms
        self.process: subprocess.Popen[bytes] | None = None
        self.timer: threading.Timer | None = None
        self.armed_with = ""
        self.armings: list[str] = []
        self.kills: list[str] = []
        self.log = (site.directory / "service.log").open("ab")

    def start(self) -> None:
        extra = {}
        self.armed_with = ""
        if self.arms > 0:
            self.arms -= 1
            if self.rng.random() < 0.75:
                point = self.rng.choice(POINTS)
                nth = self.rng.randint(1, 4 if point == failpoints.AFTER_COMMIT_BEFORE_PUBLISH else 14)
                self.armed_with = f"{point}@{nth}"
                extra["ALERTSVC_FAILPOINTS"] = self.armed_with
            else:
                # The unkilled workload takes about 1.2 s on a 2-core machine.
                self.armed_with = f"timer {self.rng.uniform(0.02, 1.0):.2f}s"
        self.armings.append(self.armed_with or "unarmed")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "alertsvc", "serve"],
            env=self.site.env | extra,
            cwd=self.site.directory,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        wait_until_up(self.site.url, self.process)
        if self.armed_with.startswith("timer"):
            self.timer = threading.Timer(float(self.armed_with.split()[1][:-1]), self._kill, [self.process])
            self.timer.start()

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)

    def recover(self) -> None:
        """The service stopped answering: it must be dead (killed); note how, and start it again."""
        assert self.process is not None
        returncode = self.process.wait(30)
        assert returncode == -signal.SIGKILL, f"the service exited with {returncode}, not by SIGKILL"
        self.kills.append(self.armed_with.split("@")[0].split()[0])
        if self.timer is not None:
            self.timer.cancel()
        self.start()

    def disarm(self) -> None:
        """No more kills: a timer still pending is cancelled; if it already fired, restart unarmed."""
        self.arms = 0
        if self.timer is not None:
            self.timer.cancel()
        assert self.process is not None
        try:
            self.process.wait(0.5)
        except subprocess.TimeoutExpired:
            return
        self.recover()

    def stop(self) -> None:
        try:
            if self.timer is not None:
                self.timer.cancel()
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)  # uvicorn shuts down, then re-raises SIGTERM
                assert self.process.wait(30) in (0, -signal.SIGTERM)
        finally:
            self.log.close()


@dataclass
class Client:
    """Sends each write with its key until it is answered, restarting the service when it has died."""

    service: Crashy
    nurse: str
    admitter: str
    sent: list[tuple[str, str, Any, str, httpx.Response]] = field(default_factory=list)
    retries: int = 0

    def write(self, path: str, body: Any, key: str, *, token: str, expect: int) -> httpx.Response:
        while True:
            try:
                response = httpx.post(
                    self.service.site.url + path,
                    json=body,
                    headers={"Authorization": f"Bearer {token}", KEY: key},
                    timeout=60,
                )
            except httpx.TransportError:
                self.retries += 1
                self.service.recover()
                continue
            assert response.status_code == expect, (path, key, response.text)
            self.sent.append((path, token, body, key, response))
            return response

    def read_alerts(self) -> list[dict[str, Any]]:
        while True:
            try:
                response = httpx.get(
                    f"{self.service.site.url}/wards/{WARD}/alerts",
                    headers={"Authorization": f"Bearer {self.nurse}"},
                    timeout=60,
                )
            except httpx.TransportError:
                self.service.recover()
                continue
            assert response.status_code == 200, response.text
            listed: list[dict[str, Any]] = response.json()["alerts"]
            return listed


def workload(client: Client, slices: list[dict[str, Any]]) -> dict[str, Any]:
    """Admit each patient, plan two doses, acknowledge each of their alerts, record the first dose given."""
    done: dict[str, Any] = {"admissions": [], "doses": [], "given": [], "acks": []}
    for n, slice_doc in enumerate(slices):
        body = {"slice": slice_doc, "ward": WARD, "bed": str(n + 1)}
        admission = client.write("/admissions", body, f"admit-{n}", token=client.admitter, expect=201).json()
        done["admissions"].append(admission["admission"])
        drug = PATIENTS[n][2]
        due = [(utc_now() + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in (6, 18)]
        items = [{"admission": admission["admission"], "drug": drug, "dose": "1 tab", "due": d} for d in due]
        planned = client.write(
            f"/wards/{WARD}/schedule", {"administrations": items}, f"plan-{n}", token=client.nurse, expect=201
        ).json()
        doses = [d["id"] for d in planned["administrations"]]
        done["doses"] += doses
        for alert in client.read_alerts():
            if alert["alert"]["admission"] == admission["admission"]:
                ack = {"reason": {"code": "prescriber-informed"}, "comment": f"run ack {n}"}
                path = f"/alerts/{alert['id']}/acknowledgements"
                answer = client.write(path, ack, f"ack-{alert['id']}", token=client.nurse, expect=201)
                done["acks"].append(answer.json()["id"])
        # Given under a critical alert (a flagged drug, a contraindicated pair): a coded reason and a name.
        override = {"code": "prescriber-confirmed", "nurse": "Nia Nurse"}
        outcome = {"status": "given", "note": "as planned", "override": override}
        path = f"/wards/{WARD}/schedule/{doses[0]}/outcome"
        client.write(path, outcome, f"give-{n}", token=client.nurse, expect=200)
        done["given"].append(doses[0])
    return done


def counts(db_path: Path, kek: Path) -> dict[str, Any]:
    with reading(db_path) as db:
        opened = sealed_reader(db, kek)  # a dose's outcome is sealed with its admission's key

        def one(sql: str) -> Any:
            return db.execute(sql).fetchone()[0]

        return {
            # SQLite's own check of the file; PostgreSQL's server recovers from its WAL and has no such check
            "integrity": "ok" if on_postgres() else one("PRAGMA integrity_check"),
            "admissions": {r[0] for r in db.execute("SELECT id FROM admissions WHERE status = 'active'")},
            "admission_rows": one("SELECT count(*) FROM admissions"),
            "doses": {r[0] for r in db.execute("SELECT id FROM doses")},
            "dose_rows": one("SELECT count(*) FROM doses"),
            "given": {
                dose
                for dose, admission, outcome in db.execute("SELECT id, admission, outcome FROM doses")
                if outcome is not None and '"given"' in opened(admission, outcome)
            },
            "acks": {r[0] for r in db.execute("SELECT id FROM acknowledgements")},
            "ack_rows": one("SELECT count(*) FROM acknowledgements"),
            "audit": Counter(
                dict(db.execute("SELECT action, count(*) FROM audit GROUP BY action").fetchall())
            ),
            "events": Counter(dict(db.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall())),
        }


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(RUNS))
def test_kill_9_while_writing_loses_nothing_and_doubles_nothing(
    prepared: Prepared, tally: Tally, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    site = Site.make(tmp_path, wards=f"{WARD}=Europe/London", key=prepared.key)
    service = Crashy(site, rng, arms=2)
    now = utc_now()
    tokens = {
        role: issue_staff_token(
            prepared.identity, ward=WARD, name=f"{role} {seed}", role=role, now=now, hours=2
        )
        for role in ("nurse", "admission")
    }
    client = Client(service, nurse=tokens["nurse"], admitter=tokens["admission"])
    service.start()
    try:
        done = workload(client, prepared.slices)
        service.disarm()
        # Every write again, with its key: the first answer, byte for byte, and nothing written.
        replayed = 0
        for path, token, body, key, first in client.sent:
            again = httpx.post(
                site.url + path, json=body, headers={"Authorization": f"Bearer {token}", KEY: key}, timeout=60
            )
            assert (again.status_code, again.content) == (first.status_code, first.content), (path, key)
            assert again.headers["Idempotent-Replayed"] == "true"
            replayed += 1
    finally:
        service.stop()

    found = counts(site.db_path, prepared.directory / "hospital.kek")
    acks, writes = len(done["acks"]), len(client.sent)
    duplicates = (
        (found["admission_rows"] - 3)
        + (found["dose_rows"] - 6)
        + (found["ack_rows"] - acks)
        + sum(found["audit"][a] - 3 for a in ("admit", "schedule", "record-administration"))
        + (found["audit"]["acknowledge"] - acks)
        + (found["events"]["acknowledgement"] - acks)
        + (found["events"]["administration"] - 3)
    )
    print(
        f"\nrun {seed}: started {' / '.join(service.armings)}: {len(service.kills)} kills, "
        f"{writes} writes answered, {client.retries} retries, {replayed} replays identical, "
        f"{duplicates} duplicates, integrity {found['integrity']}"
    )
    tally.runs += 1
    tally.kills.update(service.kills)
    tally.answered += writes
    tally.retries += client.retries
    tally.replayed += replayed
    tally.duplicates += duplicates
    tally.integrity_ok += found["integrity"] == "ok"

    assert found["integrity"] == "ok"
    assert found["admissions"] == set(done["admissions"])
    assert found["doses"] == set(done["doses"]) and found["given"] == set(done["given"])
    assert found["acks"] == set(done["acks"]) and acks >= 3
    assert duplicates == 0, found


@pytest.mark.parametrize(
    "setting",
    [
        pytest.param("after-commit-before-anwser", id="misspelt"),
        pytest.param("after-commit-before-answer@x", id="not-a-count"),
    ],
)
def test_a_failpoint_setting_that_would_never_fire_is_refused(setting: str) -> None:
    with pytest.raises(ConfigError, match="after-commit-before-answer, after-commit-before-publish"):
        failpoints.Failpoints(setting)
