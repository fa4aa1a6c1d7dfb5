"""The medication administration record (MAR): planned doses and what happened to them.

A :class:`ScheduledDose` is one planned administration (admission, drug, ingredients once normalised, dose,
route, due time). Its :class:`Outcome` is recorded once, by a nurse: given, held or refused. Doses are
built from a FHIR MedicationRequest's dosage instructions over the grant period, in the ward's time zone.
A dose whose drug did not resolve to RxNorm is kept, with no ingredients: it cannot be checked, and
the alert saying so is bound to it (see ``alertsvc.unchecked``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from alertsvc.errors import ScheduleError
from alertsvc.knowledge.model import RXNORM_SYSTEM, Ingredient
from alertsvc.schedule.fhir_timing import timing_from_fhir
from alertsvc.schedule.shifts import Ward
from alertsvc.schedule.timing import dose_times

OutcomeStatus = Literal["given", "held", "refused"]
OUTCOME_STATUSES: frozenset[str] = frozenset({"given", "held", "refused"})

UNRESOLVED_PREFIX = "unresolved:"
"""The RxCUI of the stand-in ingredient of a drug that did not resolve (see ``unresolved_ingredient``)."""

PLANNED_STATUSES = frozenset({"active"})
"""MedicationRequest.status values whose doses are planned; others (on-hold, completed, stopped,
cancelled, draft, entered-in-error, unknown) plan nothing."""
PLANNED_INTENTS = frozenset({"order", "original-order", "reflex-order", "filler-order", "instance-order"})
"""MedicationRequest.intent values that are orders to give (a proposal or plan is not)."""


@dataclass(frozen=True)
class Outcome:
    """What a nurse recorded for a dose: ``recorded_at`` is when it happened (for "given", the
    administration time), aware; ``nurse`` names who recorded it."""

    status: OutcomeStatus
    recorded_at: datetime
    nurse: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in OUTCOME_STATUSES:
            raise ScheduleError(f"outcome status {self.status!r} is not one of given, held, refused")
        if self.recorded_at.tzinfo is None or self.recorded_at.utcoffset() is None:
            raise ScheduleError(f"outcome time must be aware, not naive {self.recorded_at.isoformat()}")
        if not self.nurse.strip():
            raise ScheduleError("an outcome must name the nurse who recorded it")


@dataclass(frozen=True)
class ScheduledDose:
    """One planned administration. ``due`` is aware UTC; ``drug`` is the term as ordered."""

    id: str
    admission: str
    ward: str
    drug: str
    ingredients: tuple[Ingredient, ...]
    dose: str
    route: str
    due: datetime
    outcome: Outcome | None = None

    def __post_init__(self) -> None:
        if self.due.tzinfo is None or self.due.utcoffset() is None:
            raise ScheduleError(f"dose {self.id!r}: due time must be aware, not naive {self.due.isoformat()}")

    @property
    def unresolved(self) -> bool:
        """Whether the drug as ordered did not resolve to any RxNorm ingredient (so was not checked)."""
        return not self.ingredients

    @property
    def counts(self) -> bool:
        """Whether the dose was or will be in the patient: planned or given, not held or refused."""
        return self.outcome is None or self.outcome.status == "given"

    @property
    def effective_time(self) -> datetime:
        """When the dose was given (if given) or is due (if not yet recorded), aware UTC."""
        if self.outcome is not None and self.outcome.status == "given":
            return self.outcome.recorded_at.astimezone(UTC)
        return self.due.astimezone(UTC)


def unresolved_ingredient(term: str) -> Ingredient:
    """A stand-in ingredient for a drug that did not resolve, named by the drug as written.

    Alerts are deduplicated by their ingredients: this keeps two unknown drugs apart, and keeps one
    unknown drug written twice ("Zorvantix", "zorvantix ") together. It is never looked up in the knowledge.

    >>> unresolved_ingredient(" Zorvantix  500 mg")
    Ingredient(rxcui='unresolved:zorvantix 500 mg', name='Zorvantix 500 mg')
    """
    written = " ".join(term.split())
    return Ingredient(rxcui=UNRESOLVED_PREFIX + written.lower(), name=written)


def record_outcome(dose: ScheduledDose, outcome: Outcome) -> ScheduledDose:
    """The dose with its outcome recorded. An outcome is recorded once: ScheduleError if there is one."""
    if dose.outcome is not None:
        raise ScheduleError(
            f"dose {dose.id!r} ({dose.drug}) already recorded as {dose.outcome.status}"
            f" by {dose.outcome.nurse} at {dose.outcome.recorded_at.isoformat()}"
        )
    return dataclasses.replace(dose, outcome=outcome)


def doses_from_medication_request(
    request: Mapping[str, Any],
    *,
    admission: str,
    ward: Ward,
    start: datetime,
    end: datetime,
    ingredients: tuple[Ingredient, ...] = (),
    new_id: Callable[[], str],
    limit: int | None = None,
) -> list[ScheduledDose]:
    """The doses a FHIR R4 (or STU3) MedicationRequest plans in ``[start, end)``, in due order.

    Only active orders plan doses; as-needed dosages plan none. Each dosage instruction is scheduled in
    the ward's time zone (see ``timing``), with the dose and route it names. ``ingredients`` are the
    normalised RxNorm ingredients of the drug; ``new_id`` gives each dose its id. More than ``limit``
    doses raise LimitExceeded (see ``timing.dose_times``).
    """
    request_id = _request_id(request)
    status = request.get("status")
    if not isinstance(status, str):
        raise ScheduleError(f"{request_id}: status is missing")
    intent = request.get("intent", "order")
    if not isinstance(intent, str):
        raise ScheduleError(f"{request_id}: intent must be a code, not {type(intent).__name__}")
    if status not in PLANNED_STATUSES or intent not in PLANNED_INTENTS:
        return []
    drug = _drug_term(request, request_id)
    instructions = request.get("dosageInstruction") or []
    if not isinstance(instructions, list):
        raise ScheduleError(f"{request_id}: dosageInstruction must be a list")
    doses: list[ScheduledDose] = []
    for i, instruction in enumerate(instructions):
        where = f"{request_id} dosageInstruction[{i}]"
        if not isinstance(instruction, Mapping):
            raise ScheduleError(f"{where}: must be a Dosage object")
        try:
            left = None if limit is None else limit - len(doses)
            times = dose_times(timing_from_fhir(instruction), start, end, ward.zone, limit=left)
        except ScheduleError as exc:
            raise ScheduleError(f"{where}: {exc}") from exc
        amount, route = _dose_text(instruction), _route_text(instruction)
        doses.extend(
            ScheduledDose(
                id=new_id(),
                admission=admission,
                ward=ward.id,
                drug=drug,
                ingredients=ingredients,
                dose=amount,
                route=route,
                due=due,
            )
            for due in times
        )
    return sorted(doses, key=lambda d: d.due)


def _request_id(request: Mapping[str, Any]) -> str:
    if not isinstance(request, Mapping):
        raise ScheduleError(f"a MedicationRequest must be an object, not {type(request).__name__}")
    kind = request.get("resourceType", "MedicationRequest")
    if kind != "MedicationRequest":
        raise ScheduleError(f"resourceType {kind!r} is not MedicationRequest")
    return f"MedicationRequest/{request.get('id', '?')}"


def _drug_term(request: Mapping[str, Any], request_id: str) -> str:
    """The drug as ordered: the RxNorm display, else any display or text, of the code or the contained
    Medication a ``#id`` reference points at, else the reference's display."""
    concept = request.get("medicationCodeableConcept")
    reference = request.get("medicationReference")
    if concept is None and isinstance(reference, Mapping):
        ref = reference.get("reference", "")
        if isinstance(ref, str) and ref.startswith("#"):
            for resource in _list(request.get("contained")):
                if isinstance(resource, Mapping) and resource.get("id") == ref[1:]:
                    concept = resource.get("code")
        if concept is None and reference.get("display"):
            return str(reference["display"])
    if isinstance(concept, Mapping):
        codings = [c for c in _list(concept.get("coding")) if isinstance(c, Mapping)]
        ordered = sorted(codings, key=lambda c: c.get("system") != RXNORM_SYSTEM)
        for candidate in (*(c.get("display") for c in ordered), concept.get("text")):
            if isinstance(candidate, str) and candidate.strip():
                return candidate.strip()
        for coding in ordered:
            if coding.get("code"):
                return f"{coding.get('system', '')}|{coding['code']}"
    raise ScheduleError(f"{request_id}: medication[x] names no drug (no display, text or code)")


