"""The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the service's bodies, answers and errors.

Answers are described as they are today and stay open (no ``additionalProperties: false``): a field added
later is a compatible change. Request bodies say what the service requires and no more than it checks, so
a body the schema calls invalid is one the service refuses.
"""

from __future__ import annotations

from typing import Any, get_args

from alertsvc.knowledge.model import FindingKind
from alertsvc.ledger.grants import SCOPES
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

OBSERVATION_REQUEST = example(
    {
        **obj(
            {
                "code": {
                    "type": "string",
                    "minLength": 1,
                    "description": "LOINC 6301-6 (INR), 2823-3 (potassium), 2160-0 or 14682-9 (creatinine), "
                    "33914-3, 62238-1 or 98979-8 (eGFR), 8636-3 (QTc); or INR, potassium, creatinine, "
                    "eGFR, QTc",
                },
                "value": {"type": "number"},
                "unit": {
                    "type": ["string", "null"],
                    "description": "mmol/L, mg/dL, umol/L, mL/min/1.73m2, ms; none for the INR",
                },
                "measured": {**INSTANT, "description": "when it was measured (default: now)"},
                "note": {"type": "string", "maxLength": 2000},
                "clinician": {
                    **ref("Clinician"),
                    "description": "who measured it (default: the staff token's name, as a nurse)",
                },
            },
            "code value",
        ),
        "additionalProperties": False,
    },
    {"code": "6301-6", "value": 4.2, "measured": "2030-01-15T08:00:00Z"},
    {"code": "potassium", "value": 5.6, "unit": "mmol/L"},
)

OBSERVATION_RECORDED = obj(
    {
        "observation": obj(
            {
                "id": TEXT,
                "admission": TEXT,
                "code": TEXT,
                "name": TEXT,
                "value": {"type": "number"},
                "unit": TEXT,
                "text": TEXT,
                "measured": INSTANT,
                "recorded_by": TEXT,
                "recorded_at": INSTANT,
                "note": TEXT,
                "resource": {
                    "type": "object",
                    "description": "the FHIR Observation (LOINC, UCUM) signed for her ledger; performer: "
                    "the clinician, for the hospital",
                },
                "entry": {"type": ["string", "null"], "description": "the practitioner entry's id"},
            },
            "id admission code value unit measured recorded_by recorded_at resource",
        ),
        "alerts": array(TEXT, description="ids of the alerts raised or changed by the re-check"),
        "in_patient_ledger": {
            "type": "boolean",
            "description": "false when answered: delivery to her ledger follows (see delivery)",
        },
        "ledger_note": {"type": "string", "description": "the delivery status the ward reads"},
        "delivery": ref("RecordedEntry"),
    },
    "observation alerts in_patient_ledger delivery",
)
SCOPE_REQUEST = example(
    {
        "type": "object",
        "properties": {
            "scope": {
                "type": "array",
                "items": {"type": "string", "enum": list(SCOPES)},
                "minItems": 1,
                "maxItems": len(SCOPES),
                "description": "what the ward asks to see that the admission's grant lacks",
            },
            "reason": {**NON_EMPTY, "maxLength": 500, "description": "why; the patient reads it"},
        },
        "required": ["scope", "reason"],
        "additionalProperties": False,
    },
    {"scope": ["reactions"], "reason": "to check new prescriptions against reactions you have flagged"},
)
SCOPE_REQUEST_STATE = obj(
    {
        "id": TEXT,
        "admission": TEXT,
        "scope": array(TEXT),
        "reason": TEXT,
        "requested_by": TEXT,
        "requested_at": INSTANT,
        "status": {"type": "string", "enum": ["requested", "approved", "declined", "refused"]},
        "status_text": {"type": "string", "description": "e.g. 'requested, awaiting the patient'"},
        "answered_at": {"type": ["string", "null"]},
        "new_grant": {"type": ["string", "null"], "description": "her wider grant, once approved"},
    },
    "id admission scope reason status status_text",
)
SCOPE_REQUESTS = obj({"admission": TEXT, "requests": array(ref("ScopeRequestState"))}, "admission requests")

