"""The patient's page shows a hospital's request to see more (who, what, why) and she approves it: a new
grant to the same hospital with the old scope and the new, ending when the old one ends; axe-core finds
no serious violation with the request on the page."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from alertsvc.ledger.log import Ledger
from alertsvc.ledger.request_tokens import sign_request
from alertsvc.patient_server.server import create_ledger_app
from tests.browser.axe import assert_no_serious_violations
from tests.browser.test_patient_pages import LedgerPages, page
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, add, grant_to, medication
from tests.ledger.test_server import FakeClock
from tests.servers import serve_app

__all__ = ["page"]  # fixture
REASON = "to check new prescriptions against reactions you have flagged"


@pytest.fixture
def ledger_pages(tmp_path: Path) -> Iterator[LedgerPages]:
    """Her ledger with a grant of her medications to the hospital, behind a real ledger server."""
    path = tmp_path / "patient.ledger"
    with Ledger.init(path, PATIENT, now=NOW - timedelta(days=1)) as ledger:
        add(ledger, medication("warfarin"), grant_to(HOSPITAL, scope=("medications",), hours=72))
    clock = FakeClock()
    for url in serve_app(create_ledger_app(path, PATIENT, clock=clock)):
        yield LedgerPages(url, clock)


def hospital_asks(pages: LedgerPages, grant_id: str) -> None:
    body = json.dumps({"id": "sr-" + uuid.uuid4().hex, "grant": grant_id, "scope": ["reactions"],
                       "reason": REASON, "admission": "adm-0f1e2d3c4b5a6978"}).encode()  # fmt: skip
    token = sign_request(HOSPITAL, method="POST", target="/scope-requests", body=body,
                         audience=PATIENT.public_id, now=pages.clock.now)  # fmt: skip
    asked = httpx.post(
        pages.url + "/scope-requests", content=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert asked.status_code == 201, asked.text


@pytest.mark.browser
def test_she_sees_the_hospitals_request_and_approves_it(page: Page, ledger_pages: LedgerPages) -> None:
    page.goto(ledger_pages.url + "/")
    expect(page.locator("#no-scope-requests")).to_be_visible()
    [grant_id] = [g["id"] for g in httpx.get(ledger_pages.url + "/api/ledger").json()["grants"]]
    hospital_asks(ledger_pages, grant_id)
    page.reload()

    expect(page.locator("#requests-banner")).to_contain_text("A hospital asks to see more of your ledger")
    request = page.locator("#scope-requests > li")
    expect(request).to_have_count(1)
    expect(request).to_contain_text("Awaiting your answer")
    expect(request).to_contain_text("Asks to see your reactions too until Wed 11 Mar, 02:00")
    expect(request).to_contain_text(REASON)
    assert_no_serious_violations(page, "the patient's page with a request", same_origin=True)

    request.locator('[data-action="approve"]').click()
    expect(request).to_contain_text("Approved")
    expect(page.locator("#requests-banner")).to_be_hidden()
    expect(page.locator("#grants > li")).to_have_count(2)
    expect(page.locator("#grants")).to_contain_text(
        "Sees your medications and reactions, until Wed 11 Mar, 02:00"
    )
