"""Her ledger server and the hospital's service as real processes (``alertsvc ledger serve``, ``alertsvc
serve``) with the poll 10 minutes apart, so only the watch can explain what arrives in seconds:

- a reaction flagged on her page reaches the ward as a critical alert in well under the poll interval;
- the ward asks for a wider scope, she approves on her page, and the service moves the admission onto
  the new grant at once (the ward sees "requested, awaiting the patient", then the answer, then the
  alert the wider scope shows); she declines another; revoking the first grant revokes the wider one
  too, and the admission ends.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.watch_bench import Stay

pytestmark = pytest.mark.slow


@pytest.fixture
def stay(tmp_path: Path) -> Stay:
    return Stay(tmp_path)


def test_a_flag_on_her_page_reaches_the_ward_in_seconds_not_at_the_next_poll(stay: Stay) -> None:
    with stay.running():
        grant = stay.share(["medications", "allergies", "reactions"])
        stay.admit(grant["link"], ("ibuprofen", "naproxen"))
        stream = stay.stream()
        try:
            for drug in ("ibuprofen", "naproxen"):
                started = time.monotonic()
                stay.flag(drug)
                arrived = stream.wait_for("reaction", drug, timeout=15) - started
                assert arrived < 5, f"{drug}: {arrived:.2f} s (the poll is {stay.poll_seconds} s apart)"
        finally:
            stream.close()


def test_the_watch_comes_back_after_her_server_restarts(stay: Stay) -> None:
    with stay.running():
        grant = stay.share(["medications", "allergies", "reactions"])
        stay.admit(grant["link"], ("ibuprofen", "naproxen"))
        stream = stay.stream()
        try:
            started = time.monotonic()
            stay.flag("ibuprofen")
            assert stream.wait_for("reaction", "ibuprofen", timeout=15) - started < 5
            stay.restart_ledger(down_for=2.0)
            started = time.monotonic()
            stay.flag("naproxen")
            # Reconnected within its backoff (0.5 s doubling, here a few seconds), far before the poll.
            assert stream.wait_for("reaction", "naproxen", timeout=30) - started < 20
        finally:
            stream.close()


def test_the_service_watches_again_after_it_restarts(stay: Stay) -> None:
    with stay.running():
        grant = stay.share(["medications", "allergies", "reactions"])
        stay.admit(grant["link"], ("ibuprofen",))
        stay.restart_service()  # the watch is started again at start-up, from the database
        stream = stay.stream()
        try:
            started = time.monotonic()
            stay.flag("ibuprofen")
            assert stream.wait_for("reaction", "ibuprofen", timeout=15) - started < 5
        finally:
            stream.close()


def test_the_ward_asks_for_more_she_answers_and_the_wider_grant_is_read_at_once(stay: Stay) -> None:
    with stay.running():
        grant = stay.share(["medications"])
        admission = stay.admit(grant["link"], ("ibuprofen",))
        stay.flag("ibuprofen")  # in her ledger, but not in what she shares
        nurse = stay.token("Nia")
        stream = stay.stream()
        try:
            asked = stay.service(
                "POST", f"/admissions/{admission}/scope-requests", nurse,
                {"scope": ["reactions"], "reason": "to check new drugs against reactions you have flagged"},
                **{"Idempotency-Key": "ask-1"},
            )  # fmt: skip
            assert asked.status_code == 201, asked.text
            request = asked.json()
            assert (request["status"], request["status_text"]) == (
                "requested",
                "requested, awaiting the patient",
            )
            assert stream.wait_event("scope-request", 5, id=request["id"], status="requested")
            replayed = stay.service(
                "POST", f"/admissions/{admission}/scope-requests", nurse,
                {"scope": ["reactions"], "reason": "to check new drugs against reactions you have flagged"},
                **{"Idempotency-Key": "ask-1"},
            )  # fmt: skip
            assert replayed.headers.get("Idempotent-Replayed") == "true" and replayed.json() == request

            mine = stay.page("GET", "/api/scope-requests").json()["requests"]
            assert [(r["id"], r["status"], r["scope"]) for r in mine] == [
                (request["id"], "pending", ["reactions"])
            ]
            assert mine[0]["reason"] == "to check new drugs against reactions you have flagged"

            started = time.monotonic()
            approved = stay.page("POST", f"/api/scope-requests/{request['id']}/approve")
            assert approved.status_code == 201, approved.text
            wider = approved.json()["new_grant"]
            answer = stream.wait_event("scope-request", 10, id=request["id"], status="approved")
            stream.wait_for("reaction", "ibuprofen", timeout=10)
            assert time.monotonic() - started < 5  # the poll is 10 minutes apart
            assert answer["new_grant"] == wider
            view = stay.service("GET", f"/admissions/{admission}/scope-requests", nurse).json()
            assert [r["status"] for r in view["requests"]] == ["approved"]
            ledger_view = stay.page("GET", "/api/ledger").json()
            terms = {g["id"]: g for g in ledger_view["grants"]}
            assert terms[wider]["scope"] == ["medications", "reactions"]
            assert (
                terms[wider]["expires_at"] == terms[grant["id"]]["expires_at"]
            )  # never beyond the old grant

            declined_request = stay.service(
                "POST", f"/admissions/{admission}/scope-requests", nurse,
                {"scope": ["allergies"], "reason": "to check allergies"},
            ).json()  # fmt: skip
            declined = stay.page("POST", f"/api/scope-requests/{declined_request['id']}/decline")
            assert declined.status_code == 200, declined.text
            said = stream.wait_event("scope-request", 10, id=declined_request["id"], status="declined")
            assert said["status_text"] == "declined by the patient"

            revoked = stay.page("POST", f"/api/grants/{grant['id']}/revoke")
            assert revoked.status_code == 201 and revoked.json()["also_revoked"] == [wider]
            stream.wait_event("withdrawn", 10)
            gone = stay.service("GET", f"/admissions/{admission}/scope-requests", nurse)
            assert gone.json()["requests"] == []  # purged with the admission
        finally:
            stream.close()
