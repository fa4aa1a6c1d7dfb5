"""Delivery of ward-recorded entries to a real ``alertsvc ledger serve`` process, and discharge.

Her ledger server is stopped when the nurse records a reaction: the ward is alerted at once, the entry
waits ("awaiting delivery (n attempts, last error)"), and once her server is back the timer delivers it,
once; ``alertsvc ledger verify`` accepts her ledger. Without a write grant the entries wait for
discharge and are handed over in a signed file she imports.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import grant_link
from tests.postgres import stored_bytes
from tests.web.conftest import REPO, FakeClock, RunningService, serve
from tests.web.processes import free_port

WARD = "ward-5"
NURSE = {"name": "Nia Brown", "role": "nurse"}


@dataclass
class RealClock(FakeClock):
    """The service on the real clock, as the ledger server process is."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


def live_settings(tmp_path: Path) -> Settings:
    return Settings(
        db_path=tmp_path / "service.db",
        service_key=tmp_path / "service.key",
        ward_timezone="Europe/London",
        hospital_name="St Elsewhere",
        delivery_retry_seconds=0.2,
        delivery_retry_max_seconds=1.0,
        ledger_timeout=3.0,
    )


@pytest.fixture
def live(tmp_path: Path) -> Iterator[RunningService]:
    yield from serve(live_settings(tmp_path), RealClock(now=datetime.now(UTC)))  # .now: tokens' iat


