"""Clinical actions on an alert, as pure data: a held dose's follow-up with the prescriber, and a dose
given under a critical alert with its coded override reason.

"Hold dose and tell prescriber" records the dose as held and opens a :class:`FollowUp`: the alert then
says "awaiting prescriber since 02:05" and comes back to the top of the ward's list (a new signed version)
at ``comes_back``: the next due dose of the same drug or the ward's interval after the last time it came
back, whichever is first, again and again, across shifts, until a nurse records the prescriber's answer
("Prescriber reviewed: give" or "Prescriber changed the order"). A dose recorded as given while a
critical alert is bound to it carries a :class:`GivenOverride` (coded reason, the nurse who gave it).

Nothing here reads a clock: times come in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alertsvc.clock import iso

RESOLUTIONS: dict[str, str] = {
    "give": "Prescriber reviewed: give",
    "order-changed": "Prescriber changed the order",
}
"""How a follow-up is closed (code -> what the ward reads)."""

OVERRIDE_REASONS: dict[str, str] = {
    "benefit-outweighs-risk": "Benefit outweighs risk",
    "prescriber-confirmed": "Prescriber confirmed the order",
    "monitoring-in-place": "Monitoring in place",
    "tolerates-combination": "Patient already tolerates the combination",
    "other": "Other (say why)",
}
"""Coded reasons for giving a dose under a critical alert (code -> display); "other" needs text."""

DEFAULT_INTERVAL = timedelta(minutes=60)


@dataclass(frozen=True)
class FollowUp:
    """A held dose waiting for the prescriber's answer (``state`` "open"), or answered ("closed")."""

    id: str
    alert: str
    admission: str
    ward: str
    dose: str
    opened_at: datetime
    opened_by: str
    opened_shift: str
    state: str
    comes_back: datetime
    raised: int = 0
    prescriber: str = ""
    comment: str = ""
    closed_at: datetime | None = None
    closed_by: str | None = None
    resolution: str | None = None
    resolution_note: str = ""

    @property
    def open(self) -> bool:
        return self.state == "open"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alert": self.alert,
            "dose": self.dose,
            "state": self.state,
            "opened_at": iso(self.opened_at),
            "opened_by": self.opened_by,
            "opened_shift": self.opened_shift,
            "awaiting_prescriber_since": iso(self.opened_at) if self.open else None,
            "comes_back": iso(self.comes_back) if self.open else None,
            "raised": self.raised,
            "prescriber": self.prescriber,
            "comment": self.comment,
            "closed_at": iso(self.closed_at) if self.closed_at else None,
            "closed_by": self.closed_by,
            "resolution": None
            if self.resolution is None
            else {"code": self.resolution, "display": RESOLUTIONS.get(self.resolution, self.resolution)},
            "resolution_note": self.resolution_note,
        }

    def claim(self) -> dict[str, Any]:
        """What the alert's signed claims say about its follow-up (``follow_up``)."""
        claim: dict[str, Any] = {
            "state": self.state,
            "dose": self.dose,
            "opened_at": iso(self.opened_at),
            "opened_by": self.opened_by,
            "raised": self.raised,
        }
        if self.open:
            claim["comes_back"] = iso(self.comes_back)
        else:
            claim |= {
                "closed_at": iso(self.closed_at) if self.closed_at else None,
                "closed_by": self.closed_by,
                "resolution": self.resolution,
            }
        return claim


@dataclass(frozen=True)
class GivenOverride:
    """A dose recorded as given while a critical alert was bound to it: why, and who gave it."""

    id: str
    alert: str
    admission: str
    ward: str
    dose: str
    nurse: str
    recorded_by: str
    shift: str
    shift_start: datetime
    reason_code: str
    reason_display: str
    text: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alert": self.alert,
            "dose": self.dose,
            "nurse": self.nurse,
            "recorded_by": self.recorded_by,
            "shift": self.shift,
            "shift_start": iso(self.shift_start),
            "reason": {"code": self.reason_code, "display": self.reason_display},
            "text": self.text,
            "at": iso(self.at),
        }


def comes_back_at(
    after: datetime, interval: timedelta, next_dose_due: datetime | None, lead: timedelta
) -> datetime:
    """When an unanswered follow-up raised at ``after`` comes back to the top: ``interval`` later, or
    ``lead`` before the next due dose of the same drug if that is sooner (never before ``after``).

    >>> from datetime import UTC
    >>> t = datetime(2030, 1, 16, 2, 5, tzinfo=UTC)
    >>> hour = timedelta(minutes=60)
    >>> comes_back_at(t, hour, None, hour).strftime("%H:%M")
    '03:05'
    >>> comes_back_at(t, hour, t + timedelta(minutes=90), hour).strftime("%H:%M")
    '02:35'
    >>> comes_back_at(t, hour, t + timedelta(minutes=10), hour) == t
    True
    """
    candidates = [after + interval]
    if next_dose_due is not None and next_dose_due > after:
        candidates.append(max(after, next_dose_due - lead))
    return min(candidates)


def interval_for(spec: str, ward: str) -> timedelta:
    """A ward's follow-up interval from the setting ``follow_up_minutes`` ('60' or '60;icu=30;ed=45');
    ValueError naming the part that is not a positive number of minutes.

    >>> interval_for("60;icu=30", "icu"), interval_for("60;icu=30", "ed"), interval_for("", "ed")
    (datetime.timedelta(seconds=1800), datetime.timedelta(seconds=3600), datetime.timedelta(seconds=3600))
    """
    default, wards = DEFAULT_INTERVAL, {}
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        name, _, minutes = part.rpartition("=")
        try:
            value = timedelta(minutes=int(minutes))
        except ValueError:
            value = timedelta(0)
        if value <= timedelta(0) or value > timedelta(days=1):
            raise ValueError(f"follow_up_minutes: {part!r} is not 1 to 1440 minutes ('60' or 'icu=30')")
        if name:
            wards[name.strip()] = value
        else:
            default = value
    return wards.get(ward, default)


def read_override(value: Any, *, max_chars: int) -> tuple[str, str, str, str]:
    """(code, display, nurse, text) from a request's ``override`` object, or ValueError naming what is
    missing or wrong (the caller turns it into a refusal)."""
    codes = ", ".join(OVERRIDE_REASONS)
    if value is None:
        raise ValueError(f"'override' is missing: give {{'code': one of {codes}, 'nurse': who gave it}}")
    if not isinstance(value, dict):
        raise ValueError(f"'override' must be an object {{'code': one of {codes}, 'nurse': who gave it}}")
    code, nurse, text = value.get("code"), value.get("nurse"), value.get("text", "")
    if not isinstance(code, str) or not code:
        raise ValueError(f"'override.code' is missing: one of {codes}")
    if code not in OVERRIDE_REASONS:
        raise ValueError(f"'override.code' {code[:60]!r} is not one of {codes}")
    if not isinstance(nurse, str) or not nurse.strip():
        raise ValueError("'override.nurse' is missing: the name of the nurse who gave the dose")
    if not isinstance(text, str):
        raise ValueError("'override.text' must be text")
    if len(nurse) > 200 or len(text) > max_chars:
        raise ValueError(f"'override.nurse' at most 200 characters, 'override.text' at most {max_chars}")
    if code == "other" and not text.strip():
        raise ValueError("'override.text' is missing: the reason 'other' needs the reason in words")
    return code, OVERRIDE_REASONS[code], nurse.strip(), text.strip()
