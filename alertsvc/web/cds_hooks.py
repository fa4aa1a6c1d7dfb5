"""CDS Hooks 2.0: discovery, a medication-safety service for ``order-select`` and ``order-sign``, feedback.

Draft medication orders (FHIR R4, STU3, DSTU2 or R5 shapes: see ``cds_fhir``) are checked against the
medications and allergies the client prefetched and, when ``context.encounterId`` names an active alertsvc
admission, that admission's slice: its medications, allergies, the patient's flagged reactions and the
ward's schedule (so a reaction the patient flagged reaches the prescriber too). Reading a slice is audited.

Decisions worth knowing:

- A prefetch key the client leaves out was not satisfied; a key sent as ``null`` means "none". With
  neither prefetch nor an active admission (one whose grant has not run out) the service answers 412
  Precondition Failed, as the specification says. When only medications or only allergies are known,
  the check runs and a card says what was not.
- A draft, medication, scheduled dose, allergy or flagged reaction that does not resolve to RxNorm gets a
  card saying it could not be checked, never an error response: clients show cards to the prescriber but
  usually only log a failed call, so an error would let the order through unchecked and unannounced, and
  would hide the findings for the other orders. As on the ward (``alertsvc.unchecked``), an unchecked
  drug is at least major: a draft order that cannot be checked is ``critical`` (it is the drug about to
  be given, as a scheduled dose is on the ward, where such an alert interrupts), with override reasons
  and a suggestion to remove the draft; the patient's own unchecked medications, doses, allergies and
  flagged reactions are ``warning``, and ``critical`` when an unresolved allergy or flagged reaction
  names a draft as written.
- ``order-select`` cards concern the orders in ``context.selections`` (every draft when it names none),
  as the hook asks; ``order-sign`` cards concern every draft. Only findings that involve such an order
  become cards.
- Card ids are uuid5 of the endpoint, ``hookInstance`` and finding, so a retried call gives the same ids
  and no two calls share one. Critical and major cards carry override reasons and a suggestion to delete
  the draft order (so ``accepted`` feedback has a suggestion to name).
- Feedback is validated whole (card uuid, outcome, ``outcomeTimestamp``, override reason Coding) before
  anything is stored; the override reason's code is kept, the user's free-text comment is not.

Calls to a service and to its feedback endpoint need the client's JWT (see ``cds_auth``): any fault is a
bare 401. Its ``aud`` is compared with the URL the request arrived at (scheme, host, port and path: behind
a TLS-terminating proxy, run uvicorn with its proxy headers on); a feedback call may name the feedback URL
or its service's URL. Discovery is public metadata and needs none.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertsvc import (
    admissions,
    audit,
    idempotency,
    lookups,
    observation_desk,
    sealing,
    server_http,
    store,
    upstream,
)
from alertsvc.alerts.build import dedupe_key
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import InputError, NotFound
from alertsvc.knowledge.check import check
from alertsvc.knowledge.display import with_notes
from alertsvc.knowledge.graph import MAX_SUMMARY
from alertsvc.knowledge.model import Allergy, Finding, FlaggedReaction, Medication, Source
from alertsvc.knowledge.observations import LabValue
from alertsvc.patient_data import with_schedule
from alertsvc.schedule.mar import ScheduledDose, unresolved_ingredient
from alertsvc.server_http import bearer
from alertsvc.service import Service
from alertsvc.unchecked import fit
from alertsvc.web import http
from alertsvc.web.cds_auth import TrustedClients, read_client_token
from alertsvc.web.cds_fhir import Drafts, FhirReader, Unchecked
from alertsvc.web.idempotent import once

SERVICES = {
    "alertsvc-medication-safety-select": "order-select",
    "alertsvc-medication-safety-sign": "order-sign",
}
PREFETCH = {
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "statements": "MedicationStatement?patient={{context.patientId}}&status=active",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}
BASE = "https://alertsvc.example/cds"
OVERRIDE_REASONS = [
    {"system": f"{BASE}/override-reason", "code": code, "display": display}
    for code, display in [
        ("benefit-outweighs-risk", "Benefit outweighs risk"),
        ("will-monitor", "Will monitor the patient closely"),
        ("patient-tolerated", "Patient has tolerated this before"),
        ("not-applicable", "Not applicable to this patient"),
    ]
]
TOPICS = {
    "interaction": "Drug interaction",
    "allergy": "Allergy",
    "reaction": "Flagged reaction",
    "duplicate": "Duplicate therapy",
    "too-soon": "Dose too soon",
    "unchecked": "Not checked",
    "overdue": "Dose overdue",
    "renal-dose": "Dose for kidney function",
    "long-qt": "QT-prolonging drug with a long QTc",
}


# --- routes -------------------------------------------------------------------------------------------


async def discovery(request: Request) -> JSONResponse:
    when = {"order-select": "when an order is selected", "order-sign": "before orders are signed"}
    services = [
        {
            "hook": hook,
            "id": service_id,
            "title": f"alertsvc medication safety ({when[hook]})",
            "description": "Interactions, allergies, cross-sensitivity, patient-flagged reactions and "
            "duplicate therapy for draft medication orders.",
            "prefetch": PREFETCH,
            "usageRequirements": "A client JWT from a configured issuer. Without prefetch, "
            "context.encounterId must name an alertsvc admission.",
        }
        for service_id, hook in SERVICES.items()
    ]
    return JSONResponse({"services": services})


async def call_service(request: Request) -> JSONResponse:
    service_id, service = _service_id(request), http.service_of(request)
    issuer = authenticate(request, service, audiences={_endpoint(request)})
    body = await http.json_body(request, what="CDS Hooks request")
    hook, instance, context = body.get("hook"), body.get("hookInstance"), body.get("context")
    if hook != SERVICES[service_id]:
        raise InputError(f"hook {hook!r} is not served by {service_id} (it serves {SERVICES[service_id]})")
    if not isinstance(instance, str) or not instance:
        raise InputError("CDS Hooks request: 'hookInstance' is required")
    if not isinstance(context, dict):
        raise InputError("CDS Hooks request: 'context' must be an object")
    sent = body.get("prefetch")
    sent = {} if sent is None else sent
    if not isinstance(sent, dict):
        raise InputError("CDS Hooks request: 'prefetch' must be an object (key -> FHIR resource or null)")
    prefetch: dict[str, Any] = sent

    def read() -> tuple[FhirReader, tuple[Drafts, list[Medication], list[Allergy]]]:
        reader = FhirReader(service.normalizer, [context.get("draftOrders"), *prefetch.values()])
        return reader, reader.read(context, prefetch, hook == "order-select")

    # In a worker thread: with RxNav configured, resolving a term may wait on the network (one deadline).
    reader, (drafts, current, allergies) = await lookups.in_thread(service.lookups, read)
    flagged: list[FlaggedReaction] = []
    has_meds, has_allergies = "medications" in prefetch or "statements" in prefetch, "allergies" in prefetch
    admission, why_not = _admission(service, context.get("encounterId"))
    observed: list[LabValue] = []
    if admission is not None:
        patient = await service.patient_of(admission.id)
        observed = observation_desk.observations_of(service, admission.id, patient)
        doses = admissions.doses(service.db, admission=admission.id)
        current += with_schedule(patient.inputs.medications, doses, now=service.clock())
        allergies += patient.inputs.allergies
        flagged += patient.inputs.flagged
        reader.unchecked += [Unchecked(u.what, u.term, u.reason, u.ref) for u in patient.inputs.unresolved]
        reader.unchecked += [
            Unchecked(
                "dose", d.drug, "the ward scheduled it, and it did not resolve to RxNorm", "dose:" + d.id
            )
            for d in _first_pending_unresolved(doses)
        ]
        has_meds = has_allergies = True
    if not has_meds and not has_allergies:
        message = f"no prefetched medications or allergies, and {why_not}"
        return server_http.error_response(412, "precondition-failed", message)
    findings = with_notes(
        check(
            [*current, *drafts.medications],
            allergies,
            flagged,
            service.graph,
            observations=observed,
            now=service.clock(),
        ),
        [*current, *drafts.medications],
    )
    cards = [
        card(f, drafts, service.knowledge.sources) for f in findings if drafts.selected.intersection(f.refs)
    ]
    unknown_drafts = {unresolved_ingredient(u.term).rxcui for u in reader.unchecked if u.what == "draft"}
    cards += [
        unchecked_card(u, drafts, named_by_draft=unresolved_ingredient(u.term).rxcui in unknown_drafts)
        for u in reader.unchecked
        if u.what != "draft" or u.ref in drafts.selected
    ]
    for what, known in (("medications", has_meds), ("allergies", has_allergies)):
        if not known:
            cards.append(unchecked_card(Unchecked(what, "", "the client sent no prefetch for them"), drafts))
    findings_of = {  # a card's key -> the alert identity of its finding on this admission's ward
        card(f, drafts, service.knowledge.sources)["key"]: sealing.dedupe_tag(
            service.db, admission.id, dedupe_key(admission.id, f)
        )
        for f in findings
        if admission is not None
    }
    issued = []
    for one in cards:
        key = one.pop("key")
        one["uuid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{_endpoint(request)}#{instance}#{key}"))
        if key in findings_of:
            issued.append((one["uuid"], findings_of[key]))
    if admission is not None:
        detail = {"service": service_id, "user": str(context.get("userId", ""))[:200], "cards": len(cards)}
        with store.write(service.db):
            upstream.remember_cards(
                service.db, admission.id, issued, user=str(context.get("userId", "")), now=service.clock()
            )
            audit.record(
                service.db,
                now=service.clock(),
                actor=f"cds:{issuer}",
                action="cds-check",
                admission=admission.id,
                ward=admission.ward,
                detail=detail,
            )
    return JSONResponse({"cards": cards})


async def feedback(request: Request) -> Response:
    service_id, service = _service_id(request), http.service_of(request)
    endpoint = _endpoint(request)
    issuer = authenticate(request, service, audiences={endpoint, endpoint.removesuffix("/feedback")})

    async def record(body: dict[str, Any], key: idempotency.Pending | None) -> dict[str, Any]:
        return _record_feedback(service, service_id, body, key, client=issuer)

    caller = idempotency.caller_id("cds", issuer)
    return await once(request, caller=caller, status=200, what="CDS Hooks feedback", write=record)


def _record_feedback(
    service: Service, service_id: str, body: dict[str, Any], key: idempotency.Pending | None, *, client: str
) -> dict[str, Any]:
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise InputError("CDS Hooks feedback: 'feedback' must be a non-empty list")
    received = iso(service.clock())
    rows = [_feedback_row(service_id, i, item, received=received) for i, item in enumerate(items)]
    with store.write(service.db):
        service.db.executemany(
            "INSERT INTO cds_feedback(id, service, card, outcome, override_reason, outcome_at, received_at) "
            "VALUES (?,?,?,?,?,?,?)",
            rows,
        )
        displays = {r["code"]: r["display"] for r in OVERRIDE_REASONS}
        linked = [(r[2], r[3], r[4], displays.get(r[4], r[4]), r[5]) for r in rows]
        upstream.link_overrides(service.db, linked, client=client, received=received)
        idempotency.remember(service.db, key, {"recorded": len(rows)})
    return {"recorded": len(rows)}


def authenticate(request: Request, service: Service, *, audiences: set[str]) -> str:
    """The issuer of the request's valid client JWT (see ``cds_auth``); Unauthorized otherwise."""
    token = bearer(request.headers.get("authorization"))
    clients = getattr(request.app.state, "cds_clients", None)
    if not isinstance(clients, TrustedClients):
        clients = request.app.state.cds_clients = TrustedClients(service.settings)
    return read_client_token(token, clients, audiences=audiences, now=service.clock().timestamp())


