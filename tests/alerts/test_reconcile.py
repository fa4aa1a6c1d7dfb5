"""Reconciling findings with stored alerts: dedupe, versions, dose binding, reminders, withdrawal."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, datetime, timedelta

from alertsvc.alerts.build import AdmissionRef, Alert
from alertsvc.alerts.reconcile import plan
from alertsvc.alerts.store import StoredAlert
from alertsvc.knowledge.model import Finding, Ingredient
from alertsvc.schedule.mar import Outcome, ScheduledDose

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
ADMISSION = AdmissionRef("adm-1", "A", "3", "Bed 3", NOW + timedelta(days=2))
IBUPROFEN = Ingredient("5640", "ibuprofen")
WARFARIN = Ingredient("11289", "warfarin")
LEAD = timedelta(minutes=60)


def finding(severity: str = "critical", refs: tuple[str, ...] = ("dose:d2", "entry:e1")) -> Finding:
    return Finding(
        kind="reaction",
        severity=severity,  # type: ignore[arg-type]
        ingredients=(IBUPROFEN,),
        summary=f"ibuprofen: flagged reaction ({severity})",
        mechanism="The patient flagged a rash.",
        management="Do not give; ask the prescriber.",
        rule="flagged-reaction",
        sources=("patient ledger",),
        evidence=("in:5640",),
        knowledge_version="kb-test",
        refs=refs,
    )


def dose(dose_id: str, hours: float, outcome: Outcome | None = None) -> ScheduledDose:
    return ScheduledDose(
        id=dose_id,
        admission="adm-1",
        ward="A",
        drug="ibuprofen 400 mg",
        ingredients=(IBUPROFEN,),
        dose="400 mg",
        route="oral",
        due=NOW + timedelta(hours=hours),
        outcome=outcome,
    )


def stored(alert: Alert, reminded: str | None = None) -> StoredAlert:
    claims = json.loads(json.dumps(alert.claims()))
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
        claims=claims,
        jws="token",
    )


def run(
    findings: list[Finding], doses: list[ScheduledDose], existing: list[StoredAlert], now: datetime = NOW
):
    counter = itertools.count(1)
    return plan(
        ADMISSION,
        findings,
        doses,
        existing,
        flagged_by={"entry:e1": "patient"},
        now=now,
        lead=LEAD,
        new_id=lambda: f"alert-{next(counter)}",
    )


def test_a_new_finding_becomes_an_alert_bound_to_the_earliest_pending_dose() -> None:
    doses = [dose("d1", 1, Outcome("given", NOW, "Ana")), dose("d2", 12), dose("d3", 6)]
    result = run([finding(refs=("dose:d2", "dose:d3", "entry:e1"))], doses, [])
    [(alert, reminded)] = result.upserts
    assert alert.id == "alert-1" and alert.version == 1
    assert alert.dose is not None and alert.dose.id == "d3"
    assert alert.flagged_by == "patient"
    assert reminded is None  # due in 6 h: not yet within the lead time
    assert alert.claims()["dose"]["due"] == "2026-11-24T20:00:00Z"


def test_the_same_finding_again_changes_nothing_and_a_higher_severity_is_a_new_version() -> None:
    [(first, _)] = run([finding("major")], [dose("d2", 12)], []).upserts
    assert first.news().items() <= first.claims().items()  # what is compared is what is signed
    again = run([finding("major")], [dose("d2", 12)], [stored(first)])
    assert again.upserts == () and again.withdrawals == ()
    [(second, _)] = run([finding("critical")], [dose("d2", 12)], [stored(first)]).upserts
    assert (second.id, second.version) == (first.id, 2)
    assert second.created == first.created


def test_new_knowledge_finding_the_same_words_keeps_the_alert_and_new_words_make_a_version() -> None:
    [(first, _)] = run([finding("major")], [dose("d2", 12)], []).upserts
    assert "knowledge kb-test." in first.claims()["detail"]
    same = dataclasses.replace(finding("major"), knowledge_version="kb-next")
    assert run([same], [dose("d2", 12)], [stored(first)]).upserts == ()  # not re-signed, not re-sent
    reworded = dataclasses.replace(same, management="Hold; page the prescriber.")
    [(second, _)] = run([reworded], [dose("d2", 12)], [stored(first)]).upserts
    assert second.version == 2 and second.claims()["knowledge_version"] == "kb-next"


def test_a_dose_coming_due_is_reminded_once() -> None:
    [(first, _)] = run([finding()], [dose("d2", 12)], []).upserts
    later = NOW + timedelta(hours=11, minutes=30)
    [(reminder, reminded)] = run([finding()], [dose("d2", 12)], [stored(first)], now=later).upserts
    assert reminded == "d2" and reminder.version == 2
    assert run([finding()], [dose("d2", 12)], [stored(reminder, "d2")], now=later).upserts == ()


def test_a_finding_no_longer_found_is_withdrawn() -> None:
    [(first, _)] = run([finding()], [dose("d2", 12)], []).upserts
    result = run([], [dose("d2", 12)], [stored(first)])
    assert result.withdrawals == (first.id,)