def _dose_text(instruction: Mapping[str, Any]) -> str:
    """The dose as written, e.g. "2 TAB" or "1–2 TAB": R4 doseAndRate[0], or STU3 dose[x]."""
    rates = _list(instruction.get("doseAndRate"))
    source = rates[0] if rates and isinstance(rates[0], Mapping) else instruction
    quantity = source.get("doseQuantity")
    if isinstance(quantity, Mapping):
        return _quantity_text(quantity)
    dose_range = source.get("doseRange")
    if isinstance(dose_range, Mapping):
        low, high = _mapping(dose_range.get("low")), _mapping(dose_range.get("high"))
        unit = high.get("unit") or low.get("unit") or ""
        return f"{_number(low.get('value'))}–{_number(high.get('value'))} {unit}".strip()
    return ""


def _quantity_text(quantity: Mapping[str, Any]) -> str:
    unit = quantity.get("unit") or quantity.get("code") or ""
    return f"{_number(quantity.get('value'))} {unit}".strip()


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "?" if value is None else str(value)


def _route_text(instruction: Mapping[str, Any]) -> str:
    route = instruction.get("route")
    if not isinstance(route, Mapping):
        return ""
    if isinstance(route.get("text"), str):
        return str(route["text"])
    for coding in _list(route.get("coding")):
        if isinstance(coding, Mapping) and coding.get("display"):
            return str(coding["display"])
    return ""


def _list(value: Any) -> list[Any]:
    """A FHIR repeating element as a list (a malformed one reads as empty, never as a crash)."""
    return value if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