def _feedback_row(service_id: str, i: int, item: Any, *, received: str) -> list[str]:
    """One feedback entry as a row, or InputError naming what is wrong with it."""
    where = f"feedback[{i}]"
    if not isinstance(item, dict) or item.get("outcome") not in ("accepted", "overridden"):
        raise InputError(f"{where}: 'outcome' must be accepted or overridden")
    try:
        card_id = uuid.UUID(str(item.get("card", "")).removeprefix("urn:uuid:"))
        outcome_at = parse_iso(str(item.get("outcomeTimestamp", "")))
    except ValueError as exc:
        raise InputError(f"{where}: needs 'card' (a card's uuid) and 'outcomeTimestamp' (ISO 8601)") from exc
    override = item.get("overrideReason", {})
    reason = override.get("reason", {}) if isinstance(override, dict) else None
    if not isinstance(reason, dict) or not isinstance(reason.get("code", ""), str):
        raise InputError(f"{where}: 'overrideReason' must be an object whose 'reason' is a Coding")
    row = [uuid.uuid4().hex, service_id, str(card_id), item["outcome"], reason.get("code", "")]
    return [*row, iso(outcome_at), received]


def _service_id(request: Request) -> str:
    service_id: str = request.path_params["service"]
    if service_id not in SERVICES:
        raise NotFound(f"no CDS service {service_id!r}")
    return service_id


