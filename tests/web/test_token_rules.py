"""Token and process rules (issue 9, defect 6 in part), against real servers on 127.0.0.1.

A staff token issued in the future (beyond a minute of clock skew) or living longer than the maximum is
a bare 401, and the command line will not mint one; another ward's alert, dose or admission is a 404 just
like a guessed id; one token holds at most five event streams (the sixth is 429); a second ``alertsvc
serve`` on one database file is refused; and refused requests are audited, without token or patient data.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from alertsvc import cli
from alertsvc.access import issue_staff_token, read_staff_token
from alertsvc.clock import utc_now
from alertsvc.ledger.identity import Identity
from tests.postgres import reading
from tests.web.bounds import alertsvc_serve, free_port, patient_slice, serve_env
from tests.web.conftest import FakeClock, RunningService
from tests.web.test_admissions import service_settings, serving

WARD_A, WARD_B = "ward-a", "ward-b"
BARE_401 = {"error": {"code": "unauthorized", "message": "unauthorized"}}


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    settings = service_settings(tmp_path, wards=f"{WARD_A}=Europe/London;{WARD_B}=Europe/London")
    with serving(settings, clock) as service:
        yield service


def _get_alerts(running: RunningService, token: str) -> httpx.Response:
    with running.client(token) as client:
        return client.get(f"/wards/{WARD_A}/alerts")


# -- staff token lifetimes -------------------------------------------------------------------------


def test_a_staff_token_issued_in_the_future_is_refused(running: RunningService) -> None:
    now = running.clock.now
    identity = running.service.identity
    ahead = issue_staff_token(
        identity, ward=WARD_A, name="Fay", role="nurse", now=now + timedelta(days=30), hours=8
    )
    response = _get_alerts(running, ahead)
    assert response.status_code == 401 and response.json() == BARE_401
    skewed = issue_staff_token(
        identity, ward=WARD_A, name="Fay", role="nurse", now=now + timedelta(seconds=30), hours=8
    )
    assert _get_alerts(running, skewed).status_code == 200


@pytest.mark.parametrize(
    ("hours", "status"),
    [
        pytest.param(24 * 365 * 50, 401, id="fifty-years"),
        pytest.param(25, 401, id="25-hours"),
        pytest.param(24, 200, id="24-hours"),
        pytest.param(12, 200, id="12-hours"),
    ],
)
def test_a_staff_token_may_live_at_most_24_hours(running: RunningService, hours: float, status: int) -> None:
    token = issue_staff_token(
        running.service.identity, ward=WARD_A, name="Lee", role="nurse", now=running.clock.now, hours=hours
    )
    response = _get_alerts(running, token)
    assert response.status_code == status, response.text
    if status == 401:
        assert response.json() == BARE_401


def test_the_command_line_mints_no_token_beyond_the_maximum(tmp_path: Path) -> None:
    key = tmp_path / "service.key"
    Identity.generate().save(key)
    env = {"ALERTSVC_SERVICE_KEY": str(key)}
    runner = CliRunner()
    args = ["staff", "token", "--ward", WARD_A, "--name", "Ana", "--service-key", str(key)]
    refused = runner.invoke(cli.main, [*args, "--hours", "25"], env=env)
    assert refused.exit_code != 0
    assert "24" in refused.output and "--hours" in refused.output
    minted = runner.invoke(cli.main, [*args, "--hours", "24"], env=env)
    assert minted.exit_code == 0, minted.output
    staff = read_staff_token(minted.output.strip(), Identity.load(key).public_key, now=utc_now())
    assert staff.ward == WARD_A
    longer = runner.invoke(
        cli.main, [*args, "--hours", "30"], env=env | {"ALERTSVC_STAFF_TOKEN_MAX_HOURS": "48"}
    )
    assert longer.exit_code == 0, longer.output


# -- another ward's ids look like ids that do not exist -------------------------------------------


@pytest.fixture
def on_ward_b(running: RunningService, tmp_path: Path) -> dict[str, Any]:
    """A patient on ward B taking warfarin with a flagged reaction to it, and a dose of it planned."""
    slice_doc = patient_slice(
        tmp_path,
        running.service.identity.public_id,
        running.clock.now,
        medications=["warfarin"],
        reactions=["warfarin"],
    )
    with running.client(running.token(WARD_B, "Adam", role="admission")) as client:
        admitted = client.post("/admissions", json={"slice": slice_doc, "ward": WARD_B, "bed": "3"})
    assert admitted.status_code == 201, admitted.text
    admission = admitted.json()["admission"]
    due = (running.clock.now + timedelta(hours=2)).isoformat()
    with running.client(running.token(WARD_B, "Bea")) as client:
        planned = client.post(
            f"/wards/{WARD_B}/schedule",
            json={"administrations": [{"admission": admission, "drug": "warfarin", "due": due}]},
        )
        assert planned.status_code == 201, planned.text
        [alert] = [
            a
            for a in client.get(f"/wards/{WARD_B}/alerts").json()["alerts"]
            if a["alert"]["severity"] == "critical"
        ]
    return {"admission": admission, "alert": alert["id"], "dose": planned.json()["administrations"][0]["id"]}


def _shape(response: httpx.Response, real_id: str, guessed_id: str) -> tuple[int, str, str]:
    error = response.json()["error"]
    return (
        response.status_code,
        error["code"],
        error["message"].replace(real_id, "ID").replace(guessed_id, "ID"),
    )


def test_another_wards_ids_answer_like_ids_that_do_not_exist(
    running: RunningService, on_ward_b: dict[str, Any]
) -> None:
    guessed = {
        "alert": "alert-0123456789abcdef",
        "admission": "adm-0123456789abcdef",
        "dose": "dose-0123456789abcdef",
    }
    reason = {"reason": {"code": "prescriber-informed"}}
    due = (running.clock.now + timedelta(hours=3)).isoformat()

    def requests(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            ("POST", f"/alerts/{ids['alert']}/acknowledgements", reason),
            (
                "POST",
                f"/wards/{WARD_A}/schedule",
                {"administrations": [{"admission": ids["admission"], "drug": "paracetamol", "due": due}]},
            ),
            ("POST", f"/wards/{WARD_A}/schedule/{ids['dose']}/outcome", {"status": "given"}),
            ("POST", f"/admissions/{ids['admission']}/entries", {"v": 1}),
        ]

    with running.client(running.token(WARD_A, "Ana")) as client:
        for (method, path, body), (_, guessed_path, guessed_body) in zip(
            requests(on_ward_b), requests(guessed), strict=True
        ):
            real = client.request(method, path, json=body)
            fake = client.request(method, guessed_path, json=guessed_body)
            key = next(k for k in ("alert", "dose", "admission") if on_ward_b[k] in path + json.dumps(body))
            assert real.status_code == 404, (path, real.text)
            assert _shape(real, on_ward_b[key], guessed[key]) == _shape(fake, on_ward_b[key], guessed[key]), (
                path
            )
            assert WARD_B not in real.text
    with running.client(running.token(WARD_B, "Bea")) as client:  # ward B's nurse still acknowledges it
        assert client.post(f"/alerts/{on_ward_b['alert']}/acknowledgements", json=reason).status_code == 201


# -- event streams per token ----------------------------------------------------------------------


def test_one_token_holds_at_most_five_streams(running: RunningService) -> None:
    token, other = running.token(WARD_A, "Sam"), running.token(WARD_A, "Kim")
    headers = {"Authorization": f"Bearer {token}"}
    with ExitStack() as stack:
        client = stack.enter_context(httpx.Client(base_url=running.url, timeout=10))
        opened = []
        for _ in range(5):
            response = stack.enter_context(
                client.stream("GET", f"/wards/{WARD_A}/alerts/stream", headers=headers)
            )
            assert response.status_code == 200
            opened.append(response)
        sixth = client.get(f"/wards/{WARD_A}/alerts/stream", headers=headers)
        assert sixth.status_code == 429, sixth.text
        assert sixth.json()["error"]["code"] == "too-many-requests"
        assert "5 event streams" in sixth.json()["error"]["message"]
        with client.stream(
            "GET", f"/wards/{WARD_A}/alerts/stream", headers={"Authorization": f"Bearer {other}"}
        ) as another:
            assert another.status_code == 200  # the limit is per token, not per ward
        opened[0].close()
        deadline = time.monotonic() + 10
        while True:  # the server notices the closed stream within a moment
            with client.stream("GET", f"/wards/{WARD_A}/alerts/stream", headers=headers) as again:
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "a closed stream's place was never freed"
            time.sleep(0.1)
    # (the loop above may have been refused too, before the server saw the stream close: also counted)
    refused = next(r for r in _refusals(running.settings.db_path, wanted=1) if r["detail"]["status"] == 429)
    assert (refused["actor"], refused["ward"]) == ("Sam", WARD_A)
    assert refused["detail"]["route"] == "GET /wards/{ward}/alerts/stream"
    assert refused["detail"]["reason"] == "too-many-requests"


# -- one server per database -----------------------------------------------------------------------


def test_a_second_serve_on_the_same_database_is_refused(tmp_path: Path) -> None:
    first_env = serve_env(tmp_path, free_port())
    with alertsvc_serve(first_env, tmp_path) as (first, url):
        lock = tmp_path / "service.db.lock"  # next to the database, naming the process that holds it
        assert lock.read_text().strip() == str(first.pid)
        second = subprocess.run(
            [sys.executable, "-m", "alertsvc", "serve"],
            env=serve_env(tmp_path, free_port()),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert str(tmp_path / "service.db") in second.stderr
        assert "already" in second.stderr and str(first.pid) in second.stderr, second.stderr
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200  # the first is undisturbed
        first.kill()  # kill -9: the lock goes with the process
        first.wait(10)
    with alertsvc_serve(serve_env(tmp_path, free_port()), tmp_path) as (_, again):
        assert httpx.get(again + "/healthz", timeout=5).status_code == 200


# -- refused requests are audited ------------------------------------------------------------------


def _refusals(db_path: Path, wanted: int, timeout: float = 10) -> list[dict[str, Any]]:
    """The audit's records of refused requests, once there are ``wanted`` of them (they are written in
    batches, within a second)."""
    deadline = time.monotonic() + timeout
    while True:
        with reading(db_path) as connection:
            rows = connection.execute(
                "SELECT actor, action, admission, ward, patient_hash, detail, at FROM audit "
                "WHERE action = 'refused' ORDER BY seq"
            ).fetchall()
        found = [
            {
                "actor": r[0],
                "admission": r[2],
                "ward": r[3],
                "patient_hash": r[4],
                "detail": json.loads(r[5]),
                "at": r[6],
            }
            for r in rows
        ]
        if sum(f["detail"]["count"] for f in found) >= wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_refused_requests_are_audited_without_tokens_or_patient_data(
    running: RunningService, on_ward_b: dict[str, Any]
) -> None:
    nurse_a = running.token(WARD_A, "Ana")
    forged = issue_staff_token(
        Identity.generate(), ward=WARD_B, name="Eve", role="nurse", now=running.clock.now, hours=1
    )
    with httpx.Client(base_url=running.url, timeout=10) as client:
        statuses = [
            client.get(f"/wards/{WARD_B}/alerts", headers={"Authorization": f"Bearer {forged}"}).status_code,
            client.get(f"/wards/{WARD_B}/alerts", headers={"Authorization": f"Bearer {nurse_a}"}).status_code,
            client.post(
                f"/alerts/{on_ward_b['alert']}/acknowledgements",
                json={"reason": {"code": "monitoring"}},
                headers={"Authorization": f"Bearer {nurse_a}"},
            ).status_code,
            client.post(
                "/admissions",
                content=b"{" + b" " * (9 * 1024 * 1024) + b"}",
                headers={"Authorization": f"Bearer {running.token(WARD_A, 'Adam', role='admission')}"},
            ).status_code,
            client.post(
                f"/alerts/{on_ward_b['alert']}/acknowledgements",
                json={"comment": "c" * 3000},
                headers={"Authorization": f"Bearer {running.token(WARD_B, 'Bea')}"},
            ).status_code,
        ]
    assert statuses == [401, 403, 404, 413, 422]
    refusals = _refusals(running.settings.db_path, wanted=5)
    seen = {(r["detail"]["status"], r["detail"]["route"], r["actor"]) for r in refusals}
    assert (401, "GET /wards/{ward}/alerts", "unknown") in seen
    assert (403, "GET /wards/{ward}/alerts", "Ana") in seen
    assert (404, "POST /alerts/{alert}/acknowledgements", "Ana") in seen
    assert (413, "POST /admissions", "Adam") in seen
    assert (422, "POST /alerts/{alert}/acknowledgements", "Bea") in seen
    reasons = {r["detail"]["status"]: r["detail"]["reason"] for r in refusals}
    assert reasons == {
        401: "unauthorized",
        403: "forbidden",
        404: "not-found",
        413: "body-too-large",
        422: "limit-exceeded",
    }
    text = json.dumps(refusals)
    for secret in (forged, nurse_a, forged.split(".")[1], "warfarin", "ccccc"):
        assert secret not in text
    for record in refusals:
        assert record["patient_hash"] is None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["at"]), record["at"]
    # Refused at her admission's alert: the record names the admission, so her own trail shows it.
    [on_her_alert] = [r for r in refusals if r["detail"]["status"] == 404]
    assert on_her_alert["admission"] == on_ward_b["admission"]


def test_a_flood_of_refusals_is_written_as_counts(running: RunningService) -> None:
    """Each refused request is counted, but a flood is not one write per request: within a second, the
    same refusal (who, route, status, reason) is one record with its count."""
    with httpx.Client(base_url=running.url, timeout=10) as client:
        for _ in range(300):
            assert client.get(f"/wards/{WARD_A}/alerts").status_code == 401
    refusals = _refusals(running.settings.db_path, wanted=300)
    assert sum(r["detail"]["count"] for r in refusals) == 300
    assert len(refusals) < 30, len(refusals)
