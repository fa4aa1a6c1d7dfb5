"""Upstream decisions (issue 11, point 4): a prescriber's CDS Hooks override of a finding, for this
admission (``context.encounterId``), is linked to the ward's alert for the same finding, which lists who,
when and why. Feedback on another admission's card, or on a card no admission's call answered, is not
linked; a purge deletes the links.
"""

from __future__ import annotations

from typing import Any

from tests.postgres import reading
from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_cds_hooks import SELECT, call, es_key, hook_request, post, r4_order, rs_key, rxnorm
from tests.web.test_cds_hooks import cds_alone as cds_alone
from tests.web.test_story import WARD, admit, at

__all__ = ["cds_alone", "es_key", "rs_key"]
CLARITHROMYCIN = rxnorm("21212", "clarithromycin")


def ward_alerts(cds: RunningService) -> list[dict[str, Any]]:
    with cds.client(cds.token(WARD, "Nico Night")) as client:
        listed: list[dict[str, Any]] = client.get(f"/wards/{WARD}/alerts").json()["alerts"]
    return listed


def admitted_with_clarithromycin_due(cds: RunningService, patient: PatientCLI, clock: FakeClock) -> str:
    """Simvastatin in her ledger, admitted at 13:00; the ward plans clarithromycin for 02:00."""
    patient.ledger_cmd("add-medication", "simvastatin", "--dose", "40 mg at night")
    clock.now = at(13)
    admission = str(admit(cds, patient)["admission"])
    dose = {
        "admission": admission,
        "drug": "clarithromycin",
        "dose": "500 mg",
        "due": at(2, days=1).isoformat(),
    }
    with cds.client(cds.token(WARD, "Adam Admissions", role="admission")) as client:
        assert client.post(f"/wards/{WARD}/schedule", json={"administrations": [dose]}).status_code == 201
    return admission


def test_a_prescribers_override_upstream_is_shown_on_the_ward_alert(
    cds_alone: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    cds = cds_alone
    admission = admitted_with_clarithromycin_due(cds, patient, clock)
    [alert] = [a for a in ward_alerts(cds) if a["alert"]["severity"] == "critical"]
    assert alert["upstream"] == []

    clock.now = at(13, 30)
    cards = call(
        cds, SELECT, hook_request("order-select", [r4_order("d-1", CLARITHROMYCIN)], encounterId=admission)
    )
    [card] = [c for c in cards if c["indicator"] == "critical"]
    unrelated = call(
        cds,
        SELECT,
        hook_request(
            "order-select", [r4_order("d-2", CLARITHROMYCIN)], {"medications": None, "allergies": None}
        ),
    )
    reason = card["overrideReasons"][0]
    feedback = [
        {
            "card": card["uuid"],
            "outcome": "overridden",
            "overrideReason": {"reason": reason, "userComment": "short course, statin paused"},
            "outcomeTimestamp": "2030-01-15T13:31:00Z",
        },
        {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2030-01-15T13:32:00Z"},
        *(
            {"card": c["uuid"], "outcome": "overridden", "outcomeTimestamp": "2030-01-15T13:33:00Z"}
            for c in unrelated
        ),
    ]
    response = post(cds, f"/cds-services/{SELECT}/feedback", {"feedback": feedback})
    assert response.status_code == 200, response.text

    [shown] = [a for a in ward_alerts(cds) if a["id"] == alert["id"]]
    assert shown["upstream"] == [
        {
            "who": "Practitioner/dr-lee",
            "client": "https://ehr.example.org/",
            "at": "2030-01-15T13:31:00Z",
            "reason": {"code": reason["code"], "display": "Benefit outweighs risk"},
            "source": "CDS Hooks",
        }
    ]
    assert "short course" not in str(shown)  # the user's free-text comment is not kept

    clock.now = at(13, 0, days=3)  # the grant (30 h) has ended: the links go with the admission
    cds.run(cds.service.tick())
    with reading(cds.settings.db_path) as db:
        left = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("cds_cards", "cds_overrides")]
    assert left == [0, 0]
