"""From a finding to an alert: bind it to an admission and (where it applies) a scheduled dose.

Pure: ids and times come in. An alert is deduplicated by (admission, kind, ingredients), an overdue dose
by (admission, overdue, dose); when a later check finds the same thing again the alert keeps its id and
gets a new version (new severity, new dose).
An alert is interruptive when its finding is critical, or when it says a scheduled dose could not be
checked (see ``interruptive``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from alertsvc.clock import iso
from alertsvc.knowledge.model import SEVERITY_ORDER, Finding
from alertsvc.schedule.safety import DOSE_REF


@dataclass(frozen=True)
class AdmissionRef:
    """What an alert says about the admission it belongs to."""

    id: str
    ward: str
    bed: str
    label: str
    expires_at: datetime


@dataclass(frozen=True)
class DoseRef:
    """The scheduled dose an alert concerns."""

    id: str
    drug: str
    dose: str
    route: str
    due: datetime


@dataclass(frozen=True)
class Alert:
    """A finding bound to an admission and a dose; ``claims()`` is what the service signs."""

    id: str
    version: int
    admission: AdmissionRef
    finding: Finding
    dose: DoseRef | None
    flagged_by: str
    created: datetime
    updated: datetime

    @property
    def dedupe_key(self) -> str:
        return dedupe_key(self.admission.id, self.finding)

    @property
    def severity_rank(self) -> int:
        return SEVERITY_ORDER[self.finding.severity]

    def news(self) -> dict[str, Any]:
        """The claims whose change is news to the nurse (``alerts.reconcile``), as ``claims()`` has them:
        cheap to compare with a stored alert's, without writing out the rest."""
        finding = self.finding
        return {
            "severity": finding.severity,
            "interruptive": interruptive(finding, self.dose),
            "summary": finding.summary,
            "rule": finding.rule,
            "detail": detail(finding),
            "flagged_by": self.flagged_by,
        }

    def claims(self) -> dict[str, Any]:
        """The alert as canonical-JSON-ready claims (no floats; times as UTC ISO 8601)."""
        finding = self.finding
        return self.news() | {
            "id": self.id,
            "version": self.version,
            "admission": self.admission.id,
            "ward": self.admission.ward,
            "bed": self.admission.bed,
            "patient": self.admission.label,
            "kind": finding.kind,
            "indicator": finding.indicator,
            "mechanism": finding.mechanism,
            "management": finding.management,
            "ingredients": [{"rxcui": i.rxcui, "name": i.name} for i in finding.ingredients],
            "sources": list(finding.sources),
            "ratings": [asdict(rating) for rating in finding.ratings],
            "evidence": list(finding.evidence),
            "knowledge_version": finding.knowledge_version,
            "dose": None
            if self.dose is None
            else {
                "id": self.dose.id,
                "drug": self.dose.drug,
                "dose": self.dose.dose,
                "route": self.dose.route,
                "due": iso(self.dose.due),
            },
            "created": iso(self.created),
            "updated": iso(self.updated),
            "expires_at": iso(self.admission.expires_at),
        }


def interruptive(finding: Finding, dose: DoseRef | None) -> bool:
    """Whether the alert must stop the nurse before the dose: a critical finding, or an ``unchecked``
    drug bound to a scheduled dose (whatever its severity: nothing about that dose was checked, and the
    nurse must know before giving it)."""
    return finding.interruptive or (finding.kind == "unchecked" and dose is not None)


def dedupe_key(admission: str, finding: Finding) -> str:
    """(admission, kind, ingredients): one alert however often the same thing is found.

    An ``overdue`` finding is about one missed dose, so its key is (admission, overdue, dose): one alert
    per missed dose, however often it is checked (the alerts table's unique ``dedupe`` column enforces
    it), and two missed doses of one drug are two alerts.
    """
    if finding.kind == "overdue":
        doses = sorted(ref for ref in finding.refs if ref.startswith(DOSE_REF))
        if doses:
            return f"{admission}|overdue|{doses[0]}"
    ingredients = ",".join(sorted(i.rxcui for i in finding.ingredients))
    return f"{admission}|{finding.kind}|{ingredients}"


def detail(finding: Finding) -> str:
    """What the nurse should read after the summary: what to do first, then why."""
    parts = [p for p in (finding.management, finding.mechanism) if p]
    parts.append(
        f"Rule {finding.rule} ({', '.join(finding.sources)}); knowledge {finding.knowledge_version}."
    )
    if len(finding.ratings) > 1:  # sources disagree: the alert takes the highest, and says what each said
        rated = "; ".join(f"{r.rating or r.rule} ({r.severity})" for r in finding.ratings)
        parts.append(f"Rated by each source: {rated}.")
    return " ".join(parts)
