"""Overdue doses (pure): a scheduled dose with no outcome recorded by its due time plus a grace period.

A dose due at T with no outcome (given, held, refused) by T + grace is overdue, and gets one finding of
kind ``overdue`` (rule ``mar-overdue``), bound to that dose. The default grace is 30 minutes: the ISMP
*Acute Care Guidelines for Timely Administration of Scheduled Medications* (Institute for Safe
Medication Practices, 2011) accept administration within 30 minutes before or after the scheduled time
for time-critical medications and within 1 or 2 hours for non-time-critical ones; the ward does not tell
us which a drug is, so the service waits the strictest of these windows (setting
``overdue_grace_minutes``). When unsure whether to alert, alert.

Severity: ``major`` when the drug is involved in an active major or critical interaction, allergy or
flagged-reaction finding for the patient (the missed dose may be one someone chose not to give, and the
ward must see why), else ``moderate``. The finding's words do not depend on ``now``, so checking again
later finds the same alert, not a new version: one alert per missed dose, withdrawn when an outcome is
recorded (the finding is no longer found).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from alertsvc.clock import iso
from alertsvc.errors import ScheduleError
from alertsvc.knowledge.model import Finding, Severity
from alertsvc.knowledge.wording import sentence, steps
from alertsvc.schedule.mar import ScheduledDose, unresolved_ingredient
from alertsvc.schedule.safety import DOSE_REF
from alertsvc.schedule.shifts import Ward

RULE = "mar-overdue"
SOURCES = ("ward MAR", "ISMP timely administration guideline")
DEFAULT_GRACE = timedelta(minutes=30)
"""ISMP's window around the scheduled time (see the module docstring)."""
SERIOUS_KINDS = frozenset({"interaction", "allergy", "reaction"})
SERIOUS_SEVERITIES = frozenset({"critical", "major"})


def overdue_at(dose: ScheduledDose, grace: timedelta) -> datetime:
    """When the dose becomes overdue if no outcome is recorded: its due time plus the grace, UTC."""
    return dose.due.astimezone(UTC) + grace


def is_overdue(dose: ScheduledDose, *, now: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
    """Whether ``dose`` has no outcome and ``now`` is at or after its due time plus ``grace``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ScheduleError(f"now must be an aware date-time, not naive {now.isoformat()}")
    if grace < timedelta(0):
        raise ScheduleError(f"the grace period of an overdue dose must not be negative, not {grace}")
    return dose.outcome is None and now >= overdue_at(dose, grace)


def serious_ingredients(findings: Iterable[Finding]) -> frozenset[str]:
    """RxCUIs of every ingredient in a major or critical interaction, allergy or flagged-reaction finding."""
    return frozenset(
        ingredient.rxcui
        for finding in findings
        if finding.kind in SERIOUS_KINDS and finding.severity in SERIOUS_SEVERITIES
        for ingredient in finding.ingredients
    )


def overdue(
    doses: Sequence[ScheduledDose],
    ward: Ward,
    *,
    now: datetime,
    knowledge_version: str,
    grace: timedelta = DEFAULT_GRACE,
    serious: frozenset[str] = frozenset(),
) -> list[Finding]:
    """One ``overdue`` finding per dose of ``doses`` that is overdue at ``now``, by due time.

    ``serious`` holds the RxCUIs of ingredients in the patient's major or critical findings
    (``serious_ingredients``); an overdue dose of such a drug is ``major``, any other ``moderate``.

    >>> from alertsvc.schedule.shifts import Ward
    >>> ward = Ward(id="w", name="w", timezone="Europe/London")
    >>> dose = ScheduledDose(id="d1", admission="a", ward="w", drug="paracetamol", ingredients=(),
    ...                      dose="1 g", route="oral", due=datetime(2030, 1, 16, 7, tzinfo=UTC))
    >>> overdue([dose], ward, now=datetime(2030, 1, 16, 7, 29, tzinfo=UTC), knowledge_version="k")
    []
    >>> [f.summary for f in overdue([dose], ward, now=datetime(2030, 1, 16, 7, 30, tzinfo=UTC),
    ...                               knowledge_version="k")]
    ['Dose of paracetamol 1 g due 07:00 not recorded; give or record why not (moderate).']
    """
    late = sorted((d for d in doses if is_overdue(d, now=now, grace=grace)), key=lambda d: (d.due, d.id))
    return [_finding(dose, ward, grace, knowledge_version, serious) for dose in late]


def _finding(
    dose: ScheduledDose, ward: Ward, grace: timedelta, knowledge_version: str, serious: frozenset[str]
) -> Finding:
    due = dose.due.astimezone(ward.zone)
    what = " ".join(x for x in (dose.drug.strip(), dose.dose.strip()) if x)
    severe = any(i.rxcui in serious for i in dose.ingredients)
    severity: Severity = "major" if severe else "moderate"
    ingredients = dose.ingredients or (unresolved_ingredient(dose.drug),)
    minutes = int(grace.total_seconds() // 60)
    mechanism = (
        f"Dose {dose.id} of {what} was due {due:%Y-%m-%d %H:%M} ({ward.timezone}); no outcome (given, held,"
        f" refused) was recorded within {minutes} min of that time."
    )
    if severe:
        mechanism += (
            f" {dose.drug.strip()} is in a major or critical alert for this patient: read it before giving."
        )
    management = steps(
        (
            f"Give the dose of {what} now if it is still wanted, and record it as given.",
            "Otherwise record it as held or refused, with the reason.",
            "If the next dose is near, ask the prescriber or pharmacist whether to give this one.",
        )
    )
    return Finding(
        kind="overdue",
        severity=severity,
        ingredients=ingredients,
        summary=sentence(f"Dose of {what} due {due:%H:%M} not recorded; give or record why not", severity),
        mechanism=mechanism,
        management=management,
        rule=RULE,
        sources=SOURCES,
        evidence=(DOSE_REF + dose.id, "due:" + iso(dose.due)),
        knowledge_version=knowledge_version,
        refs=(DOSE_REF + dose.id,),
    )
