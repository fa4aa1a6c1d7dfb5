"""The ward dashboard in a real browser (Debian's Chromium through Playwright) against a real alertsvc.

The night-shift story of tests/web/test_story.py, seen as the nurses see it: a patient on warfarin is
admitted at 13:00 with ibuprofen planned for 02:00; at 14:00 she flags a bad reaction to ibuprofen and
the critical alert reaches the signed-in day nurse's dashboard by itself, verified in the browser with
WebCrypto; the day nurse acknowledges it; after the clock moves to the night shift the alert is still
there with the day's acknowledgement marked as from an earlier shift, and the printable handoff lists
both. An alert whose JWS was altered on the way (in the alert list, or in the event stream through a
tampering proxy) is shown as untrusted, never as a normal alert. axe-core checks both pages.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from playwright.sync_api import Route, expect

from tests.browser.axe import assert_no_serious_violations, describe
from tests.browser.conftest import OpenTab, WardPage, assert_plain_words
from tests.browser.tampering import alter_one_character, payload_of, run_proxy
from tests.web.conftest import FakeClock, PatientCLI, RunningService, verify_with_cryptography
from tests.web.test_story import WARD, admit, at

LIVE_WITHIN_S = 2.0


def admit_and_plan(running: RunningService, patient: PatientCLI, clock: FakeClock) -> tuple[str, str]:
    """Mrs Night Story, on warfarin, admitted to bed 12 at 13:00; ibuprofen 400 mg planned for 02:00."""
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    clock.now = at(13)
    admission = admit(running, patient)
    admission_id = str(admission["admission"])
    dose = {"admission": admission_id, "drug": "ibuprofen", "dose": "400 mg", "route": "oral"}
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post(
            f"/wards/{WARD}/schedule", json={"administrations": [dose | {"due": at(2, days=1).isoformat()}]}
        )
    assert response.status_code == 201, response.text
    return admission_id, str(admission["head"])


def reaction_update(patient: PatientCLI, head: str) -> dict[str, Any]:
    """The patient flags ibuprofen (severe: swollen lips and wheeze); the ledger update since admission."""
    patient.ledger_cmd(
        "flag-reaction", "ibuprofen", "--reaction", "swollen lips and wheeze", "--severity", "severe"
    )
    ledger = str(patient.ledger)
    patient("ledger", "slice", ledger, "--grant", "grant.json", "--since", head, "--out", "update.json")
    return patient.read_json("update.json")


def send_update(running: RunningService, admission_id: str, update: dict[str, Any]) -> None:
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post(f"/admissions/{admission_id}/entries", json=update)
    assert response.status_code == 200, response.text


def critical_alert(running: RunningService) -> dict[str, Any]:
    """The one critical alert on the ward, as the service lists it."""
    with running.client(running.token(WARD, "Quinn Query")) as client:
        listed: list[dict[str, Any]] = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    [critical] = [a for a in listed if a["alert"]["severity"] == "critical"]
    return critical


@pytest.mark.browser
def test_a_reaction_flagged_mid_stay_appears_verified_within_two_seconds(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    admission_id, head = admit_and_plan(running, patient, clock)
    clock.now = at(14)
    day = open_tab()
    day.sign_in(running.token(WARD, "Dana Day"))
    expect(day.page.locator("#shift")).to_have_attribute("data-shift-name", "day")
    expect(day.page.locator('#app li.alert[data-severity="critical"]')).to_have_count(0)
    update = reaction_update(patient, head)
    day.mark_document()

    started = time.monotonic()
    send_update(running, admission_id, update)
    card = day.page.locator('#app li.alert[data-severity="critical"]')
    expect(card).to_have_attribute("data-verified", "true", timeout=LIVE_WITHIN_S * 1000)
    elapsed = time.monotonic() - started

    assert elapsed < LIVE_WITHIN_S, f"the alert took {elapsed:.2f} s to appear"
    assert day.same_document(), "the page was reloaded"
    alert = critical_alert(running)
    expect(card).to_have_attribute("data-alert-id", alert["id"])
    expect(card).to_contain_text("Verified")
    expect(card).to_contain_text("Bed 12 · Mrs Night Story")
    expect(card.locator('[data-field="drugs"]')).to_have_text("ibuprofen")
    expect(card.locator('[data-field="flagged-by"]')).to_have_text("Patient")
    expect(card.locator('[data-field="due"]')).to_contain_text("02:00")
    expect(card).to_have_attribute("data-acknowledged-this-shift", "false")
    banner = day.page.locator("#critical-banner")
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("Critical alert: Bed 12, Mrs Night Story")
    expect(day.page.locator("#connection")).to_have_attribute("data-state", "live")
    print(f"\nflagged reaction to verified card on the dashboard: {elapsed * 1000:.0f} ms")


@pytest.mark.browser
def test_the_day_acknowledgement_stays_for_the_night_shift_and_the_handoff(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    admission_id, head = admit_and_plan(running, patient, clock)
    clock.now = at(14)
    send_update(running, admission_id, reaction_update(patient, head))
    alert_id = critical_alert(running)["id"]

    # 14:00, the day nurse acknowledges the alert on her dashboard.
    day = open_tab()
    day.sign_in(running.token(WARD, "Dana Day"))
    card = day.alert(alert_id)
    expect(card).to_have_attribute("data-verified", "true")
    card.locator('[data-action="acknowledge"]').click()
    form = card.locator("form[data-ack-form]")
    expect(form).to_be_visible()
    expect(form.locator("select[name=reason] option[value=seen]")).to_have_count(
        0
    )  # not for a critical alert
    form.locator("select[name=reason]").select_option("prescriber-informed")
    form.locator("textarea[name=comment]").fill("Dr Lee to review")
    form.locator("button[type=submit]").click()
    day_ack = card.locator("li[data-ack-id]")
    expect(day_ack).to_have_attribute("data-earlier-shift", "false")
    expect(day_ack).to_contain_text("Dana Day")
    expect(day_ack).to_contain_text("Prescriber informed; awaiting review")
    expect(day_ack).to_contain_text("Dr Lee to review")
    expect(card).to_have_attribute("data-acknowledged-this-shift", "true")
    expect(form).to_be_hidden()
    day.mark_document()

    # 00:30: the night shift has begun; the service's timers run; the open dashboard follows.
    clock.now = at(0, 30, days=1)
    day.set_time(clock.now)
    running.run(running.service.tick())
    expect(day.page.locator("#shift")).to_have_attribute("data-shift-name", "night")
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-acknowledged-this-shift", "false")
    expect(day_ack).to_have_attribute("data-earlier-shift", "true")
    expect(day_ack).to_contain_text("Earlier shift: day")
    assert day.same_document(), "the page was reloaded"

    # The night nurse signs in on another computer: the same alert, the day's acknowledgement.
    night = open_tab()
    night.sign_in(running.token(WARD, "Nico Night"))
    expect(night.page.locator("#shift")).to_have_attribute("data-shift-name", "night")
    expect(night.page.locator("#shift")).to_contain_text("Night shift 23:00–07:00")
    card = night.alert(alert_id)
    expect(card).to_have_attribute("data-verified", "true")
    expect(card).to_have_attribute("data-severity", "critical")
    expect(card).to_contain_text("Not yet acknowledged this shift")
    ack = card.locator("li[data-ack-id]")
    expect(ack).to_have_attribute("data-earlier-shift", "true")
    expect(ack).to_contain_text("Earlier shift: day, Tue, Jan 15")
    expect(ack).to_contain_text("Dana Day")
    expect(ack).to_contain_text("Dr Lee to review")
    expect(night.page.locator("#board li[data-dose-id]")).to_have_attribute("data-at-risk", "true")
    bed_row = night.page.locator(f'#board li.bed-row[data-admission="{admission_id}"]')
    expect(bed_row.locator("h3")).to_have_text("Bed 12 Mrs Night Story")
    boxed = bed_row.locator("h3").evaluate(
        "title => [...title.querySelectorAll('*')]"
        ".filter(e => getComputedStyle(e).borderLeftStyle !== 'none').map(e => e.className)"
    )
    assert boxed == [], f"parts of the bed's title are drawn as boxes: {boxed}"
    card.locator('[data-action="details"]').click()  # the detail opens in place: verified, the day's note
    expect(card.locator(".alert-detail")).to_contain_text("Verified")
    expect(ack).to_be_visible()
    assert_plain_words(night.page)
    night.page.mouse.move(0, 0)
    night.screenshot("ward-dashboard.png")
    lesser = assert_no_serious_violations(night.page, "the ward dashboard, signed in, with a critical alert")
    print(f"\naxe, dashboard: {describe(lesser) or 'no violations'}")

    # The printable handoff lists the alert and its acknowledgement.
    night.page.locator("#handoff-link").click()
    night.page.wait_for_url("**/handoff.html")
    patient_section = night.page.locator(f'section[data-admission="{admission_id}"]')
    expect(patient_section).to_contain_text("Bed 12 · Mrs Night Story")
    listed = patient_section.locator(f'li[data-alert-id="{alert_id}"]')
    expect(listed).to_have_count(1)
    expect(listed).to_have_attribute("data-verified", "true")
    expect(listed).to_contain_text("critical reaction")
    handoff_ack = patient_section.locator("li[data-ack-id]")
    expect(handoff_ack).to_have_count(1)
    expect(handoff_ack).to_have_attribute("data-earlier-shift", "true")
    expect(handoff_ack).to_contain_text("Dana Day, earlier shift (day, Tue, Jan 15)")
    expect(handoff_ack).to_contain_text("“Dr Lee to review”")
    expect(night.page.locator("#handoff-doses-body tr[data-dose-id]")).to_contain_text(
        "ibuprofen 400 mg oral"
    )
    expect(night.page.locator("#handoff-untrusted")).to_be_hidden()
    assert_plain_words(night.page)
    night.screenshot("handoff.png")
    lesser = assert_no_serious_violations(night.page, "the shift handoff page")
    print(f"\naxe, handoff: {describe(lesser) or 'no violations'}")

    # On paper: the buttons and the top bar go; the alert and its acknowledgement stay.
    night.page.emulate_media(media="print")
    expect(night.page.locator("#print")).to_be_hidden()
    expect(night.page.locator(".topbar")).to_be_hidden()
    expect(listed).to_be_visible()
    expect(handoff_ack).to_be_visible()
    assert night.page.pdf(format="A4")[:5] == b"%PDF-"


@pytest.mark.browser
def test_a_dose_of_a_drug_that_could_not_be_checked_shows_as_not_checked_and_interrupts(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    clock.now = at(13)
    admission_id = str(admit(running, patient)["admission"])
    dose = {"admission": admission_id, "drug": "Zorvantix", "dose": "500 mg", "due": at(14, 30).isoformat()}
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post(f"/wards/{WARD}/schedule", json={"administrations": [dose]})
    assert response.status_code == 201, response.text
    [planned] = response.json()["administrations"]

    tab = open_tab()
    tab.sign_in(running.token(WARD, "Dana Day"))
    card = tab.page.locator('#app li.alert[data-kind="unchecked"]')
    expect(card).to_have_attribute("data-verified", "true")
    expect(card).to_have_attribute("data-interruptive", "true")
    expect(card).to_have_attribute("data-severity", "major")
    expect(card.locator(".kind-badge")).to_have_text("Not checked")
    expect(card.locator(".interrupt-badge")).to_have_text("Check before giving")
    expect(card.locator('[data-field="drugs"]')).to_have_text("Zorvantix")
    expect(card.locator('[data-field="management"]')).to_contain_text("1. Do not give Zorvantix")
    expect(tab.page.locator("#alert-count")).to_contain_text("1 not checked")
    card.locator('[data-action="acknowledge"]').click()
    expect(card.locator("select[name=reason] option[value=seen]")).to_have_count(0)

    row = tab.dose(planned["id"])
    expect(row).to_have_attribute("data-unchecked", "true")
    expect(row).to_have_attribute("data-at-risk", "true")
    expect(row.locator(".dose-alerts")).to_contain_text("Not checked (major)")
    expect(row.locator(".dose-alerts")).to_contain_text("Zorvantix")
    row.locator('[data-action="record"]').click()
    row.locator('[data-outcome-action="given"]').click()
    expect(row.locator(".form-error")).to_contain_text("Not checked for this dose: Scheduled Zorvantix")
    expect(row.locator('[data-outcome-action="given"]')).to_have_text("Confirm given")
    assert_no_serious_violations(tab.page, "the ward dashboard with a dose that could not be checked")


def _alter_in_list(alert_id: str, altered: list[str]) -> Any:
    """A route handler: fetch the real alert list, alter one character of one alert's JWS, pass it on."""

    def handle(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for item in body["alerts"]:
            if item["id"] == alert_id:
                item["jws"] = alter_one_character(item["jws"])
                altered.append(item["id"])
        route.fulfill(response=response, json=body)

    return handle


def check_alteration(running: RunningService, token: str) -> None:
    """What the tampering does to a real alert: one payload character, one claim, a broken signature."""
    with running.client() as client:
        jwks = client.get("/.well-known/jwks.json").json()
    forged = alter_one_character(token)
    header, payload, signature = token.split(".")
    forged_header, forged_payload, forged_signature = forged.split(".")
    assert (forged_header, forged_signature) == (header, signature)
    assert sum(a != b for a, b in zip(payload, forged_payload, strict=True)) == 1
    claims, forged_claims = payload_of(token), payload_of(forged)
    assert forged_claims["bed"] != claims["bed"] and forged_claims["bed"].isdigit()
    assert forged_claims | {"bed": claims["bed"]} == claims
    verify_with_cryptography(token, jwks)
    with pytest.raises(InvalidSignature):
        verify_with_cryptography(forged, jwks)


def _is_alert_list(url: str) -> bool:
    return url.split("?")[0].endswith(f"/wards/{WARD}/alerts")


def _is_event_stream(url: str) -> bool:
    return url.split("?")[0].endswith(f"/wards/{WARD}/alerts/stream")


def expect_untrusted(tab: WardPage, original: dict[str, Any], *, untrusted: int) -> None:
    """``original`` shown as untrusted, first, with its forged content set apart, not acknowledgeable."""
    alert_id = original["id"]
    card = tab.alert(alert_id)
    expect(card).to_have_attribute("data-verified", "false")
    expect(card).to_have_attribute("data-severity", "untrusted")
    expect(card).to_contain_text("Untrusted: signature not verified")
    expect(card).to_contain_text("Untrusted alert: do not act on its content")
    expect(card).to_contain_text("signature does not match")
    forged_bed = payload_of(alter_one_character(original["jws"]))["bed"]
    expect(card.locator(".unverified-claims")).to_contain_text(f"Bed {forged_bed}")
    expect(card.locator('[data-action="acknowledge"]')).to_be_hidden()
    expect(card).not_to_contain_text("Verified")
    first = tab.page.locator("#untrusted-list > li").first
    expect(first).to_have_attribute("data-alert-id", alert_id)  # untrusted alerts stand apart, first
    expect(tab.page.locator("#board")).not_to_contain_text("Untrusted")
    expect(tab.page.locator("#alert-count")).to_contain_text(f"{untrusted} untrusted")
    expect(tab.page.locator('#app li.alert[data-verified="false"]')).to_have_count(untrusted)


@pytest.mark.browser
def test_an_alert_altered_in_the_alert_list_is_shown_untrusted(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    admission_id, head = admit_and_plan(running, patient, clock)
    clock.now = at(14)
    send_update(running, admission_id, reaction_update(patient, head))
    original = critical_alert(running)
    check_alteration(running, original["jws"])
    altered: list[str] = []

    tab = open_tab()
    tab.page.route(_is_alert_list, _alter_in_list(original["id"], altered))
    # The event stream replays the ward's history to a new dashboard, genuine alert included: hold it
    # back, so that what is shown comes from the altered list alone; release it at the end.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    tab.page.route(_is_event_stream, hold)
    tab.sign_in(running.token(WARD, "Dana Day"), live=False)

    expect_untrusted(tab, original, untrusted=1)
    assert altered == [original["id"]]
    others = tab.page.locator('#app li.alert[data-verified="true"]')
    with running.client(running.token(WARD, "Quinn Query")) as client:
        genuine = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    expect(others).to_have_count(len(genuine) - 1)  # the alerts left alone still verify
    expect(tab.page.locator("#alert-count")).to_contain_text(f"{len(genuine)} active")
    expect(tab.page.locator("#connection")).to_have_attribute("data-state", "connecting")
    assert_no_serious_violations(tab.page, "the ward dashboard with an untrusted alert")

    # The stream resumes after the list it was given, so it does not vouch for the forged copy: the card
    # stays untrusted until a genuine signed copy arrives; reloading without the tampering shows it verified.
    [stream] = held
    stream.continue_()
    expect(tab.page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(tab.alert(original["id"])).to_have_attribute("data-verified", "false")
    tab.page.unroute(_is_alert_list)
    tab.page.unroute(_is_event_stream)
    tab.page.reload()
    expect(tab.alert(original["id"])).to_have_attribute("data-verified", "true")
    expect(tab.alert(original["id"])).to_have_attribute("data-severity", "critical")
    expect(tab.page.locator('#app li.alert[data-verified="false"]')).to_have_count(0)


@pytest.mark.browser
def test_an_alert_altered_in_the_event_stream_is_shown_untrusted(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    admission_id, head = admit_and_plan(running, patient, clock)
    clock.now = at(14)
    with run_proxy(running.url) as (proxy_url, proxy):
        tab = open_tab(proxy_url)
        try:
            tab.sign_in(running.token(WARD, "Dana Day"))
            expect(tab.page.locator('#app li.alert[data-severity="critical"]')).to_have_count(0)
            update = reaction_update(patient, head)
            tab.mark_document()

            started = time.monotonic()
            send_update(running, admission_id, update)
            original = critical_alert(running)
            expect(tab.alert(original["id"])).to_have_attribute(
                "data-verified", "false", timeout=LIVE_WITHIN_S * 1000
            )
            elapsed = time.monotonic() - started

            assert elapsed < LIVE_WITHIN_S, f"the alert took {elapsed:.2f} s to appear"
            assert tab.same_document(), "the page was reloaded"
            assert original["id"] in proxy.altered, "the alert came through the proxy's event stream"
            # Every alert the stream carried was altered (a new dashboard's stream also replays earlier ones).
            expect_untrusted(tab, original, untrusted=len(set(proxy.altered)))
            for alert_id in set(proxy.altered):
                expect(tab.alert(alert_id)).to_have_attribute("data-verified", "false")
            expect(tab.page.locator("#announcer")).to_contain_text("signature could not be verified")
            print(f"\nstream-altered alert shown untrusted after {elapsed * 1000:.0f} ms")
        finally:
            tab.context.close()  # before the proxy stops, so its stream ends from the browser's side


@pytest.mark.browser
def test_an_overdue_dose_shows_as_overdue_until_its_outcome_is_recorded(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    clock.now = at(13)
    admission_id = str(admit(running, patient)["admission"])
    dose = {"admission": admission_id, "drug": "paracetamol", "dose": "1 g", "due": at(12).isoformat()}
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post(f"/wards/{WARD}/schedule", json={"administrations": [dose]})
    assert response.status_code == 201, response.text
    [planned] = response.json()["administrations"]  # due 12:00, no outcome at 13:00: overdue at once

    tab = open_tab()
    tab.sign_in(running.token(WARD, "Dana Day"))
    card = tab.page.locator('#app li.alert[data-kind="overdue"]')
    expect(card).to_have_attribute("data-verified", "true")
    expect(card).to_have_attribute("data-severity", "moderate")
    expect(card.locator(".kind-badge")).to_have_text("Overdue dose")
    expect(card).to_contain_text("Dose of paracetamol 1 g due 12:00 not recorded; give or record why not")
    row = tab.dose(planned["id"])
    expect(row.locator(".dose-alerts")).to_contain_text("Overdue, no outcome recorded (moderate)")
    assert_no_serious_violations(tab.page, "the ward dashboard with an overdue dose")

    handoff = open_tab()
    handoff.sign_in(running.token(WARD, "Dana Day"))
    handoff.page.locator("#handoff-link").click()
    handoff.page.wait_for_url("**/handoff.html")
    expect(handoff.page.locator(f'section[data-admission="{admission_id}"]')).to_contain_text(
        "overdue dose: Dose of paracetamol 1 g due 12:00 not recorded"
    )

    row.locator('[data-action="record"]').click()
    row.locator("input[name=note]").fill("nil by mouth")
    row.locator('[data-outcome-action="held"]').click()
    expect(card).to_have_count(0)  # withdrawn by a signed withdrawal the browser verified
    expect(row.locator(".dose-outcome")).to_contain_text("Held")
