"""Properties of the parsers behind the ward's writes, run against a real service (conftest.Desk):

- a schedule request (administrations and FHIR MedicationRequests) plans doses exactly as written, or is
  refused whole with an error naming the item and field, never an unexpected exception;
- an acknowledgement is recorded as sent (its reason, display and comment), or refused naming what was
  wrong; a critical alert is never acknowledged as only "seen"; acknowledging never hides the alert.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertsvc.alerts import store as alert_store
from alertsvc.clock import parse_iso
from alertsvc.errors import AlertsvcError, InputError
from alertsvc.schedule_desk import plan_doses, resolve_terms, schedule_terms, unresolved_orders
from alertsvc.ward_desk import ACK_REASONS, acknowledge
from tests.properties.conftest import NOW, WARD, Desk, due_in
from tests.properties.strategies import JSON, SCALARS, TIMES, edited

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

EVERY_8_HOURS = {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}}
REQUEST = {
    "resourceType": "MedicationRequest",
    "id": "mr-1",
    "status": "active",
    "intent": "order",
    "medicationCodeableConcept": {
        "coding": [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "5640", "display": "ibuprofen"}
        ]
    },
    "dosageInstruction": [
        {"timing": EVERY_8_HOURS, "doseAndRate": [{"doseQuantity": {"value": 400, "unit": "mg"}}]}
    ],
}
SCHEDULE_VALUES = st.one_of(
    SCALARS,
    TIMES,
    JSON,
    st.sampled_from(["ibuprofen", "warfarin", "qqzx", "  ", "adm-nope", "400 mg", "oral"]),
)


def schedule_body(admission: str) -> dict[str, Any]:
    return {
        "administrations": [
            {
                "admission": admission,
                "drug": "ibuprofen",
                "due": due_in(3),
                "dose": "400 mg",
                "route": "oral",
            },
            {"admission": admission, "drug": "qqzx unknown tonic", "due": due_in(5)},
        ],
        "medication_requests": [{"admission": admission, "resource": REQUEST}],
    }


@SETTINGS
@given(data=st.data())
def test_any_schedule_request_plans_doses_as_written_or_is_refused_by_name(
    desk: Desk, data: st.DataObject
) -> None:
    body = data.draw(edited(schedule_body(desk.admission), SCHEDULE_VALUES))
    if not isinstance(body, dict):
        return  # the route refuses a body that is not an object before this point (web/http.json_body)
    try:
        resolved = resolve_terms(desk.service.normalizer, schedule_terms(body))
        doses = plan_doses(desk.service, WARD, body, NOW, resolved)
        unresolved = unresolved_orders(body, resolved)
    except AlertsvcError as exc:
        assert str(exc)
        return
    written = body.get("administrations", [])
    for item, dose in zip(written, doses[: len(written)], strict=True):
        assert dose.admission == item["admission"] == desk.admission
        assert dose.drug == item["drug"].strip()
        assert dose.due == parse_iso(item["due"])
        assert dose.dose == (item.get("dose") or "")  # as written: text, or nothing
        assert isinstance(dose.route, str) and (item.get("route") is None or dose.route == item["route"])
    assert all(u["where"].startswith(("administrations[", "medication_requests[")) for u in unresolved)
    assert all(d.ward == WARD and d.due.tzinfo is not None for d in doses)


ACK_VALUES = st.one_of(
    SCALARS,
    JSON,
    st.sampled_from([*ACK_REASONS, "day", "evening", "night", "", "  spaced  ", "x" * 2001]),
    st.fixed_dictionaries({"code": st.sampled_from(list(ACK_REASONS))}),
)


def ack_body() -> dict[str, Any]:
    return {
        "shift": "day",
        "reason": {"code": "prescriber-informed", "display": "Prescriber informed; awaiting review"},
        "comment": "Dr Okafor will review before 14:00",
    }


@SETTINGS
@given(data=st.data(), critical=st.booleans())
def test_any_acknowledgement_is_recorded_as_sent_or_refused_by_name(
    desk: Desk, data: st.DataObject, critical: bool
) -> None:
    alert = desk.critical_alert if critical else desk.other_alert
    body = data.draw(
        st.one_of(edited(ack_body(), ACK_VALUES), st.dictionaries(st.text(max_size=8), ACK_VALUES))
    )
    if not isinstance(body, dict):
        return  # refused by the route before it reaches the parser
    before = {a.id for a in alert_store.active_alerts(desk.service.db, ward=WARD)}
    try:
        ack = desk.run(acknowledge(desk.service, alert, body, desk.nurse))
    except InputError as exc:
        assert any(word in str(exc) for word in ("reason", "comment", "shift")), str(exc)
        return
    reason = body.get("reason")
    code = reason["code"] if isinstance(reason, dict) else "seen"
    assert ack["reason"]["code"] == code
    assert not (critical and code == "seen"), "a critical alert acknowledged as only seen"
    sent_display = reason.get("display") if isinstance(reason, dict) else None
    assert sent_display is None or isinstance(sent_display, str), "a display that is not text was taken"
    assert ack["reason"]["display"] == (sent_display or ACK_REASONS[code])
    assert isinstance(body.get("comment", ""), str) and ack["comment"] == body.get("comment", "").strip()
    assert ack["shift"] == "day" and ack["alert"] == alert
    stored = alert_store.acknowledgements(desk.service.db, [alert])[alert]
    assert ack["id"] in {a.id for a in stored}
    assert {a.id for a in alert_store.active_alerts(desk.service.db, ward=WARD)} == before


def test_the_desk_has_a_critical_and_a_non_interruptive_alert(desk: Desk) -> None:
    critical = alert_store.get_alert(desk.service.db, desk.critical_alert)
    other = alert_store.get_alert(desk.service.db, desk.other_alert)
    assert critical is not None and critical.claims["severity"] == "critical"
    assert other is not None and other.claims["interruptive"] is False
