"""The operations of ``GET /openapi.json``: what each route does, takes and answers (see ``openapi``).

Keyed by (method, path template) as the routes table spells them. Error answers are references to
``#/components/responses/E<status>``, all of the one error shape; the lists are generous on purpose
(any route with a body may answer 413, any authenticated one 429), so a limit added later changes no
document a client generated code from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alertsvc.web.openapi_schemas import INSTANT, NON_EMPTY, TEXT, Schema, array, example, obj, ref

Security = list[dict[str, list[str]]]
STAFF: Security = [{"staffToken": []}]
PATIENT: Security = [{"patientSignedRequest": []}]
CDS_CLIENT: Security = [{"cdsClientJwt": []}]
PUBLIC: Security = []

ERRORS = {
    400: "The request cannot be read: malformed JSON, duplicate keys, a missing or wrong-typed field.",
    401: "A bad, missing or expired token or signed request (no detail is given).",
    403: "A valid token for another ward or role, or a grant that does not allow this.",
    404: "No such admission, alert, dose, ward or CDS service.",
    405: "The path does not take this method.",
    409: "The request contradicts stored state (e.g. the admission has ended).",
    412: "CDS Hooks: neither prefetched data nor an active admission to check against.",
    413: "The request body is larger than the service accepts.",
    422: "Readable, but refused: a ledger, signature, grant, drug or dose time that does not hold.",
    429: "Too many requests or open streams for this token.",
    502: "Another server the request needs (the patient's ledger server) could not be reached or failed.",
}

BODY_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429)
READ_ERRORS = (400, 401, 403, 404, 422, 429)


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    *,
    tag: str,
    security: Security,
    ok: tuple[int, str, Schema],
    errors: Iterable[int] = (),
    body: str | None = None,
    description: str = "",
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    status, what, schema = ok
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "security": security,
        "responses": {str(status): _json(schema, what)}
        | {str(code): {"$ref": f"#/components/responses/E{code}"} for code in sorted(set(errors))},
    }
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    if parameters:
        operation["parameters"] = parameters
    return operation


LAST_EVENT_ID = [
    {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "description": "Resume after this event sequence number (what EventSource sends on reconnect).",
        "schema": {"type": "string", "pattern": r"^[0-9]*$"},
    },
    {
        "name": "last_event_id",
        "in": "query",
        "required": False,
        "description": "The same, for clients that cannot set headers.",
        "schema": {"type": "string", "pattern": r"^[0-9]*$"},
    },
]
SHIFT_QUERY = [
    {
        "name": "shift",
        "in": "query",
        "required": False,
        "description": "The shift to list for (empty or absent: the current one).",
        "schema": {"type": "string", "enum": ["day", "evening", "night", ""]},
    }
]
STREAM = {
    "description": "Server-sent events: `alert`, `acknowledgement`, `withdrawn`, `shift`, `schedule`, "
    "`administration`, `follow-up`, `override`; each `id` is the outbox sequence number, each `data` one "
    "JSON object.",
    "content": {
        "text/event-stream": {
            "schema": {
                "type": "object",
                "description": "one event",
                "properties": {
                    "event": {"type": "string"},
                    "id": {"type": "string", "pattern": "^[0-9]+$"},
                    "data": {"type": "string", "contentMediaType": "application/json"},
                    "retry": {"type": "integer"},
                },
                "required": ["data"],
            }
        }
    },
}

CARDS = {
    "type": "object",
    "properties": {"cards": {"type": "array", "items": ref("Card")}},
    "required": ["cards"],
}
RECORDED = {"type": "object", "properties": {"recorded": {"type": "integer"}}, "required": ["recorded"]}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/openapi.json"): _op(
        "This description of the API",
        tag="service",
        security=PUBLIC,
        ok=(200, "An OpenAPI 3.1 document", {"type": "object", "required": ["openapi", "paths"]}),
    ),
    ("GET", "/.well-known/jwks.json"): _op(
        "The service's public key, to verify alerts and staff tokens",
        tag="service",
        security=PUBLIC,
        ok=(200, "A JWK Set with the service's Ed25519 key", ref("Jwks")),
    ),
    ("GET", "/healthz"): _op(
        "Liveness, the service's id and the knowledge version",
        tag="service",
        security=PUBLIC,
        ok=(200, "The service is up", ref("Health")),
    ),
    ("POST", "/admissions"): _op(
        "Admit a patient from a grant and slice (or a grant link)",
        tag="admissions",
        security=STAFF,
        body="AdmissionRequest",
        ok=(201, "Admitted: the slice verified, was checked and its alerts raised", ref("Admitted")),
        errors=BODY_ERRORS,
        description="Needs an admission-role staff token of the ward. Nothing is stored when refused.",
    ),
    ("POST", "/admissions/{admission}/entries"): _op(
        "Add the patient's new ledger entries (a revocation ends the admission)",
        tag="admissions",
        security=STAFF + PATIENT,
        body="LedgerUpdate",
        ok=(200, "The update was verified and applied", ref("Updated")),
        errors=BODY_ERRORS,
    ),
    ("GET", "/admissions/{admission}/audit"): _op(
        "The patient's audit trail: who read what, and the purge",
        tag="admissions",
        security=PATIENT,
        ok=(200, "Every audit record of the admission", ref("AuditTrail")),
        errors=READ_ERRORS,
    ),
    ("GET", "/wards/{ward}/schedule"): _op(
        "The ward's scheduled doses",
        tag="schedule",
        security=STAFF,
        ok=(200, "Every dose of the ward with its outcome", ref("ScheduleView")),
        errors=READ_ERRORS,
    ),
    ("POST", "/wards/{ward}/schedule"): _op(
        "Plan doses (administrations or FHIR MedicationRequests), all or nothing",
        tag="schedule",
        security=STAFF,
        body="ScheduleRequest",
        ok=(201, "Planned; drugs that did not resolve are listed and alerted", ref("Scheduled")),
        errors=BODY_ERRORS,
    ),
    ("POST", "/wards/{ward}/schedule/{dose}/outcome"): _op(
        "Record a dose as given, held or refused",
        tag="schedule",
        security=STAFF,
        body="OutcomeRequest",
        ok=(200, "The dose with its outcome", ref("Dose")),
        errors=BODY_ERRORS,
    ),
    ("GET", "/wards/{ward}/alerts"): _op(
        "The ward's active alerts for a shift, each with every acknowledgement",
        tag="alerts",
        security=STAFF,
        ok=(200, "Active alerts, most severe first", ref("AlertsView")),
        errors=READ_ERRORS,
        parameters=SHIFT_QUERY,
    ),
    ("GET", "/wards/{ward}/alerts/stream"): _op(
        "The ward's events as server-sent events, resumable",
        tag="alerts",
        security=STAFF,
        ok=(200, "", {}),
        errors=READ_ERRORS,
        parameters=LAST_EVENT_ID,
    ),
    ("POST", "/alerts/{alert}/acknowledgements"): _op(
        "Acknowledge an alert for the current shift (it stays shown)",
        tag="alerts",
        security=STAFF,
        body="AcknowledgementRequest",
        ok=(201, "The acknowledgement recorded", ref("Acknowledgement")),
        errors=BODY_ERRORS,
    ),
    ("GET", "/cds-services"): _op(
        "CDS Hooks discovery",
        tag="cds-hooks",
        security=PUBLIC,
        ok=(200, "The CDS services offered", ref("CdsDiscovery")),
    ),
    ("POST", "/cds-services/{service}"): _op(
        "CDS Hooks order-select / order-sign medication safety",
        tag="cds-hooks",
        security=CDS_CLIENT,
        body="CdsRequest",
        ok=(200, "Cards for the draft orders", CARDS),
        errors=(*BODY_ERRORS, 412),
    ),
    ("POST", "/cds-services/{service}/feedback"): _op(
        "CDS Hooks feedback on cards",
        tag="cds-hooks",
        security=CDS_CLIENT,
        body="CdsFeedback",
        ok=(200, "The feedback recorded", RECORDED),
        errors=BODY_ERRORS,
    ),
    ("POST", "/admissions/{admission}/observations"): _op(
        "Record an observation (INR, potassium, creatinine, eGFR, QTc) and re-check at once",
        tag="admissions",
        security=STAFF,
        body="ObservationRequest",
        ok=(
            201,
            "Stored with the admission, its alerts raised or changed, signed for her ledger",
            ref("ObservationRecorded"),
        ),
        errors=BODY_ERRORS,
        description="Needs a nurse staff token of the admission's ward. An unknown LOINC code or name, a "
        "missing or wrong unit, a value out of range or a time in the future is 400 and nothing is stored. "
        "The observation is signed by the service under the admission's grant (a practitioner entry, "
        "performer the clinician) and delivered to her ledger server when the grant's write scope covers "
        "observations, else handed over at discharge; `delivery` and "
        "`GET /admissions/{admission}/practitioner-entries` show where it is.",
    ),
    # Recording at the bedside and discharge (alertsvc.bedside, alertsvc.discharge).
    ("POST", "/admissions/{admission}/reactions"): _op(
        "Record a reaction seen on the ward: alerted at once, written back to the patient's ledger",
        tag="bedside",
        security=STAFF,
        body="BedsideReaction",
        ok=(201, "Recorded, signed by the hospital, and its delivery state", ref("RecordedEntry")),
        errors=BODY_ERRORS,
        description="A nurse of the admission's ward. The entry is signed by the service under the "
        "admission's grant; with a write grant it is delivered to her ledger server, else handed over at "
        "discharge.",
    ),
    ("POST", "/admissions/{admission}/allergies"): _op(
        "Record a new allergy found on the ward: alerted at once, written back to the patient's ledger",
        tag="bedside",
        security=STAFF,
        body="BedsideAllergy",
        ok=(201, "Recorded, signed by the hospital, and its delivery state", ref("RecordedEntry")),
        errors=BODY_ERRORS,
        description="A new allergy (`substance`), or `{no_known_allergies: true, clinician}`: the "
        "clinician's signed 'no known drug allergies', refused (409, nothing stored) when the admission "
        "records allergies (named) or its grant does not share allergies. Delivered like any entry.",
    ),
    ("GET", "/admissions/{admission}/practitioner-entries"): _op(
        "What the ward recorded for this patient, each with its delivery to her ledger",
        tag="bedside",
        security=STAFF,
        ok=(200, "Every entry recorded on the ward for the admission", ref("RecordedEntries")),
        errors=(*READ_ERRORS, 409),
    ),
    ("POST", "/admissions/{admission}/discharge"): _op(
        "Discharge: write the discharge medicines, deliver or hand over, then end and purge",
        tag="bedside",
        security=STAFF,
        body="DischargeRequest",
        ok=(200, "Ended; what reached her ledger, and the signed handover file", ref("Discharged")),
        errors=BODY_ERRORS,
        description="The answer holds her data (the handover file) and is not kept for an "
        "Idempotency-Key: a repeated discharge finds the admission ended (409).",
    ),
    ("POST", "/admissions/{admission}/scope-requests"): _op(
        "Ask the patient for a wider scope (signed, sent to her ledger server)",
        tag="admissions",
        security=STAFF,
        body="ScopeRequest",
        ok=(201, "Requested, awaiting the patient", ref("ScopeRequestState")),
        errors=(*BODY_ERRORS, 502),
        description="Staff of the admission's ward; the admission must have been admitted by grant link. "
        "Nothing is stored when her ledger server cannot be reached (502) or refuses it.",
    ),
    ("GET", "/admissions/{admission}/scope-requests"): _op(
        "The admission's scope requests and the patient's answers",
        tag="admissions",
        security=STAFF,
        ok=(200, "Every request of the admission", ref("ScopeRequests")),
        errors=READ_ERRORS,
    ),
}
OPERATIONS[("GET", "/wards/{ward}/alerts/stream")]["responses"]["200"] = STREAM

CDS_DISCOVERY = obj(
    {
        "services": array(
            obj(
                {
                    "hook": TEXT,
                    "id": TEXT,
                    "title": TEXT,
                    "description": TEXT,
                    "prefetch": {"type": "object", "additionalProperties": TEXT},
                },
                "hook id description",
            )
        )
    },
    "services",
)

CDS_REQUEST = obj(
    {
        "hook": {"type": "string", "enum": ["order-select", "order-sign"]},
        "hookInstance": NON_EMPTY,
        "context": {
            "type": "object",
            "description": "the hook's context: draftOrders (a FHIR Bundle of draft orders), selections, "
            "userId, patientId, encounterId (an alertsvc admission, whose slice is then checked too)",
            "properties": {
                "draftOrders": {"type": ["object", "array"]},
                "medications": {"type": ["object", "array"], "description": "DSTU2: the draft orders"},
                "selections": {"type": "array", "items": {"type": "string"}},
                "encounterId": TEXT,
            },
            "anyOf": [{"required": ["draftOrders"]}, {"required": ["medications"]}],
        },
        "prefetch": {"type": ["object", "null"], "description": "prefetch key -> FHIR resource or null"},
    },
    "hook hookInstance context",
)

CARD = obj(
    {
        "uuid": TEXT,
        "summary": {"type": "string", "maxLength": 140},
        "indicator": {"type": "string", "enum": ["info", "warning", "critical"]},
        "detail": TEXT,
        "source": obj({"label": TEXT, "url": TEXT, "topic": {"type": "object"}}, "label"),
        "overrideReasons": array({"type": "object"}),
        "suggestions": array({"type": "object"}),
        "selectionBehavior": TEXT,
    },
    "uuid summary indicator source",
)

CDS_FEEDBACK = obj(
    {
        "feedback": array(
            obj(
                {
                    "card": {"type": "string", "format": "uuid", "description": "a card's uuid"},
                    "outcome": {"type": "string", "enum": ["accepted", "overridden"]},
                    "outcomeTimestamp": INSTANT,
                    "overrideReason": {"type": "object"},
                    "acceptedSuggestions": array({"type": "object"}),
                },
                "card outcome outcomeTimestamp",
            ),
            minItems=1,
        )
    },
    "feedback",
)

DRAFT_IBUPROFEN = {
    "resourceType": "MedicationRequest",
    "id": "draft-1",
    "status": "draft",
    "intent": "order",
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "5640"}],
        "text": "ibuprofen",
    },
    "subject": {"reference": "Patient/1"},
}
CDS_REQUEST = example(
    CDS_REQUEST,
    {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/1",
            "patientId": "1",
            "encounterId": "adm-0f1e2d3c4b5a6978",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": DRAFT_IBUPROFEN}]},
        },
    },
)
CDS_FEEDBACK = example(
    CDS_FEEDBACK,
    {
        "feedback": [
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {"reason": {"code": "will-monitor"}},
                "outcomeTimestamp": "2030-01-16T01:30:00Z",
            }
        ]
    },
)

CDS_SCHEMAS: dict[str, Schema] = {
    "CdsDiscovery": CDS_DISCOVERY,
    "CdsRequest": CDS_REQUEST,
    "Card": CARD,
    "CdsFeedback": CDS_FEEDBACK,
}
