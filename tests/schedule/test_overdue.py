"""Overdue doses (pure): both sides of the grace period, outcomes, severity, words, one alert per dose."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from alertsvc import sealing, store
from alertsvc.alerts.build import AdmissionRef, Alert, dedupe_key
from alertsvc.alerts.reconcile import plan
from alertsvc.alerts.store import StoredAlert, save_alert
from alertsvc.errors import ScheduleError, UniqueViolation
from alertsvc.knowledge.model import Finding, Ingredient
from alertsvc.schedule.mar import Outcome, ScheduledDose, record_outcome
from alertsvc.schedule.overdue import DEFAULT_GRACE, is_overdue, overdue, serious_ingredients
from tests.schedule.conftest import LONDON, local

IBUPROFEN = Ingredient("5640", "ibuprofen")
PARACETAMOL = Ingredient("161", "acetaminophen")
WARFARIN = Ingredient("11289", "warfarin")
WARD = LONDON.ward()
SUMMER = date(2026, 6, 10)  # London on BST: 07:00 local is 06:00 UTC
VERSION = "kb-test"


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return local(LONDON.zone, SUMMER, time(hour, minute, second))


def dose(dose_id: str, due: datetime, *ingredients: Ingredient, **changes: Any) -> ScheduledDose:
    fields: dict[str, Any] = {
        "id": dose_id,
        "admission": "adm-1",
        "ward": WARD.id,
        "drug": "/".join(i.name for i in ingredients) or "paracetamol",
        "ingredients": ingredients or (PARACETAMOL,),
        "dose": "1 g",
        "route": "oral",
        "due": due,
    }
    return ScheduledDose(**{**fields, **changes})


def check(*doses: ScheduledDose, now: datetime, **kwargs: Any) -> list[Finding]:
    return overdue(doses, WARD, now=now, knowledge_version=VERSION, **kwargs)


def test_the_default_grace_is_ismps_30_minutes() -> None:
    assert timedelta(minutes=30) == DEFAULT_GRACE


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(at(6, 59), False, id="before-due"),
        pytest.param(at(7, 0), False, id="at-due"),
        pytest.param(at(7, 29, 59), False, id="1s-inside-grace"),
        pytest.param(at(7, 30), True, id="at-due+grace"),
        pytest.param(at(9, 0), True, id="hours-later"),
    ],
)
def test_a_dose_is_overdue_from_due_plus_grace_not_before(now: datetime, expected: bool) -> None:
    seven = dose("d1", at(7))
    assert is_overdue(seven, now=now) is expected
    assert [f.refs for f in check(seven, now=now)] == ([("dose:d1",)] if expected else [])


def test_the_grace_is_configurable() -> None:
    seven = dose("d1", at(7))
    assert check(seven, now=at(7, 5), grace=timedelta(minutes=5))
    assert not check(seven, now=at(7, 4, 59), grace=timedelta(minutes=5))
    assert not check(seven, now=at(7, 59), grace=timedelta(hours=1))
    assert check(seven, now=at(7), grace=timedelta(0))


@pytest.mark.parametrize("status", ["given", "held", "refused"])
def test_a_dose_with_an_outcome_is_never_overdue(status: str) -> None:
    recorded = record_outcome(dose("d1", at(7)), Outcome(status, at(7, 40), nurse="E. Nurse"))  # type: ignore[arg-type]
    assert not is_overdue(recorded, now=at(12))
    assert check(recorded, now=at(12)) == []


def test_one_finding_per_missed_dose_in_due_order_with_words_a_nurse_can_follow() -> None:
    doses = [dose("d2", at(8)), dose("d1", at(7)), dose("d3", at(11))]
    findings = check(*doses, now=at(9))
    assert [f.refs for f in findings] == [("dose:d1",), ("dose:d2",)]
    first = findings[0]
    assert (first.kind, first.rule, first.severity) == ("overdue", "mar-overdue", "moderate")
    assert first.sources == ("ward MAR", "ISMP timely administration guideline")
    # The ward's own time (BST), not UTC.
    assert (
        first.summary == "Dose of paracetamol 1 g due 07:00 not recorded; give or record why not (moderate)."
    )
    assert "due 2026-06-10 07:00 (Europe/London)" in first.mechanism and "within 30 min" in first.mechanism
    assert first.management.startswith("1. Give the dose of paracetamol 1 g now")
    assert "held or refused" in first.management
    assert first.evidence == ("dose:d1", "due:2026-06-10T06:00:00Z")
    assert first.knowledge_version == VERSION
    assert first.ingredients == (PARACETAMOL,)


def test_the_words_do_not_change_as_time_passes() -> None:
    """So a later check finds the same alert rather than a new version of it."""
    seven = dose("d1", at(7))
    assert check(seven, now=at(7, 30)) == check(seven, now=at(22))


def test_an_overdue_dose_of_a_drug_in_a_major_or_critical_finding_is_major() -> None:
    ibuprofen = dose("d1", at(7), IBUPROFEN)
    findings = check(ibuprofen, now=at(8), serious=frozenset({IBUPROFEN.rxcui}))
    assert [f.severity for f in findings] == ["major"]
    assert "in a major or critical alert for this patient" in findings[0].mechanism
    assert findings[0].summary.endswith("(major).")


def finding(kind: str, severity: str, *ingredients: Ingredient) -> Finding:
    return Finding(
        kind=kind,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        ingredients=ingredients,
        summary="s",
        mechanism="m",
        management="",
        rule="r",
        sources=("s",),
        evidence=(),
        knowledge_version=VERSION,
    )


def test_only_major_or_critical_interactions_allergies_and_flagged_reactions_make_a_dose_serious() -> None:
    found = [
        finding("interaction", "major", WARFARIN, IBUPROFEN),
        finding("allergy", "critical", Ingredient("1", "penicillin")),
        finding("reaction", "critical", Ingredient("2", "codeine")),
        finding("interaction", "moderate", Ingredient("3", "x")),
        finding("duplicate", "major", Ingredient("4", "y")),
        finding("too-soon", "major", PARACETAMOL),
    ]
    assert serious_ingredients(found) == {"11289", "5640", "1", "2"}


def test_a_drug_that_did_not_resolve_is_named_by_its_stand_in_ingredient() -> None:
    unknown = dose("d1", at(7), drug="Zorvantix", ingredients=())
    [found] = check(unknown, now=at(8))
    assert found.ingredients[0].rxcui == "unresolved:zorvantix"
    assert found.severity == "moderate"


def test_naive_now_and_negative_grace_are_refused() -> None:
    seven = dose("d1", at(7))
    with pytest.raises(ScheduleError, match="naive"):
        is_overdue(seven, now=datetime(2026, 6, 10, 8))
    with pytest.raises(ScheduleError, match="negative"):
        check(seven, now=at(8), grace=timedelta(minutes=-1))


# -- one alert per missed dose --------------------------------------------------------------------------

ADMISSION = AdmissionRef("adm-1", WARD.id, "3", "Bed 3", at(7) + timedelta(days=2))


def stored(alert: Alert, reminded: str | None) -> StoredAlert:
    return StoredAlert(
        id=alert.id,
        admission=alert.admission.id,
        ward=alert.admission.ward,
        dedupe=alert.dedupe_key,
        version=alert.version,
        status="active",
        severity_rank=alert.severity_rank,
        dose=alert.dose.id if alert.dose else None,
        due=alert.dose.due if alert.dose else None,
        reminded_dose=reminded,
        claims=json.loads(json.dumps(alert.claims())),
        jws="token",
    )


def reconcile(doses: list[ScheduledDose], existing: list[StoredAlert], now: datetime) -> Any:
    counter = itertools.count(1)
    return plan(
        ADMISSION,
        check(*doses, now=now),
        doses,
        existing,
        flagged_by={},
        now=now,
        lead=timedelta(minutes=60),
        new_id=lambda: f"alert-{next(counter)}",
    )


def test_two_missed_doses_of_one_drug_are_two_alerts_each_bound_to_its_dose() -> None:
    doses = [dose("d1", at(7)), dose("d2", at(8))]
    first, second = check(*doses, now=at(9))
    assert dedupe_key("adm-1", first) == "adm-1|overdue|dose:d1"
    assert dedupe_key("adm-1", second) == "adm-1|overdue|dose:d2"
    result = reconcile(doses, [], at(9))
    assert [(a.id, a.dose.id, reminded) for a, reminded in result.upserts] == [
        ("alert-1", "d1", "d1"),
        ("alert-2", "d2", "d2"),
    ]


def test_checking_again_raises_no_second_alert_and_an_outcome_withdraws_it() -> None:
    doses = [dose("d1", at(7))]
    [(alert, reminded)] = reconcile(doses, [], at(7, 30)).upserts
    existing = [stored(alert, reminded)]
    later = reconcile(doses, existing, at(10))  # a timer, a restart, a shift change: nothing new
    assert later.upserts == () and later.withdrawals == ()
    held = [record_outcome(doses[0], Outcome("held", at(10, 5), nurse="E. Nurse", note="nil by mouth"))]
    withdrawn = reconcile(held, existing, at(10, 5))
    assert withdrawn.upserts == () and withdrawn.withdrawals == (alert.id,)
    assert withdrawn.withdrawals_by_reason() == {"dose outcome recorded": (alert.id,)}
    gone = reconcile([], existing, at(10, 5))  # the dose itself gone (its admission moved): no outcome
    assert gone.withdrawals_by_reason() == {"no longer found": (alert.id,)}


def test_the_database_refuses_a_second_alert_for_one_missed_dose(tmp_path: Path) -> None:
    db = store.open_database(tmp_path / "s.db")
    sealing.attach(db, sealing.Keyring(sealing.load_or_create_kek(tmp_path / "hospital.kek")))
    doses = [dose("d1", at(7))]
    [(alert, reminded)] = reconcile(doses, [], at(8)).upserts
    with store.write(db):
        sealing.keyring(db).create(db, alert.admission.id, now=at(8))
    [(copy, _)] = reconcile(doses, [], at(9)).upserts  # as if the first were not seen (a race)
    copy = Alert(**{**copy.__dict__, "id": "alert-copy"})
    with store.write(db):
        save_alert(db, alert, "token", reminded_dose=reminded)
    refused = pytest.raises(UniqueViolation, match=r"UNIQUE constraint failed: alerts\.dedupe")
    with refused, store.write(db):
        save_alert(db, copy, "token", reminded_dose=reminded)
    assert db.execute("SELECT count(*) FROM alerts").fetchone()[0] == 1
    db.close()
