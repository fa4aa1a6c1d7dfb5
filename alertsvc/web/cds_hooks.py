"""CDS Hooks 2.0: discovery, a medication-safety service for ``order-select`` and ``order-sign``, feedback.

Draft MedicationRequests (FHIR R4, and the STU3 shapes older clients still send) are checked against
the medications and allergies the client prefetched, or, when it prefetched none, against the slice of
the admission named by ``context.encounterId`` (an alertsvc admission id). Cards carry summary,
indicator, source, detail and override reasons; only findings that involve a draft order become cards.

Calls to a service and its feedback endpoint need the client's JWT (``Authorization: Bearer``), signed
with EdDSA by an issuer listed in the ``cds_clients`` setting, with ``aud`` this endpoint's URL, a
current ``exp`` and a ``jti``. Discovery is public metadata and needs none. Anything else is a bare 401.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from alertsvc import storage
from alertsvc.alerts import jws
from alertsvc.clock import iso
from alertsvc.errors import AlertsvcError, InputError, NotFound, Unauthorized, UnknownDrug
from alertsvc.knowledge.check import check
from alertsvc.knowledge.model import RXNORM_SYSTEM, Allergy, Finding, FlaggedReaction, Medication
from alertsvc.web import http
from alertsvc.web.auth import bearer

SERVICES = {
    "alertsvc-medication-safety-select": "order-select",
    "alertsvc-medication-safety-sign": "order-sign",
}
PREFETCH = {
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "statements": "MedicationStatement?patient={{context.patientId}}&status=active",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}
OVERRIDE_SYSTEM = "https://alertsvc.example/cds/override-reason"
OVERRIDE_REASONS = [
    {"code": "benefit-outweighs-risk", "system": OVERRIDE_SYSTEM, "display": "Benefit outweighs risk"},
    {"code": "will-monitor", "system": OVERRIDE_SYSTEM, "display": "Will monitor the patient closely"},
    {"code": "patient-tolerated", "system": OVERRIDE_SYSTEM, "display": "Patient has tolerated this before"},
    {"code": "not-applicable", "system": OVERRIDE_SYSTEM, "display": "Not applicable to this patient"},
]
DRAFT = "draft:"


async def discovery(request: Request) -> JSONResponse:
    services = [
        {
            "hook": hook,
            "id": service_id,
            "title": "alertsvc medication safety",
            "description": "Interactions, allergies, cross-sensitivity, flagged reactions and duplicate "
            "therapy for draft medication orders.",
            "prefetch": PREFETCH,
        }
        for service_id, hook in SERVICES.items()
    ]
    return JSONResponse({"services": services})


async def call_service(request: Request) -> JSONResponse:
    service_id = request.path_params["service"]
    if service_id not in SERVICES:
        raise NotFound(f"no CDS service {service_id!r}")
    service = http.service_of(request)
    authenticate(request, service.settings.cds_clients, now=service.clock())
    body = await http.json_body(request, what="CDS Hooks request")
    hook = body.get("hook")
    if hook != SERVICES[service_id]:
        raise InputError(f"hook {hook!r} is not served by {service_id} (it serves {SERVICES[service_id]})")
    context = body.get("context")
    if not isinstance(context, dict):
        raise InputError("CDS Hooks request: 'context' must be an object")
    drafts = draft_medications(service, context)
    prefetch = body.get("prefetch") if isinstance(body.get("prefetch"), dict) else {}
    if prefetch and any(prefetch.get(k) for k in PREFETCH):
        flagged: list[FlaggedReaction] = []
        current, allergies = _from_prefetch(service, prefetch), _allergies(service, prefetch)
    else:
        current, allergies, flagged = await _from_admission(service, context)
    findings = check([*current, *drafts], allergies, flagged, service.graph)
    cards = [card(f) for f in findings if any(r.startswith(DRAFT) for r in f.refs)]
    return JSONResponse({"cards": cards})


async def feedback(request: Request) -> JSONResponse:
    service_id = request.path_params["service"]
    if service_id not in SERVICES:
        raise NotFound(f"no CDS service {service_id!r}")
    service = http.service_of(request)
    authenticate(request, service.settings.cds_clients, now=service.clock())
    body = await http.json_body(request, what="CDS Hooks feedback")
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise InputError("CDS Hooks feedback: 'feedback' must be a non-empty list")
    rows = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or item.get("outcome") not in ("accepted", "overridden"):
            raise InputError(f"feedback[{i}]: 'outcome' must be accepted or overridden")
        if not isinstance(item.get("card"), str):
            raise InputError(f"feedback[{i}]: 'card' must be the card's uuid")
        reason = item.get("overrideReason") or {}
        coding = reason.get("reason") if isinstance(reason, dict) else None
        rows.append(
            [
                uuid.uuid4().hex,
                service_id,
                item["card"],
                item["outcome"],
                coding.get("code", "") if isinstance(coding, dict) else "",
                str(item.get("outcomeTimestamp", "")),
                iso(service.clock()),
            ]
        )
    with storage.write(service.db):
        service.db.conn.executemany(
            "INSERT INTO cds_feedback(id, service, card, outcome, override_reason, outcome_at, received_at) "
            "VALUES (?,?,?,?,?,?,?)",
            rows,
        )
    return JSONResponse({"recorded": len(rows)})


def authenticate(request: Request, clients: str, *, now: datetime) -> str:
    """The issuer of a valid CDS client JWT for this endpoint; Unauthorized otherwise."""
    token = bearer(request.headers.get("authorization"))
    trusted = dict(pair.split("=", 1) for pair in clients.split(";") if "=" in pair)
    try:
        unverified = jws.unverified_claims(token)
        issuer = str(unverified.get("iss", ""))
        if issuer not in trusted:
            raise Unauthorized("untrusted CDS client")
        claims = jws.verify_with_id(token, trusted[issuer])
    except AlertsvcError as exc:
        raise Unauthorized("bad CDS client JWT") from exc
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    endpoint = str(request.url.replace(query=""))
    exp, iat = claims.get("exp"), claims.get("iat")
    if (
        endpoint not in audiences
        or not isinstance(exp, int)
        or not isinstance(iat, int)
        or not iat - 60 <= now.timestamp() < exp
        or not claims.get("jti")
    ):
        raise Unauthorized("CDS client JWT not valid for this endpoint or time")
    return issuer


def card(finding: Finding) -> dict[str, Any]:
    """A CDS Hooks card for one finding."""
    result: dict[str, Any] = {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"alertsvc:{finding.rule}:{finding.summary}")),
        "summary": finding.summary[:139],
        "indicator": finding.indicator,
        "detail": f"**{finding.management or 'Review'}**\n\n{finding.mechanism}\n\n"
        f"Rule `{finding.rule}`; sources: {', '.join(finding.sources)}; "
        f"knowledge {finding.knowledge_version}.",
        "source": {
            "label": f"alertsvc ({', '.join(finding.sources)})",
            "topic": {
                "system": "https://alertsvc.example/rule",
                "code": finding.rule,
                "display": finding.kind,
            },
        },
    }
    if finding.interruptive or finding.severity == "major":
        result["overrideReasons"] = OVERRIDE_REASONS
    return result


def draft_medications(service: Any, context: dict[str, Any]) -> list[Medication]:
    """The draft orders of ``context.draftOrders`` (a Bundle) or STU3's ``context.medications``."""
    drafts = context.get("draftOrders") or context.get("medications")
    resources = _resources(drafts)
    meds = []
    for i, resource in enumerate(resources):
        if resource.get("resourceType") != "MedicationRequest":
            continue
        term = medication_term(resource, f"draft order {i}")
        try:
            meds.append(service.normalizer.medication(term, ref=f"{DRAFT}{resource.get('id', i)}"))
        except UnknownDrug as exc:
            raise UnknownDrug(f"draft order {resource.get('id', i)}: {exc}") from exc
    if not meds:
        raise InputError("CDS Hooks request: no draft MedicationRequest in context.draftOrders")
    return meds


