"""What ward staff do through the service: read the ward's alerts for a shift, acknowledge them, plan
doses and record what happened to them; and the patient's own audit trail.

Acknowledgement never hides an alert: the list for any shift holds every active alert, each with every
acknowledgement so far and whether it was made in this shift or an earlier one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alertsvc import admissions as adm
from alertsvc import audit, storage
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.store import Acknowledgement
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import Forbidden, InputError, NotFound, UnknownDrug
from alertsvc.knowledge.model import Medication
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.schedule.mar import Outcome, ScheduledDose, doses_from_medication_request, record_outcome
from alertsvc.schedule.shifts import Shift, Ward, shift_at, shift_occurrence
from alertsvc.web.auth import Staff, read_signed_request, require

if TYPE_CHECKING:
    from alertsvc.service import Service

ACK_REASONS: dict[str, str] = {
    "dose-held": "Dose will be held; prescriber informed",
    "prescriber-informed": "Prescriber informed; awaiting review",
    "prescriber-confirmed": "Prescriber confirmed: benefit outweighs risk",
    "monitoring": "Giving with extra monitoring",
    "patient-informed": "Discussed with the patient",
    "not-applicable": "Not applicable to this patient (say why in the comment)",
    "seen": "Seen",
}
"""Coded acknowledgement reasons (code -> display). A critical alert needs one other than "seen"."""


def ward_of(service: Service, ward_id: str) -> Ward:
    ward = adm.get_ward(service.db, ward_id)
    if ward is None:
        raise NotFound(f"no ward {ward_id!r}")
    return ward


def current_shift(service: Service, ward: Ward, name: str | None, now: datetime) -> Shift:
    return shift_at(ward, now) if not name else shift_occurrence(ward, name, now)


def alerts_view(service: Service, ward_id: str, shift_name: str | None, staff: Staff) -> dict[str, Any]:
    """The ward's active alerts for a shift, most severe first, each with every acknowledgement."""
    require(staff, ward=ward_id, roles=("nurse",))
    now = service.clock()
    ward = ward_of(service, ward_id)
    shift = current_shift(service, ward, shift_name, now)
    alerts = alert_store.active_alerts(service.db, ward=ward_id)
    acks = alert_store.acknowledgements(service.db, [a.id for a in alerts])
    listed = []
    for alert in alerts:
        these = acks.get(alert.id, [])
        listed.append(
            {
                "id": alert.id,
                "jws": alert.jws,
                "alert": alert.claims,
                "acknowledgements": [
                    a.as_json() | {"earlier_shift": a.shift_start < shift.start} for a in these
                ],
                "acknowledged_this_shift": any(a.shift_start == shift.start for a in these),
            }
        )
    with storage.write(service.db):
        audit.record(
            service.db,
            now=now,
            actor=staff.name,
            action="read-alerts",
            ward=ward_id,
            detail={"shift": shift.name, "alerts": len(listed)},
        )
        for admission in sorted({a.admission for a in alerts}):
            audit.record(
                service.db, now=now, actor=staff.name, action="read-alerts", admission=admission, ward=ward_id
            )
    reasons = [{"code": code, "display": display} for code, display in ACK_REASONS.items()]
    return {"ward": ward_id, "shift": shift_json(ward, shift), "alerts": listed, "reasons": reasons}


def shift_json(ward: Ward, shift: Shift) -> dict[str, str]:
    return {
        "name": shift.name,
        "start": iso(shift.start),
        "end": iso(shift.end),
        "label": shift.label(ward.zone),
        "timezone": ward.timezone,
    }


