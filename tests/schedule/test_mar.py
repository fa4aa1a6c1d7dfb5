"""The MAR: planned doses from FHIR MedicationRequests, outcomes recorded once."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from alertsvc.errors import ScheduleError
from alertsvc.knowledge.model import RXNORM_SYSTEM, Ingredient
from alertsvc.schedule.mar import Outcome, ScheduledDose, doses_from_medication_request, record_outcome
from alertsvc.schedule.shifts import Ward
from tests.schedule.conftest import LONDON, NEW_YORK, local, local_day

PREDNISONE = Ingredient("8640", "prednisone")
WARD = Ward(id="ward-7", name="Ward 7", timezone="America/New_York")
ORAL = {"coding": [{"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral Route"}]}
TAB = {"system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm", "code": "TAB"}

# Shape of the HL7 example medicationrequest0303 (prednisone taper, contained Medication, boundsPeriod).
PREDNISONE_TAPER: dict[str, Any] = {
    "resourceType": "MedicationRequest",
    "id": "medrx0303",
    "contained": [
        {
            "resourceType": "Medication",
            "id": "med0311",
            "code": {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "373994007",
                        "display": "Prednisone 5mg tablet (Product)",
                    }
                ]
            },
        }
    ],
    "status": "active",
    "intent": "order",
    "medicationReference": {"reference": "#med0311"},
    "dosageInstruction": [
        {
            "sequence": 1,
            "timing": {
                "repeat": {
                    "boundsPeriod": {"start": "2015-01-16", "end": "2015-01-20"},
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "d",
                }
            },
            "route": ORAL,
            "doseAndRate": [{"doseQuantity": {"value": 4, "unit": "TAB", **TAB}}],
        },
        {
            "sequence": 2,
            "timing": {
                "repeat": {
                    "boundsPeriod": {"start": "2015-01-23", "end": "2015-01-30"},
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "d",
                }
            },
            "route": ORAL,
            "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "TAB", **TAB}}],
        },
    ],
}

# Shape of medicationrequest0308 (RxNorm-coded, as needed) and of the Synthea bundles (daily).
VICODIN_PRN: dict[str, Any] = {
    "resourceType": "MedicationRequest",
    "id": "medrx0308",
    "status": "active",
    "intent": "order",
    "medicationCodeableConcept": {
        "coding": [{"system": RXNORM_SYSTEM, "code": "856907", "display": "Vicodin 5/500 Oral Tablet"}]
    },
    "dosageInstruction": [
        {
            "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
            "asNeededCodeableConcept": {
                "coding": [{"code": "203082005", "display": "Fibromyalgia (disorder)"}]
            },
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "TAB", **TAB}}],
        }
    ],
}
SYNTHEA_DAILY: dict[str, Any] = {
    "resourceType": "MedicationRequest",
    "id": "6f69ee56",
    "status": "active",
    "intent": "order",
    "medicationCodeableConcept": {
        "coding": [{"system": RXNORM_SYSTEM, "code": "835900", "display": "cycloSPORINE 50 MG Oral Capsule"}],
        "text": "cycloSPORINE 50 MG Oral Capsule",
    },
    "dosageInstruction": [
        {
            "sequence": 1,
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "asNeededBoolean": False,
            "doseAndRate": [{"doseQuantity": {"value": 1}}],
        }
    ],
}


def counter() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"dose-{next(numbers)}"


def build(request: dict[str, Any], start: datetime, end: datetime, **kwargs: Any) -> list[ScheduledDose]:
    return doses_from_medication_request(
        request, admission="adm-1", ward=WARD, start=start, end=end, new_id=counter(), **kwargs
    )


def test_prednisone_taper_from_the_hl7_example() -> None:
    start, end = local_day(NEW_YORK.zone, date(2015, 1, 15), 30)
    doses = build(PREDNISONE_TAPER, start, end, ingredients=(PREDNISONE,))
    assert [d.id for d in doses] == [f"dose-{n}" for n in range(1, 14)]
    assert [d.due for d in doses] == sorted(d.due for d in doses)
    first, last = doses[0], doses[-1]
    assert first.drug == "Prednisone 5mg tablet (Product)"
    assert (first.dose, first.route) == ("4 TAB", "Oral Route")
    assert (first.admission, first.ward, first.ingredients, first.outcome) == (
        "adm-1",
        "ward-7",
        (PREDNISONE,),
        None,
    )
    assert first.due == local(NEW_YORK.zone, date(2015, 1, 16), time(8))
    assert [d.dose for d in doses] == ["4 TAB"] * 5 + ["2 TAB"] * 8
    assert last.due == local(NEW_YORK.zone, date(2015, 1, 30), time(8))


def test_only_doses_inside_the_window_are_planned() -> None:
    start = local(NEW_YORK.zone, date(2015, 1, 18), time(9))
    doses = build(PREDNISONE_TAPER, start, start + timedelta(days=2))
    assert [d.due.astimezone(NEW_YORK.zone).day for d in doses] == [19, 20]


def test_synthea_daily_order_uses_the_rxnorm_display() -> None:
    doses = build(SYNTHEA_DAILY, *local_day(NEW_YORK.zone, date(2026, 10, 30), 4))
    assert [d.drug for d in doses] == ["cycloSPORINE 50 MG Oral Capsule"] * 4
    assert {d.dose for d in doses} == {"1"}
    assert {d.due.astimezone(NEW_YORK.zone).time() for d in doses} == {time(8)}


def test_as_needed_orders_plan_no_doses() -> None:
    assert build(VICODIN_PRN, *local_day(NEW_YORK.zone, date(2026, 6, 1), 3)) == []


@pytest.mark.parametrize(
    ("status", "intent"),
    [
        pytest.param("completed", "order", id="completed"),
        pytest.param("on-hold", "order", id="on-hold"),
        pytest.param("stopped", "order", id="stopped"),
        pytest.param("entered-in-error", "order", id="entered-in-error"),
        pytest.param("active", "proposal", id="proposal"),
        pytest.param("active", "plan", id="plan"),
    ],
)
def test_requests_that_are_not_active_orders_plan_nothing(status: str, intent: str) -> None:
    request = {**SYNTHEA_DAILY, "status": status, "intent": intent}
    assert build(request, *local_day(NEW_YORK.zone, date(2026, 6, 1), 3)) == []


def test_stu3_dose_and_route_text() -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": "stu3",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "paracetamol 500 mg tablet"},
        "dosageInstruction": [
            {
                "timing": {
                    "code": {"coding": [{"system": "http://hl7.org/fhir/v3/GTSAbbreviation", "code": "QID"}]}
                },
                "route": {"text": "by mouth"},
                "doseRange": {
                    "low": {"value": 1.0, "unit": "tablet"},
                    "high": {"value": 2.0, "unit": "tablet"},
                },
            }
        ],
    }
    doses = build(request, *local_day(LONDON.zone, date(2026, 6, 1)))
    assert len(doses) == 4
    assert {(d.drug, d.dose, d.route) for d in doses} == {
        ("paracetamol 500 mg tablet", "1–2 tablet", "by mouth")
    }


def test_bad_timing_names_the_request_and_instruction() -> None:
    request = {
        **SYNTHEA_DAILY,
        "dosageInstruction": [
            SYNTHEA_DAILY["dosageInstruction"][0],
            {"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "mo"}}},
        ],
    }
    with pytest.raises(
        ScheduleError, match=r"MedicationRequest/6f69ee56 dosageInstruction\[1\]: timing.repeat.periodUnit"
    ):
        build(request, *local_day(NEW_YORK.zone, date(2026, 6, 1)))


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        pytest.param(
            {**SYNTHEA_DAILY, "resourceType": "MedicationStatement"},
            "MedicationStatement",
            id="wrong-resource",
        ),
        pytest.param({k: v for k, v in SYNTHEA_DAILY.items() if k != "status"}, "status", id="no-status"),
        pytest.param(
            {k: v for k, v in SYNTHEA_DAILY.items() if k != "medicationCodeableConcept"},
            "medication",
            id="no-drug",
        ),
        pytest.param(
            {**SYNTHEA_DAILY, "dosageInstruction": {"timing": {}}}, "dosageInstruction", id="not-a-list"
        ),
    ],
)
def test_malformed_requests_are_refused(request_: dict[str, Any], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        build(request_, *local_day(NEW_YORK.zone, date(2026, 6, 1)))


DUE = datetime(2026, 6, 1, 7, tzinfo=UTC)


def dose(**changes: Any) -> ScheduledDose:
    fields: dict[str, Any] = {
        "id": "d1",
        "admission": "adm-1",
        "ward": "ward-7",
        "drug": "prednisone 5 mg",
        "ingredients": (PREDNISONE,),
        "dose": "4 TAB",
        "route": "oral",
        "due": DUE,
    }
    return ScheduledDose(**{**fields, **changes})


def test_an_outcome_is_recorded_once() -> None:
    given = Outcome("given", DUE + timedelta(minutes=20), nurse="N. Nightingale", note="with food")
    recorded = record_outcome(dose(), given)
    assert recorded.outcome == given and recorded.due == DUE and recorded.id == "d1"
    assert recorded.effective_time == DUE + timedelta(minutes=20)
    with pytest.raises(ScheduleError, match=r"'d1'.*already recorded as given by N\. Nightingale"):
        record_outcome(recorded, Outcome("refused", DUE, nurse="M. Seacole"))


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        pytest.param("given", True, id="given"),
        pytest.param("held", False, id="held"),
        pytest.param("refused", False, id="refused"),
    ],
)
def test_held_and_refused_doses_do_not_count(status: str, counts: bool) -> None:
    recorded = record_outcome(dose(), Outcome(status, DUE + timedelta(hours=1), nurse="N"))  # type: ignore[arg-type]
    assert recorded.counts is counts
    assert recorded.effective_time == (DUE + timedelta(hours=1) if counts else DUE)
    assert dose().counts and dose().effective_time == DUE


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: Outcome("lost", DUE, nurse="N"), id="unknown-status"),  # type: ignore[arg-type]
        pytest.param(lambda: Outcome("given", datetime(2026, 6, 1, 8), nurse="N"), id="naive-time"),
        pytest.param(lambda: Outcome("given", DUE, nurse=" "), id="no-nurse"),
        pytest.param(lambda: dose(due=datetime(2026, 6, 1, 8)), id="naive-due"),
    ],
)
def test_bad_outcomes_and_doses_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ScheduleError):
        make()


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"coding": "RX-1"}, id="coding-not-a-list"),
        pytest.param({"doseAndRate": {"doseQuantity": {"value": 1}}}, id="doseAndRate-not-a-list"),
        pytest.param({"route": "oral"}, id="route-not-an-object"),
        pytest.param({"doseRange": {"low": "one", "high": 2}}, id="dose-range-parts-not-objects"),
    ],
)
def test_malformed_fhir_parts_never_crash(changes: dict[str, object]) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": "odd",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "ibuprofen"},
        "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}],
    }
    if "coding" in changes:
        request["medicationCodeableConcept"] = {"text": "ibuprofen", "coding": changes["coding"]}
    else:
        instruction = request["dosageInstruction"][0]  # type: ignore[index]
        if "doseRange" in changes:
            instruction["doseAndRate"] = [changes]
        else:
            instruction.update(changes)
    start = datetime(2030, 1, 15, tzinfo=UTC)
    ward = Ward("w", "w", "Europe/London")
    end = start + timedelta(days=1)
    doses = doses_from_medication_request(
        request, admission="a", ward=ward, start=start, end=end, new_id=lambda: "d"
    )
    assert [d.drug for d in doses] == ["ibuprofen"]