def _endpoint(request: Request) -> str:
    return str(request.url.replace(query="", fragment=""))


def _admission(service: Service, encounter: Any) -> tuple[admissions.Admission | None, str]:
    """The active admission ``context.encounterId`` names, or None and why not (an EHR's id is no error;
    an id that is not text is: read as none, the patient's own slice would go unchecked)."""
    if encounter is None or encounter == "":
        return None, "no context.encounterId naming an alertsvc admission"
    if not isinstance(encounter, str):
        raise InputError("CDS Hooks request: 'context.encounterId' must be text (an encounter id)")
    found = admissions.get_admission(service.db, encounter)
    if found is None:
        return None, f"context.encounterId {encounter!r} is not an alertsvc admission"
    if not found.active or found.expires_at <= service.clock():
        return None, f"admission {encounter} has ended"
    return found, ""


# --- cards --------------------------------------------------------------------------------------------


def card(finding: Finding, drafts: Drafts, sources: dict[str, Source]) -> dict[str, Any]:
    """A CDS Hooks card for one finding (its ``key`` is replaced by the card's ``uuid``)."""
    names = ", ".join(f"{i.name} (RxNorm {i.rxcui})" for i in finding.ingredients)
    known = [sources[key] for key in finding.sources if key in sources]
    detail = [
        f"**{finding.management}**" if finding.management else "",
        finding.mechanism,
        f"Ingredients: {names}. Rule `{finding.rule}`, knowledge {finding.knowledge_version}.",
        "Sources: " + "; ".join(s.title for s in known) + "." if known else "",
    ]
    ingredients = "+".join(i.rxcui for i in finding.ingredients)
    result: dict[str, Any] = {
        "key": f"{finding.kind}|{finding.rule}|{ingredients}|{'|'.join(finding.refs)}",
        "summary": _short(finding.summary),
        "indicator": finding.indicator,
        "detail": "\n\n".join(d for d in detail if d),
        "source": _source(finding.kind, f"alertsvc ({', '.join(finding.sources)})"),
    }
    url = next((s.url for s in known if s.url), "")
    if url:
        result["source"]["url"] = url
    if finding.severity in ("critical", "major"):
        result["overrideReasons"] = OVERRIDE_REASONS
        orders = [r for r in finding.refs if r in drafts.ids and r in drafts.selected]
        suggestions = [
            {
                "label": f"Remove the draft order for {drafts.labels[ref]}",
                "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{result['key']}#{drafts.ids[ref]}")),
                "actions": [
                    {
                        "type": "delete",
                        "description": f"Remove {drafts.ids[ref]}",
                        "resourceId": drafts.ids[ref],
                    }
                ],
            }
            for ref in orders
        ]
        if suggestions:
            result |= {"suggestions": suggestions, "selectionBehavior": "at-most-one"}
    return result


