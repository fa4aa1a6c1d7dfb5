"""The patient's ledger server: her "no known drug allergies" button, and the status her page reads."""

from __future__ import annotations

from alertsvc.ledger.log import Ledger
from tests.ledger.conftest import add, allergy
from tests.ledger.test_server import RunningLedger, clock, normalizer, running, shared_server

__all__ = ["clock", "normalizer", "running", "shared_server"]  # test_server's fixtures, used here


def test_she_asserts_no_known_drug_allergies_and_her_page_says_so(running: RunningLedger) -> None:
    with running.page() as client:
        assert client.get("/api/ledger").json()["allergy_status"]["state"] == "not-recorded"
        response = client.post("/api/no-known-allergies")
        assert response.status_code == 201, response.text
        status = client.get("/api/ledger").json()["allergy_status"]
    assert status["state"] == "none-known" and status["assertion"]["asserted_by"] == "patient"
    assert status["assertion"]["entry"] == response.json()["entry"]


def test_it_is_refused_while_allergies_are_recorded_and_nothing_is_written(
    running: RunningLedger, ledger: Ledger
) -> None:
    add(ledger, allergy("penicillin"))
    before = running.head()
    with running.page() as client:
        response = client.post("/api/no-known-allergies")
        assert client.get("/api/ledger").json()["allergy_status"]["state"] == "known"
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "allergies-recorded"
    assert "penicillin" in response.json()["error"]["message"]
    assert running.head() == before


def test_without_the_page_token_it_is_forbidden(running: RunningLedger) -> None:
    before = running.head()
    with running.client() as client:
        assert client.post("/api/no-known-allergies").status_code == 403
    assert running.head() == before
