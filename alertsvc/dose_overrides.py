"""A dose recorded as given while a critical alert is bound to it: it needs a coded override reason and
the name of the nurse who gave it (``alerts.follow_up.read_override``); otherwise ``ReasonRequired`` (a 422)
names what is missing and nothing is recorded. Each override is stored per alert, audited
(``give-under-critical-alert``) and announced, so every later shift sees it on the alert and in the handoff.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from alertsvc import audit
from alertsvc.access import Staff
from alertsvc.alert_actions import ward_of
from alertsvc.alerts import follow_up_store as fu_store
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.follow_up import GivenOverride, read_override
from alertsvc.alerts.hub import Event
from alertsvc.errors import ReasonRequired
from alertsvc.schedule.mar import ScheduledDose
from alertsvc.schedule.shifts import shift_at
from alertsvc.service_api import ServiceApi


def given_overrides(
    service: ServiceApi, dose: ScheduledDose, body: dict[str, Any], staff: Staff, now: datetime
) -> list[GivenOverride]:
    """The override records a dose recorded as given needs: one per active critical alert bound to it
    (none: no alert stops it). ReasonRequired names what is missing; nothing is stored here."""
    critical = [
        a
        for a in alert_store.active_alerts(service.db, admission=dose.admission)
        if a.dose == dose.id and a.claims.get("severity") == "critical"
    ]
    if not critical:
        return []
    try:
        code, display, nurse, text = read_override(
            body.get("override"), max_chars=service.settings.max_note_chars
        )
    except ValueError as exc:
        summary = str(critical[0].claims.get("summary", ""))
        raise ReasonRequired(
            f"recording the dose of {dose.drug} as given: a critical alert concerns it ({summary}); {exc}"
        ) from exc
    shift = shift_at(ward_of(service, dose.ward), now)
    return [
        GivenOverride(
            id="ovr-" + uuid.uuid4().hex[:16],
            alert=a.id,
            admission=a.admission,
            ward=a.ward,
            dose=dose.id,
            nurse=nurse,
            recorded_by=staff.name,
            shift=shift.name,
            shift_start=shift.start,
            reason_code=code,
            reason_display=display,
            text=text,
            at=now,
        )
        for a in critical
    ]


def save_given_overrides(service: ServiceApi, overrides: list[GivenOverride], now: datetime) -> list[Event]:
    """Inside the caller's transaction: store and audit the overrides; their events."""
    events = []
    for item in overrides:
        fu_store.save_override(service.db, item)
        audit.record(
            service.db,
            now=now,
            actor=item.recorded_by,
            action="give-under-critical-alert",
            admission=item.admission,
            ward=item.ward,
            detail={"alert": item.alert, "dose": item.dose, "reason": item.reason_code, "nurse": item.nurse},
        )
        data = {"alert": item.alert, "override": item.as_json()}
        events.append(
            alert_store.append_event(
                service.db, ward=item.ward, type="override", data=data, admission=item.admission, now=now
            )
        )
    return events
