"""The hospital's signed reads of a patient's ledger server (``GET /slices/{grant}[?since=HEAD]``): a
captured request cannot be sent again, nor turned into another read by changing its query."""

from __future__ import annotations

from alertsvc.ledger.request_tokens import sign_request
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, ledger
from tests.ledger.test_server import RunningLedger, clock, create_grant, normalizer, running, shared_server

__all__ = ["clock", "ledger", "normalizer", "running", "shared_server"]  # fixtures

BARE_401 = {"error": {"code": "unauthorized", "message": "unauthorized"}}


def grantee_token(target: str) -> dict[str, str]:
    token = sign_request(HOSPITAL, method="GET", target=target, audience=PATIENT.public_id, now=NOW)
    return {"Authorization": f"Bearer {token}"}


def test_a_signed_slice_request_cannot_be_replayed(running: RunningLedger) -> None:
    grant = create_grant(running)
    path = f"/slices/{grant['id']}"
    headers = grantee_token(path)
    with running.client() as client:
        first = client.get(path, headers=headers)
        again = client.get(path, headers=headers)
        fresh = client.get(path, headers=grantee_token(path))
    assert first.status_code == 200, first.text
    assert again.status_code == 401 and again.json() == BARE_401
    assert fresh.status_code == 200 and fresh.content == first.content


def test_a_signed_request_for_the_slice_cannot_read_an_update_instead(running: RunningLedger) -> None:
    grant = create_grant(running)
    path = f"/slices/{grant['id']}"
    with running.client() as client:
        swapped = client.get(path, params={"since": "0"}, headers=grantee_token(path))
        genuine = client.get(path, params={"since": "0"}, headers=grantee_token(f"{path}?since=0"))
    assert swapped.status_code == 401 and swapped.json() == BARE_401
    assert genuine.status_code == 200, genuine.text