def medication_term(resource: dict[str, Any], where: str) -> str:
    """The RxNorm code (preferred) or the text of a MedicationRequest/Statement's medication."""
    concept = resource.get("medicationCodeableConcept")
    if not isinstance(concept, dict):
        reference = (resource.get("medicationReference") or {}).get("reference", "")
        contained = {f"#{c.get('id')}": c for c in resource.get("contained", []) if isinstance(c, dict)}
        concept = (contained.get(reference) or {}).get("code")
    if isinstance(concept, dict):
        for coding in concept.get("coding", []):
            if isinstance(coding, dict) and coding.get("system") == RXNORM_SYSTEM and coding.get("code"):
                return str(coding["code"])
        text = concept.get("text") or next(
            (c.get("display") for c in concept.get("coding", []) if isinstance(c, dict) and c.get("display")),
            None,
        )
        if text:
            return str(text)
    raise InputError(f"{where}: names no medication (medicationCodeableConcept or a contained Medication)")


def _resources(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        return [e["resource"] for e in value.get("entry", []) if isinstance(e, dict) and "resource" in e]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict) and value.get("resourceType"):
        return [value]
    return []


def _from_prefetch(service: Any, prefetch: dict[str, Any]) -> list[Medication]:
    meds = []
    for key in ("medications", "statements"):
        for i, resource in enumerate(_resources(prefetch.get(key))):
            if resource.get("status") not in (None, "active", "on-hold", "intended"):
                continue
            term = medication_term(resource, f"prefetch {key}[{i}]")
            try:
                meds.append(service.normalizer.medication(term, ref=f"prefetch:{resource.get('id', i)}"))
            except UnknownDrug:
                continue  # an unresolved current medication cannot be checked; drafts still are
    return meds


def _allergies(service: Any, prefetch: dict[str, Any]) -> list[Allergy]:
    allergies = []
    for resource in _resources(prefetch.get("allergies")):
        code = resource.get("code") or {}
        terms = [c.get("code") for c in code.get("coding", []) if c.get("system") == RXNORM_SYSTEM]
        terms += [code.get("text")] + [c.get("display") for c in code.get("coding", [])]
        for term in [t for t in terms if t]:
            try:
                allergies.append(service.normalizer.resolve_allergy(str(term)))
                break
            except UnknownDrug:
                continue
    return allergies


async def _from_admission(
    service: Any, context: dict[str, Any]
) -> tuple[list[Medication], list[Allergy], list[Any]]:
    admission_id = context.get("encounterId")
    if not isinstance(admission_id, str):
        raise InputError(
            "CDS Hooks request: no prefetch and no context.encounterId naming an alertsvc admission"
        )
    patient = await service.patient_of(admission_id)
    inputs = patient.inputs
    return list(inputs.medications), list(inputs.allergies), list(inputs.flagged)


ROUTES = [
    Route("/cds-services", discovery, methods=["GET"]),
    Route("/cds-services/{service}", call_service, methods=["POST"]),
    Route("/cds-services/{service}/feedback", feedback, methods=["POST"]),
]
