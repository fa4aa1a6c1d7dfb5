"""Properties of the schedule parser: any FHIR MedicationRequest (dosage timing included) plans doses
that are sorted, inside the window and bounded in number, or is refused with an error naming the field,
never an unexpected exception; ISO 8601 instants round-trip and anything else is refused.

The administrations of a schedule request are read through the real service (a SQLite file, an
admitted patient) in ``test_schedule_request_properties.py``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.clock import FIRST_YEAR, LAST_YEAR, iso, parse_iso
from alertsvc.errors import AlertsvcError, ScheduleError
from alertsvc.schedule.fhir_timing import timing_from_fhir
from alertsvc.schedule.mar import doses_from_medication_request
from alertsvc.schedule.shifts import Ward
from alertsvc.schedule.timing import dose_times
from tests.properties.strategies import JSON, SCALARS, TIMES, edited

WARD = Ward(id="ward-1", name="Ward 1", timezone="America/New_York")
START = datetime(2030, 3, 7, 12, 0, tzinfo=UTC)  # the spring change (2030-03-10) is inside the window
END = START + timedelta(hours=96)
MAX_DOSES = 96 * 3600 // 60
"""No timing may plan more than one dose a minute (the finest FHIR period the ward could mean)."""

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
REPEATS = [
    {"frequency": 1, "period": 6, "periodUnit": "h"},
    {"frequency": 2, "period": 1, "periodUnit": "d"},
    {"timeOfDay": ["08:00:00", "20:00:00"]},
    {"when": ["MORN", "HS"], "offset": 30},
    {"frequency": 1, "period": 1, "periodUnit": "wk", "dayOfWeek": ["mon", "thu"]},
    {
        "frequency": 1,
        "period": 8,
        "periodUnit": "h",
        "boundsPeriod": {"start": "2030-03-07", "end": "2030-03-09"},
    },
    {"frequency": 3, "period": 1, "periodUnit": "d", "count": 4},
    {"frequency": 1, "period": 1, "periodUnit": "d", "boundsDuration": {"value": 2, "unit": "d"}},
]
TIMINGS = [{"repeat": r} for r in REPEATS] + [
    {
        "code": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "code": "BID"}]
        }
    },
    {"event": ["2030-03-08T09:00:00Z", "2030-03-09T09:00:00-05:00"]},
]
FHIR_VALUES = st.one_of(
    SCALARS,
    TIMES,
    st.sampled_from(
        ["s", "min", "h", "d", "wk", "mo", "a", "BID", "Q6H", "MORN", "mon", "25:00:00", "08:00"]
    ),
    st.sampled_from([0, -1, 1e-9, 1e9, 10**15, 0.5, 1440, 86400]),
    JSON,
)


def request(timing: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": "mr-1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "5640"}], "text": "ibuprofen"},
        "dosageInstruction": [
            {
                "text": "400 mg by mouth",
                "timing": timing,
                "route": {"text": "oral"},
                "doseAndRate": [{"doseQuantity": {"value": 400, "unit": "mg"}}],
            }
        ],
    }


@settings(max_examples=600, deadline=None)
@given(data=st.data(), timing=st.sampled_from(TIMINGS))
def test_any_medication_request_plans_bounded_sorted_doses_or_is_refused_by_name(
    data: st.DataObject, timing: dict[str, Any]
) -> None:
    resource = data.draw(edited(request(timing), FHIR_VALUES))
    ids = itertools.count()
    try:
        doses = doses_from_medication_request(
            resource, admission="adm-1", ward=WARD, start=START, end=END, new_id=lambda: f"d{next(ids)}"
        )
    except AlertsvcError as exc:
        assert str(exc), "an error must say what was wrong"
        return
    dues = [d.due for d in doses]
    assert dues == sorted(dues)
    assert all(START <= due < END and due.tzinfo is not None for due in dues)
    instructions = resource.get("dosageInstruction")
    assert len(doses) <= MAX_DOSES * max(1, len(instructions) if isinstance(instructions, list) else 1)


@settings(max_examples=600, deadline=None)
@given(data=st.data(), timing=st.sampled_from(TIMINGS))
def test_any_dosage_timing_is_read_or_refused_by_name(data: st.DataObject, timing: dict[str, Any]) -> None:
    dosage = data.draw(edited({"text": "1 tablet", "timing": timing}, FHIR_VALUES))
    try:
        read = timing_from_fhir(dosage)
        times = dose_times(read, START, END, WARD.zone)
    except AlertsvcError as exc:
        assert str(exc)
        return
    assert times == sorted(set(times)) and all(START <= t < END for t in times)
    assert len(times) <= MAX_DOSES


INSTANTS = st.datetimes(
    min_value=datetime(FIRST_YEAR, 1, 2), max_value=datetime(LAST_YEAR, 12, 30), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(moment=INSTANTS)
def test_an_instant_reads_back_as_written(moment: datetime) -> None:
    assert parse_iso(iso(moment)) == moment.replace(microsecond=0)
    assert len(iso(moment)) == len("2030-01-15T12:00:00Z")


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(max_size=40), TIMES, st.datetimes().map(datetime.isoformat)))
def test_any_text_is_an_aware_utc_instant_in_range_or_a_value_error(text: str) -> None:
    try:
        moment = parse_iso(text)
    except ValueError:
        return
    assert moment.tzinfo is UTC and FIRST_YEAR <= moment.year <= LAST_YEAR
    assert parse_iso(iso(moment)) == moment.replace(microsecond=0)


@pytest.mark.parametrize(
    "repeat",
    [
        pytest.param({"frequency": 1, "period": 1e-6, "periodUnit": "s"}, id="every-microsecond"),
        pytest.param({"frequency": 1000, "period": 1, "periodUnit": "min"}, id="1000-a-minute"),
        pytest.param({"frequency": 2, "period": 1, "periodUnit": "min"}, id="every-30-seconds"),
    ],
)
def test_a_dose_more_often_than_once_a_minute_is_refused_not_planned(repeat: dict[str, Any]) -> None:
    """Found by the property above: such a timing planned doses without bound on the event loop."""
    with pytest.raises(ScheduleError, match="more often than once a minute"):
        timing_from_fhir({"timing": {"repeat": repeat}})


@pytest.mark.parametrize(
    "repeat",
    [
        pytest.param({"frequency": 1, "period": 1e300, "periodUnit": "wk"}, id="period-1e300-weeks"),
        pytest.param(
            {"frequency": 1, "period": 1, "periodUnit": "h", "boundsDuration": {"value": 1e300, "unit": "d"}},
            id="duration-1e300-days",
        ),
        pytest.param(
            {"frequency": 1, "period": 1, "periodUnit": "d", "boundsPeriod": {"end": "9999-12-31"}},
            id="bounds-end-9999",
        ),
        pytest.param(
            {"frequency": 1, "period": 1, "periodUnit": "d", "boundsPeriod": {"start": "0001-01-01"}},
            id="bounds-start-0001",
        ),
    ],
)
def test_timing_at_the_edge_of_time_is_planned_or_refused_by_name(repeat: dict[str, Any]) -> None:
    """Found by the property above: OverflowError (a 500) from periods and bounds beyond datetime's range."""
    try:
        times = dose_times(timing_from_fhir({"timing": {"repeat": repeat}}), START, END, WARD.zone)
    except ScheduleError as exc:
        assert "timing.repeat" in str(exc), str(exc)
        return
    assert all(START <= t < END for t in times)
