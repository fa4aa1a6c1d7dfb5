"""Bounded requests (issue 9, defect 4), against real servers on 127.0.0.1.

A body is refused (413, naming the limit) from its Content-Length before it is read, or as soon as a
body of unknown length passes the limit; the token is checked before any body is read; every list and
text has a limit (422 naming the field and the limit); a request's RxNav look-ups share one deadline;
and ``/healthz`` answers while the largest admission the limits allow is worked on.

The memory figures are the server process's own (``/proc/<pid>/status``: VmHWM, its peak resident size).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc.access import issue_staff_token
from alertsvc.clock import utc_now
from alertsvc.config import Settings
from alertsvc.ledger.identity import Identity
from tests.knowledge.rxnav_server import serve_recorded
from tests.web.bounds import (
    alertsvc_serve,
    free_port,
    memory_kib,
    patient_slice,
    raw_post,
    reset_peak,
    rows,
    serve_env,
)
from tests.web.conftest import FakeClock, RunningService
from tests.web.test_admissions import service_settings, serving

WARD = "ward-b"
MIB = 1024 * 1024
LIMIT = Settings().max_body_bytes


# -- a real `alertsvc serve` in its own process, for memory figures ------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    directory = tmp_path_factory.mktemp("served")
    identity = Identity.generate()
    identity.save(directory / "service.key")
    env = serve_env(directory, free_port(), wards=f"{WARD}=Europe/London")
    with alertsvc_serve(env, directory) as (process, url):
        now = utc_now()
        tokens = {
            role: issue_staff_token(identity, ward=WARD, name="Bo", role=role, now=now, hours=8)
            for role in ("admission", "nurse")
        }
        yield {"pid": process.pid, "url": url, "tokens": tokens, "identity": identity}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def test_a_200_mb_body_is_refused_from_its_content_length_without_being_read(
    served: dict[str, Any],
) -> None:
    reset_peak(served["pid"])
    before = memory_kib(served["pid"])
    answer = raw_post(
        served["url"], "/admissions", _bearer(served["tokens"]["admission"]), size=200 * MIB, declared=True
    )
    grown = (memory_kib(served["pid"])["VmHWM"] - before["VmHWM"]) // 1024
    print(f"200 MB declared: {answer.status} after {answer.sent / MIB:.1f} MiB sent; peak RSS +{grown} MiB")
    assert answer.status == 413, answer
    assert answer.body["error"]["code"] == "body-too-large"
    assert f"{LIMIT} bytes" in answer.body["error"]["message"]
    assert answer.sent < 32 * MIB  # answered at the headers: at most what the sockets held
    assert grown < 32, f"the server's peak memory grew {grown} MiB"


def test_a_200_mb_body_of_unknown_length_is_cut_off_at_the_limit(served: dict[str, Any]) -> None:
    reset_peak(served["pid"])
    before = memory_kib(served["pid"])
    answer = raw_post(
        served["url"], "/admissions", _bearer(served["tokens"]["admission"]), size=200 * MIB, declared=False
    )
    grown = (memory_kib(served["pid"])["VmHWM"] - before["VmHWM"]) // 1024
    print(f"200 MB chunked: {answer.status} after {answer.sent / MIB:.1f} MiB sent; peak RSS +{grown} MiB")
    assert answer.status == 413, answer
    assert f"{LIMIT} bytes" in answer.body["error"]["message"]
    assert answer.sent < LIMIT + 32 * MIB
    assert grown < 64, f"the server's peak memory grew {grown} MiB"


@pytest.mark.parametrize(
    ("path", "token_role"),
    [
        pytest.param("/admissions", None, id="admissions-no-token"),
        pytest.param("/admissions/adm-0000000000000000/entries", None, id="entries-no-token"),
        pytest.param("/admissions/adm-0000000000000000/entries", "forged", id="entries-forged-token"),
        pytest.param(f"/wards/{WARD}/schedule", "forged", id="schedule-forged-token"),
        pytest.param("/alerts/alert-0000000000000000/acknowledgements", None, id="ack-no-token"),
    ],
)
def test_the_token_is_checked_before_the_body_is_read(
    served: dict[str, Any], path: str, token_role: str | None
) -> None:
    """A client sends headers and 1 KiB of a 1 MiB body, then waits: a bad token is answered at once."""
    headers = {"Content-Type": "application/json"}
    if token_role == "forged":
        forged = issue_staff_token(
            Identity.generate(), ward=WARD, name="Eve", role="admission", now=utc_now(), hours=1
        )
        headers["Authorization"] = f"Bearer {forged}"
    answer = raw_post(served["url"], path, headers, size=MIB, send=1024, timeout=10)
    assert answer.status == 401, answer
    assert answer.body == {"error": {"code": "unauthorized", "message": "unauthorized"}}


def test_concurrent_bodies_with_bad_tokens_cost_the_server_no_memory(served: dict[str, Any]) -> None:
    """Three 200 MB ledger updates at once with forged tokens (the issue's three at once: 831 MB)."""
    reset_peak(served["pid"])
    before = memory_kib(served["pid"])
    forged = issue_staff_token(
        Identity.generate(), ward=WARD, name="Eve", role="nurse", now=utc_now(), hours=1
    )
    answers: list[Any] = []

    def send() -> None:
        answers.append(
            raw_post(
                served["url"],
                "/admissions/adm-0000000000000000/entries",
                _bearer(forged),
                size=200 * MIB,
            )
        )

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    grown = (memory_kib(served["pid"])["VmHWM"] - before["VmHWM"]) // 1024
    print(f"three 200 MB bodies, forged tokens: {[a.status for a in answers]}; peak RSS +{grown} MiB")
    assert [a.status for a in answers] == [401, 401, 401], answers
    assert grown < 16, f"the server's peak memory grew {grown} MiB"


# -- limits on lists and texts (in-process uvicorn with the test clock) -----------------------------


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path, wards=f"{WARD}=Europe/London"), clock) as service:
        yield service


