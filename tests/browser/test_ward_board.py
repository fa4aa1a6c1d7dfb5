"""The ward board's layout and interruption design, in Debian's Chromium against a real alertsvc.

A new critical alert raises a banner that is announced (role="alert") without moving the nurse's focus,
and stays until the alert is acted on; a lower tier arriving is announced politely (role="status"); the
sound switch is off by default and remembered. A keyboard-only pass reaches the most urgent critical
alert and its actions first. A 24-bed ward, admitted and scheduled through the service's API, fits a
1920×1080 screen with every critical alert in view. axe-core checks the board, an alert's detail and
the legend. No internal ids or ISO timestamps are on screen.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from alertsvc.clock import iso
from tests.browser.axe import assert_no_serious_violations, describe
from tests.browser.conftest import OpenTab, assert_plain_words
from tests.browser.test_ward_dashboard import reaction_update, send_update
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_admissions import InProcessPatient
from tests.web.test_story import WARD, admit, at

LIVE_MS = 2000
USUAL_DOSE = {
    "simvastatin": "40 mg",
    "clarithromycin": "500 mg",
    "warfarin": "5 mg",
    "ibuprofen": "400 mg",
    "paracetamol": "1 g",
    "acetaminophen": "1 g",
}
"""Doses a ward would give, so the pictures the tests take read true to a nurse."""


def focused(page: Page) -> str:
    """What has the focus: its id, else its data-action and the alert it acts for."""
    result: str = page.evaluate(
        "() => { const e = document.activeElement; return e.id || "
        "`${e.dataset.action ?? e.tagName}@${e.closest('[data-action-for]')?.dataset.actionFor ?? ''}`; }"
    )
    return result


def schedule(running: RunningService, doses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post(f"/wards/{WARD}/schedule", json={"administrations": doses})
    assert response.status_code == 201, response.text
    planned: list[dict[str, Any]] = response.json()["administrations"]
    return planned


def listed_alerts(running: RunningService) -> list[dict[str, Any]]:
    with running.client(running.token(WARD, "Quinn Query")) as client:
        alerts: list[dict[str, Any]] = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    return alerts


@pytest.mark.browser
def test_a_new_critical_alert_raises_a_banner_announced_without_moving_focus(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    clock.now = at(13)
    admission = admit(running, patient)
    admission_id, head = str(admission["admission"]), str(admission["head"])
    clock.now = at(14)
    with running.client(running.token(WARD, "Dana Day")) as client:  # her INR, taken on the ward at 13:00
        inr = {"code": "INR", "value": 2.5, "measured": iso(at(13))}
        assert client.post(f"/admissions/{admission_id}/observations", json=inr).status_code == 201
    tab = open_tab()
    tab.sign_in(running.token(WARD, "Dana Day"))
    page = tab.page
    labs = page.locator('#board li.bed-row[data-bed="12"] [data-slot="labs"]')
    expect(labs).to_contain_text("INR 2.5")  # the row's latest labs, with the day it was measured
    expect(labs.locator('li[data-stale="false"]')).to_have_count(1)
    expect(page.locator("#critical-banner")).to_be_empty()
    expect(page.locator("#no-action")).to_be_visible()

    # The ward switches sound on (off by default); the nurse's focus is on that switch.
    sound = page.locator("#sound-toggle")
    expect(sound).to_have_attribute("aria-pressed", "false")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("localStorage.getItem('alertsvc.sound')") == "on"
    beeps_before = int(page.locator("body").get_attribute("data-beeps") or 0)

    # A lower tier arrives (ibuprofen planned for a patient on warfarin: major): announced politely,
    # in line, and no banner.
    schedule(
        running,
        [{"admission": admission_id, "drug": "ibuprofen", "dose": "400 mg", "due": at(20).isoformat()}],
    )
    major = page.locator('#board li.alert[data-severity="major"]')
    expect(major).to_have_count(1, timeout=LIVE_MS)
    expect(page.locator("#status")).to_have_attribute("role", "status")
    expect(page.locator("#status")).to_contain_text("New major alert, bed 12, Mrs Night Story")
    expect(page.locator("#critical-banner")).to_be_empty()
    assert focused(page) == "sound-toggle"

    # She flags a severe reaction to ibuprofen: the critical alert raises the banner; focus stays put.
    tab.mark_document()
    send_update(running, admission_id, reaction_update(patient, head))
    banner = page.locator("#critical-banner")
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("Critical alert: Bed 12, Mrs Night Story", timeout=LIVE_MS)
    expect(banner).to_contain_text("Dose due 20:00")
    expect(banner).to_contain_text("stays until it is acted on")
    assert focused(page) == "sound-toggle", "the banner took the focus"
    assert tab.same_document()
    [critical] = [a for a in listed_alerts(running) if a["alert"]["severity"] == "critical"]
    first_action = page.locator("#action-list > li").first
    expect(first_action).to_have_attribute("data-action-for", critical["id"])
    expect(first_action).to_contain_text("20:00")
    expect(page.locator("body")).to_have_attribute("data-beeps", str(beeps_before + 1))

    # The banner stays through further news (a re-render) until the alert is acted on.
    running.run(running.service.tick())
    page.wait_for_timeout(300)
    expect(banner).to_contain_text("Critical alert")

    # Acting from the banner opens the alert's acknowledge form in place, in its bed's row.
    banner.locator('[data-action="go-to-alert"]').click()
    card = tab.alert(critical["id"])
    form = card.locator("form[data-ack-form]")
    expect(form).to_be_visible()
    expect(form.locator("select[name=reason]")).to_be_focused()
    form.locator("select[name=reason]").select_option("dose-held")
    form.locator("button[type=submit]").click()
    expect(card).to_have_attribute("data-acknowledged-this-shift", "true")
    expect(banner).to_be_empty()
    expect(page.locator("#action-list > li")).to_have_count(0)
    expect(page.locator("#no-action")).to_be_visible()
    assert_plain_words(tab.page)

    # The sound switch is remembered by this browser.
    page.reload()
    expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "true")


def seed_ward(
    running: RunningService, clock: FakeClock, directory: Any, beds: int = 24
) -> dict[str, list[str]]:
    """``beds`` patients admitted through the API with real ledgers, grants and slices, and their doses:
    every fourth on simvastatin with clarithromycin (critical), every fourth from the third on warfarin
    with ibuprofen (major), the rest on one drug; every third allergic to penicillin, every third from the
    first with no known drug allergies, the rest not recorded. Returns the admission ids by kind of bed."""
    clock.now = at(13)
    kinds: dict[str, list[str]] = {"critical": [], "major": [], "quiet": []}
    plan: list[dict[str, Any]] = []
    admission_staff = running.token(WARD, "Adam Admissions", role="admission")
    for number in range(1, beds + 1):
        folder = directory / f"patient-{number}"
        folder.mkdir()
        person = InProcessPatient(folder)
        kind = "critical" if number % 4 == 1 else "major" if number % 4 == 3 else "quiet"
        drugs = {"critical": ["simvastatin", "clarithromycin"], "major": ["warfarin", "ibuprofen"]}.get(
            kind, ["paracetamol"]
        )
        for drug in drugs:
            person.ledger_cmd("add-medication", drug)
        if number % 3 == 0:
            person.ledger_cmd("add-allergy", "penicillin", "--reaction", "hives")
        elif number % 3 == 1:
            person.ledger_cmd("assert-no-allergies")
        person.ledger_cmd(
            "grant",
            "--to",
            running.service.identity.public_id,
            "--scope",
            "medications,allergies,reactions",
            "--hours",
            "30",
            "--not-before",
            at(13).isoformat(),
            "--out",
            "grant.json",
        )
        person("ledger", "slice", str(person.ledger), "--grant", "grant.json", "--out", "slice.json")
        body = {
            "grant": person.read_json("grant.json"),
            "slice": person.read_json("slice.json"),
            "ward": WARD,
            "bed": str(number),
            "label": f"Patient {chr(64 + number)}. {['Ames', 'Baker', 'Cole', 'Dunn'][number % 4]}",
        }
        with running.client(admission_staff) as client:
            response = client.post("/admissions", json=body)
        assert response.status_code == 201, response.text
        admission_id = str(response.json()["admission"])
        kinds[kind].append(admission_id)
        due = at(15 + number % 6, 10 * (number % 5))
        plan.append(
            {
                "admission": admission_id,
                "drug": drugs[0],
                "dose": USUAL_DOSE[drugs[0]],
                "route": "oral",
                "due": due.isoformat(),
            }
        )
        if kind != "quiet":
            plan.append(
                {
                    "admission": admission_id,
                    "drug": drugs[1],
                    "dose": USUAL_DOSE[drugs[1]],
                    "route": "oral",
                    "due": at(18 + number % 4).isoformat(),
                }
            )
    schedule(running, plan)
    return kinds


@pytest.mark.browser
def test_a_24_bed_ward_fits_1920_by_1080_with_every_critical_alert_in_view(
    running: RunningService, clock: FakeClock, open_tab: OpenTab, tmp_path: Any
) -> None:
    started = time.monotonic()
    kinds = seed_ward(running, clock, tmp_path)
    seeded_s = time.monotonic() - started
    clock.now = at(14)
    tab = open_tab()
    page = tab.page
    page.set_viewport_size({"width": 1920, "height": 1080})
    tab.sign_in(running.token(WARD, "Dana Day"))
    expect(page.locator("#board > li.bed-row")).to_have_count(24)
    critical = page.locator('#board li.alert[data-severity="critical"]')
    expect(critical).to_have_count(len(kinds["critical"]))
    expect(page.locator("#action-list > li")).to_have_count(len(kinds["critical"]))

    # Beds in order; every row has its allergy-status and labs slots, named for the helpers that fill them.
    beds = page.locator("#board > li.bed-row").evaluate_all("rows => rows.map(r => r.dataset.bed)")
    assert beds == [str(n) for n in range(1, 25)]
    expect(page.locator('#board [data-slot="allergy-status"]')).to_have_count(24)
    expect(page.locator('#board [data-slot="labs"]')).to_have_count(24)
    states = page.locator('#board [data-slot="allergy-status"] .allergy-status')
    expect(states.nth(0)).to_have_attribute("data-allergy-state", "none-known")
    expect(states.nth(2)).to_have_attribute("data-allergy-state", "known")
    expect(states.nth(2)).to_contain_text("penicillin")
    expect(states.nth(4)).to_have_attribute("data-allergy-state", "not-recorded")

    page.mouse.move(0, 0)
    tab.screenshot("ward-board.png")
    # Nothing scrolls, and every critical alert (on the board and in "needs action now") is in view.
    height = page.evaluate("document.documentElement.scrollHeight")
    width = page.evaluate("document.documentElement.scrollWidth")
    bottom = page.evaluate("Math.round(document.getElementById('board').getBoundingClientRect().bottom)")
    assert height <= 1080 and width <= 1920, f"the board is {width}×{height} px at 1920×1080"
    for locator in (critical, page.locator("#action-list > li")):
        for index in range(locator.count()):
            box = locator.nth(index).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 1080, box
    # The most urgent dose first.
    dues = page.locator("#action-list > li time").evaluate_all(
        "times => times.map(t => Date.parse(t.dateTime))"
    )
    assert dues == sorted(dues), dues
    assert_plain_words(tab.page)
    lesser = assert_no_serious_violations(page, "the 24-bed ward board")
    print(f"\n24 beds seeded through the API in {seeded_s:.1f} s; the board ends at {bottom} px of 1080")
    print(f"axe, board: {describe(lesser) or 'no violations'}")

    # An alert's detail expands in place (a disclosure button), and axe finds nothing there either.
    first = critical.first
    details = first.locator('[data-action="details"]')
    expect(details).to_have_attribute("aria-expanded", "false")
    details.click()
    expect(details).to_have_attribute("aria-expanded", "true")
    detail = first.locator(".alert-detail")
    expect(detail).to_be_visible()
    expect(detail.locator('[data-field="rule"]')).to_contain_text("ONC high-priority")
    expect(detail.locator('[data-field="management"]')).to_contain_text("1.")
    assert_plain_words(tab.page)
    tab.screenshot("ward-board-detail.png")
    assert_no_serious_violations(page, "an alert's detail, open on the board")

    # The legend is one click away, says what each tier asks, and closes with Escape back to its button.
    page.locator("#legend-button").click()
    legend = page.locator("#legend")
    expect(legend).to_be_visible()
    for tier in ("critical", "major", "moderate", "minor", "untrusted"):
        expect(legend.locator(f'tr[data-tier="{tier}"]')).to_be_visible()
    expect(legend.locator('tr[data-tier="critical"]')).to_contain_text("Do not give the dose")
    # Readable without colour: each tier its own icon shape and its word, in the legend as on the board.
    shapes = {}
    for tier in ("critical", "major", "moderate", "minor"):
        badge = legend.locator(f'tr[data-tier="{tier}"] .tier-badge')
        expect(badge).to_have_text(tier.capitalize())
        shapes[tier] = badge.locator("path").get_attribute("d")
    assert len(set(shapes.values())) == 4, shapes
    on_board = page.locator("#board .alert-title .tier-critical path").first.get_attribute("d")
    assert on_board == shapes["critical"]
    assert_no_serious_violations(page, "the legend")
    page.keyboard.press("Escape")
    expect(legend).to_be_hidden()
    expect(page.locator("#legend-button")).to_be_focused()

    # Recording a reaction or allergy is one click away too, in a dialog; every patient is a choice, by bed.
    page.locator("#bedside-button").click()
    expect(page.locator("#bedside-form")).to_be_visible()
    expect(page.locator("#bedside-admission option")).to_have_count(24)
    expect(page.locator("#bedside-admission option").first).to_have_text("Bed 1: Patient A. Baker")
    assert_no_serious_violations(page, "the bedside recording dialog")
    page.locator('[data-action="close-bedside"]').click()
    expect(page.locator("#bedside-button")).to_be_focused()


@pytest.mark.browser
def test_a_keyboard_pass_reaches_the_most_urgent_critical_alert_and_its_actions_first(
    running: RunningService, clock: FakeClock, open_tab: OpenTab, tmp_path: Any
) -> None:
    kinds = seed_ward(running, clock, tmp_path, beds=6)  # beds 1 and 5 critical
    clock.now = at(14)
    by_admission = {
        a["alert"]["admission"]: a for a in listed_alerts(running) if a["alert"]["severity"] == "critical"
    }
    urgent = min(by_admission.values(), key=lambda a: datetime.fromisoformat(a["alert"]["dose"]["due"]))
    assert len(by_admission) == len(kinds["critical"]) == 2
    tab = open_tab()
    page = tab.page
    tab.sign_in(running.token(WARD, "Nico Night"))
    expect(page.locator("#action-list > li")).to_have_count(2)

    page.reload()  # a fresh page, as the nurse finds it at the start of her shift (the tab keeps the token)
    expect(page.locator("#action-list > li")).to_have_count(2)
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Tab")
    assert focused(page) == f"act@{urgent['id']}", "the first stop after the skip link"
    page.keyboard.press("Tab")
    assert focused(page) == f"acknowledge@{urgent['id']}"
    page.keyboard.press("Tab")
    assert focused(page) == f"details@{urgent['id']}"

    # Acknowledge by keyboard alone: the form opens in place with the reason chosen by arrows.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    card = tab.alert(urgent["id"])
    reason = card.locator("select[name=reason]")
    expect(reason).to_be_focused()
    reason.select_option("dose-held")  # a <select> is chosen by arrows; Playwright sets it the same way
    page.keyboard.press("Tab")
    expect(card.locator("textarea[name=comment]")).to_be_focused()
    page.keyboard.type("Held; Dr Lee told")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(card).to_have_attribute("data-acknowledged-this-shift", "true")
    expect(card.locator('[data-action="acknowledge"]')).to_be_focused()
    expect(page.locator("#action-list > li")).to_have_count(1)
    expect(page.locator("#action-list > li").first).not_to_have_attribute("data-action-for", urgent["id"])
