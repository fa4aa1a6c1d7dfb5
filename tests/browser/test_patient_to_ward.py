"""Issue 5, end to end in the browser: a patient flags a reaction on the patient page and the ward
dashboard shows the critical alert, read by the service from the patient's ledger server.

Two real servers on 127.0.0.1 share one injected clock: the patient's ledger server
(``create_ledger_app``, drug search over the real knowledge in data/) and the hospital's alertsvc. The
patient, on warfarin, shares her ledger with the hospital from her own page; admission staff admit her by
the grant link the page shows; a nurse plans ibuprofen for 02:00 and watches the ward dashboard. At 14:00
the patient, in another browser, searches "ibuprofen", picks it, says what happened and how bad, and
sends the flag: it goes into her own ledger, and her ledger server's watch tells the service at once
(issue 10), without waiting for the poll; the nurse's open dashboard shows the critical alert,
verified with WebCrypto, flagged by the patient, within two seconds of her flag. axe-core checks the
patient page after flagging, with its strict CSP on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from alertsvc.knowledge import kb
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger import actions
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import read_grant_link
from alertsvc.patient_server.server import create_ledger_app
from tests.browser.axe import assert_no_serious_violations, describe
from tests.browser.conftest import OpenTab
from tests.servers import serve_app
from tests.web.conftest import FakeClock, RunningService, verify_with_cryptography
from tests.web.test_story import at

WARD = "ward-5"
IBUPROFEN = "5640"  # RxNorm ingredient, as data/ingredients.tsv has it
LIVE_WITHIN_S = 2.0


@dataclass
class PatientsLedger:
    url: str
    path: Path
    patient: Identity


@pytest.fixture
def ledger_server(tmp_path: Path, clock: FakeClock) -> Iterator[PatientsLedger]:
    """Her ledger (warfarin, signed by her) behind her own ledger server, on the service's clock.

    Request it before ``open_tab``: it then starts before the browser and stops after it, when this
    thread's event loop is free again for the server's shutdown (Playwright's sync API holds it).
    """
    clock.now = at(12)
    patient = Identity.generate()
    path = tmp_path / "patient.ledger"
    with Ledger.init(path, patient, now=clock.now) as ledger:
        warfarin = actions.medication(patient, "warfarin", dose="5 mg daily", now=clock.now)
        ledger.append([warfarin], patient=patient, now=clock.now)
    normalizer = Normalizer(kb.load(kb.DEFAULT_DATA_DIR))
    app = create_ledger_app(path, patient, clock=clock, normalizer=normalizer)
    for url in serve_app(app):
        yield PatientsLedger(url, path, patient)


def ward_alerts(running: RunningService) -> list[dict[str, Any]]:
    with running.client(running.token(WARD, "Quinn Query")) as client:
        response = client.get(f"/wards/{WARD}/alerts")
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["alerts"]
    return listed


@pytest.mark.browser
def test_a_reaction_flagged_on_the_patient_page_reaches_the_ward_from_her_ledger_server(
    ledger_server: PatientsLedger, running: RunningService, clock: FakeClock, open_tab: OpenTab
) -> None:
    # 13:00, her own page: she shares medications, allergies and reactions with the hospital for 72 h.
    clock.now = at(13)
    mine = open_tab(ledger_server.url)
    mine.open("/")
    page = mine.page
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#medications")).to_contain_text("warfarin")
    expect(page.locator("#no-reactions")).to_be_visible()
    page.locator("#grantee").fill(running.service.identity.public_id)
    page.locator("#hours").fill("72")
    page.locator("#share-submit").click()
    expect(page.locator("#share-result")).to_be_visible()
    expect(page.locator("#share-error")).to_be_empty()
    link_text = page.locator("#grant-link").inner_text()
    link = read_grant_link(link_text)
    assert (link.url, link.patient) == (ledger_server.url, ledger_server.patient.public_id)

    # Admission staff admit her by that link: the service reads the slice from her ledger server.
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post(
            "/admissions",
            json={"grant_link": link_text, "ward": WARD, "bed": "4", "label": "Mrs Link Story"},
        )
    assert response.status_code == 201, response.text
    admission_id = response.json()["admission"]
    nurse = running.token(WARD, "Dana Day")
    with running.client(nurse) as client:
        dose = {"admission": admission_id, "drug": "ibuprofen", "dose": "400 mg", "route": "oral"}
        planned = client.post(
            f"/wards/{WARD}/schedule", json={"administrations": [dose | {"due": at(2, days=1).isoformat()}]}
        )
    assert planned.status_code == 201, planned.text

    # 14:00: the nurse's dashboard is signed in and live, with no critical alert.
    clock.now = at(14)
    ward = open_tab()
    ward.sign_in(nurse)
    expect(ward.page.locator('#app li.alert[data-severity="critical"]')).to_have_count(0)
    ward.mark_document()

    # She flags ibuprofen on her page: search, pick the ingredient, say what happened and how bad.
    mine.set_time(clock.now)
    page.locator("#drug-search").press_sequentially("ibuprofen")
    option = page.locator(f'#drug-options button[data-rxcui="{IBUPROFEN}"][data-kind="ingredient"]')
    expect(option).to_have_attribute("data-label", "ibuprofen")
    option.click()
    expect(page.locator("#drug-chosen")).to_contain_text("RxNorm 5640")
    expect(page.locator("#drug-rxcui")).to_have_value(IBUPROFEN)
    page.locator("#reaction").fill("swollen lips and wheeze")
    page.locator("#severity").select_option("severe")
    started = time.monotonic()
    page.locator("#flag-submit").click()
    expect(page.locator("#flag-error")).to_be_empty()
    expect(page.locator("#flag-result")).to_contain_text("Flagged: ibuprofen (RxNorm 5640)")
    flagged = page.locator("#reactions li[data-entry-id]")
    expect(flagged).to_have_count(1)
    expect(flagged).to_have_attribute("data-signed-by", "patient")
    expect(flagged).to_have_attribute("data-severity", "severe")
    expect(flagged.locator('[data-field="drug"]')).to_contain_text("ibuprofen")
    # Her ledger server's watch tells the service at once (issue 10): no poll of her ledger is needed.
    card = ward.page.locator('#app li.alert[data-severity="critical"]')
    expect(card).to_have_attribute("data-verified", "true", timeout=LIVE_WITHIN_S * 1000)
    elapsed = time.monotonic() - started
    assert elapsed < LIVE_WITHIN_S, f"the alert took {elapsed:.2f} s from her flag to the dashboard"

    lesser = assert_no_serious_violations(page, "the patient page after flagging", same_origin=True)
    print(f"\naxe, patient page after flagging: {describe(lesser) or 'no violations'}")
    assert ward.same_document(), "the dashboard was reloaded"
    [critical] = [a for a in ward_alerts(running) if a["alert"]["severity"] == "critical"]
    with running.client() as client:
        jwks = client.get("/.well-known/jwks.json").json()
    claims = verify_with_cryptography(critical["jws"], jwks)
    assert (claims["id"], claims["kind"], claims["severity"]) == (critical["id"], "reaction", "critical")
    assert claims["dose"]["drug"] == "ibuprofen", claims
    expect(card).to_have_attribute("data-alert-id", critical["id"])
    expect(card).to_contain_text("Verified")
    expect(card).to_contain_text("Bed 4 · Mrs Link Story")
    expect(card.locator('[data-field="drugs"]')).to_have_text("ibuprofen")
    expect(card.locator('[data-field="flagged-by"]')).to_have_text("Patient")
    expect(card.locator('[data-field="due"]')).to_contain_text("02:00")
    expect(ward.page.locator("#connection")).to_have_attribute("data-state", "live")
    print(f"\nher flag to verified card on the dashboard: {elapsed * 1000:.0f} ms")