async def acknowledge(service: Service, alert_id: str, body: dict[str, Any], staff: Staff) -> dict[str, Any]:
    """Record a nurse's acknowledgement for the current shift; later shifts still see the alert."""
    alert = alert_store.get_alert(service.db, alert_id)
    if alert is None or alert.status != "active":
        raise NotFound(f"no active alert {alert_id}")
    require(staff, ward=alert.ward, roles=("nurse",))
    now = service.clock()
    ward = ward_of(service, alert.ward)
    shift = shift_at(ward, now)
    named = body.get("shift")
    if named is not None and named != shift.name:
        raise InputError(f"shift {named!r} is not the current shift ({shift.name}) of ward {ward.id}")
    code, display = _reason(body.get("reason"), critical=alert.claims.get("severity") == "critical")
    comment = body.get("comment", "")
    if not isinstance(comment, str) or len(comment) > 2000:
        raise InputError("'comment' must be text of at most 2000 characters")
    ack = Acknowledgement(
        id="ack-" + uuid.uuid4().hex[:16],
        alert=alert.id,
        nurse=staff.name,
        shift=shift.name,
        shift_start=shift.start,
        reason_code=code,
        reason_display=display,
        comment=comment.strip(),
        at=now,
    )
    with storage.write(service.db):
        alert_store.add_acknowledgement(service.db, ack, admission=alert.admission, ward=alert.ward)
        event = alert_store.append_event(
            service.db,
            ward=alert.ward,
            type="acknowledgement",
            data={"alert": alert.id, "acknowledgement": ack.as_json()},
            admission=alert.admission,
            now=now,
        )
        audit.record(
            service.db,
            now=now,
            actor=staff.name,
            action="acknowledge",
            admission=alert.admission,
            ward=alert.ward,
            detail={"alert": alert.id, "reason": code, "shift": shift.name},
        )
    service.hub.publish(event)
    return ack.as_json()


def _reason(value: Any, *, critical: bool) -> tuple[str, str]:
    if value is None:
        if critical:
            raise InputError("a critical alert needs a reason: {'code': ..., 'display': ...}")
        return "seen", ACK_REASONS["seen"]
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        raise InputError("'reason' must be an object with a 'code' (and optionally 'display')")
    code = value["code"]
    if code not in ACK_REASONS:
        raise InputError(f"unknown reason code {code!r}; one of {', '.join(ACK_REASONS)}")
    if critical and code == "seen":
        raise InputError("a critical alert needs a reason other than 'seen'")
    display = value.get("display") or ACK_REASONS[code]
    if not isinstance(display, str):
        raise InputError("'reason.display' must be text")
    return code, display


# -- the schedule ---------------------------------------------------------------------------------


def schedule_view(service: Service, ward_id: str, staff: Staff) -> dict[str, Any]:
    require(staff, ward=ward_id, roles=("nurse", "admission"))
    now = service.clock()
    doses = adm.doses(service.db, ward=ward_id)
    with storage.write(service.db):
        for admission in sorted({d.admission for d in doses}):
            audit.record(
                service.db,
                now=now,
                actor=staff.name,
                action="read-schedule",
                admission=admission,
                ward=ward_id,
            )
    return {"ward": ward_id, "administrations": [dose_json(d) for d in doses]}


def dose_json(dose: ScheduledDose) -> dict[str, Any]:
    return {
        "id": dose.id,
        "admission": dose.admission,
        "drug": dose.drug,
        "ingredients": [{"rxcui": i.rxcui, "name": i.name} for i in dose.ingredients],
        "dose": dose.dose,
        "route": dose.route,
        "due": iso(dose.due),
        "outcome": None if dose.outcome is None else adm.outcome_json(dose.outcome),
    }


def schedule_terms(body: dict[str, Any]) -> list[str]:
    """Every drug a schedule request names (to normalise before planning, off the event loop)."""
    terms = []
    for item in body.get("administrations", []) if isinstance(body.get("administrations"), list) else []:
        if isinstance(item, dict) and isinstance(item.get("drug"), str):
            terms.append(item["drug"].strip())
    for i, item in enumerate(
        body.get("medication_requests", []) if isinstance(body.get("medication_requests"), list) else []
    ):
        if isinstance(item, dict) and isinstance(item.get("resource"), dict):
            terms.append(_request_drug(item["resource"], f"medication_requests[{i}]"))
    return terms


