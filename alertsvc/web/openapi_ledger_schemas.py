"""OpenAPI schemas of what the ward writes back to the patient's ledger and asks of her: observations,
reactions and allergies recorded at the bedside, discharge, and requests for a wider scope (the rest of the
service's schemas are in ``openapi_schemas``)."""

from __future__ import annotations

from alertsvc.ledger.grants import SCOPES
from alertsvc.web.openapi_schemas import INSTANT, NON_EMPTY, TEXT, Schema, array, example, obj, ref

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
