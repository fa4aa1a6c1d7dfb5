"""Writes a client may repeat: an ``Idempotency-Key`` on every POST returns the first answer to a retry, a
replayed ledger update is a clean no-op, and no repetition is ever answered with a 500.

A real uvicorn on 127.0.0.1 with an injected clock; the patient's side is the real command line; what is
stored is read from the SQLite file through a connection of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc.idempotency import KEY_LIFETIME
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.request_tokens import sign_request
from tests.postgres import reading
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_admissions import (
    WARD,
    InProcessPatient,
    admit,
    alerts,
    drug_names_in,
    grant,
    make_slice,
    make_update,
    post_update,
    row_counts,
    service_settings,
    serving,
)
from tests.web.test_one_live_admission import CONCURRENT, at_once

KEY = "Idempotency-Key"


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


def count(running: RunningService, sql: str, *params: Any) -> int:
    with reading(running.settings.db_path) as db:
        value: int = db.execute(sql, params).fetchone()[0]
        return value


def nurse_post(
    running: RunningService, path: str, body: dict[str, Any], key: str | None, *, nurse: str = "Nico Nurse"
) -> httpx.Response:
    headers = {KEY: key} if key is not None else {}
    with running.client(running.token(WARD, nurse)) as client:
        return client.post(path, json=body, headers=headers)


@pytest.fixture
def admitted(running: RunningService, patient: PatientCLI) -> dict[str, Any]:
    """A patient on warfarin who flagged ibuprofen (a critical alert once ibuprofen is planned)."""
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    patient.ledger_cmd("flag-reaction", "ibuprofen", "--reaction", "wheeze", "--severity", "severe")
    return admit(running, patient)


def ibuprofen_at(running: RunningService, admission: str, hours: int) -> dict[str, Any]:
    due = (running.clock.now + timedelta(hours=hours)).isoformat()
    return {"administrations": [{"admission": admission, "drug": "ibuprofen", "dose": "400 mg", "due": due}]}


def critical_alert(running: RunningService) -> str:
    [alert] = [a for a in alerts(running) if a["alert"]["severity"] == "critical"]
    return str(alert["id"])


ACK = {"reason": {"code": "prescriber-informed"}, "comment": "Dr Patel told at the bedside"}


# -- ledger updates: a replay is a no-op, never a 500 ---------------------------------------------


def test_the_same_ledger_update_twice_is_a_no_op_not_a_500(
    running: RunningService, patient: PatientCLI, admitted: dict[str, Any]
) -> None:
    """Before the fix: an update with nothing new, posted twice, was 200 then 500 (UNIQUE constraint
    failed: slice_updates); an applied update posted again was a 400."""
    admission, head = admitted["admission"], admitted["head"]
    nothing_new = make_update(patient, head, out="empty.json")
    answers = [post_update(running, admission, nothing_new) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], answers[1].text
    for response in answers:
        assert response.json() == {"admission": admission, "status": "active", "head": head, "applied": False}
    assert count(running, "SELECT count(*) FROM slice_updates") == 0

    patient.ledger_cmd("add-allergy", "penicillin", "--reaction", "hives")
    update = make_update(patient, head, out="update.json")
    first = post_update(running, admission, update)
    assert first.status_code == 200, first.text
    assert first.json()["applied"] is True and first.json()["head"] > head
    before = row_counts(running.settings.db_path)
    again = post_update(running, admission, update)
    assert again.status_code == 200, again.text
    assert again.json() == {
        "admission": admission,
        "status": "active",
        "head": first.json()["head"],
        "applied": False,
    }
    assert row_counts(running.settings.db_path) == before


def test_concurrent_identical_updates_apply_once(
    running: RunningService, patient: PatientCLI, admitted: dict[str, Any]
) -> None:
    """Before the fix: four at once answered 200, 400, 400, 500."""
    admission, head = admitted["admission"], admitted["head"]
    patient.ledger_cmd("flag-reaction", "warfarin", "--reaction", "nosebleeds", "--severity", "severe")
    update = make_update(patient, head, out="update.json")
    answers = at_once(CONCURRENT, lambda _: post_update(running, admission, update))
    assert [a.status_code for a in answers] == [200] * CONCURRENT, [a.text for a in answers]
    assert sorted(a.json()["applied"] for a in answers) == [False] * (CONCURRENT - 1) + [True]
    assert {a.json()["head"] for a in answers} == {head + 1}
    assert count(running, "SELECT count(*) FROM slice_updates") == 1
    assert count(running, "SELECT count(*) FROM audit WHERE action = 'update-slice'") == 1
    [critical] = [a for a in alerts(running) if a["alert"]["severity"] == "critical"]
    assert critical["alert"]["kind"] == "reaction"


def test_an_update_with_the_key_is_answered_again_after_the_revocation_it_carried(
    running: RunningService, patient: PatientCLI, admitted: dict[str, Any]
) -> None:
    admission = admitted["admission"]
    patient.ledger_cmd("revoke", "grant.json")
    revocation = make_update(patient, admitted["head"], out="revocation.json")
    answers = []
    for _ in range(2):
        with running.client(running.token(WARD, "Dana Day")) as client:
            answers.append(
                client.post(f"/admissions/{admission}/entries", json=revocation, headers={KEY: "rev-1"})
            )
    assert [a.status_code for a in answers] == [200, 200], answers[1].text
    assert (
        answers[0].json()
        == answers[1].json()
        == {
            "admission": admission,
            "status": "ended",
            "reason": "grant revoked",
        }
    )
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert count(running, "SELECT count(*) FROM audit WHERE action = 'purge'") == 1


def test_the_patient_may_retry_a_signed_update_with_the_key(
    running: RunningService, patient: PatientCLI, admitted: dict[str, Any]
) -> None:
    admission = admitted["admission"]
    patient.ledger_cmd("add-allergy", "penicillin", "--reaction", "hives")
    update = make_update(patient, admitted["head"], out="update.json")
    path = f"/admissions/{admission}/entries"
    signer = Identity.load(patient.key)
    answers = []
    body = json.dumps(update).encode()
    for _ in range(
        2
    ):  # each attempt signs a request of its own (a token is accepted once), as a client would
        token = sign_request(
            signer,
            method="POST",
            target=path,
            body=body,
            audience=running.service.identity.public_id,
            now=running.clock.now,
        )
        headers = {"Authorization": f"Bearer {token}", KEY: "p-1", "Content-Type": "application/json"}
        with httpx.Client(base_url=running.url, timeout=10) as client:
            answers.append(client.post(path, content=body, headers=headers))
    assert [a.status_code for a in answers] == [200, 200], answers[1].text
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["applied"] is True
    assert answers[1].headers["Idempotent-Replayed"] == "true"


# -- every POST route: a retry with the key gets the first answer; nothing is stored twice ----------


def test_an_acknowledgement_retried_with_its_key_is_stored_once(
    running: RunningService, admitted: dict[str, Any]
) -> None:
    """Before the fix: the header was ignored and each retry stored another acknowledgement."""
    nurse_post(running, f"/wards/{WARD}/schedule", ibuprofen_at(running, admitted["admission"], 8), "s-1")
    alert = critical_alert(running)
    answers = [nurse_post(running, f"/alerts/{alert}/acknowledgements", ACK, "ack-1") for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201], answers[-1].text
    assert answers[0].content == answers[1].content == answers[2].content
    assert "Idempotent-Replayed" not in answers[0].headers
    assert answers[2].headers["Idempotent-Replayed"] == "true"
    assert count(running, "SELECT count(*) FROM acknowledgements") == 1
    assert count(running, "SELECT count(*) FROM events WHERE type = 'acknowledgement'") == 1
    # Without a key, two posts are two acknowledgements (a nurse may acknowledge twice on purpose).
    for _ in range(2):
        assert nurse_post(running, f"/alerts/{alert}/acknowledgements", ACK, None).status_code == 201
    assert count(running, "SELECT count(*) FROM acknowledgements") == 3


def test_concurrent_retries_with_one_key_store_one_acknowledgement(
    running: RunningService, admitted: dict[str, Any]
) -> None:
    nurse_post(running, f"/wards/{WARD}/schedule", ibuprofen_at(running, admitted["admission"], 8), "s-1")
    alert = critical_alert(running)
    answers = at_once(
        CONCURRENT, lambda _: nurse_post(running, f"/alerts/{alert}/acknowledgements", ACK, "ack-once")
    )
    assert [a.status_code for a in answers] == [201] * CONCURRENT, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == CONCURRENT - 1
    assert count(running, "SELECT count(*) FROM acknowledgements") == 1
    assert len(running.service.locks) == 0  # a key's lock lives only while it is held or awaited


def test_a_schedule_and_a_dose_outcome_retried_with_their_keys_are_stored_once(
    running: RunningService, admitted: dict[str, Any]
) -> None:
    """Before the fix: the same schedule posted twice planned every dose twice."""
    body = ibuprofen_at(running, admitted["admission"], 2)
    planned = [nurse_post(running, f"/wards/{WARD}/schedule", body, "plan-7") for _ in range(2)]
    assert [p.status_code for p in planned] == [201, 201], planned[1].text
    assert planned[0].json() == planned[1].json()
    assert count(running, "SELECT count(*) FROM doses") == 1
    assert count(running, "SELECT count(*) FROM events WHERE type = 'schedule'") == 1
    [dose] = planned[0].json()["administrations"]
    path = f"/wards/{WARD}/schedule/{dose['id']}/outcome"
    outcome = {"status": "held", "note": "prescriber reviewing"}
    recorded = [nurse_post(running, path, outcome, "held-1") for _ in range(2)]
    assert [r.status_code for r in recorded] == [200, 200], recorded[1].text
    assert recorded[0].json() == recorded[1].json()
    assert recorded[0].json()["outcome"]["status"] == "held"
    assert count(running, "SELECT count(*) FROM events WHERE type = 'administration'") == 1
    assert count(running, "SELECT count(*) FROM audit WHERE action = 'record-administration'") == 1


def test_an_admission_retried_with_its_key_gets_the_first_answer_not_a_conflict(
    running: RunningService, patient: PatientCLI
) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    grant_doc = grant(patient, running.service.identity.public_id, not_before=running.clock.now)
    body = {"grant": grant_doc, "slice": make_slice(patient), "ward": WARD, "bed": "1"}

    def post(_: int) -> httpx.Response:
        with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
            return client.post("/admissions", json=body, headers={KEY: "admit-bed-1"})

    answers = [*at_once(CONCURRENT, post), post(0)]
    assert [a.status_code for a in answers] == [201] * (CONCURRENT + 1), [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert count(running, "SELECT count(*) FROM admissions") == 1
    # Without the key, presenting the grant again is a conflict naming the live admission.
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        again = client.post("/admissions", json=body)
    assert again.status_code == 409 and answers[0].json()["admission"] in again.json()["error"]["message"]


# -- what a key means ------------------------------------------------------------------------------


def test_the_same_key_with_another_body_is_422_naming_the_key_and_stores_nothing(
    running: RunningService, admitted: dict[str, Any]
) -> None:
    nurse_post(running, f"/wards/{WARD}/schedule", ibuprofen_at(running, admitted["admission"], 8), "s-1")
    alert = critical_alert(running)
    assert nurse_post(running, f"/alerts/{alert}/acknowledgements", ACK, "ack-2").status_code == 201
    before = row_counts(running.settings.db_path)
    other = ACK | {"comment": "something else"}
    response = nurse_post(running, f"/alerts/{alert}/acknowledgements", other, "ack-2")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "idempotency-key-reused"
    assert "ack-2" in error["message"] and "different request body" in error["message"]
    assert row_counts(running.settings.db_path) == before


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 256, id="too-long"),
        pytest.param("has space", id="space"),
        pytest.param("caf\u00e9", id="not-ascii"),
    ],
)
def test_a_malformed_key_is_400_naming_the_header(
    running: RunningService, admitted: dict[str, Any], key: str
) -> None:
    nurse_post(running, f"/wards/{WARD}/schedule", ibuprofen_at(running, admitted["admission"], 8), "s-1")
    alert = critical_alert(running)
    before = row_counts(running.settings.db_path)
    headers = {"Authorization": f"Bearer {running.token(WARD, 'Nico Nurse')}", KEY: key}
    response = httpx.post(
        f"{running.url}/alerts/{alert}/acknowledgements",
        json=ACK,
        headers=[(k, v.encode()) for k, v in headers.items()],
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "input-error"
    assert KEY in response.json()["error"]["message"]
    assert row_counts(running.settings.db_path) == before


def test_keys_belong_to_their_caller(running: RunningService, admitted: dict[str, Any]) -> None:
    """Another nurse using the same key (and body) makes her own acknowledgement; a bad token is a bare
    401 even when the key has an answer stored."""
    nurse_post(running, f"/wards/{WARD}/schedule", ibuprofen_at(running, admitted["admission"], 8), "s-1")
    alert = critical_alert(running)
    path = f"/alerts/{alert}/acknowledgements"
    first = nurse_post(running, path, ACK, "shared", nurse="Nico Nurse")
    second = nurse_post(running, path, ACK, "shared", nurse="Dana Day")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"] and second.json()["nurse"] == "Dana Day"
    forged = httpx.post(
        running.url + path, json=ACK, headers={"Authorization": "Bearer forged", KEY: "shared"}, timeout=10
    )
    assert forged.status_code == 401
    assert forged.json() == {"error": {"code": "unauthorized", "message": "unauthorized"}}


def test_a_key_expires_after_its_lifetime(
    running: RunningService, admitted: dict[str, Any], clock: FakeClock
) -> None:
    nurse_post(running, f"/wards/{WARD}/schedule", ibuprofen_at(running, admitted["admission"], 30), "s-1")
    alert = critical_alert(running)
    path = f"/alerts/{alert}/acknowledgements"
    assert nurse_post(running, path, ACK, "old").status_code == 201
    clock.now += KEY_LIFETIME - timedelta(seconds=1)
    assert nurse_post(running, path, ACK, "old").headers.get("Idempotent-Replayed") == "true"
    clock.now += timedelta(seconds=1)
    running.run(running.service.tick())
    assert count(running, "SELECT count(*) FROM idempotency WHERE key = 'old'") == 0
    fresh = nurse_post(running, path, ACK, "old")
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert count(running, "SELECT count(*) FROM acknowledgements") == 2


def test_a_stored_answer_survives_a_restart(tmp_path: Path, clock: FakeClock, patient: PatientCLI) -> None:
    settings = service_settings(tmp_path)
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("flag-reaction", "ibuprofen", "--reaction", "wheeze", "--severity", "severe")
    with serving(settings, clock) as first:
        admission = admit(first, patient)["admission"]
        nurse_post(first, f"/wards/{WARD}/schedule", ibuprofen_at(first, admission, 8), "s-1")
        alert = critical_alert(first)
        answered = nurse_post(first, f"/alerts/{alert}/acknowledgements", ACK, "across")
    with serving(settings, clock) as second:
        again = nurse_post(second, f"/alerts/{alert}/acknowledgements", ACK, "across")
        assert again.status_code == 201 and again.content == answered.content
        assert count(second, "SELECT count(*) FROM acknowledgements") == 1


def test_stored_answers_are_purged_with_the_admission(
    running: RunningService, patient: PatientCLI, admitted: dict[str, Any]
) -> None:
    """The answers hold drug names, comments and the like: they go with the admission's data, from the
    database file and its WAL."""
    admission = admitted["admission"]
    nurse_post(running, f"/wards/{WARD}/schedule", ibuprofen_at(running, admission, 8), "s-1")
    alert = critical_alert(running)
    comment = {"reason": {"code": "monitoring"}, "comment": "Quetzalcoatl watch"}
    assert nurse_post(running, f"/alerts/{alert}/acknowledgements", comment, "a-9").status_code == 201
    assert count(running, "SELECT count(*) FROM idempotency") == 2  # the schedule, the acknowledgement
    patient.ledger_cmd("revoke", "grant.json")
    revocation = make_update(patient, admitted["head"], out="revocation.json")
    assert post_update(running, admission, revocation).json()["status"] == "ended"
    assert count(running, "SELECT count(*) FROM idempotency") == 0
    assert drug_names_in(running.settings.db_path, ("ibuprofen", "warfarin", "quetzalcoatl")) == []
    # A retry of a purged write is judged afresh: the admission has ended.
    retry = nurse_post(running, f"/alerts/{alert}/acknowledgements", comment, "a-9")
    assert retry.status_code == 404, retry.text


def test_cds_feedback_retried_with_its_key_is_recorded_once(tmp_path: Path, clock: FakeClock) -> None:
    from tests.web.test_cds_hooks import CLIENT, ISSUER, client_token

    settings = service_settings(tmp_path, cds_clients=f"{ISSUER}={CLIENT.public_id}")
    with serving(settings, clock) as cds:
        path = "/cds-services/alertsvc-medication-safety-select/feedback"
        card = "0b9e2c1a-5d55-4a8e-9f10-2f1f6d1b7c3e"
        body = {
            "feedback": [{"card": card, "outcome": "accepted", "outcomeTimestamp": "2030-01-15T12:00:05Z"}]
        }
        answers = []
        for _ in range(2):
            headers = {"Authorization": f"Bearer {client_token(cds, path)}", KEY: "fb-1"}
            answers.append(httpx.post(cds.url + path, json=body, headers=headers, timeout=10))
        assert [a.status_code for a in answers] == [200, 200], answers[1].text
        assert answers[0].json() == answers[1].json() == {"recorded": 1}
        assert count(cds, "SELECT count(*) FROM cds_feedback") == 1