def resolve_terms(normalizer: Normalizer, terms: list[str]) -> dict[str, Medication | UnknownDrug]:
    """Each term's medication, or the UnknownDrug saying why not (may block on an online terminology)."""
    resolved: dict[str, Medication | UnknownDrug] = {}
    for term in terms:
        try:
            resolved[term] = normalizer.medication(term)
        except UnknownDrug as exc:
            resolved[term] = exc
    return resolved


def plan_doses(
    service: Service,
    ward_id: str,
    body: dict[str, Any],
    now: datetime,
    resolved: dict[str, Medication | UnknownDrug],
) -> list[ScheduledDose]:
    """Every dose of a schedule request, validated (all or nothing); nothing is stored here."""
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
        medication = _medication(resolved, drug, where)
        try:
            due = parse_iso(_field(item, "due", where))
        except ValueError as exc:
            raise InputError(f"{where}.due: {exc}") from exc
        planned.append(
            ScheduledDose(
                id="dose-" + uuid.uuid4().hex[:16],
                admission=admission.id,
                ward=ward_id,
                drug=drug,
                ingredients=medication.ingredients,
                dose=str(item.get("dose", "")),
                route=str(item.get("route", medication.route)),
                due=due,
            )
        )
    for i, item in enumerate(requests):
        where = f"medication_requests[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("resource"), dict):
            raise InputError(f"{where}: must be {{'admission': ..., 'resource': <FHIR MedicationRequest>}}")
        admission = _admission_on(service, item.get("admission"), ward_id, where)
        resource = item["resource"]
        term = _request_drug(resource, where)
        medication = _medication(resolved, term, where)
        planned.extend(
            doses_from_medication_request(
                resource,
                admission=admission.id,
                ward=ward,
                start=max(now, admission.not_before),
                end=admission.expires_at,
                ingredients=medication.ingredients,
                new_id=lambda: "dose-" + uuid.uuid4().hex[:16],
            )
        )
    return planned


def record_dose_outcome(
    service: Service, ward_id: str, dose_id: str, body: dict[str, Any], staff: Staff
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


def audit_trail(service: Service, admission_id: str, token: str, *, path: str) -> dict[str, Any]:
    """The patient's own trail, to a request signed with the patient's key."""
    now = service.clock()
    signer = read_signed_request(token, method="GET", path=path, audience=service.identity.public_id, now=now)
    stored_hash = audit.patient_hash_of(service.db, admission_id)
    if stored_hash is None:
        raise NotFound(f"no admission {admission_id}")
    if adm.patient_hash(signer) != stored_hash:
        raise Forbidden("this audit trail belongs to another patient")
    records = audit.trail(service.db, admission_id)
    with storage.write(service.db):
        audit.record(service.db, now=now, actor="patient", action="read-audit", admission=admission_id)
    return {"admission": admission_id, "audit": [r.as_json() for r in records]}


def _admission_on(service: Service, admission_id: Any, ward_id: str, where: str) -> adm.Admission:
    if not isinstance(admission_id, str):
        raise InputError(f"{where}.admission: required")
    admission = adm.get_admission(service.db, admission_id)
    if admission is None or not admission.active:
        raise NotFound(f"{where}: no active admission {admission_id}")
    if admission.ward != ward_id:
        raise Forbidden(f"{where}: admission {admission_id} is on ward {admission.ward}, not {ward_id}")
    return admission


def _medication(resolved: dict[str, Medication | UnknownDrug], term: str, where: str) -> Medication:
    found = resolved.get(term)
    if isinstance(found, Medication):
        return found
    raise UnknownDrug(f"{where}: {found or 'drug not resolved'}")


def _field(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}.{name}: required text")
    return value.strip()


def _request_drug(resource: dict[str, Any], where: str) -> str:
    concept = resource.get("medicationCodeableConcept")
    if isinstance(concept, dict):
        codings = concept.get("coding")
        for coding in codings if isinstance(codings, list) else []:
            if isinstance(coding, dict) and "rxnorm" in str(coding.get("system", "")) and coding.get("code"):
                return str(coding["code"])
        if concept.get("text"):
            return str(concept["text"])
    raise InputError(f"{where}: the MedicationRequest names no RxNorm-coded or written medication")
