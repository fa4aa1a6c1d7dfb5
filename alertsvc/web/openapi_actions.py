"""The OpenAPI operations and schemas of the clinical actions on an alert (issue 11): hold and tell the
prescriber, the prescriber's answer, a dose given under a critical alert, and what the alert list carries
with each alert (follow-ups, overrides, upstream CDS Hooks decisions). Merged into ``openapi``'s tables.
"""

from __future__ import annotations

from alertsvc.alerts.follow_up import OVERRIDE_REASONS, RESOLUTIONS
from alertsvc.web.openapi_operations import BODY_ERRORS, STAFF, _op
from alertsvc.web.openapi_schemas import INSTANT, TEXT, Schema, array, example, obj, ref

NULLABLE_INSTANT: Schema = {"oneOf": [{"type": "null"}, INSTANT]}
NULLABLE_TEXT: Schema = {"type": ["string", "null"]}
SHIFT_NAME: Schema = {
    "type": ["string", "null"],
    "enum": ["day", "evening", "night", None],
    "description": "if given, must be the current shift",
}

FOLLOW_UP = obj(
    {
        "id": TEXT,
        "alert": TEXT,
        "dose": TEXT,
        "state": {"type": "string", "enum": ["open", "closed"]},
        "opened_at": INSTANT,
        "opened_by": TEXT,
        "opened_shift": TEXT,
        "awaiting_prescriber_since": NULLABLE_INSTANT,
        "comes_back": NULLABLE_INSTANT,
        "raised": {"type": "integer", "minimum": 0, "description": "times it came back unanswered"},
        "prescriber": TEXT,
        "comment": TEXT,
        "closed_at": NULLABLE_INSTANT,
        "closed_by": NULLABLE_TEXT,
        "resolution": {"oneOf": [{"type": "null"}, obj({"code": TEXT, "display": TEXT}, "code display")]},
        "resolution_note": TEXT,
    },
    "id alert dose state opened_at opened_by raised",
    description="A held dose's follow-up with the prescriber.",
)

GIVEN_OVERRIDE = obj(
    {
        "id": TEXT,
        "alert": TEXT,
        "dose": TEXT,
        "nurse": {"type": "string", "description": "who gave the dose"},
        "recorded_by": {"type": "string", "description": "the staff token's name"},
        "shift": TEXT,
        "shift_start": INSTANT,
        "reason": obj({"code": TEXT, "display": TEXT}, "code display"),
        "text": TEXT,
        "at": INSTANT,
        "earlier_shift": {"type": "boolean"},
    },
    "id alert dose nurse reason at",
    description="A dose recorded as given while a critical alert was bound to it.",
)

UPSTREAM = obj(
    {
        "who": {"type": "string", "description": "the CDS Hooks call's userId, else the client"},
        "client": TEXT,
        "at": INSTANT,
        "reason": obj({"code": TEXT, "display": TEXT}, "code display"),
        "source": TEXT,
    },
    "who at reason",
    description="A prescriber's override of the same finding in CDS Hooks, for this admission.",
)

OVERRIDE = obj(
    {
        "code": {"type": "string", "enum": list(OVERRIDE_REASONS)},
        "nurse": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
        "text": {"type": "string", "maxLength": 2000},
    },
    "code nurse",
    description="Required to record as given a dose a critical alert is bound to; `other` needs `text`.",
)

HOLD_REQUEST = example(
    obj(
        {
            "shift": SHIFT_NAME,
            "prescriber": {"type": ["string", "null"], "maxLength": 200},
            "comment": {"type": ["string", "null"], "maxLength": 2000},
        }
    ),
    {"shift": "night", "prescriber": "Dr Okafor", "comment": "bleeped at 02:04"},
)

ANSWER_REQUEST = example(
    obj(
        {
            "resolution": {"type": "string", "enum": list(RESOLUTIONS)},
            "prescriber": {"type": ["string", "null"], "maxLength": 200},
            "comment": {"type": ["string", "null"], "maxLength": 2000},
        },
        "resolution",
    ),
    {"resolution": "give", "prescriber": "Dr Okafor"},
)

HELD = obj(
    {"dose": ref("Dose"), "acknowledgement": ref("Acknowledgement"), "follow_up": ref("FollowUp")},
    "dose acknowledgement follow_up",
)

SCHEMAS: dict[str, Schema] = {
    "FollowUp": FOLLOW_UP,
    "GivenOverride": GIVEN_OVERRIDE,
    "UpstreamOverride": UPSTREAM,
    "Override": OVERRIDE,
    "HoldRequest": HOLD_REQUEST,
    "PrescriberAnswerRequest": ANSWER_REQUEST,
    "Held": HELD,
}

LISTED_ALERT_EXTRAS = obj(
    {
        "follow_ups": array(ref("FollowUp")),
        "awaiting_prescriber_since": NULLABLE_INSTANT,
        "back_on_top": {"type": "boolean", "description": "a follow-up came back unanswered: list it first"},
        "overrides": array(ref("GivenOverride")),
        "upstream": array(ref("UpstreamOverride")),
    }
)
"""What the alert list carries with each alert beside its acknowledgements (see ``ListedAlert``)."""


def with_actions(schemas: dict[str, Schema]) -> dict[str, Schema]:
    """``schemas`` with this module's, and ``ListedAlert`` with what the list carries for the actions."""
    listed = schemas["ListedAlert"]
    extended = {**listed, "properties": listed["properties"] | LISTED_ALERT_EXTRAS["properties"]}
    return schemas | SCHEMAS | {"ListedAlert": extended}


OPERATIONS = {
    ("POST", "/alerts/{alert}/hold"): _op(
        "Hold the alert's dose and tell the prescriber: held, acknowledged and followed up in one step",
        tag="alerts",
        security=STAFF,
        body="HoldRequest",
        ok=(201, "The held dose, the acknowledgement and the open follow-up", ref("Held")),
        errors=BODY_ERRORS,
        description="409 when the alert concerns no dose, the dose is already recorded, or a follow-up "
        "is already open. Unanswered, the alert comes back to the top (a new signed version) at the next "
        "dose of the drug or after the ward's interval (setting follow_up_minutes), in every shift.",
    ),
    ("POST", "/alerts/{alert}/prescriber-answer"): _op(
        "Record the prescriber's answer to a held dose's follow-up: give, or the order was changed",
        tag="alerts",
        security=STAFF,
        body="PrescriberAnswerRequest",
        ok=(200, "The closed follow-up, with who and when", ref("FollowUp")),
        errors=BODY_ERRORS,
    ),
}