def _known_drugs(running: RunningService, count: int) -> list[str]:
    """``count`` ingredient names that have interaction partners (so they make alerts)."""
    graph = running.service.graph
    names = sorted(i.name for i in graph.ingredients.values() if graph.partners_above.get(i.rxcui))
    assert len(names) >= count
    return names[:count]


def _admit(running: RunningService, body: dict[str, Any], timeout: float = 120) -> httpx.Response:
    token = running.token(WARD, "Adam", role="admission")
    with httpx.Client(base_url=running.url, timeout=timeout) as client:
        return client.post("/admissions", json=body, headers={"Authorization": f"Bearer {token}"})


def _refused(response: httpx.Response, status: int, code: str, *names: str) -> None:
    assert response.status_code == status, response.text[:500]
    error = response.json()["error"]
    assert error["code"] == code, error
    for name in names:
        assert name in error["message"], (name, error)


def test_a_10000_medication_slice_is_refused_at_once(running: RunningService, tmp_path: Path) -> None:
    """The issue's slice (180 s, 9,999 alerts, /healthz stalled 4.8 s) is over the body limit: 413."""
    drugs = [f"zorvantix {i}" for i in range(10_000)]
    slice_doc = patient_slice(
        tmp_path, running.service.identity.public_id, running.clock.now, medications=drugs
    )
    started = time.monotonic()
    response = _admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"})
    print(f"10,000-medication slice refused in {time.monotonic() - started:.2f} s")
    _refused(response, 413, "body-too-large", f"{LIMIT} bytes")
    assert rows(running.settings.db_path, "alerts") == 0


def test_a_slice_over_the_entry_limit_is_refused_naming_the_tree(
    running: RunningService, tmp_path: Path
) -> None:
    drugs = [f"zorvantix {i}" for i in range(2100)]
    slice_doc = patient_slice(
        tmp_path, running.service.identity.public_id, running.clock.now, medications=drugs
    )
    response = _admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"})
    _refused(response, 422, "limit-exceeded", "slice.trees.medications", "2100", "2000")


def test_a_slice_over_the_medication_limit_is_refused(running: RunningService, tmp_path: Path) -> None:
    drugs = [f"zorvantix {i}" for i in range(101)]
    slice_doc = patient_slice(
        tmp_path, running.service.identity.public_id, running.clock.now, medications=drugs
    )
    response = _admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"})
    _refused(response, 422, "limit-exceeded", "101 active medications", "100")
    assert rows(running.settings.db_path, "admissions") == 0


