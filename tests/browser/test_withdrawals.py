"""Withdrawals in a real browser: the dashboard removes an alert only on a withdrawal whose signature it
verified against the service's JWKS and whose signed list names that alert.

Between the service and the ward sits the tampering proxy (tests/browser/tampering.py) in its forging
mode: after every alert event it injects a ``withdrawn`` event for that alert, signed by an attacker's
key under the service's key id; and it adds an alert of its choosing to the unsigned list of a genuine
withdrawal. Neither may take a critical alert off the screen: the alert stays, marked "Withdrawal not
verified", and the nurse is warned. A genuine withdrawal still removes what it signs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_no_serious_violations
from tests.browser.conftest import OpenTab
from tests.browser.tampering import run_proxy
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_story import WARD, admit, at

LIVE_MS = 5000


def post_update(running: RunningService, patient: PatientCLI, admission: str, since: str, out: str) -> str:
    """The patient's entries since head ``since``, posted by admission staff; the new head."""
    ledger = str(patient.ledger)
    patient("ledger", "slice", ledger, "--grant", "grant.json", "--since", since, "--out", out)
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post(f"/admissions/{admission}/entries", json=patient.read_json(out))
    assert response.status_code == 200, response.text
    return str(response.json()["head"])


def listed(running: RunningService) -> list[dict[str, Any]]:
    with running.client(running.token(WARD, "Quinn Query")) as client:
        alerts: list[dict[str, Any]] = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    return alerts


def involving(alerts: list[dict[str, Any]], drug: str) -> set[str]:
    return {a["id"] for a in alerts if drug in {i["name"] for i in a["alert"]["ingredients"]}}


@pytest.mark.browser
def test_forged_and_widened_withdrawals_leave_the_critical_alert_in_place(
    running: RunningService, patient: PatientCLI, clock: FakeClock, open_tab: OpenTab
) -> None:
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    patient.ledger_cmd("add-medication", "aspirin", "--dose", "75 mg daily")
    clock.now = at(13)
    admission = admit(running, patient, hours=20)  # ends 09:00 tomorrow, within the nurse token's day
    admission_id, head = str(admission["admission"]), str(admission["head"])
    aspirin = involving(listed(running), "aspirin")
    assert aspirin, "warfarin with aspirin raises an alert"

    with run_proxy(running.url, forge_withdrawals=True) as (proxy_url, proxy):
        tab = open_tab(proxy_url)
        try:
            tab.sign_in(running.token(WARD, "Dana Day"))
            for alert_id in aspirin:
                expect(tab.alert(alert_id)).to_have_attribute("data-verified", "true")

            # 14:00: she flags a severe reaction to warfarin. The critical alert comes down the stream,
            # and right behind it the forged withdrawal of it.
            clock.now = at(14)
            patient.ledger_cmd(
                "flag-reaction", "warfarin", "--reaction", "nosebleeds", "--severity", "severe"
            )
            head = post_update(running, patient, admission_id, head, "reaction.json")
            [critical] = [a for a in listed(running) if a["alert"]["severity"] == "critical"]
            card = tab.alert(critical["id"])
            expect(card).to_have_attribute("data-withdrawal-unverified", "true", timeout=LIVE_MS)
            assert critical["id"] in proxy.forged, "the forged withdrawal went down the stream"
            expect(card).to_have_attribute("data-verified", "true")
            expect(card).to_have_attribute("data-severity", "critical")
            expect(card.locator(".withdrawal-badge")).to_have_text("Withdrawal not verified")
            expect(card.locator(".withdrawal-note")).to_contain_text("signature does not match")
            expect(card.locator(".withdrawal-note")).to_contain_text("The alert stays: treat it as active.")
            expect(tab.page.locator("#announcer")).to_contain_text("could not be verified")
            assert_no_serious_violations(tab.page, "the dashboard with a withdrawal not verified")

            # 15:00: she stops aspirin. The genuine, signed withdrawal of the aspirin alert arrives with
            # the critical alert slipped into its unsigned list: only what it signs goes.
            proxy.widen_with = [critical["id"]]
            clock.now = at(15)
            shown = json.loads(patient("ledger", "show", str(patient.ledger), "--json"))
            [entry] = [
                e for e in shown["entries"] if e["kind"] == "medication" and "aspirin" in json.dumps(e)
            ]
            patient.ledger_cmd("stop-medication", entry["id"])
            head = post_update(running, patient, admission_id, head, "stopped.json")
            for alert_id in aspirin:
                expect(tab.alert(alert_id)).to_have_count(0, timeout=LIVE_MS)
            assert proxy.widened == [critical["id"]]
            expect(card).to_be_visible()
            expect(card).to_have_attribute("data-withdrawal-unverified", "true")
            expect(card.locator(".withdrawal-note")).to_contain_text("does not name this alert")
            assert involving(listed(running), "aspirin") == set()

            # The grant ends: the service's signed withdrawal of the critical alert removes it.
            proxy.widen_with = []
            clock.now = at(9, 1, days=1)
            running.run(running.service.tick())
            expect(card).to_have_count(0, timeout=LIVE_MS)
            expect(tab.page.locator("#no-alerts")).to_be_visible()
        finally:
            tab.context.close()  # before the proxy stops, so its stream ends from the browser's side
