"""The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the service's bodies, answers and errors.

Answers are described as they are today and stay open (no ``additionalProperties: false``): a field added
later is a compatible change. Request bodies say what the service requires and no more than it checks, so
a body the schema calls invalid is one the service refuses.
"""

from __future__ import annotations

from typing import Any, get_args

from alertsvc.knowledge.model import FindingKind
from alertsvc.ward_desk import ACK_REASONS

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


TEXT: Schema = {"type": "string"}
NON_EMPTY: Schema = {"type": "string", "minLength": 1, "pattern": r"\S"}
INSTANT: Schema = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601 with Z"}
SEVERITY: Schema = {"type": "string", "enum": ["critical", "major", "moderate", "minor"]}
ALERT_KIND: Schema = {
    "type": "string",
    "enum": list(get_args(FindingKind)),
    "description": "what was found; overdue: a scheduled dose with no outcome by its due time plus the "
    "grace; renal-dose, long-qt: from observations (a drug under its labelled kidney threshold, a "
    "QT-prolonging drug with a QTc above 500 ms)",
}


def obj(properties: dict[str, Schema], required: str = "", *, description: str = "") -> Schema:
    """An open object schema; ``required`` names the required properties, separated by spaces."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required.split()
    if description:
        schema["description"] = description
    return schema


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def example(schema: Schema, *values: Any) -> Schema:
    """``schema`` with ``examples`` (JSON Schema 2020-12), shown to readers and tried by schemathesis."""
    return {**schema, "examples": list(values)}


INGREDIENT = obj({"rxcui": TEXT, "name": TEXT}, "rxcui name")

OUTCOME = obj(
    {
        "status": {"type": "string", "enum": ["given", "held", "refused"]},
        "recorded_at": INSTANT,
        "nurse": TEXT,
        "note": TEXT,
    },
    "status recorded_at nurse note",
)

DOSE = obj(
    {
        "id": TEXT,
        "admission": TEXT,
        "drug": TEXT,
        "ingredients": array(ref("Ingredient")),
        "dose": TEXT,
        "route": TEXT,
        "due": INSTANT,
        "outcome": {"oneOf": [{"type": "null"}, ref("Outcome")]},
    },
    "id admission drug ingredients dose route due outcome",
    description="A scheduled dose and what happened to it (outcome null until recorded).",
)

ALERT_CLAIMS = obj(
    {
        "id": TEXT,
        "version": {"type": "integer", "minimum": 1},
        "admission": TEXT,
        "ward": TEXT,
        "bed": TEXT,
        "patient": TEXT,
        "kind": ALERT_KIND,
        "severity": SEVERITY,
        "indicator": {"type": "string", "enum": ["critical", "warning", "info"]},
        "interruptive": {"type": "boolean"},
        "summary": TEXT,
        "detail": TEXT,
        "mechanism": TEXT,
        "management": TEXT,
        "ingredients": array(ref("Ingredient")),
        "rule": TEXT,
        "sources": array(TEXT),
        "ratings": array(obj({"source": TEXT, "rule": TEXT, "severity": SEVERITY, "rating": TEXT})),
        "evidence": array(TEXT),
        "knowledge_version": TEXT,
        "flagged_by": TEXT,
        "dose": {
            "oneOf": [
                {"type": "null"},
                obj({"id": TEXT, "drug": TEXT, "dose": TEXT, "route": TEXT, "due": INSTANT}, "id due"),
            ]
        },
        "created": INSTANT,
        "updated": INSTANT,
        "expires_at": INSTANT,
    },
    "id version admission ward kind severity interruptive summary ingredients rule sources dose",
    description="An alert's signed claims: every alert names its rule and its sources.",
)

ACKNOWLEDGEMENT = obj(
    {
        "id": TEXT,
        "alert": TEXT,
        "nurse": TEXT,
        "shift": TEXT,
        "shift_start": INSTANT,
        "reason": obj({"code": TEXT, "display": TEXT}, "code display"),
        "comment": TEXT,
        "at": INSTANT,
    },
    "id alert nurse shift shift_start reason comment at",
)

LISTED_ALERT = obj(
    {
        "id": TEXT,
        "jws": {"type": "string", "description": "compact JWS (EdDSA) over the canonical claims"},
        "alert": ref("AlertClaims"),
        "acknowledgements": array(
            {"allOf": [ref("Acknowledgement"), obj({"earlier_shift": {"type": "boolean"}})]}
        ),
        "acknowledged_this_shift": {"type": "boolean"},
    },
    "id jws alert acknowledgements acknowledged_this_shift",
)

SHIFT = obj(
    {"name": TEXT, "start": INSTANT, "end": INSTANT, "label": TEXT, "timezone": TEXT, "locale": TEXT},
    "name start end timezone",
)

ALLERGY_STATUS = obj(
    {
        "state": {"type": "string", "enum": ["known", "none-known", "not-recorded", "not-shared"]},
        "label": TEXT,
        "allergies": array(
            obj(
                {
                    "substance": TEXT,
                    "rxcui": {"type": ["string", "null"]},
                    "category": {"type": "string", "enum": ["food", "medication", "environment", "biologic"]},
                    "criticality": TEXT,
                    "reaction": {"type": ["string", "null"]},
                    "entry": TEXT,
                },
                "substance category criticality entry",
            )
        ),
        "assertion": {
            "oneOf": [
                {"type": "null"},
                obj(
                    {
                        "entry": TEXT,
                        "asserted_by": {"type": "string", "enum": ["patient", "practitioner"]},
                        "author": TEXT,
                        "recorder": {"type": ["string", "null"]},
                        "asserted_at": INSTANT,
                    },
                    "entry asserted_by author asserted_at",
                ),
            ]
        },
        "superseded": {"type": "boolean"},
    },
    "state label allergies assertion superseded",
    description="known allergies (listed); none-known: a signed 'no known drug allergies' assertion (who, "
    "when); not-recorded: allergies shared but none recorded; not-shared: the grant's scope lacks allergies.",
)

ALERTS_VIEW = obj(
    {
        "ward": TEXT,
        "shift": ref("Shift"),
        "alerts": array(ref("ListedAlert")),
        "admissions": array(
            obj(
                {
                    "admission": TEXT,
                    "bed": TEXT,
                    "patient": TEXT,
                    "allergy_status": ref("AllergyStatus"),
                    "labs": array(
                        obj(
                            {
                                "analyte": {
                                    "type": "string",
                                    "enum": ["inr", "potassium", "creatinine", "egfr", "qtc"],
                                },
                                "text": TEXT,
                                "measured": INSTANT,
                                "stale": {"type": "boolean"},
                            },
                            "analyte text measured stale",
                        ),
                        description="latest value per analyte the check uses; a stale one is not used",
                    ),
                },
                "admission bed patient allergy_status",
            ),
            description="Every active admission of the ward, by bed: allergy status, latest labs.",
        ),
        "reasons": array(obj({"code": TEXT, "display": TEXT}, "code display")),
        "last_event_id": {"type": "integer", "minimum": 0},
    },
    "ward shift alerts reasons last_event_id",
)

ADMISSION_REQUEST = {
    **obj(
        {
            "ward": NON_EMPTY,
            "bed": NON_EMPTY,
            "label": {"type": "string", "description": "shown on the ward (default 'Bed <bed>')"},
            "slice": {"type": "object", "description": "the JSON written by `alertsvc ledger slice`"},
            "grant_link": {"type": "string", "description": "the alertsvc-grant: link of the patient's QR"},
            "grant": {
                "type": ["object", "string"],
                "description": "optional: the grant (or its id) the slice must carry",
            },
        },
        "ward bed",
    ),
    "anyOf": [
        {"required": ["slice"], "properties": {"slice": {"type": "object"}}},
        {"required": ["grant_link"], "properties": {"grant_link": {"type": "string"}}},
    ],
}

ADMITTED = obj(
    {
        "admission": TEXT,
        "expires_at": INSTANT,
        "head": {"type": "integer"},
        "alerts": {"type": "integer", "minimum": 0},
        "unresolved": array(obj({"what": TEXT, "term": TEXT, "reason": TEXT})),
        "normalised": array(
            obj({"ref": TEXT, "label": TEXT, "ingredients": array(ref("Ingredient")), "note": TEXT})
        ),
    },
    "admission expires_at head alerts unresolved normalised",
)

LEDGER_UPDATE = obj(
    {
        "v": {"const": 1},
        "type": TEXT,
        "patient": TEXT,
        "grant": TEXT,
        "since": {"type": "integer"},
        "head": {"type": "object"},
        "trees": {"type": "object"},
        "consistency": {"type": "object"},
        "write_grants": {"type": "object"},
    },
    "v type patient grant since head trees consistency",
    description="An update written by `alertsvc ledger slice --since HEAD` (signed entries and proofs).",
)

UPDATED = obj(
    {
        "admission": TEXT,
        "status": {"type": "string", "enum": ["active", "ended"]},
        "head": {"type": "integer"},
        "reason": TEXT,
    },
    "admission status",
)

SCHEDULE_REQUEST = {
    **obj(
        {
            "administrations": array(
                obj(
                    {
                        "admission": TEXT,
                        "drug": NON_EMPTY,
                        "due": {**INSTANT, "description": "ISO 8601 with an offset"},
                        "dose": TEXT,
                        "route": TEXT,
                    },
                    "admission drug due",
                )
            ),
            "medication_requests": array(
                obj(
                    {
                        "admission": TEXT,
                        "resource": {"type": "object", "description": "a FHIR R4 MedicationRequest"},
                    },
                    "admission resource",
                )
            ),
        }
    ),
    "anyOf": [
        {"required": ["administrations"], "properties": {"administrations": {"minItems": 1}}},
        {"required": ["medication_requests"], "properties": {"medication_requests": {"minItems": 1}}},
    ],
}

SCHEDULE_VIEW = obj(
    {
        "ward": TEXT,
        "administrations": array(
            {"allOf": [ref("Dose"), obj({"bed": TEXT, "patient": TEXT}, "bed patient")]}
        ),
    },
    "ward administrations",
)

SCHEDULED = obj(
    {
        "ward": TEXT,
        "administrations": array(ref("Dose")),
        "unresolved": array(obj({"where": TEXT, "drug": TEXT, "reason": TEXT}, "where drug reason")),
        "notes": array(obj({"drug": TEXT, "note": TEXT})),
    },
    "ward administrations unresolved",
)

OUTCOME_REQUEST = obj(
    {
        "status": {"type": "string", "enum": ["given", "held", "refused"]},
        "note": TEXT,
        "at": {**INSTANT, "description": "when it happened (default: now)"},
        "override": ref("Override"),
    },
    "status",
)

ACK_REQUEST = obj(
    {
        "shift": {
            "type": ["string", "null"],
            "enum": ["day", "evening", "night", None],
            "description": "if given, must be the current shift",
        },
        "reason": {
            "oneOf": [
                {"type": "null"},
                obj({"code": {"type": "string", "enum": list(ACK_REASONS)}, "display": TEXT}, "code"),
            ],
            "description": "a code of the alert list's `reasons`; critical and interruptive alerts need one "
            "other than `seen`",
        },
        "comment": {"type": "string", "maxLength": 2000},
    }
)

AUDIT_TRAIL = obj(
    {
        "admission": TEXT,
        "audit": array(
            obj(
                {
                    "seq": {"type": "integer"},
                    "at": TEXT,
                    "actor": TEXT,
                    "action": TEXT,
                    "admission": {"type": ["string", "null"]},
                    "ward": {"type": ["string", "null"]},
                    "detail": {"type": "object"},
                },
                "seq at actor action",
            )
        ),
    },
    "admission audit",
)

JWKS = obj(
    {
        "keys": array(
            obj(
                {"kty": {"const": "OKP"}, "crv": {"const": "Ed25519"}, "x": TEXT, "kid": TEXT, "alg": TEXT},
                "kty crv x kid",
            ),
            minItems=1,
        )
    },
    "keys",
)

HEALTH = obj({"status": TEXT, "service": TEXT, "knowledge": TEXT}, "status")

ERROR = obj(
    {
        "error": obj(
            {
                "code": {
                    "type": "string",
                    "description": "the error's class in kebab case, e.g. grant-revoked",
                },
                "message": {"type": "string", "description": "what was wrong, naming the field or entry"},
            },
            "code message",
        )
    },
    "error",
    description="Every refusal; a bad token is a bare 401 whose message says no more than 'unauthorized'.",
)

ADMISSION_REQUEST = example(
    ADMISSION_REQUEST,
    {"grant_link": "alertsvc-grant:eyJncmFudCI6...", "ward": "icu", "bed": "4", "label": "Bed 4"},
)
SCHEDULE_REQUEST = example(
    SCHEDULE_REQUEST,
    {
        "administrations": [
            {"admission": "adm-0f1e2d3c4b5a6978", "drug": "ibuprofen", "due": "2030-01-16T02:00:00Z"},
            {"admission": "adm-0f1e2d3c4b5a6978", "drug": "warfarin 5 mg", "due": "2030-01-16T18:00:00Z"},
        ]
    },
)
OUTCOME_REQUEST = example(OUTCOME_REQUEST, {"status": "held", "note": "prescriber informed"})
ACK_REQUEST = example(
    ACK_REQUEST,
    {"reason": {"code": "prescriber-informed"}, "comment": "Dr Okafor will review before 02:00"},
)

SCHEMAS: dict[str, Schema] = {
    "Error": ERROR,
    "Ingredient": INGREDIENT,
    "Outcome": OUTCOME,
    "Dose": DOSE,
    "AlertClaims": ALERT_CLAIMS,
    "Acknowledgement": ACKNOWLEDGEMENT,
    "ListedAlert": LISTED_ALERT,
    "Shift": SHIFT,
    "AlertsView": ALERTS_VIEW,
    "AllergyStatus": ALLERGY_STATUS,
    "AdmissionRequest": ADMISSION_REQUEST,
    "Admitted": ADMITTED,
    "LedgerUpdate": LEDGER_UPDATE,
    "Updated": UPDATED,
    "ScheduleRequest": SCHEDULE_REQUEST,
    "ScheduleView": SCHEDULE_VIEW,
    "Scheduled": SCHEDULED,
    "OutcomeRequest": OUTCOME_REQUEST,
    "AcknowledgementRequest": ACK_REQUEST,
    "AuditTrail": AUDIT_TRAIL,
    "Jwks": JWKS,
    "Health": HEALTH,
}