def test_a_drug_name_longer_than_the_limit_is_refused(running: RunningService, tmp_path: Path) -> None:
    slice_doc = patient_slice(
        tmp_path, running.service.identity.public_id, running.clock.now, medications=["warfarin", "z" * 5000]
    )
    response = _admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"})
    _refused(response, 422, "limit-exceeded", "medication entry", "5000 characters", "200")


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        pytest.param("label", "L" * MIB, 200, id="1-MB-label"),
        pytest.param("bed", "B" * 201, 200, id="bed"),
        pytest.param("ward", "W" * 201, 200, id="ward"),
    ],
)
def test_admission_texts_over_their_limit_are_refused(
    running: RunningService, tmp_path: Path, field: str, value: str, limit: int
) -> None:
    """The issue's 1 MB patient label was copied into every alert."""
    slice_doc = patient_slice(
        tmp_path, running.service.identity.public_id, running.clock.now, medications=["warfarin"]
    )
    body = {"slice": slice_doc, "ward": WARD, "bed": "1", field: value}
    response = _admit(running, body)
    if field == "ward":  # the token is for WARD: another ward's name is refused first, as it must be
        assert response.status_code in (403, 422), response.text
        return
    _refused(response, 422, "limit-exceeded", f"'{field}'", f"{len(value)} characters", str(limit))
    assert rows(running.settings.db_path, "admissions") == 0


def _admitted(running: RunningService, tmp_path: Path, drugs: list[str]) -> str:
    slice_doc = patient_slice(
        tmp_path, running.service.identity.public_id, running.clock.now, medications=drugs
    )
    response = _admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"})
    assert response.status_code == 201, response.text
    admission: str = response.json()["admission"]
    return admission


def test_schedule_lists_and_texts_over_their_limits_are_refused(
    running: RunningService, tmp_path: Path
) -> None:
    admission = _admitted(running, tmp_path, ["warfarin"])
    due = (running.clock.now + timedelta(hours=2)).isoformat()
    one = {"admission": admission, "drug": "paracetamol", "due": due}
    nurse = running.token(WARD, "Nia")
    every_second = {
        "admission": admission,
        "resource": {
            "resourceType": "MedicationRequest",
            "id": "mr-1",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"text": "paracetamol"},
            "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "s"}}}],
        },
    }
    with running.client(nurse) as client:
        many = client.post(f"/wards/{WARD}/schedule", json={"administrations": [one] * 1001})
        _refused(many, 422, "limit-exceeded", "1001", "1000")
        long_drug = client.post(
            f"/wards/{WARD}/schedule", json={"administrations": [one | {"drug": "p" * 201}]}
        )
        _refused(long_drug, 422, "limit-exceeded", "administrations[0].drug", "201 characters", "200")
        flood = client.post(f"/wards/{WARD}/schedule", json={"medication_requests": [every_second]})
        _refused(flood, 422, "schedule-error", "mr-1", "more often than once a minute")
        big = every_second | {"resource": every_second["resource"] | {"note": [{"text": "n" * 70_000}]}}
        too_big = client.post(f"/wards/{WARD}/schedule", json={"medication_requests": [big]})
        _refused(too_big, 422, "limit-exceeded", "medication_requests[0].resource", "65536 bytes")
    assert rows(running.settings.db_path, "doses") == 0