def unchecked_card(item: Unchecked, drafts: Drafts, *, named_by_draft: bool = False) -> dict[str, Any]:
    """A card saying what could not be checked: a missed check must be visible, never silent.

    ``named_by_draft``: an unresolved draft names the same drug, as written, as this item.
    """
    term = " ".join(item.term.split())
    indicator = "warning"
    if item.what in ("medications", "allergies"):
        summary = f"Not checked against the patient's {item.what}: {item.reason}"
        advice = f"1. Check the order against the patient's {item.what} by hand."
    elif item.what == "draft":
        indicator = "critical"
        summary = fit(
            "Draft order {} could not be checked: interactions, allergies and reactions unknown.", term
        )
        advice = (
            "1. Choose the drug from the coded list, or write its ingredient name. 2. If it must stay as"
            " written, ask a pharmacist to check it by hand before the first dose."
        )
    elif item.what in ("allergy", "reaction"):
        indicator = "critical" if named_by_draft else "warning"
        flag = "Allergy" if item.what == "allergy" else "Flagged reaction"
        summary = fit(flag + " to {} could not be checked: no order can be checked against it.", term)
        if named_by_draft:
            template = "The draft order names {}, to which the patient's " + flag.lower() + " is unchecked."
            summary = fit(template, term)
        advice = (
            f"1. Make sure the order is not {term} and does not contain it. 2. Ask the patient or a"
            f" pharmacist what {term} is."
        )
    else:
        which = "Scheduled dose of" if item.what == "dose" else "Current medication"
        summary = fit(which + " {} could not be checked: its interactions with the order are unknown.", term)
        advice = (
            f"1. Check the order against {term} by hand, or ask a pharmacist. 2. Record what {term} is,"
            " so it can be checked."
        )
    result: dict[str, Any] = {
        "key": f"unchecked|{item.what}|{item.term}|{item.ref}",
        "summary": _short(summary),
        "indicator": indicator,
        "detail": f"**{advice}**\n\n{item.reason[:500]}\n\nRule `unchecked-{item.what}` (alertsvc): a drug"
        " that does not resolve to RxNorm is not checked, and is at least major.",
        "source": _source("unchecked", "alertsvc"),
        "overrideReasons": OVERRIDE_REASONS,
    }
    if item.what == "draft" and item.ref in drafts.ids:
        rid = drafts.ids[item.ref]
        remove = {"type": "delete", "description": f"Remove {rid}", "resourceId": rid}
        suggestion = {
            "label": f"Remove the draft order for {term}",
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{result['key']}#{rid}")),
            "actions": [remove],
        }
        result |= {"suggestions": [suggestion], "selectionBehavior": "at-most-one"}
    return result


def _first_pending_unresolved(doses: list[ScheduledDose]) -> list[ScheduledDose]:
    """The earliest dose not yet recorded of each scheduled drug that did not resolve."""
    first: dict[str, ScheduledDose] = {}
    for dose in sorted(doses, key=lambda d: (d.due, d.id)):
        if dose.unresolved and dose.outcome is None:
            first.setdefault(unresolved_ingredient(dose.drug).rxcui, dose)
    return list(first.values())


def _source(kind: str, label: str) -> dict[str, Any]:
    return {"label": label, "topic": {"system": f"{BASE}/topic", "code": kind, "display": TOPICS[kind]}}


def _short(text: str) -> str:
    """A summary under 140 characters, as CDS Hooks asks."""
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1].rstrip() + "…"


ROUTES = [
    Route("/cds-services", discovery, methods=["GET"]),
    Route("/cds-services/{service}", call_service, methods=["POST"]),
    Route("/cds-services/{service}/feedback", feedback, methods=["POST"]),
]
