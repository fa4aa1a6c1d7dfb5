"""The limits on requests (``alertsvc.limits``) and on planning doses (``schedule.timing``), as pure
functions: each refusal names the field, its size and the limit; what is within the limits passes."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alertsvc.config import Settings
from alertsvc.errors import InputError, LimitExceeded
from alertsvc.limits import check_body
from alertsvc.schedule.timing import SLOTS_PER_DOSE, DoseTiming, dose_times

SETTINGS = Settings()
LONDON = ZoneInfo("Europe/London")
START = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("what", "body", "names"),
    [
        pytest.param(
            "acknowledgement",
            {"reason": {"code": "seen"}, "extra": {"deep": [{"list": list(range(2001))}]}},
            ("acknowledgement.extra.deep[0].list", "2001 items", "2000", "max_list_items"),
            id="a-list-deep-in-any-body",
        ),
        pytest.param(
            "admission",
            {
                "ward": "w",
                "bed": "1",
                "slice": {"trees": {"medications": [{}] * 1500, "allergies": [{}] * 600}},
            },
            ("slice.trees.medications", "1500 entries", "2100 in all trees", "2000", "max_slice_entries"),
            id="slice-entries-in-all-trees",
        ),
        pytest.param(
            "ledger update",
            {"trees": {"reactions": [{"payload": "A" * 90_000, "signature": "s"}]}},
            ("ledger update.trees.reactions[0]", "67500 bytes", "65536", "max_resource_bytes"),
            id="an-entry-too-large",
        ),
        pytest.param(
            "schedule",
            {"administrations": [{"admission": "a", "drug": "d", "due": "t", "route": "r" * 201}]},
            ("'administrations[0].route'", "201 characters", "200", "max_name_chars"),
            id="administration-route",
        ),
        pytest.param(
            "dose outcome",
            {"status": "given", "note": "n" * 2001},
            ("'note'", "2001 characters", "2000", "max_note_chars"),
            id="dose-note",
        ),
        pytest.param(
            "CDS Hooks request",
            {
                "context": {
                    "draftOrders": {
                        "entry": [{"resource": {"resourceType": "MedicationRequest", "x": "y" * 70_000}}]
                    }
                }
            },
            ("context.draftOrders.entry[0].resource", "65536 bytes", "max_resource_bytes"),
            id="cds-draft-resource",
        ),
    ],
)
def test_over_a_limit_names_the_field_its_size_and_the_limit(
    what: str, body: dict[str, object], names: tuple[str, ...]
) -> None:
    with pytest.raises(LimitExceeded) as refused:
        check_body(what, body, SETTINGS)
    for name in names:
        assert name in str(refused.value), (name, str(refused.value))


def test_a_label_must_be_text_not_an_object_written_out_whole() -> None:
    with pytest.raises(InputError, match="'label' must be text, not a JSON object"):
        check_body("admission", {"ward": "w", "bed": "1", "label": {"a": "x" * 100_000}}, SETTINGS)


def test_within_the_limits_passes() -> None:
    check_body(
        "admission",
        {"ward": "w" * 200, "bed": "1", "label": "L" * 200, "slice": {"trees": {"medications": [{}] * 2000}}},
        SETTINGS,
    )
    check_body(
        "acknowledgement", {"reason": {"code": "seen", "display": "d" * 200}, "comment": "c" * 2000}, SETTINGS
    )


def test_the_limits_are_settings() -> None:
    tighter = Settings(max_name_chars=10, max_list_items=3)
    with pytest.raises(LimitExceeded, match="at most 10"):
        check_body("admission", {"ward": "w", "bed": "b" * 11}, tighter)
    with pytest.raises(LimitExceeded, match="4 items; at most 3"):
        check_body("dose outcome", {"status": "given", "x": [1, 2, 3, 4]}, tighter)


# -- planning doses -----------------------------------------------------------------------------------


def test_a_dose_every_minute_for_a_year_is_refused_while_it_is_planned() -> None:
    every_minute = DoseTiming(every=timedelta(minutes=1))  # the tightest interval planning accepts
    started = clock.perf_counter()
    with pytest.raises(LimitExceeded, match="plans more than 5000 doses"):
        dose_times(every_minute, START, START + timedelta(days=365), LONDON, limit=5000)
    assert clock.perf_counter() - started < 5  # refused at the 5,001st dose, not after 525,600
    assert len(dose_times(every_minute, START, START + timedelta(minutes=10), LONDON, limit=5000)) == 10


def test_an_interval_from_decades_ago_jumps_to_its_window() -> None:
    hourly = DoseTiming(every=timedelta(hours=1), bounds_start=datetime(1990, 1, 1, tzinfo=UTC))
    doses = dose_times(hourly, START, START + timedelta(hours=3), LONDON, limit=10)
    assert doses == [START, START + timedelta(hours=1), START + timedelta(hours=2)]
    # a count still runs from the schedule's start: 100 hourly doses from 1990 are long over
    counted = DoseTiming(every=timedelta(hours=1), bounds_start=datetime(1990, 1, 1, tzinfo=UTC), count=100)
    assert dose_times(counted, START, START + timedelta(hours=3), LONDON, limit=10) == []


def test_a_wall_clock_count_from_decades_ago_is_refused_not_walked() -> None:
    daily = DoseTiming(times_of_day=(time(8),), bounds_start=datetime(1900, 1, 1, tzinfo=UTC), count=10**9)
    with pytest.raises(LimitExceeded, match=f"walks more than {10 * SLOTS_PER_DOSE} dose slots"):
        dose_times(daily, START, START + timedelta(days=3), LONDON, limit=10)
