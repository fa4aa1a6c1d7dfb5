"""Allergy status in the browser: the patient signs "no known drug allergies" on her own page, and the
ward dashboard (its patient list, each alert, the printable handoff) tells "no known drug allergies
(who, when)" from "not recorded" and "not shared". axe-core checks both pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger import fhir
from alertsvc.ledger.log import Ledger
from alertsvc.patient_server.server import create_ledger_app
from tests.browser.axe import assert_no_serious_violations
from tests.browser.conftest import VIEWPORT, OpenTab, launch
from tests.ledger.conftest import NOW, PATIENT, add, medication
from tests.ledger.test_server import FakeClock, small_knowledge
from tests.servers import serve_app
from tests.web.conftest import FakeClock as ServiceClock
from tests.web.conftest import PatientCLI, RunningService
from tests.web.test_story import WARD, at


@pytest.fixture
def own_page(chromium: Path, tmp_path: Path) -> Iterator[tuple[Page, Path]]:
    """Her page on a real ledger server; her ledger holds a medication and no allergy entry."""
    path = tmp_path / "patient.ledger"
    with Ledger.init(path, PATIENT, now=NOW - timedelta(days=1)) as ledger:
        add(ledger, medication("warfarin"))
    clock = FakeClock()
    app = create_ledger_app(path, PATIENT, clock=clock, normalizer=Normalizer(small_knowledge()))
    errors: list[str] = []
    for url in serve_app(app):
        with launch(chromium) as browser:
            context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London")
            context.clock.set_fixed_time(clock.now)
            tab = context.new_page()
            tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            tab.goto(url + "/")
            yield tab, path
            context.close()
    assert not errors, errors


@pytest.mark.browser
def test_the_patient_signs_no_known_drug_allergies(own_page: tuple[Page, Path]) -> None:
    page, path = own_page
    status = page.locator("#allergy-status")
    expect(status).to_have_attribute("data-state", "not-recorded")
    expect(status).to_contain_text("Not recorded")
    page.locator("#nkda-button").click()
    expect(status).to_have_attribute("data-state", "none-known")
    expect(status).to_contain_text("No known drug allergies, signed by you")
    expect(page.locator("#nkda")).to_be_hidden()
    assert_no_serious_violations(page, "the patient's page, no known drug allergies", same_origin=True)
    with Ledger.open(path) as ledger:
        (entry,) = ledger.verify().trees["allergies"]
    assert fhir.read_allergy(entry).no_known and entry.author == PATIENT.public_id


def admit(running: RunningService, patient: PatientCLI, bed: str, scope: str) -> None:
    patient.ledger_cmd(
        "grant", "--to", running.service.identity.public_id, "--scope", scope, "--hours", "30",
        "--not-before", at(13).isoformat(), "--out", "grant.json",
    )  # fmt: skip
    patient("ledger", "slice", str(patient.ledger), "--grant", "grant.json", "--out", "slice.json")
    body = {"grant": patient.read_json("grant.json"), "slice": patient.read_json("slice.json")}
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post("/admissions", json=body | {"ward": WARD, "bed": bed})
    assert response.status_code == 201, response.text


@pytest.mark.browser
def test_the_ward_tells_none_known_from_not_recorded_and_not_shared(
    running: RunningService, clock: ServiceClock, open_tab: OpenTab, tmp_path: Path
) -> None:
    clock.now = at(13)
    patients = []
    for name in ("ann", "bob", "cat"):
        (tmp_path / name).mkdir()
        patients.append(PatientCLI(tmp_path / name))
    ann, bob, cat = patients
    ann.ledger_cmd("assert-no-allergies")
    for drug in ("warfarin", "ibuprofen"):  # an interaction: bob's alert carries his allergy line
        bob.ledger_cmd("add-medication", drug)
    admit(running, ann, "1", "medications,allergies,reactions")
    admit(running, bob, "2", "medications,allergies")
    admit(running, cat, "3", "medications,reactions")
    tab = open_tab()
    tab.sign_in(running.token(WARD, "Nico Night"))
    rows = tab.page.locator("#board > li.bed-row")  # every admitted patient has a row, alerts or not
    expect(rows).to_have_count(3)
    slots = tab.page.locator('#board [data-slot="allergy-status"] .allergy-status')
    expect(rows.nth(0)).to_contain_text("Bed 1")
    expect(slots.nth(0)).to_have_attribute("data-allergy-state", "none-known")
    expect(slots.nth(0)).to_contain_text("No known drug allergies (asserted by patient,")
    expect(slots.nth(0).locator(".allergy-short")).to_have_text("NKDA")
    expect(slots.nth(1)).to_contain_text("Allergies not recorded: ask the patient")
    expect(slots.nth(1).locator(".allergy-short")).to_have_text("Not recorded")
    expect(slots.nth(2)).to_contain_text("Allergies not shared by the patient's grant")
    card = tab.page.locator("#board li.alert[data-alert-id]").first
    expect(card.locator(".alert-detail .allergy-status")).to_have_text(
        "Allergies not recorded: ask the patient"
    )
    assert_no_serious_violations(tab.page, "the ward dashboard with allergy status")
    tab.page.locator("#handoff-link").click()
    tab.page.wait_for_url("**/handoff.html")
    section = tab.page.locator("#handoff-patients section").first
    expect(section).to_contain_text("Bed 2")
    expect(section.locator(".allergy-status")).to_have_text("Allergies not recorded: ask the patient")
