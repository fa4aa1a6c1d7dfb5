"""The ward dashboard shows the ward's request to a patient for a wider scope, "requested, awaiting the
patient", and then her answer, live from the event stream (her real ledger server and the real service,
one clock; she approves through her page's route)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from alertsvc.ledger import grants
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import grant_link
from alertsvc.patient_server.server_state import CSRF_HEADER
from tests.browser.conftest import OpenTab
from tests.browser.test_patient_to_ward import WARD, PatientsLedger, ledger_server
from tests.web.conftest import FakeClock, RunningService

__all__ = ["ledger_server"]  # fixture


@pytest.mark.browser
def test_the_ward_sees_its_request_awaiting_the_patient_then_her_answer(
    ledger_server: PatientsLedger, running: RunningService, clock: FakeClock, open_tab: OpenTab
) -> None:
    patient = ledger_server.patient
    with Ledger.open(ledger_server.path) as ledger:
        grant = grants.new_grant(
            patient, grantee=running.service.identity.public_id, scope=("medications",),
            not_before=clock.now, hours=48, now=clock.now,
        )  # fmt: skip
        ledger.append([grant], patient=patient, now=clock.now)
    link = grant_link(ledger_server.url, grant.id, patient.public_id)
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        admitted = client.post("/admissions", json={"grant_link": link, "ward": WARD, "bed": "4"})
    assert admitted.status_code == 201, admitted.text
    admission = admitted.json()["admission"]

    nurse = running.token(WARD, "Dana Day")
    ward = open_tab()
    ward.sign_in(nurse)
    with running.client(nurse) as client:
        asked = client.post(
            f"/admissions/{admission}/scope-requests",
            json={"scope": ["reactions", "allergies"], "reason": "to check new drugs against them"},
        )
    assert asked.status_code == 201, asked.text
    line = ward.page.locator(f'#scope-requests li[data-request-id="{asked.json()["id"]}"]')
    expect(line).to_contain_text(
        "Bed 4: allergies, reactions — requested, awaiting the patient (asked by Dana Day)"
    )

    approved = httpx.post(
        f"{ledger_server.url}/api/scope-requests/{asked.json()['id']}/approve",
        headers={CSRF_HEADER: ledger_server_token(ledger_server)},
    )
    assert approved.status_code == 201, approved.text
    expect(line).to_have_attribute("data-status", "approved", timeout=5000)
    expect(line).to_contain_text("approved by the patient: now shared")


def ledger_server_token(server: PatientsLedger) -> str:
    """Her page's token, as her browser reads it from the page."""
    page = httpx.get(server.url + "/").text
    return page.split('name="alertsvc-csrf" content="', 1)[1].split('"', 1)[0]
