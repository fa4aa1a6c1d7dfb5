"""Issue 10, end to end in the browser: a nurse records "rash after amoxicillin" on the ward dashboard;
the night nurse's open dashboard shows a verified critical alert at once; the patient's own ledger server
(``create_ledger_app`` on uvicorn, the app ``alertsvc ledger serve`` runs) holds the entry signed by the
hospital, ``alertsvc ledger verify`` accepts her ledger, and her page says who recorded it.

Two real servers on 127.0.0.1 share one injected clock, as in test_patient_to_ward.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from alertsvc.ledger import actions, grants
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.practitioners import recorded_by
from alertsvc.ledger.remote import grant_link
from alertsvc.patient_server.server import create_ledger_app
from tests.browser.axe import assert_no_serious_violations, describe
from tests.browser.conftest import OpenTab
from tests.servers import serve_app
from tests.web.conftest import REPO, FakeClock, RunningService, verify_with_cryptography
from tests.web.test_story import at

WARD = "ward-5"
LIVE_WITHIN_S = 2.0


@dataclass
class HerLedger:
    url: str
    path: Path
    patient: Identity


@pytest.fixture
def her_ledger(tmp_path: Path, clock: FakeClock) -> Iterator[HerLedger]:
    """Her ledger (warfarin) behind her own ledger server, on the service's clock. Request it before
    ``open_tab`` (it must stop after the browser; see test_patient_to_ward)."""
    clock.now = at(12)
    patient = Identity.generate()
    path = tmp_path / "patient.ledger"
    with Ledger.init(path, patient, now=clock.now) as ledger:
        ledger.append(
            [actions.medication(patient, "warfarin", now=clock.now)], patient=patient, now=clock.now
        )
    for url in serve_app(create_ledger_app(path, patient, clock=clock)):
        yield HerLedger(url, path, patient)


@pytest.mark.browser
def test_a_reaction_recorded_on_the_ward_alerts_the_night_shift_and_goes_back_to_her_ledger(
    her_ledger: HerLedger, running: RunningService, clock: FakeClock, open_tab: OpenTab
) -> None:
    # 13:00: she shares her ledger for 72 h, letting the hospital write reactions and allergies back.
    clock.now = at(13)
    with Ledger.open(her_ledger.path) as ledger:
        grant = grants.new_grant(
            her_ledger.patient, grantee=running.service.identity.public_id,
            scope=("medications", "allergies", "reactions"), write_scope=("reactions", "allergies"),
            not_before=clock.now, hours=72, now=clock.now,
        )  # fmt: skip
        ledger.append([grant], patient=her_ledger.patient, now=clock.now)
    link = grant_link(her_ledger.url, grant.id, her_ledger.patient.public_id)
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        admitted = client.post(
            "/admissions", json={"grant_link": link, "ward": WARD, "bed": "4", "label": "Mrs Rash Story"}
        )
    assert admitted.status_code == 201, admitted.text
    admission = admitted.json()["admission"]
    day_nurse = running.token(WARD, "Dana Day")
    with running.client(day_nurse) as client:
        dose = {"admission": admission, "drug": "amoxicillin", "dose": "500 mg", "route": "oral"}
        planned = client.post(
            f"/wards/{WARD}/schedule", json={"administrations": [dose | {"due": at(2, days=1).isoformat()}]}
        )
    assert planned.status_code == 201, planned.text

    # 14:00: the night nurse's dashboard is already open (she reads it from home before her shift).
    clock.now = at(14)
    night = open_tab()
    night.sign_in(running.token(WARD, "Nadia Night"))
    expect(night.page.locator('#app li.alert[data-severity="critical"]')).to_have_count(0)
    night.mark_document()

    # The day nurse sees the rash and records it on the ward dashboard's small form.
    ward = open_tab()
    ward.sign_in(day_nurse)
    ward.page.locator("#bedside-button").click()  # the form is one click away, in a dialog
    form = ward.page.locator("#bedside-form")
    expect(form).to_be_visible()
    expect(form.locator(f'#bedside-admission option[value="{admission}"]')).to_have_count(1)
    form.locator("#bedside-admission").select_option(admission)
    form.locator("#bedside-kind").select_option("reaction")
    form.locator("#bedside-drug").fill("amoxicillin")
    form.locator("#bedside-reaction").fill("rash after amoxicillin")
    form.locator("#bedside-severity").select_option("moderate")
    expect(form.locator("#bedside-clinician")).to_have_value("Dana Day")
    started = time.monotonic()
    form.locator("#bedside-submit").click()
    expect(form.locator("#bedside-error")).to_be_empty()
    expect(form.locator("#bedside-result")).to_contain_text("Recorded: amoxicillin")

    # At once, on the night nurse's open dashboard: a verified critical alert for the amoxicillin dose.
    card = night.page.locator('#app li.alert[data-severity="critical"]')
    expect(card).to_have_attribute("data-verified", "true", timeout=LIVE_WITHIN_S * 1000)
    elapsed = time.monotonic() - started
    assert elapsed < LIVE_WITHIN_S, f"the alert took {elapsed:.2f} s to reach the other dashboard"
    assert night.same_document()
    expect(card).to_contain_text("Verified")
    expect(card.locator('[data-field="drugs"]')).to_have_text("amoxicillin")
    with running.client(running.token(WARD, "Nadia Night")) as client:
        listed = client.get(f"/wards/{WARD}/alerts", params={"shift": "night"}).json()["alerts"]
        jwks = client.get("/.well-known/jwks.json").json()
    [critical] = [a for a in listed if a["alert"]["severity"] == "critical"]
    claims = verify_with_cryptography(critical["jws"], jwks)
    assert (claims["kind"], claims["dose"]["drug"]) == ("reaction", "amoxicillin"), claims

    # Delivered to her ledger server: the ward sees it, her ledger holds it, signed by the hospital.
    expect(form.locator('#bedside-entries li[data-state="delivered"]')).to_contain_text(
        "in the patient's ledger", timeout=10_000
    )
    with Ledger.open(her_ledger.path) as ledger:
        [entry] = ledger.verify().trees["reactions"]
    assert entry.author == running.service.identity.public_id and entry.grant == grant.id
    who = recorded_by(entry)
    assert who is not None and (who.clinician.name, who.clinician.ward) == ("Dana Day", WARD)
    verify = subprocess.run(
        [sys.executable, "-m", "alertsvc", "ledger", "verify", str(her_ledger.path)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr

    # Her page says who recorded it, and for which hospital.
    mine = open_tab(her_ledger.url)
    mine.open("/")
    page = mine.page
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    shown = page.locator(f'#reactions li[data-entry-id="{entry.id}"]')
    expect(shown).to_have_attribute("data-signed-by", "practitioner")
    expect(shown.locator('[data-field="signed-by"]')).to_have_text(
        f"Recorded by Dana Day (nurse), {WARD}, signed by {running.settings.hospital_name}"
    )
    # She adds her own note to it; the hospital's entry is unchanged, her note signed by her.
    shown.locator("input").fill("I had the same rash with co-amoxiclav in 2019")
    shown.locator('[data-field="add-note"]').click()
    expect(shown.locator('[data-field="note"]')).to_contain_text("I had the same rash with co-amoxiclav")
    expect(page.locator("#reactions li[data-entry-id]")).to_have_count(1)
    with Ledger.open(her_ledger.path) as ledger:
        first, note = ledger.verify().trees["reactions"]
    assert first.payload == entry.payload and note.author == her_ledger.patient.public_id
    lesser = assert_no_serious_violations(
        page, "her page with a practitioner entry and her note", same_origin=True
    )
    print(f"\naxe, her page with a practitioner entry: {describe(lesser) or 'no violations'}")
    print(f"\nrecorded on the ward to verified card on the night nurse's dashboard: {elapsed * 1000:.0f} ms")
