"""The patient's own pages (dashboards/patient/, served by the patient's ledger server) in the browser.

A patient on warfarin, allergic to penicillin, who flagged a bad reaction to ibuprofen, opens her ledger
server's page and shares her ledger with the hospital for 72 hours: the grant appears with its QR code,
link and files, and in the list of who can see the ledger. The picture is patient-sharing.png
(into docs/screenshots/ with `make screenshots`); axe-core finds no serious violation (the page's strict
Content-Security-Policy stays on: axe-core is served to it as a script of its own origin).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import read_grant_link
from alertsvc.patient_server.server import create_ledger_app
from tests.browser.axe import assert_no_serious_violations, describe
from tests.browser.conftest import SCREENSHOTS, VIEWPORT, launch
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, add, allergy, medication, reaction
from tests.ledger.test_server import FakeClock, small_knowledge
from tests.servers import serve_app

PUBLIC_URL = "http://127.0.0.1:8765"  # what grant links carry (as `ledger serve --public-url` would)


@dataclass
class LedgerPages:
    url: str
    clock: FakeClock


@pytest.fixture
def ledger_pages(tmp_path: Path) -> Iterator[LedgerPages]:
    """Her ledger (made with the ledger's own API at fixed times) behind a real ledger server."""
    path = tmp_path / "patient.ledger"
    with Ledger.init(path, PATIENT, now=NOW - timedelta(days=1)) as ledger:
        add(ledger, medication("warfarin"), allergy("penicillin"), reaction("ibuprofen"))
    clock = FakeClock()
    app = create_ledger_app(
        path, PATIENT, clock=clock, normalizer=Normalizer(small_knowledge()), public_url=PUBLIC_URL
    )
    for url in serve_app(app):
        yield LedgerPages(url, clock)


@pytest.fixture
def page(chromium: Path, ledger_pages: LedgerPages) -> Iterator[Page]:
    """A tab on the patient's pages; closed before the ledger server stops. Page errors fail the test."""
    errors: list[str] = []
    with launch(chromium) as browser:
        context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London")
        context.clock.set_fixed_time(ledger_pages.clock.now)
        tab = context.new_page()
        tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        yield tab
        context.close()
    assert not errors, f"the patient's page reported errors: {errors}"


# The image may still be on its way when the grant shows (a slow CI runner): wait for its load or error
# event, up to ten seconds, instead of reading `complete` once.
IMAGE_LOADED = """image => image.complete && image.naturalWidth > 0 ? true : new Promise(settle => {
    image.addEventListener("load", () => settle(image.naturalWidth > 0));
    image.addEventListener("error", () => settle(false));
    setTimeout(() => settle(image.complete && image.naturalWidth > 0), 10000);
})"""


@pytest.mark.browser
def test_the_patient_shares_her_ledger_with_the_hospital(page: Page, ledger_pages: LedgerPages) -> None:
    page.goto(ledger_pages.url + "/")
    expect(page.locator("#patient-id")).to_contain_text("ed25519:")
    expect(page.locator("#medications")).to_contain_text("warfarin")
    expect(page.locator("#allergies")).to_contain_text("penicillin")
    expect(page.locator("#reactions")).to_contain_text("ibuprofen")
    expect(page.locator("#no-grants")).to_be_visible()

    page.locator("#grantee").fill(HOSPITAL.public_id)
    page.locator("#hours").fill("72")
    page.locator("#share-submit").click()

    result = page.locator("#share-result")
    expect(result).to_be_visible()
    expect(page.locator("#share-error")).to_be_empty()
    grant_id = result.get_attribute("data-grant-id")
    link = read_grant_link(page.locator("#grant-link").inner_text())
    assert (link.url, link.grant, link.patient) == (PUBLIC_URL, grant_id, PATIENT.public_id)
    expect(page.locator("#share-expires")).to_contain_text(HOSPITAL.public_id)
    expect(page.locator("#share-expires")).to_contain_text("until Wed 11 Mar, 02:00 (3 days from now)")
    qr = page.locator("#grant-qr")
    expect(qr).to_have_attribute("src", f"/api/grants/{grant_id}/qr.svg")
    assert qr.evaluate(IMAGE_LOADED), "the QR code did not load"
    expect(page.locator("#grants > li")).to_have_count(1)
    granted = page.locator("#grants > li")
    expect(granted).to_contain_text("Active")
    expect(granted).to_contain_text("Sees your medications, allergies and reactions, until Wed 11 Mar, 02:00")
    expect(page.locator("#no-grants")).to_be_hidden()

    page.mouse.move(0, 0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / "patient-sharing.png"), full_page=True, animations="disabled", caret="hide"
    )
    lesser = assert_no_serious_violations(page, "the patient's sharing page", same_origin=True)
    print(f"\naxe, patient page: {describe(lesser) or 'no violations'}")
