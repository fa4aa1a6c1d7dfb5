"""``POST /admissions/{id}/scope-requests`` on a real service with her real ledger server (uvicorn, one
clock): bad input refused naming what was wrong with nothing stored anywhere; an admission from a slice
file has no one to ask; her server down is a 502 with nothing stored; the poll reads her answer when no
watch does; a wider grant that does not hold is refused and the admission keeps its grant."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import grant_link
from alertsvc.ledger.slices import make_slice
from alertsvc.patient_server.server import create_ledger_app
from alertsvc.patient_server.server_state import CSRF_HEADER
from tests.servers import serve_app
from tests.web.conftest import FakeClock, RunningService, serve

WARD = "ward-5"
ASK = {"scope": ["reactions"], "reason": "to check new drugs against reactions you have flagged"}


@pytest.fixture
def polling(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    """The service with no watch: only the poll reads her ledger and her answers."""
    settings = Settings(db_path=tmp_path / "service.db", service_key=tmp_path / "service.key", ledger_watch=0)
    yield from serve(settings, clock)


@pytest.fixture
def her_server(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[str, Path, Identity]]:
    patient = Identity.generate()
    path = tmp_path / "patient.ledger"
    with Ledger.init(path, patient, now=clock.now) as ledger:
        ledger.append(
            [actions.medication(patient, "warfarin", now=clock.now)], patient=patient, now=clock.now
        )
        ledger.append(
            [actions.flagged_reaction(patient, "ibuprofen", reaction="hives", now=clock.now)],
            patient=patient,
            now=clock.now,
        )
    for url in serve_app(create_ledger_app(path, patient, clock=clock, csrf_token="page")):
        yield url, path, patient


def admitted(running: RunningService, her: tuple[str, Path, Identity], *, by_link: bool = True) -> str:
    url, path, patient = her
    clock = running.clock
    with Ledger.open(path) as ledger:
        grant = grants.new_grant(
            patient, grantee=running.service.identity.public_id, scope=("medications",),
            not_before=clock.now, hours=48, now=clock.now,
        )  # fmt: skip
        ledger.append([grant], patient=patient, now=clock.now)
        body: dict[str, Any] = {"ward": WARD, "bed": "2"}
        if by_link:
            body["grant_link"] = grant_link(url, grant.id, patient.public_id)
        else:
            body["slice"] = json.loads(make_slice(ledger.read(), grant.id, now=clock.now))
    with running.client(running.token(WARD, "Ada", role="admission")) as client:
        response = client.post("/admissions", json=body)
    assert response.status_code == 201, response.text
    admission: str = response.json()["admission"]
    with running.client(running.token(WARD, "Nia")) as client:
        due = (clock.now.replace(hour=23)).isoformat()
        dose = {"admission": admission, "drug": "ibuprofen", "dose": "400 mg", "due": due}
        assert client.post(f"/wards/{WARD}/schedule", json={"administrations": [dose]}).status_code == 201
    return admission


def grant_of(running: RunningService) -> str:
    async def read() -> str:
        return str(running.service.db.execute("SELECT grant_id FROM admissions").fetchone()[0])

    return str(running.run(read()))


def stored(running: RunningService) -> int:
    async def count() -> int:
        return int(running.service.db.execute("SELECT count(*) FROM scope_requests").fetchone()[0])

    return int(running.run(count()))


def hers(url: str) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = httpx.get(url + "/api/scope-requests").json()["requests"]
    return requests


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        pytest.param(
            {**ASK, "scope": ["medications"]}, 400, "already covers medications", id="already-covered"
        ),
        pytest.param({**ASK, "scope": ["everything"]}, 422, "unknown scope 'everything'", id="unknown-scope"),
        pytest.param({**ASK, "scope": "reactions"}, 400, "'scope'", id="scope-not-a-list"),
        pytest.param({"scope": ["reactions"]}, 400, "'reason' is required", id="no-reason"),
        pytest.param({**ASK, "reason": "x" * 501}, 400, "at most 500", id="long-reason"),
        pytest.param({**ASK, "urgent": True}, 400, "unknown field 'urgent'", id="unknown-field"),
    ],
)
def test_bad_input_is_refused_naming_what_was_wrong_and_nothing_is_stored(
    running: RunningService,
    her_server: tuple[str, Path, Identity],
    body: dict[str, Any],
    status: int,
    words: str,
) -> None:
    admission = admitted(running, her_server)
    with running.client(running.token(WARD, "Nia")) as client:
        refused = client.post(f"/admissions/{admission}/scope-requests", json=body)
    assert refused.status_code == status, refused.text
    assert words in refused.json()["error"]["message"]
    assert stored(running) == 0 and hers(her_server[0]) == []


def test_who_may_ask(running: RunningService, her_server: tuple[str, Path, Identity]) -> None:
    admission = admitted(running, her_server)
    path = f"/admissions/{admission}/scope-requests"
    with running.client() as client:
        assert client.post(path, json=ASK).status_code == 401
    with running.client(running.token("ward-9", "Zed")) as client:
        other = client.post(path, json=ASK)
        assert other.status_code == 404 and other.json()["error"]["message"] == f"no admission {admission}"
    with running.client(running.token(WARD, "Nia")) as client:
        assert client.post("/admissions/adm-0000000000000000/scope-requests", json=ASK).status_code == 404
    assert stored(running) == 0


def test_an_admission_from_a_slice_file_has_no_ledger_server_to_ask(
    running: RunningService, her_server: tuple[str, Path, Identity]
) -> None:
    admission = admitted(running, her_server, by_link=False)
    with running.client(running.token(WARD, "Nia")) as client:
        refused = client.post(f"/admissions/{admission}/scope-requests", json=ASK)
    assert refused.status_code == 409 and "no ledger server to ask" in refused.json()["error"]["message"]
    assert stored(running) == 0


def test_her_server_down_is_a_502_and_nothing_is_stored(
    running: RunningService, her_server: tuple[str, Path, Identity]
) -> None:
    admission = admitted(running, her_server)

    async def break_the_link() -> None:
        running.service.db.execute("UPDATE admissions SET ledger_url = 'http://127.0.0.1:9'")

    running.run(break_the_link())
    with running.client(running.token(WARD, "Nia")) as client:
        refused = client.post(
            f"/admissions/{admission}/scope-requests", json=ASK, headers={"Idempotency-Key": "k1"}
        )
    assert refused.status_code == 502 and "could not be reached" in refused.json()["error"]["message"]
    assert stored(running) == 0 and hers(her_server[0]) == []


def test_requests_are_bounded_and_keyed(
    running: RunningService, her_server: tuple[str, Path, Identity]
) -> None:
    admission = admitted(running, her_server)
    path = f"/admissions/{admission}/scope-requests"
    with running.client(running.token(WARD, "Nia")) as client:
        first = client.post(path, json=ASK, headers={"Idempotency-Key": "ask"})
        reused = client.post(path, json={**ASK, "reason": "other"}, headers={"Idempotency-Key": "ask"})
        assert first.status_code == 201 and reused.status_code == 422
        for _ in range(4):
            assert client.post(path, json=ASK).status_code == 201
        over = client.post(path, json=ASK)
    assert over.status_code == 429 and "at most 5" in over.json()["error"]["message"]
    assert stored(running) == 5 and len(hers(her_server[0])) == 5


def test_without_a_watch_the_poll_reads_her_answer_and_moves_the_admission(
    polling: RunningService, clock: FakeClock, her_server: tuple[str, Path, Identity]
) -> None:
    admission = admitted(polling, her_server)
    nurse = polling.token(WARD, "Nia")
    with polling.client(nurse) as client:
        request = client.post(f"/admissions/{admission}/scope-requests", json=ASK).json()
        listed = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
        assert not [a for a in listed if a["alert"]["kind"] == "reaction"]  # her reaction is not shared
    approved = httpx.post(
        f"{her_server[0]}/api/scope-requests/{request['id']}/approve", headers={CSRF_HEADER: "page"}
    )
    assert approved.status_code == 201, approved.text
    clock.now += timedelta(seconds=polling.settings.ledger_poll_seconds)
    polling.run(polling.service.poll_ledgers())
    with polling.client(nurse) as client:
        view = client.get(f"/admissions/{admission}/scope-requests").json()["requests"]
        alerts = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    assert [(r["status"], r["new_grant"]) for r in view] == [("approved", approved.json()["new_grant"])]
    assert any(a["alert"]["kind"] == "reaction" and a["alert"]["severity"] == "critical" for a in alerts)
    assert grant_of(polling) == approved.json()["new_grant"]


def test_a_wider_grant_that_does_not_hold_is_refused_and_the_admission_keeps_its_grant(
    polling: RunningService, clock: FakeClock, her_server: tuple[str, Path, Identity]
) -> None:
    _, path, patient = her_server
    admission = admitted(polling, her_server)
    before = grant_of(polling)
    with polling.client(polling.token(WARD, "Nia")) as client:
        assert client.post(f"/admissions/{admission}/scope-requests", json=ASK).status_code == 201
    # Her server answers with a grant that drops the medications the old grant shared.
    with Ledger.open(path) as ledger:
        narrower = grants.new_grant(
            patient, grantee=polling.service.identity.public_id, scope=("reactions",),
            not_before=clock.now, hours=24, now=clock.now,
        )  # fmt: skip
        ledger.append([narrower], patient=patient, now=clock.now)
    with sqlite3.connect(str(path) + ".scope-requests") as db:
        db.execute("UPDATE scope_requests SET status = 'approved', new_grant = ?", [narrower.id])
    clock.now += timedelta(seconds=polling.settings.ledger_poll_seconds)
    polling.run(polling.service.poll_ledgers())
    with polling.client(polling.token(WARD, "Nia")) as client:
        [view] = client.get(f"/admissions/{admission}/scope-requests").json()["requests"]
    assert view["status"] == "refused" and "does not cover medications" in view["status_text"]
    assert grant_of(polling) == before
