"""Turn a fresh set of findings into changes to an admission's alerts (pure).

One alert per (admission, kind, ingredients). A finding seen before keeps its alert's id; it gets a new
version only when something a nurse would see changed (severity, summary, rule, the dose concerned).
An alert whose finding is no longer found (a medication stopped, a dose held) is withdrawn, saying why
(an overdue dose's: its outcome was recorded).
Each alert is bound to the scheduled dose it concerns: the earliest dose not yet recorded among the
doses the finding involves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alertsvc.alerts.build import AdmissionRef, Alert, DoseRef, dedupe_key
from alertsvc.alerts.store import StoredAlert
from alertsvc.alerts.withdrawal import NO_LONGER_FOUND
from alertsvc.clock import parse_iso
from alertsvc.knowledge.model import Finding
from alertsvc.schedule import safety
from alertsvc.schedule.mar import ScheduledDose

DOSE_REF = safety.DOSE_REF


OUTCOME_RECORDED = "dose outcome recorded"
"""Why an overdue dose's alert is withdrawn: a nurse recorded the dose as given, held or refused."""


@dataclass(frozen=True)
class Plan:
    """Alerts to insert or replace (each with the dose it was reminded for) and alert ids to withdraw;
    ``recorded`` are the withdrawn overdue alerts whose dose now has an outcome."""

    upserts: tuple[tuple[Alert, str | None], ...]
    withdrawals: tuple[str, ...]
    recorded: frozenset[str] = frozenset()

    def withdrawals_by_reason(self) -> dict[str, tuple[str, ...]]:
        """The alert ids to withdraw, grouped by the reason the ward is told (one signed event each)."""
        grouped: dict[str, tuple[str, ...]] = {}
        for alert in self.withdrawals:
            reason = OUTCOME_RECORDED if alert in self.recorded else NO_LONGER_FOUND
            grouped[reason] = (*grouped.get(reason, ()), alert)
        return grouped


def plan(
    admission: AdmissionRef,
    findings: Sequence[Finding],
    doses: Sequence[ScheduledDose],
    existing: Sequence[StoredAlert],
    *,
    flagged_by: Mapping[str, str],
    now: datetime,
    lead: timedelta,
    new_id: Callable[[], str],
    stored_key: Callable[[str], str] = lambda key: key,
) -> Plan:
    """The changes that bring ``existing`` alerts in line with ``findings``.

    ``flagged_by`` maps a ledger reference (as used in findings' ``refs``) to who flagged the reaction
    ("patient" or "practitioner"). An alert whose dose falls due within ``lead`` of ``now`` is marked as
    reminded for that dose, so the timer does not raise it a second time. ``stored_key`` turns a
    finding's ``dedupe_key`` into the identity the existing alerts are stored under (``sealing.tag``).
    """
    by_key = {alert.dedupe: alert for alert in existing}
    pending = {d.id: d for d in doses if d.outcome is None}
    upserts: list[tuple[Alert, str | None]] = []
    seen: set[str] = set()
    for finding in findings:
        key = stored_key(dedupe_key(admission.id, finding))
        if key in seen:
            continue
        seen.add(key)
        dose = _dose_for(finding, pending)
        who = next((flagged_by[r] for r in finding.refs if r in flagged_by), "")
        old = by_key.get(key)
        fresh = Alert(
            id=old.id if old else new_id(),
            version=(old.version + 1) if old else 1,
            admission=admission,
            finding=finding,
            dose=dose,
            flagged_by=who,
            created=_created(old) if old else now,
            updated=now,
        )
        reminded = dose.id if dose is not None and dose.due - lead <= now else None
        if old is not None and old.status == "active" and not _changed(old, fresh):
            if reminded is not None and old.reminded_dose != reminded:
                upserts.append((replace(fresh, version=old.version + 1), reminded))
            continue
        upserts.append((fresh, reminded))
    withdrawals = tuple(a.id for a in existing if a.status == "active" and a.dedupe not in seen)
    outcomes = {d.id for d in doses if d.outcome is not None}
    recorded = frozenset(
        a.id
        for a in existing
        if a.id in withdrawals and a.claims.get("kind") == "overdue" and a.dose in outcomes
    )
    return Plan(upserts=tuple(upserts), withdrawals=withdrawals, recorded=recorded)


def _dose_for(finding: Finding, pending: Mapping[str, ScheduledDose]) -> DoseRef | None:
    candidates = [
        dose
        for ref in finding.refs
        if ref.startswith(DOSE_REF) and (dose := pending.get(ref[len(DOSE_REF) :])) is not None
    ]
    if not candidates:
        return None
    dose = min(candidates, key=lambda d: (d.due, d.id))
    return DoseRef(id=dose.id, drug=dose.drug, dose=dose.dose, route=dose.route, due=dose.due)


def _changed(old: StoredAlert, fresh: Alert) -> bool:
    """Whether the nurse would read anything new in ``fresh``. The knowledge version alone is not news:
    an alert found again, word for word, under new knowledge keeps its signed claims, which name the
    knowledge it was raised under (so a knowledge update re-signs only the alerts it changes)."""
    news = fresh.news()
    old_version = str(old.claims.get("knowledge_version", ""))
    new_version = fresh.finding.knowledge_version
    seen = dict(old.claims)
    if old_version and old_version != new_version:
        seen["detail"] = str(seen.get("detail", "")).replace(old_version, new_version)
    if any(seen.get(k) != value for k, value in news.items()):
        return True
    old_dose = (old.claims.get("dose") or {}).get("id")
    new_dose = fresh.dose.id if fresh.dose else None
    return bool(old_dose != new_dose)


def _created(old: StoredAlert) -> datetime:
    return parse_iso(str(old.claims["created"]))
