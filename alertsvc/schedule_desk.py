"""The ward's medication administration schedule through the service: plan doses (normalised and
validated, all or nothing), record what happened to them, and re-check the admissions they concern.

A dose whose drug does not resolve to RxNorm is not a reason to refuse the request: a hospital's MAR
import must not be turned away whole because the knowledge lacks one drug. The dose is kept with no
ingredients, listed in the answer's ``unresolved``, and the re-check raises an ``unchecked`` alert bound
to it, interruptive (see ``alertsvc.unchecked``). Anything else wrong (a bad time, an unknown admission,
an admission on another ward, an order naming no drug) still refuses the whole request, storing nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alertsvc import admissions as adm
from alertsvc import audit, dose_overrides, idempotency, lookups, store
from alertsvc.access import Staff, require
from alertsvc.alert_actions import dose_json
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.hub import Event
from alertsvc.clock import parse_iso
from alertsvc.errors import InputError, LimitExceeded, NotFound
from alertsvc.knowledge.model import RXNORM_SYSTEM, Resolution
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.schedule.mar import Outcome, ScheduledDose, doses_from_medication_request, record_outcome
from alertsvc.service_api import ServiceApi
from alertsvc.ward_desk import ward_of


@dataclass(frozen=True)
class Ordered:
    """A drug as a schedule request names it: the text, and the RxNorm code when the order is coded."""

    text: str
    code: str = ""


async def add_schedule(
    service: ServiceApi,
    ward: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Plan doses (normalised, validated: all or nothing), then re-check the admissions concerned."""
    require(staff, ward=ward, roles=("nurse", "admission"))
    now = service.clock()
    terms = schedule_terms(body)
    resolved = await lookups.in_thread(service.lookups, resolve_terms, service.normalizer, terms)
    doses = plan_doses(service, ward, body, now, resolved)
    unresolved = unresolved_orders(body, resolved)
    patients = await service.patients_of(sorted({d.admission for d in doses}), now)
    notes = [  # how a drug was read when that needs saying: a code read by its display, a misspelling
        {"drug": term.code or term.text, "note": found.note}
        for term, found in resolved.items()
        if found.unresolved is None and found.note
    ]
    answer = {
        "ward": ward,
        "administrations": [dose_json(d) for d in doses],
        "unresolved": unresolved,
        **({"notes": notes} if notes else {}),
    }
    events: list[Event] = []
    with store.write(service.db):
        for dose in doses:
            adm.save_dose(service.db, dose, now=now)
        for admission_id in sorted({d.admission for d in doses}):
            admission = service.active_admission(admission_id)
            audit.record(
                service.db,
                now=now,
                actor=staff.name,
                action="schedule",
                admission=admission_id,
                ward=ward,
                detail={"doses": sum(d.admission == admission_id for d in doses)},
            )
            planned = [d.id for d in doses if d.admission == admission_id]
            events.append(
                alert_store.append_event(
                    service.db,
                    ward=ward,
                    type="schedule",
                    data={"admission": admission_id, "doses": planned},
                    admission=admission_id,
                    now=now,
                )
            )
            events.extend(service.reconcile(admission, patients[admission.id], now))
        idempotency.remember(service.db, once, answer, admissions={d.admission for d in doses})
    service.publish(events)
    service.rebuild_timers()
    return answer