CLINICIAN = obj(
    {"name": NON_EMPTY, "role": {"type": "string", "enum": ["nurse", "pharmacist", "physician"]}},
    "name role",
    description="who saw it; the ward is the staff token's",
)
BEDSIDE_REACTION = example(
    obj(
        {
            "drug": NON_EMPTY,
            "reaction": NON_EMPTY,
            "severity": {"type": "string", "enum": ["mild", "moderate", "severe"]},
            "observed": INSTANT,
            "clinician": ref("Clinician"),
            "note": TEXT,
        },
        "drug reaction clinician",
    ),
    {"drug": "amoxicillin", "reaction": "rash", "severity": "moderate",
     "clinician": {"name": "Nia Brown", "role": "nurse"}},
)  # fmt: skip
BEDSIDE_ALLERGY = example(
    {
        "oneOf": [
            obj(
                {
                    "substance": NON_EMPTY,
                    "reaction": TEXT,
                    "criticality": {"type": "string", "enum": ["low", "high", "unable-to-assess"]},
                    "clinician": ref("Clinician"),
                    "note": TEXT,
                    "no_known_allergies": {"const": False},
                },
                "substance clinician",
                description="a new allergy",
            ),
            {
                **obj(
                    {"no_known_allergies": {"const": True}, "clinician": ref("Clinician")},
                    "no_known_allergies clinician",
                    description="the clinician asserts no known drug allergies (SNOMED CT 409137002): "
                    "409 when the admission records allergies or its grant does not share them",
                ),
                "additionalProperties": False,
            },
        ]
    },
    {"substance": "penicillin", "reaction": "hives", "clinician": {"name": "Nia Brown", "role": "nurse"}},
    {"no_known_allergies": True, "clinician": {"name": "Dr Okafor", "role": "physician"}},
)
RECORDED_ENTRY = obj(
    {
        "admission": TEXT,
        "entry": TEXT,
        "kind": {"type": "string", "enum": ["reaction", "allergy", "medication", "observation"]},
        "drug": {"type": ["string", "null"]},
        "observation": {"type": ["string", "null"], "description": "an observation's value, e.g. INR 4.2"},
        "no_known_allergies": {"type": "boolean", "description": "a 'no known drug allergies' assertion"},
        "recorded_by": obj({"name": TEXT, "role": TEXT}),
        "ward": TEXT,
        "created": INSTANT,
        "state": {"type": "string", "enum": ["pending", "delivered", "handover"]},
        "status": TEXT,
        "attempts": {"type": "integer"},
        "last_error": {"type": ["string", "null"]},
        "next_attempt_at": {"type": ["string", "null"]},
        "delivered_at": {"type": ["string", "null"]},
    },
    "entry kind state status",
)
RECORDED_ENTRIES = obj({"admission": TEXT, "entries": array(ref("RecordedEntry"))}, "admission entries")
DISCHARGE_REQUEST = example(
    obj(
        {
            "clinician": ref("Clinician"),
            "medications": array(obj({"drug": NON_EMPTY, "dose": TEXT, "note": TEXT}, "drug")),
        },
        "clinician",
    ),
    {"clinician": {"name": "Dr Okafor", "role": "physician"},
     "medications": [{"drug": "doxycycline", "dose": "100 mg twice daily"}]},
)  # fmt: skip
DISCHARGED = obj(
    {
        "admission": TEXT,
        "status": TEXT,
        "reason": TEXT,
        "entries": array(ref("RecordedEntry")),
        "handover": {
            "oneOf": [{"type": "null"}, obj({"payload": TEXT, "signature": TEXT}, "payload signature")],
            "description": "the signed handover file for `alertsvc ledger import-entries`, if any",
        },
    },
    "admission status entries handover",
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
    "ObservationRequest": OBSERVATION_REQUEST,
    "ObservationRecorded": OBSERVATION_RECORDED,
    "Clinician": CLINICIAN,
    "BedsideReaction": BEDSIDE_REACTION,
    "BedsideAllergy": BEDSIDE_ALLERGY,
    "RecordedEntry": RECORDED_ENTRY,
    "RecordedEntries": RECORDED_ENTRIES,
    "DischargeRequest": DISCHARGE_REQUEST,
    "Discharged": DISCHARGED,
    "ScopeRequest": SCOPE_REQUEST,
    "ScopeRequestState": SCOPE_REQUEST_STATE,
    "ScopeRequests": SCOPE_REQUESTS,
}
