"""From a verified slice and the ward's schedule to the inputs of the pure check.

The slice's medications, allergies and flagged reactions are normalised to RxNorm ingredients. What does
not resolve is never dropped: it becomes a finding of its own, kind ``unchecked`` (see
``alertsvc.unchecked``), because an unreadable flagged reaction is exactly what the night shift must not
miss. Scheduled doses join the patient's medications, one per drug, referring to the earliest dose not
yet recorded so that an alert can name the dose it concerns; a scheduled drug that did not resolve gets
its own ``unchecked`` finding instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TypeVar, get_args

from alertsvc.errors import UnknownDrug
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import InteractionGraph, summary
from alertsvc.knowledge.model import (
    SEVERITY_ORDER,
    Allergy,
    Finding,
    FlaggedReaction,
    Ingredient,
    Medication,
    Route,
)
from alertsvc.knowledge.observations import LabValue
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.knowledge.wording import steps
from alertsvc.lab_values import lab_values
from alertsvc.ledger.slices import VerifiedSlice
from alertsvc.schedule import overdue
from alertsvc.schedule.mar import ScheduledDose
from alertsvc.schedule.safety import too_soon
from alertsvc.schedule.shifts import Ward
from alertsvc.unchecked import Unresolved, unchecked_findings

T = TypeVar("T")
MIN_DOSE_INTERVAL = timedelta(hours=4)
"""Two doses of one ingredient closer than this are too soon, unless its own schedule is tighter."""
RECENT = timedelta(hours=24)
"""A dose given within this long still counts as in the patient for interaction checks."""


@dataclass(frozen=True)
class ClinicalInputs:
    medications: tuple[Medication, ...]
    allergies: tuple[Allergy, ...]
    flagged: tuple[FlaggedReaction, ...]
    flagged_by: dict[str, str] = field(default_factory=dict)
    """Finding ref ("entry:<id>") -> "patient" or "practitioner"."""
    unresolved: tuple[Unresolved, ...] = ()
    """Each slice item that did not resolve (a medication, allergy or flagged reaction), and why not."""
    observations: tuple[LabValue, ...] = ()
    """The slice's observations (when the grant covers them), as the check's modifiers take them."""


def checked_nodes(inputs: ClinicalInputs, doses: Iterable[ScheduledDose]) -> frozenset[str]:
    """The knowledge's nodes an admission's check reads (``in:<RxCUI>`` of every ingredient she takes,
    flagged, is allergic to or is scheduled; ``class:<id>`` of her class allergies): a knowledge update
    touching none of them cannot change what her check finds (``knowledge_recheck``)."""
    nodes: set[str] = set()
    items: list[tuple[Ingredient, ...]] = [m.ingredients for m in inputs.medications]
    items += [f.ingredients for f in inputs.flagged] + [a.ingredients for a in inputs.allergies]
    items += [d.ingredients for d in doses]
    for ingredients in items:
        nodes.update(f"in:{i.rxcui}" for i in ingredients)
    for allergy in inputs.allergies:
        nodes.update(f"class:{c}" for c in allergy.class_ids)
    return frozenset(nodes)


@dataclass(frozen=True)
class Patient:
    """What the service holds of one admitted patient: the verified slice and its normalised drugs."""

    verified: VerifiedSlice
    inputs: ClinicalInputs


def clinical_inputs(verified: VerifiedSlice, normalizer: Normalizer) -> ClinicalInputs:
    """Normalise everything the slice holds (blocking when an online terminology is configured)."""
    medications: list[Medication] = []
    allergies: list[Allergy] = []
    flagged: list[FlaggedReaction] = []
    flagged_by: dict[str, str] = {}
    unresolved: list[Unresolved] = []
    for med in verified.medications:
        if med.status != "active":
            continue
        ref = "entry:" + med.entry_id
        try:
            medications.append(normalizer.medication(med.drug, ref=ref, code=med.rxcui or ""))
        except UnknownDrug as exc:
            detail = f"dose {med.dose}" if med.dose else ""
            unresolved.append(Unresolved("medication", med.drug, str(exc), ref, detail))
    for allergy in verified.allergies:
        try:
            found = _first(normalizer.resolve_allergy, allergy.rxcui, allergy.substance)
        except UnknownDrug as exc:
            detail = ", ".join(x for x in (allergy.reaction, f"criticality {allergy.criticality}") if x)
            unresolved.append(
                Unresolved("allergy", allergy.substance, str(exc), "entry:" + allergy.entry_id, detail)
            )
            continue
        criticality = allergy.criticality if allergy.criticality in ("low", "high") else "unable-to-assess"
        allergies.append(
            Allergy(
                label=allergy.substance,
                ingredients=found.ingredients,
                class_ids=found.class_ids,
                criticality=criticality,  # type: ignore[arg-type]
                ref="entry:" + allergy.entry_id,
            )
        )
    for reaction in verified.reactions:
        ref = "entry:" + reaction.entry_id
        who = "patient" if reaction.flagged_by == verified.patient else "practitioner"
        flagged_by[ref] = who
        try:
            drug = normalizer.medication(reaction.drug, ref=ref, code=reaction.rxcui or "")
        except UnknownDrug as exc:
            detail = f"{who}-flagged: {reaction.reaction}, {reaction.severity or 'severity not given'}" + (
                f", observed {reaction.observed}" if reaction.observed else ""
            )
            unresolved.append(Unresolved("reaction", reaction.drug, str(exc), ref, detail))
            continue
        severity = reaction.severity if reaction.severity in ("mild", "moderate", "severe") else "moderate"
        flagged.append(
            FlaggedReaction(
                label=reaction.drug,
                ingredients=drug.ingredients,
                reaction=reaction.reaction,
                severity=severity,  # type: ignore[arg-type]
                flagged_by=who,  # type: ignore[arg-type]
                observed=reaction.observed,
                ref=ref,
                note=drug.note,
            )
        )
    return ClinicalInputs(
        tuple(medications),
        tuple(allergies),
        tuple(flagged),
        flagged_by,
        tuple(unresolved),
        tuple(lab_values(verified.observations)),
    )


def with_schedule(
    medications: Sequence[Medication], doses: Sequence[ScheduledDose], *, now: datetime
) -> list[Medication]:
    """The patient's medications with the ward's scheduled drugs, one per drug.

    A scheduled drug with the same ingredients as a ledger medication is that medication given in
    hospital: it replaces it (keeping the dose reference), so it is not reported as a duplicate. A dose
    whose drug did not resolve has no ingredients to check: ``alertsvc.unchecked`` reports it.
    """
    groups: dict[frozenset[str], list[ScheduledDose]] = {}
    for dose in doses:
        if (
            not dose.unresolved
            and dose.counts
            and (dose.outcome is None or dose.effective_time >= now - RECENT)
        ):
            groups.setdefault(frozenset(i.rxcui for i in dose.ingredients), []).append(dose)
    scheduled: list[Medication] = []
    for _, group in sorted(groups.items(), key=lambda kv: sorted(kv[0])):
        pending = sorted((d for d in group if d.outcome is None), key=lambda d: (d.due, d.id))
        chosen = pending[0] if pending else max(group, key=lambda d: (d.effective_time, d.id))
        route = chosen.route if chosen.route in _ROUTES else "oral"
        scheduled.append(
            Medication(
                label=chosen.drug,
                ingredients=chosen.ingredients,
                route=route,  # type: ignore[arg-type]
                ref="dose:" + chosen.id,
            )
        )
    scheduled_sets = {frozenset(i.rxcui for i in m.ingredients) for m in scheduled}
    kept = [m for m in medications if frozenset(i.rxcui for i in m.ingredients) not in scheduled_sets]
    return [*kept, *scheduled]


def distinct_values(ledger: Sequence[LabValue], recorded: Sequence[LabValue]) -> list[LabValue]:
    """The ledger's values, and those recorded on the ward that the ledger does not hold yet (a ward
    value delivered to her ledger comes back in the slice under the same ``entry:`` ref). Pure."""
    held = {value.ref for value in ledger}
    return [*ledger, *(value for value in recorded if value.ref not in held)]


def admission_findings(
    inputs: ClinicalInputs,
    doses: Sequence[ScheduledDose],
    ward: Ward,
    graph: InteractionGraph,
    *,
    now: datetime,
    overdue_grace: timedelta = overdue.DEFAULT_GRACE,
    recorded: Sequence[LabValue] = (),
) -> list[Finding]:
    """Everything to alert on for one admission, most severe first (pure).

    The check over the slice's medications and the ward's scheduled doses, modified by the latest
    observations (the slice's and those ``recorded`` on the ward), too-soon doses, a notice for every
    flagged reaction (so the ward sees it even before any dose of that drug is planned), an
    ``unchecked`` finding for each drug, in the slice or the schedule, that could not be checked, and an
    ``overdue`` finding for each dose with no outcome ``overdue_grace`` after it was due (``major`` when
    its drug is in a major or critical finding above, see ``alertsvc.schedule.overdue``).
    """
    version = graph.version
    findings = check(
        with_schedule(inputs.medications, doses, now=now),
        inputs.allergies,
        inputs.flagged,
        graph,
        observations=distinct_values(inputs.observations, recorded),
        now=now,
    )
    findings += too_soon(
        doses,
        ward,
        knowledge_version=version,
        min_interval=MIN_DOSE_INTERVAL,
        per_ingredient=planned_intervals(doses, default=MIN_DOSE_INTERVAL),
    )
    findings += flag_notices(inputs, knowledge_version=version)
    findings += unchecked_findings(
        inputs.unresolved, doses, now=now, recent=RECENT, knowledge_version=version
    )
    findings += overdue.overdue(
        doses,
        ward,
        now=now,
        knowledge_version=version,
        grace=overdue_grace,
        serious=overdue.serious_ingredients(findings),
    )
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])  # stable: the check's order stays


def flag_notices(inputs: ClinicalInputs, *, knowledge_version: str) -> list[Finding]:
    """A major alert for each flagged reaction, whether or not the drug is given now.

    When the drug is active or scheduled, the check's critical reaction finding has the same dedupe key
    (admission, reaction, ingredients) and, being more severe, is the one alerted on.
    """
    return [
        Finding(
            kind="reaction",
            severity="major",
            ingredients=flag.ingredients,
            summary=summary(flag.label, f"{flag.flagged_by}-flagged reaction: {flag.reaction}", "major"),
            mechanism=f"Flagged by the {flag.flagged_by}: {flag.reaction} ({flag.severity})"
            + (f", observed {flag.observed}." if flag.observed else "."),
            management=steps(
                (
                    f"Do not give {flag.label} or any product containing it without prescriber review.",
                    "Tell the prescriber about the flagged reaction before any dose is due.",
                    "Review the reaction with the patient and record what was decided.",
                )
            ),
            rule="flagged-reaction-notice",
            sources=("patient ledger",),
            evidence=tuple(f"in:{i.rxcui}" for i in flag.ingredients),
            knowledge_version=knowledge_version,
            refs=(flag.ref,),
        )
        for flag in inputs.flagged
    ]


def planned_intervals(doses: Sequence[ScheduledDose], *, default: timedelta) -> dict[str, timedelta]:
    """Per ingredient, the minimum interval for too-soon checks when its schedule is tighter than ``default``.

    An order every 2 hours would otherwise be "too soon" at every dose. The typical (median) gap between
    its planned doses is what the prescriber intended; half of it is the least that is still safe, so a
    dose doubled up by mistake is still caught.
    """
    gaps: dict[str, list[timedelta]] = {}
    by_ingredient: dict[str, list[datetime]] = {}
    for dose in doses:
        if dose.counts:
            for ingredient in dose.ingredients:
                by_ingredient.setdefault(ingredient.rxcui, []).append(dose.due)
    for rxcui, times in by_ingredient.items():
        ordered = sorted(times)
        gaps[rxcui] = [b - a for a, b in pairwise(ordered) if b > a]
    intervals = {}
    for rxcui, found in gaps.items():
        if len(found) >= 2:  # one gap says nothing about the schedule: it may be the mistake itself
            typical = sorted(found)[len(found) // 2]
            if typical < default:
                intervals[rxcui] = typical / 2
    return intervals


_ROUTES = frozenset(get_args(Route))


def _first(resolve: Callable[[str], T], *terms: str | None) -> T:
    """The first of ``terms`` (RxCUI, then text) that resolves; the last UnknownDrug otherwise."""
    error: UnknownDrug | None = None
    for term in terms:
        if term:
            try:
                return resolve(term)
            except UnknownDrug as exc:
                error = exc
    raise error or UnknownDrug("no drug named")
