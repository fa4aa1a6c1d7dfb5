"""Clinical actions from the ward dashboard in a real browser (issue 11, points 3, 4 and 6).

Simvastatin is in her ledger and the ward plans clarithromycin for 02:00: a critical interaction alert
bound to that dose. The night nurse signs in by link, holds the dose and tells the prescriber from the
alert; after the clock moves to the day shift the alert is back at the top, "awaiting prescriber since
01:50", with the night's acknowledgement; the day nurse records the prescriber's answer. Recording the
dose as given under the critical alert is refused without a coded reason and the nurse's name. A
prescriber's override in CDS Hooks is shown on the alert. A token about to expire is renewed without
leaving the page. axe-core checks the pages with the new parts open.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from playwright.sync_api import expect

from alertsvc.web.commands import sign_in_link
from tests.browser.axe import assert_no_serious_violations
from tests.browser.conftest import OpenTab, WardPage
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_cds_hooks import SELECT, call, es_key, hook_request, post, r4_order, rs_key, start
from tests.web.test_story import WARD, at
from tests.web.test_upstream import CLARITHROMYCIN, admitted_with_clarithromycin_due

__all__ = ["es_key", "rs_key"]
EVIDENCE = "clarithromycin is a strong CYP3A inhibitor; simvastatin is a sensitive CYP3A substrate"


@pytest.fixture
def running(
    tmp_path: Path, clock: FakeClock, es_key: ec.EllipticCurvePrivateKey, rs_key: rsa.RSAPrivateKey
) -> Iterator[RunningService]:
    """The service of tests/web, trusting a CDS Hooks client (so a prescriber can override upstream)."""
    yield from start(tmp_path, clock, es_key, rs_key)


def the_dose(running: RunningService) -> dict[str, Any]:
    with running.client(running.token(WARD, "Quinn Query")) as client:
        [dose] = client.get(f"/wards/{WARD}/schedule").json()["administrations"]
    result: dict[str, Any] = dose
    return result


def night(running: RunningService, patient: PatientCLI, clock: FakeClock) -> str:
    """Admitted at 13:00, clarithromycin due at 02:00; the clock at 01:50 (night shift)."""
    admission = admitted_with_clarithromycin_due(running, patient, clock)
    clock.now = at(1, 50, days=1)
    running.run(running.service.tick())
    return admission


def signed_in_by_link(tab: WardPage, running: RunningService, name: str) -> None:
    tab.page.goto(sign_in_link(running.url, running.token(WARD, name)))
    expect(tab.page.locator("#app")).to_be_visible()
    expect(tab.page.locator("#connection")).to_have_attribute("data-state", "live")


@pytest.mark.browser
def test_hold_and_tell_leaves_the_dose_held_and_the_follow_up_for_the_next_shift(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    night(running, patient, clock)
    dose = the_dose(running)
    tab = open_tab()
    tab.set_time(clock.now)
    signed_in_by_link(tab, running, "Nico Night")
    assert "token" not in tab.page.url  # taken out of the address bar
    assert tab.page.evaluate("sessionStorage.getItem('alertsvc.staffToken')").count(".") == 2
    card = tab.page.locator('#app li.alert[data-severity="critical"]')
    # "Needs action now" opens the alert's detail in place with its first action in focus.
    tab.page.locator('#action-list > li [data-action="act"]').first.click()
    expect(card.locator('[data-action="hold"]')).to_be_focused()
    expect(card.locator('[data-field="evidence"]')).to_have_text(EVIDENCE)
    expect(card).not_to_contain_text("in:21212")
    card.get_by_label("Prescriber told (optional)").fill("Dr Lee")
    card.locator('[data-action="hold"]').click()
    expect(card.locator('[data-follow-up="open"]')).to_contain_text("Awaiting prescriber since 01:50")
    expect(card.locator('[data-follow-up="open"]')).to_contain_text("Dr Lee told")
    expect(card.locator(".ack-state")).to_contain_text("Awaiting prescriber since 01:50")
    expect(tab.page.locator("#action-list > li")).to_have_count(0)  # acted on: held, prescriber told
    expect(tab.dose(dose["id"])).to_have_attribute("data-outcome", "held")
    assert the_dose(running)["outcome"]["status"] == "held"

    # 07:30, the day shift, on another computer: unanswered, the alert is back at the top.
    clock.now = at(7, 30, days=1)
    running.run(running.service.tick())
    day = open_tab()
    day.set_time(clock.now)
    day.sign_in(running.token(WARD, "Dana Day"))
    first = day.page.locator('#app li.alert[data-severity="critical"]')
    expect(day.page.locator("#action-list > li").first).to_have_attribute(
        "data-action-for", str(first.get_attribute("data-alert-id"))
    )  # back in "needs action now", first
    first.locator('[data-action="details"]').click()
    expect(first.locator('[data-follow-up="open"]')).to_contain_text("Awaiting prescriber since 01:50")
    expect(first.locator('[data-follow-up="open"]')).to_contain_text("came back 1 time unanswered")
    expect(first.locator('.acks li[data-earlier-shift="true"]')).to_contain_text("Nico Night")
    assert_no_serious_violations(day.page, "the ward dashboard with a follow-up awaiting the prescriber")
    first.locator('[data-action="answer-give"]').click()
    expect(first.locator('[data-follow-up="closed"]')).to_contain_text("Prescriber reviewed: give")
    expect(first.locator('[data-follow-up="closed"]')).to_contain_text("recorded by Dana Day")

    # The printable handoff carries the follow-up and its answer.
    day.page.locator("#handoff-link").click()
    day.page.wait_for_url("**/handoff.html")
    done = day.page.locator('#handoff-patients li[data-action="done"]')
    expect(done).to_contain_text("Prescriber reviewed: give")
    expect(done).to_contain_text("dose held")
    assert_no_serious_violations(day.page, "the handoff with a follow-up")


@pytest.mark.browser
def test_given_under_a_critical_alert_is_refused_without_a_reason(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    night(running, patient, clock)
    dose = the_dose(running)
    tab = open_tab()
    tab.set_time(clock.now)
    tab.sign_in(running.token(WARD, "Nico Night"))
    row = tab.dose(dose["id"])
    row.locator('[data-action="record"]').click()
    given = row.locator('[data-outcome-action="given"]')
    given.click()
    expect(given).to_have_text("Confirm given")
    expect(row.locator("fieldset.override")).to_be_visible()
    given.click()
    expect(row.locator(".form-error")).to_have_text("Choose a reason for giving it.")
    row.get_by_label("Reason").select_option("prescriber-confirmed")
    given.click()
    expect(row.locator(".form-error")).to_have_text("Name the nurse giving the dose.")
    assert the_dose(running)["outcome"] is None  # nothing recorded
    # The service refuses it too, naming what is missing (a client that skips the form).
    with httpx.Client(base_url=running.url, timeout=10) as client:
        refused = client.post(
            f"/wards/{WARD}/schedule/{dose['id']}/outcome",
            json={"status": "given", "override": {"code": "prescriber-confirmed"}},
            headers={"Authorization": f"Bearer {running.token(WARD, 'Nico Night')}"},
        )
    assert refused.status_code == 422 and "'override.nurse' is missing" in refused.text
    assert_no_serious_violations(tab.page, "the dose form asking for an override reason")
    row.get_by_label("Nurse giving the dose").fill("Nico Night")
    given.click()
    expect(row).to_have_attribute("data-outcome", "given")
    card = tab.page.locator('#app li.alert[data-severity="critical"]')
    expect(card.locator(".given-override")).to_contain_text("Given under this alert by Nico Night")
    expect(card.locator(".given-override")).to_contain_text("Prescriber confirmed the order")


@pytest.mark.browser
def test_an_override_upstream_is_shown_and_a_token_is_renewed_without_leaving_the_page(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    admission = night(running, patient, clock)
    cards = call(
        running,
        SELECT,
        hook_request("order-select", [r4_order("d-1", CLARITHROMYCIN)], encounterId=admission),
    )
    [card] = [c for c in cards if c["indicator"] == "critical"]
    overridden = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": card["overrideReasons"][1]},
        "outcomeTimestamp": "2030-01-16T01:40:00Z",
    }
    assert post(running, f"/cds-services/{SELECT}/feedback", {"feedback": [overridden]}).status_code == 200

    tab = open_tab()
    tab.set_time(clock.now)
    tab.sign_in(running.token(WARD, "Nico Night", hours=0.1))  # six minutes left: the warning shows
    alert = tab.page.locator('#app li.alert[data-severity="critical"]')
    expect(alert.locator(".ack-state")).to_contain_text("Prescriber overrode upstream")
    expect(alert.locator(".upstream-override")).to_contain_text(
        "Prescriber overrode this upstream: Practitioner/dr-lee"
    )
    expect(alert.locator(".upstream-override")).to_contain_text("Will monitor the patient closely")
    alert.locator('[data-action="acknowledge"]').click()
    alert.locator("textarea[name=comment]").fill("typed before renewing")
    tab.mark_document()
    expect(tab.page.locator("#renew")).to_be_visible()
    expect(tab.page.locator("#renew-message")).to_contain_text("Your sign-in ends at 01:56")
    assert_no_serious_violations(tab.page, "the renewal warning")
    tab.page.locator("#renew-token").fill(sign_in_link(running.url, running.token(WARD, "Nico Night")))
    tab.page.locator("#renew-form button[type=submit]").click()
    expect(tab.page.locator("#renew")).to_be_hidden()
    assert tab.same_document()
    expect(alert.locator("textarea[name=comment]")).to_have_value("typed before renewing")
    alert.locator("select[name=reason]").select_option("prescriber-informed")
    alert.locator(".ack-form button[type=submit]").click()
    expect(alert.locator(".acks")).to_contain_text("typed before renewing")  # the renewed token works
