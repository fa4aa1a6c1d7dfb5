"""The JSON routes of docs/design.md ("Interfaces"). Each reads who is asking and the body, and hands
both to the service.

Every POST takes an ``Idempotency-Key`` (``web.idempotent.once``): who is asking is read first, so a bad
token is a bare 401 whatever the key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertsvc import admissions as adm
from alertsvc import alert_actions, allergy_desk, idempotency, schedule_desk, updates, ward_desk
from alertsvc.access import SignedCall, Staff, signed_request_signer
from alertsvc.errors import NotFound, Unauthorized
from alertsvc.server_http import bearer, request_target
from alertsvc.service import Service
from alertsvc.web import bedside_routes, observation_routes, scope_request_routes
from alertsvc.web import http as web
from alertsvc.web.idempotent import once, staff_caller

AlertAct = Callable[..., Awaitable[dict[str, Any]]]
"""A desk's write about one alert: ``act(service, alert_id, body, staff, *, once=key)``."""


def staff_of(request: Request) -> Staff:
    """The staff member a request's bearer token names (Unauthorized otherwise)."""
    return web.service_of(request).staff(bearer(request.headers.get("authorization")))


async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(web.service_of(request).jwks(), headers={"Cache-Control": "public, max-age=300"})


async def health(request: Request) -> JSONResponse:
    return JSONResponse(web.service_of(request).health())


async def admit(request: Request) -> Response:
    staff = staff_of(request)
    service = web.service_of(request)
    return await once(
        request,
        caller=staff_caller(staff),
        status=201,
        what="admission",
        write=lambda body, key: service.admit(body, staff, once=key),
    )


async def add_entries(request: Request) -> Response:
    service = web.service_of(request)
    admission = request.path_params["admission"]
    authorization = bearer(request.headers.get("authorization"))
    entries_caller(service, admission, authorization)  # who is asking, before a byte of the body is read
    try:
        who: updates.Credential = service.staff(authorization)
    except Unauthorized:  # a request the patient signed: it covers the body, so read that (bounded) first
        raw = await web.read_body(request, service.settings.max_body_bytes, what="ledger update")
        call = SignedCall(authorization, method="POST", target=request_target(request), body=raw)
        who = updates.signer(service, admission, call)
    caller = staff_caller(who) if isinstance(who, Staff) else idempotency.caller_id("signer", who.public_id)
    return await once(
        request,
        caller=caller,
        status=200,
        what="ledger update",
        write=lambda body, key: updates.add_entries(service, admission, body, who, once=key),
    )


def entries_caller(service: Service, admission_id: str, authorization: str) -> None:
    """Staff of the admission's ward, or a request signed by its patient for this service and time;
    Unauthorized or NotFound otherwise. Another ward's admission is "no admission", as a guessed id is.
    (The service checks the caller fully, with the body: ``Service.add_entries``.)"""
    ward: str | None = None
    signer: str | None = None
    try:
        ward = service.staff(authorization).ward
    except Unauthorized:  # not a staff token; perhaps a request signed by the patient
        now = service.clock()
        signer = signed_request_signer(authorization, audience=service.identity.public_id, now=now)
    admission = adm.get_admission(service.db, admission_id)
    theirs = admission is not None and (
        admission.ward == ward if signer is None else admission.patient == signer
    )
    if not theirs:
        raise NotFound(f"no admission {admission_id}")


async def audit(request: Request) -> JSONResponse:
    service = web.service_of(request)
    admission = request.path_params["admission"]
    call = SignedCall(
        bearer(request.headers.get("authorization")), method="GET", target=request_target(request)
    )
    return JSONResponse(ward_desk.audit_trail(service, admission, call))


async def schedule(request: Request) -> Response:
    service = web.service_of(request)
    staff = staff_of(request)
    ward = request.path_params["ward"]
    if request.method == "GET":
        return JSONResponse(schedule_desk.schedule_view(service, ward, staff))
    return await once(
        request,
        caller=staff_caller(staff),
        status=201,
        what="schedule",
        write=lambda body, key: schedule_desk.add_schedule(service, ward, body, staff, once=key),
    )


async def dose_outcome(request: Request) -> Response:
    service = web.service_of(request)
    staff = staff_of(request)
    ward, dose = request.path_params["ward"], request.path_params["dose"]
    return await once(
        request,
        caller=staff_caller(staff),
        status=200,
        what="dose outcome",
        write=lambda body, key: schedule_desk.record_administration(
            service, ward, dose, body, staff, once=key
        ),
    )


async def alerts(request: Request) -> JSONResponse:
    service = web.service_of(request)
    staff = staff_of(request)
    ward = request.path_params["ward"]
    view = ward_desk.alerts_view(service, ward, request.query_params.get("shift"), staff)
    view["admissions"] = await allergy_desk.ward_admissions(service, ward, staff)
    return JSONResponse(view)


async def _act_on_alert(request: Request, *, status: int, what: str, act: AlertAct) -> Response:
    """A nurse's write about one alert (``act(service, alert, body, staff, once=key)``), once per key."""
    service = web.service_of(request)
    staff = staff_of(request)
    alert = request.path_params["alert"]
    return await once(
        request,
        caller=staff_caller(staff),
        status=status,
        what=what,
        write=lambda body, key: act(service, alert, body, staff, once=key),
    )


async def acknowledge(request: Request) -> Response:
    return await _act_on_alert(request, status=201, what="acknowledgement", act=ward_desk.acknowledge)


async def hold_and_tell(request: Request) -> Response:
    return await _act_on_alert(
        request, status=201, what="hold and tell prescriber", act=alert_actions.hold_and_tell
    )


async def prescriber_answer(request: Request) -> Response:
    return await _act_on_alert(
        request, status=200, what="prescriber's answer", act=alert_actions.prescriber_answer
    )


ROUTES = [
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/healthz", health, methods=["GET"]),
    Route("/admissions", admit, methods=["POST"]),
    Route("/admissions/{admission}/entries", add_entries, methods=["POST"]),
    Route("/admissions/{admission}/audit", audit, methods=["GET"]),
    Route("/wards/{ward}/schedule", schedule, methods=["GET", "POST"]),
    Route("/wards/{ward}/schedule/{dose}/outcome", dose_outcome, methods=["POST"]),
    Route("/wards/{ward}/alerts", alerts, methods=["GET"]),
    Route("/alerts/{alert}/acknowledgements", acknowledge, methods=["POST"]),
    Route("/alerts/{alert}/hold", hold_and_tell, methods=["POST"]),
    Route("/alerts/{alert}/prescriber-answer", prescriber_answer, methods=["POST"]),
    *observation_routes.ROUTES,
    *bedside_routes.ROUTES,
    *scope_request_routes.ROUTES,
]