@dataclass
class Patient:
    home: Path
    key: Identity
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alertsvc", *args], cwd=self.home, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60,
        )  # fmt: skip

    @contextmanager
    def serving(self) -> Iterator[subprocess.Popen[bytes]]:
        """``alertsvc ledger serve`` on her port until the block ends."""
        process = subprocess.Popen(
            [sys.executable, "-m", "alertsvc", "ledger", "serve", "p.ledger", "--key", "patient.key",
             "--port", str(self.port)],
            cwd=self.home, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(self.url + "/api/ledger", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "ledger serve did not start"
                time.sleep(0.05)
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            if process.stderr:
                process.stderr.close()

    def clinical(self) -> list[Any]:
        with Ledger.open(self.home / "p.ledger") as ledger:
            snapshot = ledger.verify()
        return [e for t in ("medications", "allergies", "reactions") for e in snapshot.trees[t]]


def her_ledger(
    tmp_path: Path,
    service_id: str,
    *,
    write: tuple[str, ...],
    scope: tuple[str, ...] = ("medications", "allergies", "reactions"),
) -> tuple[Patient, str]:
    home = tmp_path / "patient"
    home.mkdir()
    key = Identity.generate()
    key.save(home / "patient.key")
    now = datetime.now(UTC)
    with Ledger.init(home / "p.ledger", key, now=now) as ledger:
        grant = grants.new_grant(
            key, grantee=service_id, scope=scope, write_scope=write,
            not_before=now, hours=24, now=now,
        )  # fmt: skip
        ledger.append([actions.medication(key, "warfarin", now=now), grant], patient=key, now=now)
    return Patient(home, key, free_port()), grant.id


def admit(live: RunningService, patient: Patient, grant_id: str) -> str:
    link = grant_link(patient.url, grant_id, patient.key.public_id)
    with live.client(live.token(WARD, "Ada", role="admission")) as client:
        response = client.post("/admissions", json={"grant_link": link, "ward": WARD, "bed": "7"})
    assert response.status_code == 201, response.text
    admission: str = response.json()["admission"]
    return admission


def entries_of(live: RunningService, admission: str) -> list[dict[str, Any]]:
    with live.client(live.token(WARD, "Nia")) as client:
        response = client.get(f"/admissions/{admission}/practitioner-entries")
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["entries"]
    return listed


def test_her_server_down_the_entry_waits_and_is_delivered_once_when_it_is_back(
    live: RunningService, tmp_path: Path
) -> None:
    patient, grant_id = her_ledger(tmp_path, live.service.identity.public_id, write=("reactions",))
    with patient.serving():
        admission = admit(live, patient, grant_id)
    # Her server is down now. The nurse records a reaction: the ward has the alert at once.
    started = time.monotonic()
    with live.client(live.token(WARD, "Nia")) as client:
        response = client.post(
            f"/admissions/{admission}/reactions",
            json={"drug": "warfarin", "reaction": "nosebleed", "severity": "severe", "clinician": NURSE},
        )
    assert response.status_code == 201, response.text
    assert time.monotonic() - started < 2.5, "the ward does not wait for her server"
    with live.client(live.token(WARD, "Noor")) as client:
        alerts = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    assert any(a["alert"]["kind"] == "reaction" and a["alert"]["severity"] == "critical" for a in alerts)
    deadline = time.monotonic() + 20
    while True:
        [waiting] = entries_of(live, admission)
        if waiting["attempts"] >= 2:
            break
        assert time.monotonic() < deadline, waiting
        time.sleep(0.1)
    assert waiting["state"] == "pending"
    assert waiting["status"].startswith(f"awaiting delivery ({waiting['attempts']} attempts, last error: ")
    assert "Connection refused" in waiting["status"] or "cannot post" in waiting["status"]
    assert patient.clinical() and len(patient.clinical()) == 1  # only her warfarin
    # Her server comes back: the timer delivers it, once.
    with patient.serving():
        deadline = time.monotonic() + 20
        while entries_of(live, admission)[0]["state"] != "delivered":
            assert time.monotonic() < deadline, entries_of(live, admission)
            time.sleep(0.1)
        live.run(live.service.deliver())  # another run finds nothing to send
    [delivered] = entries_of(live, admission)
    assert delivered["status"] == "in the patient's ledger"
    reactions = [e for e in patient.clinical() if e.kind == "reaction"]
    assert [e.id for e in reactions] == [delivered["entry"]]
    verify = patient.cli("ledger", "verify", "p.ledger")
    assert verify.returncode == 0, verify.stderr


def test_without_a_write_grant_discharge_hands_the_entries_over_and_she_imports_them(
    live: RunningService, tmp_path: Path
) -> None:
    patient, grant_id = her_ledger(tmp_path, live.service.identity.public_id, write=())
    with patient.serving():
        admission = admit(live, patient, grant_id)
        with live.client(live.token(WARD, "Nia")) as client:
            recorded = client.post(
                f"/admissions/{admission}/allergies",
                json={"substance": "amoxicillin", "reaction": "rash", "clinician": NURSE},
            )
            assert recorded.status_code == 201, recorded.text
            assert "(no write grant): handed over at discharge" in recorded.json()["status"]
            discharged = client.post(
                f"/admissions/{admission}/discharge",
                json={"clinician": {"name": "Dr Okafor", "role": "physician"},
                      "medications": [{"drug": "doxycycline", "dose": "100 mg twice daily"}]},
            )  # fmt: skip
            assert discharged.status_code == 200, discharged.text
            again = client.post(
                f"/admissions/{admission}/discharge", json={"clinician": NURSE, "medications": []}
            )
            assert again.status_code == 409
            assert client.get(f"/wards/{WARD}/alerts").json()["alerts"] == []
    answer = discharged.json()
    assert answer["status"] == "ended" and answer["reason"] == "discharged"
    assert [e["kind"] for e in answer["entries"]] == ["allergy", "medication"]
    assert all(e["state"] == "handover" for e in answer["entries"])
    assert [e.kind for e in patient.clinical()] == ["medication"]  # her warfarin only: nothing was sent
    (patient.home / "handover.json").write_text(json.dumps(answer["handover"]))
    imported = patient.cli("ledger", "import-entries", "p.ledger", "--key", "patient.key", "handover.json")
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 entries (allergy, medication) signed by St Elsewhere" in imported.stdout
    assert sorted(e.kind for e in patient.clinical()) == ["allergy", "medication", "medication"]
    assert patient.cli("ledger", "verify", "p.ledger").returncode == 0
    # Purged at the hospital: the entries are gone from its database.
    assert b"amoxicillin" not in stored_bytes(tmp_path / "service.db")


def test_an_entry_waiting_for_delivery_survives_a_restart_of_the_service(tmp_path: Path) -> None:
    settings = live_settings(tmp_path)
    first = serve(settings, RealClock(now=datetime.now(UTC)))
    live = next(first)
    patient, grant_id = her_ledger(tmp_path, live.service.identity.public_id, write=("allergies",))
    with patient.serving():
        admission = admit(live, patient, grant_id)
    with live.client(live.token(WARD, "Nia")) as client:
        recorded = client.post(
            f"/admissions/{admission}/allergies",
            json={"substance": "penicillin", "reaction": "hives", "clinician": NURSE},
        )
    assert recorded.status_code == 201, recorded.text
    first.close()  # the service stops with the entry still waiting (her server was down)
    second = serve(settings, RealClock(now=datetime.now(UTC)))
    live = next(second)
    try:
        with patient.serving():
            deadline = time.monotonic() + 20
            while entries_of(live, admission)[0]["state"] != "delivered":
                assert time.monotonic() < deadline, entries_of(live, admission)
                time.sleep(0.1)
        [entry] = entries_of(live, admission)
        assert entry["attempts"] >= 1 and entry["entry"] == recorded.json()["entry"]
        assert [e.id for e in patient.clinical() if e.kind == "allergy"] == [entry["entry"]]
    finally:
        second.close()


def test_an_observation_and_no_known_allergies_from_the_ward_reach_her_ledger_which_verifies(
    live: RunningService, tmp_path: Path
) -> None:
    patient, grant_id = her_ledger(
        tmp_path,
        live.service.identity.public_id,
        write=("observations", "allergies"),
        scope=("medications", "allergies", "reactions", "observations"),
    )
    with patient.serving():
        admission = admit(live, patient, grant_id)
        with live.client(live.token(WARD, "Nia")) as client:
            observed = client.post(
                f"/admissions/{admission}/observations",
                json={"code": "eGFR", "value": 25, "unit": "mL/min/1.73m2", "clinician": NURSE},
            )
            assert observed.status_code == 201, observed.text
            asserted = client.post(
                f"/admissions/{admission}/allergies",
                json={"no_known_allergies": True, "clinician": {"name": "Dr Okafor", "role": "physician"}},
            )
            assert asserted.status_code == 201, asserted.text
        deadline = time.monotonic() + 20
        while {e["state"] for e in entries_of(live, admission)} != {"delivered"}:
            assert time.monotonic() < deadline, entries_of(live, admission)
            time.sleep(0.1)
        shown = httpx.get(patient.url + "/api/ledger", timeout=10).json()
    listed = entries_of(live, admission)
    assert [(e["kind"], e["status"]) for e in listed] == [
        ("observation", "in the patient's ledger"),
        ("allergy", "in the patient's ledger"),
    ]
    with Ledger.open(patient.home / "p.ledger") as ledger:
        snapshot = ledger.verify()
    [observation] = snapshot.trees["observations"]
    [none_known] = snapshot.trees["allergies"]
    assert observation.id == observed.json()["delivery"]["entry"] == listed[0]["entry"]
    assert none_known.id == asserted.json()["entry"] == listed[1]["entry"]
    assert {observation.author, none_known.author} == {live.service.identity.public_id}
    assert observation.body["performer"][0]["display"] == "Nia Brown (nurse, ward-5), St Elsewhere"
    assert shown["allergy_status"]["state"] == "none-known"
    assert shown["allergy_status"]["assertion"]["recorder"] == "Dr Okafor (physician, ward-5), St Elsewhere"
    verify = patient.cli("ledger", "verify", "p.ledger")
    assert verify.returncode == 0, verify.stderr
