"""Scope requests on the patient's ledger server: only the grant's grantee may ask (its signed request),
within bounds; she approves (a new grant: old scope and new, same grantee, never beyond the old grant's
end) or declines, once; revoking the old grant revokes the wider one too."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from alertsvc.ledger import grants
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.request_tokens import sign_request
from alertsvc.ledger.scope_requests import MAX_PENDING_PER_GRANT
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, STRANGER, add, grant_to
from tests.ledger.test_server import RunningLedger, clock, normalizer, running, shared_server, signed

__all__ = ["clock", "normalizer", "running", "shared_server"]  # fixtures


def ask(
    running: RunningLedger, grant_id: str, *, signer: Identity = HOSPITAL, **fields: Any
) -> httpx.Response:
    body = {"id": "sr-" + uuid.uuid4().hex, "grant": grant_id, "scope": ["reactions"], "reason": "to check"}
    body.update(fields)
    raw = json.dumps(body).encode()
    token = sign_request(
        signer, method="POST", target="/scope-requests", body=raw, audience=PATIENT.public_id,
        now=running.clock.now,
    )  # fmt: skip
    with running.client() as client:
        return client.post(
            "/scope-requests",
            content=raw,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )


def test_the_grantee_asks_she_approves_and_the_wider_grant_ends_with_the_old(
    running: RunningLedger, ledger: Ledger
) -> None:
    old = grant_to(HOSPITAL, scope=("medications",), hours=24)
    add(ledger, old)
    asked = ask(running, old.id, reason="  to check   new drugs ")
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["status"], request["scope"], request["reason"]) == (
        "pending",
        ["reactions"],
        "to check new drugs",
    )

    running.clock.now = NOW + timedelta(hours=2)
    with running.page() as page:
        approved = page.post(f"/api/scope-requests/{request['id']}/approve")
        again = page.post(f"/api/scope-requests/{request['id']}/approve")
    assert approved.status_code == 201, approved.text
    assert again.status_code == 409 and "already approved" in again.json()["error"]["message"]
    wider = ledger.read().grants()[approved.json()["new_grant"]]
    assert wider.scope == {"medications", "reactions"} and wider.grantee == HOSPITAL.public_id
    assert wider.not_before == NOW + timedelta(hours=2)
    assert wider.expires_at == NOW + timedelta(hours=24)  # never beyond the old grant

    path = f"/scope-requests/{request['id']}"
    with running.client() as client:
        seen = client.get(path, headers=signed(HOSPITAL, path, now=running.clock.now))
        stranger = client.get(path, headers=signed(STRANGER, path, now=running.clock.now))
    assert seen.status_code == 200 and seen.json()["status"] == "approved"
    assert seen.json()["new_grant"] == wider.id
    assert stranger.status_code == 404  # another grantee's request is as unknown as a guessed one

    with running.page() as page:
        revoked = page.post(f"/api/grants/{old.id}/revoke")
    assert revoked.status_code == 201 and revoked.json()["also_revoked"] == [wider.id]
    assert {r.grant_id for r in ledger.read().revocations()} == {old.id, wider.id}


def test_she_declines_and_the_grantee_reads_it(running: RunningLedger, ledger: Ledger) -> None:
    old = grant_to(HOSPITAL, scope=("medications",))
    add(ledger, old)
    request = ask(running, old.id).json()
    with running.page() as page:
        declined = page.post(f"/api/scope-requests/{request['id']}/decline")
        listed = page.get("/api/scope-requests").json()["requests"]
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert [(r["id"], r["status"]) for r in listed] == [(request["id"], "declined")]
    assert len(ledger.read().grants()) == 1  # no grant written


def test_a_retry_with_the_same_id_is_the_same_request_and_another_body_is_refused(
    running: RunningLedger, ledger: Ledger
) -> None:
    old = grant_to(HOSPITAL, scope=("medications",))
    add(ledger, old)
    first = ask(running, old.id, id="sr-" + "a" * 32)
    retry = ask(running, old.id, id="sr-" + "a" * 32)
    other = ask(running, old.id, id="sr-" + "a" * 32, reason="something else")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        pytest.param({"scope": ["medications"]}, 400, "already covers medications", id="already-covered"),
        pytest.param({"scope": ["everything"]}, 400, "unknown scope 'everything'", id="unknown-scope"),
        pytest.param({"scope": []}, 400, "non-empty list", id="no-scope"),
        pytest.param({"reason": ""}, 400, "'reason' is required", id="no-reason"),
        pytest.param({"reason": "x" * 501}, 400, "at most 500", id="long-reason"),
        pytest.param({"id": "42"}, 400, "'id'", id="bad-id"),
        pytest.param({"extra": 1}, 400, "unknown field 'extra'", id="unknown-field"),
        pytest.param({"grant": "sha256:" + "0" * 64}, 404, "no grant", id="unknown-grant"),
    ],
)
def test_a_bad_request_is_refused_naming_what_was_wrong_and_nothing_is_kept(
    running: RunningLedger, ledger: Ledger, fields: dict[str, Any], status: int, words: str
) -> None:
    old = grant_to(HOSPITAL, scope=("medications",))
    add(ledger, old)
    refused = ask(running, old.id, **fields)
    assert refused.status_code == status, refused.text
    assert words in refused.json()["error"]["message"]
    with running.page() as page:
        assert page.get("/api/scope-requests").json()["requests"] == []


def test_only_the_grantee_of_a_current_grant_may_ask_and_only_so_often(
    running: RunningLedger, ledger: Ledger
) -> None:
    old, ended = grant_to(HOSPITAL, scope=("medications",)), grant_to(HOSPITAL, scope=("allergies",))
    add(ledger, old, ended)
    add(ledger, grants.new_revocation(PATIENT, grants.read_grant(ended), now=NOW))
    assert ask(running, old.id, signer=STRANGER).status_code == 403
    assert ask(running, ended.id).json()["error"]["code"] == "grant-revoked"
    with running.client() as client:
        unsigned = client.post("/scope-requests", json={"grant": old.id})
    assert unsigned.status_code == 401
    for _ in range(MAX_PENDING_PER_GRANT):
        assert ask(running, old.id).status_code == 201
    over = ask(running, old.id)
    assert over.status_code == 429 and f"at most {MAX_PENDING_PER_GRANT}" in over.json()["error"]["message"]


def test_her_answers_need_the_page_token(running: RunningLedger, ledger: Ledger) -> None:
    old = grant_to(HOSPITAL, scope=("medications",))
    add(ledger, old)
    request = ask(running, old.id).json()
    with running.client() as client:
        forged = client.post(f"/api/scope-requests/{request['id']}/approve")
    assert forged.status_code == 403
    assert len(ledger.read().grants()) == 1