async def record_administration(
    service: ServiceApi,
    ward: str,
    dose_id: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Record a dose as given, held or refused; re-check (a second dose too soon after it alerts)."""
    recorded = record_dose_outcome(service, ward, dose_id, body, staff)
    now = service.clock()
    admission = service.active_admission(recorded.admission)
    overrides = (  # a dose given under a critical alert: a coded reason and who gave it, or a 422
        dose_overrides.given_overrides(service, recorded, body, staff, now) if recorded.counts else []
    )
    patients = await service.patients_of([admission.id], now)
    with store.write(service.db):
        service.active_admission(admission.id)  # not ended (and purged) while its slice was read
        adm.save_dose(service.db, recorded, now=now)
        events = [
            alert_store.append_event(
                service.db,
                ward=ward,
                type="administration",
                data=dose_json(recorded),
                admission=admission.id,
                now=now,
            )
        ]
        audit.record(
            service.db,
            now=now,
            actor=staff.name,
            action="record-administration",
            admission=admission.id,
            ward=ward,
            detail={"dose": dose_id, "status": recorded.outcome.status if recorded.outcome else ""},
        )
        events.extend(dose_overrides.save_given_overrides(service, overrides, now))
        events.extend(service.reconcile(admission, patients[admission.id], now))
        answer = dose_json(recorded) | ({"overrides": [o.as_json() for o in overrides]} if overrides else {})
        idempotency.remember(service.db, once, answer, admissions=[admission.id])
    service.publish(events)
    service.rebuild_timers()
    return answer


def schedule_view(service: ServiceApi, ward_id: str, staff: Staff) -> dict[str, Any]:
    require(staff, ward=ward_id, roles=("nurse", "admission"))
    now = service.clock()
    doses = adm.doses(service.db, ward=ward_id)
    with store.write(service.db):
        for admission in sorted({d.admission for d in doses}):
            audit.record(
                service.db,
                now=now,
                actor=staff.name,
                action="read-schedule",
                admission=admission,
                ward=ward_id,
            )
    where = {a.id: a for a in adm.active_admissions(service.db, ward=ward_id)}
    listed = []
    for dose in doses:
        admitted = where.get(dose.admission)
        extra = {"bed": admitted.bed, "patient": admitted.label} if admitted else {"bed": "", "patient": ""}
        listed.append(dose_json(dose) | extra)
    return {"ward": ward_id, "administrations": listed}


def schedule_terms(body: dict[str, Any]) -> list[Ordered]:
    """Every drug a schedule request names (to normalise before planning, off the event loop)."""
    terms: list[Ordered] = []
    for item in body.get("administrations", []) if isinstance(body.get("administrations"), list) else []:
        if isinstance(item, dict) and isinstance(item.get("drug"), str):
            terms.append(Ordered(item["drug"].strip()))
    for i, item in enumerate(
        body.get("medication_requests", []) if isinstance(body.get("medication_requests"), list) else []
    ):
        if isinstance(item, dict) and isinstance(item.get("resource"), dict):
            terms.append(_request_drug(item["resource"], f"medication_requests[{i}]"))
    return terms


def resolve_terms(normalizer: Normalizer, terms: list[Ordered]) -> dict[Ordered, Resolution]:
    """Each drug's resolution: by RxNorm code then its display, or by text (may block on RxNav)."""
    resolved: dict[Ordered, Resolution] = {}
    for term in terms:
        if term.code:
            resolved[term] = normalizer.resolve_coding(RXNORM_SYSTEM, term.code, term.text)
        else:
            resolved[term] = normalizer.resolve(term.text)
    return resolved


def unresolved_orders(body: dict[str, Any], resolved: dict[Ordered, Resolution]) -> list[dict[str, str]]:
    """Each item of a (valid) schedule request whose drug did not resolve: where, the drug, and why."""
    found = []
    for key in ("administrations", "medication_requests"):
        for i, item in enumerate(body.get(key) or []):
            term = (
                Ordered(item["drug"].strip())
                if key == "administrations"
                else _request_drug(item["resource"], "")
            )
            reason = resolved[term].unresolved
            if reason is not None:
                drug = f"{term.text} (RxNorm {term.code})" if term.code else term.text
                found.append({"where": f"{key}[{i}]", "drug": drug, "reason": reason})
    return found


def plan_doses(
    service: ServiceApi,
    ward_id: str,
    body: dict[str, Any],
    now: datetime,
    resolved: dict[Ordered, Resolution],
) -> list[ScheduledDose]:
    """Every dose of a schedule request, validated (all or nothing); nothing is stored here.

    A drug that did not resolve plans doses with no ingredients (checked later as ``unchecked``).
    """
    ward = ward_of(service, ward_id)
    planned: list[ScheduledDose] = []
    items = body.get("administrations", [])
    requests = body.get("medication_requests", [])
    if not isinstance(items, list) or not isinstance(requests, list) or not (items or requests):
        raise InputError("schedule: give 'administrations' and/or 'medication_requests' as non-empty lists")
    for i, item in enumerate(items):
        where = f"administrations[{i}]"
        if not isinstance(item, dict):
            raise InputError(f"{where}: must be an object")
        admission = _admission_on(service, item.get("admission"), ward_id, where)
        drug = _field(item, "drug", where)
        found = resolved[Ordered(drug)]
        try:
            due = parse_iso(_field(item, "due", where))
        except ValueError as exc:
            raise InputError(f"{where}.due: {exc}") from exc
        route = found.route if found.unresolved is None else ""
        planned.append(
            ScheduledDose(
                id="dose-" + uuid.uuid4().hex[:16],
                admission=admission.id,
                ward=ward_id,
                drug=drug,
                ingredients=found.ingredients if found.unresolved is None else (),
                dose=_optional_text(item, "dose", where, ""),
                route=_optional_text(item, "route", where, route),
                due=due,
            )
        )
    for i, item in enumerate(requests):
        where = f"medication_requests[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("resource"), dict):
            raise InputError(f"{where}: must be {{'admission': ..., 'resource': <FHIR MedicationRequest>}}")
        admission = _admission_on(service, item.get("admission"), ward_id, where)
        resource = item["resource"]
        found = resolved[_request_drug(resource, where)]
        most = service.settings.max_doses
        try:
            planned.extend(
                doses_from_medication_request(
                    resource,
                    admission=admission.id,
                    ward=ward,
                    start=max(now, admission.not_before),
                    end=admission.expires_at,
                    ingredients=found.ingredients if found.unresolved is None else (),
                    new_id=lambda: "dose-" + uuid.uuid4().hex[:16],
                    limit=most - len(planned),
                )
            )
        except LimitExceeded as exc:
            raise LimitExceeded(
                f"{where}: {exc}; at most {most} doses in one schedule request (setting max_doses)"
            ) from exc
    return planned


def record_dose_outcome(
    service: ServiceApi, ward_id: str, dose_id: str, body: dict[str, Any], staff: Staff
) -> ScheduledDose:
    """The dose with a nurse's outcome (given, held, refused) recorded; nothing is stored here."""
    require(staff, ward=ward_id, roles=("nurse",))
    dose = adm.get_dose(service.db, dose_id)
    if dose is None or dose.ward != ward_id:
        raise NotFound(f"no scheduled dose {dose_id} on ward {ward_id}")
    status = body.get("status")
    if status not in ("given", "held", "refused"):
        raise InputError("'status' must be one of given, held, refused")
    now = service.clock()
    when = now
    if body.get("at") is not None:
        try:
            when = parse_iso(str(body["at"]))
        except ValueError as exc:
            raise InputError(f"'at': {exc}") from exc
    note = body.get("note", "")
    if not isinstance(note, str):
        raise InputError("'note' must be text")
    return record_outcome(dose, Outcome(status=status, recorded_at=when, nurse=staff.name, note=note))


def _admission_on(service: ServiceApi, admission_id: Any, ward_id: str, where: str) -> adm.Admission:
    if not isinstance(admission_id, str):
        raise InputError(f"{where}.admission: required")
    admission = adm.get_admission(service.db, admission_id)
    if admission is None or not admission.active or admission.ward != ward_id:  # another ward's: as unknown
        raise NotFound(f"{where}: no active admission {admission_id}")
    return admission


def _field(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}.{name}: required text")
    return value.strip()


def _optional_text(item: dict[str, Any], name: str, where: str, default: str) -> str:
    """An optional text field (absent or null: ``default``); anything else is refused, never shown to a
    nurse as "None" or "{'mg': 400}"."""
    value = item.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InputError(f"{where}.{name}: must be text, not {type(value).__name__}")
    return value


def _request_drug(resource: dict[str, Any], where: str) -> Ordered:
    """The drug a MedicationRequest orders: its RxNorm coding (code, with the display or text to fall
    back on), else its text."""
    concept = resource.get("medicationCodeableConcept")
    if isinstance(concept, dict):
        codings = concept.get("coding")
        text = _text_of(concept.get("text"))
        for coding in codings if isinstance(codings, list) else []:
            if isinstance(coding, dict) and "rxnorm" in str(coding.get("system", "")) and coding.get("code"):
                return Ordered(_text_of(coding.get("display")) or text, str(coding["code"]).strip())
        if text:
            return Ordered(text)
    raise InputError(f"{where}: the MedicationRequest names no RxNorm-coded or written medication")


def _text_of(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
