"""What ward staff do through the service: read the ward's alerts for a shift, acknowledge them, plan
doses and record what happened to them; and the patient's own audit trail.

Acknowledgement never hides an alert: the list for any shift holds every active alert, each with every
acknowledgement so far and whether it was made in this shift or an earlier one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from alertsvc import admissions as adm
from alertsvc import alert_actions, alert_listing, audit, idempotency, store
from alertsvc.access import SignedCall, Staff, read_signed_call, require
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.follow_up import OVERRIDE_REASONS, RESOLUTIONS
from alertsvc.alerts.store import Acknowledgement
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import InputError, NotFound, Unauthorized
from alertsvc.schedule.shifts import Shift, Ward, shift_at, shift_occurrence
from alertsvc.service_api import ServiceApi

ACK_REASONS: dict[str, str] = {
    "dose-held": "Dose will be held; prescriber informed",
    "prescriber-informed": "Prescriber informed; awaiting review",
    "prescriber-confirmed": "Prescriber confirmed: benefit outweighs risk",
    "monitoring": "Giving with extra monitoring",
    "patient-informed": "Discussed with the patient",
    "pharmacist-checked": "Pharmacist identified the drug and checked it by hand",
    "not-applicable": "Not applicable to this patient (say why in the comment)",
    "seen": "Seen",
}
"""Coded acknowledgement reasons (code -> display). A critical or interruptive alert needs one other than
"seen"."""


ward_of = alert_actions.ward_of


def current_shift(service: ServiceApi, ward: Ward, name: str | None, now: datetime) -> Shift:
    return shift_at(ward, now) if not name else shift_occurrence(ward, name, now)


def alerts_view(service: ServiceApi, ward_id: str, shift_name: str | None, staff: Staff) -> dict[str, Any]:
    """The ward's active alerts for a shift, most severe first, each with every acknowledgement."""
    require(staff, ward=ward_id, roles=("nurse",))
    now = service.clock()
    ward = ward_of(service, ward_id)
    shift = current_shift(service, ward, shift_name, now)
    alerts = alert_store.active_alerts(service.db, ward=ward_id)
    extras = alert_listing.listed_extras(service.db, [a.id for a in alerts])
    listed = []
    for alert in alerts:
        more = extras[alert.id]
        these = more["acknowledgements"]
        waiting = next((f for f in more["follow_ups"] if f["state"] == "open"), None)
        listed.append(
            {
                "id": alert.id,
                "jws": alert.jws,
                "alert": alert.claims,
                "acknowledgements": [
                    a | {"earlier_shift": parse_iso(a["shift_start"]) < shift.start} for a in these
                ],
                "acknowledged_this_shift": any(parse_iso(a["shift_start"]) == shift.start for a in these),
                "follow_ups": more["follow_ups"],
                "awaiting_prescriber_since": waiting["opened_at"] if waiting else None,
                "back_on_top": bool(waiting and waiting["raised"] > 0),
                "overrides": [
                    o | {"earlier_shift": parse_iso(o["shift_start"]) < shift.start}
                    for o in more["overrides"]
                ],
                "upstream": more["upstream"],
            }
        )
    listed.sort(key=lambda item: not item["back_on_top"])  # stable: otherwise most severe first
    with store.write(service.db):
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
    return {
        "ward": ward_id,
        "shift": shift_json(ward, shift),
        "alerts": listed,
        "reasons": reasons,
        "override_reasons": [{"code": c, "display": d} for c, d in OVERRIDE_REASONS.items()],
        "resolutions": [{"code": c, "display": d} for c, d in RESOLUTIONS.items()],
        "last_event_id": alert_store.last_event_id(service.db, ward_id),
    }


def shift_json(ward: Ward, shift: Shift) -> dict[str, str]:
    return {
        "name": shift.name,
        "start": iso(shift.start),
        "end": iso(shift.end),
        "label": shift.label(ward.zone),
        "timezone": ward.timezone,
        "locale": ward.locale,
    }


async def acknowledge(
    service: ServiceApi,
    alert_id: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Record a nurse's acknowledgement for the current shift; later shifts still see the alert."""
    alert = alert_actions.active_alert_of(service, alert_id, staff)
    now = service.clock()
    _, shift = alert_actions.shift_acting(service, alert.ward, body, now)
    # An interruptive alert (critical, or a dose that could not be checked) needs a reason for what was done.
    interrupts = alert.claims.get("severity") == "critical" or alert.claims.get("interruptive") is True
    code, display = _reason(body.get("reason"), critical=interrupts)
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
    with store.write(service.db):
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
        idempotency.remember(service.db, once, ack.as_json(), admissions=[alert.admission])
    service.publish([event])
    return ack.as_json()


def _reason(value: Any, *, critical: bool) -> tuple[str, str]:
    if value is None:
        if critical:
            raise InputError("a critical or interruptive alert needs a reason: {'code': ..., 'display': ...}")
        return "seen", ACK_REASONS["seen"]
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        raise InputError("'reason' must be an object with a 'code' (and optionally 'display')")
    code = value["code"]
    if code not in ACK_REASONS:
        raise InputError(f"unknown reason code {code!r}; one of {', '.join(ACK_REASONS)}")
    if critical and code == "seen":
        raise InputError("a critical or interruptive alert needs a reason other than 'seen'")
    display = value.get("display")
    if display is not None and not isinstance(display, str):
        raise InputError("'reason.display' must be text")
    return code, display or ACK_REASONS[code]


def audit_stream_opened(service: ServiceApi, ward: str, after: int, staff: Staff) -> None:
    """Opening a ward's event stream is a read of its alerts, so it is audited (before any is sent)."""
    with store.write(service.db):
        audit.record(
            service.db,
            now=service.clock(),
            actor=staff.name,
            action="open-stream",
            ward=ward,
            detail={"after": after},
        )


def audit_trail(service: ServiceApi, admission_id: str, call: SignedCall) -> dict[str, Any]:
    """The patient's own trail, to a request (a GET) signed with the patient's key."""
    now = service.clock()
    if call.method != "GET" or call.body:
        raise Unauthorized("the audit trail is read with a GET")
    signed = read_signed_call(call, audience=service.identity.public_id, now=now)
    stored_hash = audit.patient_hash_of(service.db, admission_id)
    if stored_hash is None:
        raise NotFound(f"no admission {admission_id}")
    if (
        adm.patient_hash(signed.issuer) != stored_hash
    ):  # another patient's: as an admission that does not exist
        raise NotFound(f"no admission {admission_id}")
    service.replays.admit(signed, now=now)
    records = audit.trail(service.db, admission_id)
    with store.write(service.db):
        audit.record(service.db, now=now, actor="patient", action="read-audit", admission=admission_id)
    return {"admission": admission_id, "audit": [r.as_json() for r in records]}
