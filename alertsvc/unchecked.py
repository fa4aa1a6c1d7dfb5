"""What could not be checked is a safety finding of its own, kind ``unchecked`` (pure).

A medication, allergy or flagged reaction in the patient's slice, or a drug the ward scheduled, that does
not resolve to an RxNorm ingredient cannot be checked for interactions, allergies or flagged reactions:
the check's silence about it means nothing. So the nurse is told, in one finding per drug as written
(items naming the same drug, "Zorvantix" and "zorvantix ", are one finding), never less than ``major``:

=============================  ==========  =========================================================
rule                           severity    when
=============================  ==========  =========================================================
``unchecked-medication``       major       a medication in the slice did not resolve
``unchecked-dose``             major       a scheduled dose did not resolve; its alert is bound to the
                                           earliest dose not yet recorded, and interrupts (see
                                           ``alerts.build.interruptive``)
``unchecked-allergy``          major       an allergy did not resolve: no medicine can be checked
                                           against it
``unchecked-reaction``         major       a flagged reaction did not resolve: likewise
``unchecked-same-name``        critical    an unresolved allergy or flagged reaction names, as
                                           written, a drug the patient takes or is scheduled
=============================  ==========  =========================================================

Each names its source: ``alertsvc`` (this rule: when unsure whether to alert, alert and say why) and
``rxnorm`` (the terminology the drug was looked for in). A stand-in ingredient
(``mar.unresolved_ingredient``) names the drug as written, so alerts about two unknown drugs stay apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from alertsvc.knowledge.graph import MAX_SUMMARY
from alertsvc.knowledge.model import Finding, Severity
from alertsvc.schedule.mar import ScheduledDose, unresolved_ingredient
from alertsvc.schedule.safety import DOSE_REF

SOURCES = ("alertsvc", "rxnorm")
FLAGS = frozenset({"allergy", "reaction"})
TAKEN = frozenset({"medication", "dose"})
Role = Literal["medication", "dose", "allergy", "reaction"]


@dataclass(frozen=True)
class Unresolved:
    """A slice item that did not resolve to RxNorm: what it is, the term as written, and why not.

    ``ref`` is the ledger entry ("entry:<id>"); ``detail`` what else the entry says (for a flagged
    reaction: the reaction, its severity and when it was observed; for an allergy: its criticality).
    """

    what: Literal["medication", "allergy", "reaction"]
    term: str
    reason: str
    ref: str = ""
    detail: str = ""


@dataclass
class _Drug:
    """Everything that names one unresolved drug (as written) for one admission."""

    name: str
    items: list[Unresolved] = field(default_factory=list)
    doses: list[ScheduledDose] = field(default_factory=list)

    @property
    def roles(self) -> frozenset[Role]:
        found: set[Role] = {item.what for item in self.items}
        if self.doses:
            found.add("dose")
        return frozenset(found)


def unchecked_findings(
    unresolved: Sequence[Unresolved],
    doses: Sequence[ScheduledDose],
    *,
    now: datetime,
    recent: timedelta,
    knowledge_version: str,
) -> list[Finding]:
    """One ``unchecked`` finding per unresolved drug, in the order first named.

    ``doses`` are the admission's scheduled doses; those with no ingredients did not resolve. One counts
    while it is planned, or was given within ``recent`` (it is still in the patient); the finding is
    bound to the earliest dose not yet recorded.
    """
    drugs: dict[str, _Drug] = {}
    for item in unresolved:
        stand_in = unresolved_ingredient(item.term)
        drugs.setdefault(stand_in.rxcui, _Drug(stand_in.name)).items.append(item)
    for dose in doses:
        if dose.unresolved and dose.counts and (dose.outcome is None or dose.effective_time >= now - recent):
            stand_in = unresolved_ingredient(dose.drug)
            drugs.setdefault(stand_in.rxcui, _Drug(stand_in.name)).doses.append(dose)
    return [_finding(drug, knowledge_version) for drug in drugs.values()]


def _finding(drug: _Drug, knowledge_version: str) -> Finding:
    roles = drug.roles
    severity: Severity = "critical" if roles & FLAGS and roles & TAKEN else "major"
    pending = sorted((d for d in drug.doses if d.outcome is None), key=lambda d: (d.due, d.id))
    refs = tuple(dict.fromkeys(item.ref for item in drug.items if item.ref))
    if pending:
        refs += (DOSE_REF + pending[0].id,)
    stand_in = unresolved_ingredient(drug.name)
    return Finding(
        kind="unchecked",
        severity=severity,
        ingredients=(stand_in,),
        summary=_summary(drug.name, roles, severity),
        mechanism=_mechanism(drug, knowledge_version),
        management=_management(drug.name, roles),
        rule=_rule(roles),
        sources=SOURCES,
        evidence=(stand_in.rxcui,),
        knowledge_version=knowledge_version,
        refs=refs,
    )


def _rule(roles: frozenset[Role]) -> str:
    if roles & FLAGS and roles & TAKEN:
        return "unchecked-same-name"
    for role in ("reaction", "allergy", "dose"):
        if role in roles:
            return f"unchecked-{role}"
    return "unchecked-medication"


def _flag_words(roles: frozenset[Role]) -> str:
    """ "Allergy", "Flagged reaction" or both, as the start of a sentence."""
    if roles >= FLAGS:
        return "Allergy and flagged reaction"
    return "Allergy" if "allergy" in roles else "Flagged reaction"


def _summary(name: str, roles: frozenset[Role], severity: Severity) -> str:
    """A whole sentence under 140 characters: the drug, that the check is incomplete, the severity."""
    if roles & FLAGS and roles & TAKEN:
        taken = "is scheduled" if "dose" in roles else "is on the medication list"
        flagged = "flagged a reaction to it" if "reaction" in roles else "is allergic to it"
        return fit("{} " + f"{taken} and the patient {flagged}; not checked ({severity}).", name)
    if roles & FLAGS:
        return fit(
            f"{_flag_words(roles)} to " + "{} could not be checked: no medicine can be checked against it"
            f" ({severity}).",
            name,
        )
    prefix = "Scheduled {}" if "dose" in roles else "{}"
    return fit(
        prefix
        + f" could not be checked: interactions, allergies and flagged reactions unknown ({severity}).",
        name,
    )


def fit(template: str, name: str) -> str:
    """``template`` with ``name`` in its ``{}``, the name shortened at a word boundary (with an ellipsis)
    if the whole would not fit in a summary (under 140 characters)."""
    room = MAX_SUMMARY - len(template.format(""))
    if len(name) > room:
        cut = name[: room - 1]
        name = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + "…"
    return template.format(name)


def _mechanism(drug: _Drug, knowledge_version: str) -> str:
    parts = []
    for item in drug.items:
        what = {"medication": "Medication", "allergy": "Allergy", "reaction": "Flagged reaction to"}[
            item.what
        ]
        detail = f" ({item.detail})" if item.detail else ""
        reason = item.reason.removeprefix(f"drug {item.term!r} does not resolve: ")
        parts.append(f"{what} '{item.term.strip()}'{detail} did not match RxNorm: {reason}.")
    if drug.doses:
        parts.append(
            f"The ward scheduled '{drug.doses[0].drug.strip()}', which did not match any RxNorm ingredient,"
            f" brand, product or code in knowledge {knowledge_version}."
        )
    parts.append(
        "alertsvc could not check it for interactions, allergies or flagged reactions: that no other alert"
        " names it means nothing."
    )
    return " ".join(parts)


def _management(name: str, roles: frozenset[Role]) -> str:
    """Ordered steps a nurse can follow at 02:00."""
    if roles & FLAGS and roles & TAKEN:
        flagged = "flagged a reaction to" if "reaction" in roles else "is allergic to"
        steps = [
            f"Do not give {name}: the patient {flagged} a drug written the same way.",
            "Tell the prescriber now.",
            "Ask a pharmacist to identify the drug before any dose is given.",
        ]
    elif roles & FLAGS:
        steps = [
            f"Before giving any medicine, make sure it is not {name} and does not contain it.",
            f"Ask the patient or family what {name} is and what happened.",
            "Ask a pharmacist to identify it and to check every scheduled medicine against it.",
        ]
    elif "dose" in roles:
        steps = [
            f"Do not give {name} until a pharmacist or prescriber has identified the drug.",
            "Ask them to check it by hand against the patient's medicines, allergies and flagged reactions.",
            "If it cannot wait, give it only on the prescriber's word and write who decided in the dose's"
            " note.",
        ]
    else:
        steps = [
            f"Ask the patient or family what {name} is, or read its label.",
            "Tell a pharmacist or the prescriber it could not be checked, so they check it by hand.",
            f"Until then, give a new medicine only after a pharmacist has checked it against {name}.",
        ]
    return " ".join(f"{n}. {step}" for n, step in enumerate(steps, 1))