def test_acknowledgement_and_dose_note_texts_over_their_limits_are_refused(
    running: RunningService, tmp_path: Path
) -> None:
    admission = _admitted(running, tmp_path, ["warfarin"])
    nurse = running.token(WARD, "Nia")
    due = (running.clock.now + timedelta(hours=2)).isoformat()
    with running.client(nurse) as client:
        planned = client.post(
            f"/wards/{WARD}/schedule",
            json={"administrations": [{"admission": admission, "drug": "ibuprofen", "due": due}]},
        )
        assert planned.status_code == 201, planned.text
        dose = planned.json()["administrations"][0]["id"]
        alert = client.get(f"/wards/{WARD}/alerts").json()["alerts"][0]["id"]
        reason = {"code": "prescriber-informed"}
        ack = client.post(f"/alerts/{alert}/acknowledgements", json={"reason": reason, "comment": "c" * 2001})
        _refused(ack, 422, "limit-exceeded", "'comment'", "2001 characters", "2000")
        display = client.post(
            f"/alerts/{alert}/acknowledgements", json={"reason": reason | {"display": "d" * 201}}
        )
        _refused(display, 422, "limit-exceeded", "'reason.display'", "200")
        note = client.post(
            f"/wards/{WARD}/schedule/{dose}/outcome", json={"status": "given", "note": "n" * 2001}
        )
        _refused(note, 422, "limit-exceeded", "'note'", "2000")
        many = client.post(
            f"/alerts/{alert}/acknowledgements", json={"reason": reason, "x": list(range(2001))}
        )
        _refused(many, 422, "limit-exceeded", "acknowledgement.x", "2001 items", "2000")
    assert rows(running.settings.db_path, "acknowledgements") == 0


# -- RxNav: one deadline per request -----------------------------------------------------------------


@pytest.mark.parametrize(
    "parallel", [pytest.param(10, id="all-at-once"), pytest.param(2, id="two-at-a-time")]
)
def test_ten_unknown_drugs_with_a_stalled_rxnav_share_one_deadline(
    tmp_path: Path, clock: FakeClock, parallel: int
) -> None:
    """The issue: ten unknown drugs, RxNav stalled, 3 s each in series: 30 s. Now one 2 s deadline for
    the request, however many look-ups run at once; what is not answered by then is unresolved."""
    with serve_recorded(slow_seconds=60) as rxnav:
        settings = service_settings(
            tmp_path,
            wards=f"{WARD}=Europe/London",
            rxnav_url=rxnav.url("slow"),
            rxnav_timeout=1.5,
            rxnav_request_seconds=2.0,
            rxnav_parallel=parallel,
        )
        with serving(settings, clock) as running:
            drugs = [f"zorvantix {i}" for i in range(10)]
            slice_doc = patient_slice(
                tmp_path, running.service.identity.public_id, clock.now, medications=drugs
            )
            started = time.monotonic()
            response = _admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"})
            took = time.monotonic() - started
            asked = {dict(r.query).get("name") for r in rxnav.requests}
    print(f"ten unknown drugs, stalled RxNav, {parallel} at once: {took:.2f} s; asked about {len(asked)}")
    assert response.status_code == 201, response.text
    unresolved = response.json()["unresolved"]
    assert sorted(u["term"] for u in unresolved) == sorted(drugs)
    for item in unresolved:
        assert "RxNav" in item["reason"], item
    assert response.json()["alerts"] == 10  # each an unchecked alert of its own
    if parallel == 10:
        assert asked == set(drugs)  # every drug was asked about, all at once
    assert took < 6, f"the admission took {took:.1f} s: the RxNav deadline is per request (2 s)"


# -- the event loop while the largest admission is worked on -----------------------------------------


def test_healthz_answers_while_the_largest_admission_is_worked_on(
    running: RunningService, tmp_path: Path
) -> None:
    """At the limits: 2,000 entries (100 active medications that interact, 850 started and stopped,
    100 allergies, 100 flagged reactions). ``bench.bounds_bench`` measures how long /healthz waits."""
    known = _known_drugs(running, 100)
    slice_doc = patient_slice(
        tmp_path,
        running.service.identity.public_id,
        running.clock.now,
        medications=known,
        stopped=[known[i % 100] for i in range(850)],
        allergies=[f"allergen {i}" for i in range(99)],
        reactions=[f"reactant {i}" for i in range(100)],
    )
    result: list[httpx.Response] = []
    admitting = threading.Thread(
        target=lambda: result.append(_admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"}))
    )
    answered = 0
    with httpx.Client(base_url=running.url, timeout=30) as client:
        admitting.start()
        while admitting.is_alive():
            assert client.get("/healthz").status_code == 200
            answered += 1
        admitting.join()
    assert answered >= 1
    assert result[0].status_code == 201, result[0].text[:500]
    assert result[0].json()["alerts"] > 100
