"""The ward's routes for recording at the bedside and discharge (``alertsvc.bedside``,
``alertsvc.discharge``): who is asking first (a bad token is a bare 401), then the write through
``web.idempotent.once`` so an ``Idempotency-Key`` is honoured as on every POST."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertsvc import bedside, discharge, practitioner_entries
from alertsvc.server_http import bearer
from alertsvc.web import http as web
from alertsvc.web.idempotent import once, staff_caller


async def record_reaction(request: Request) -> Response:
    return await _record(request, "reaction")


async def record_allergy(request: Request) -> Response:
    return await _record(request, "allergy")


async def _record(request: Request, kind: str) -> Response:
    service = web.service_of(request)
    staff = service.staff(bearer(request.headers.get("authorization")))
    admission = request.path_params["admission"]
    practitioner_entries.ward_admission(
        service, admission, staff
    )  # another ward's id is "no admission", before the body
    return await once(
        request,
        caller=staff_caller(staff),
        status=201,
        what=f"bedside {kind}",
        write=lambda body, key: bedside.record(service, admission, kind, body, staff, once=key),
    )


async def recorded(request: Request) -> JSONResponse:
    service = web.service_of(request)
    staff = service.staff(bearer(request.headers.get("authorization")))
    return JSONResponse(bedside.recorded_view(service, request.path_params["admission"], staff))


async def discharge_patient(request: Request) -> Response:
    service = web.service_of(request)
    staff = service.staff(bearer(request.headers.get("authorization")))
    admission = request.path_params["admission"]
    practitioner_entries.ward_admission(service, admission, staff)
    return await once(
        request,
        caller=staff_caller(staff),
        status=200,
        what="discharge",
        write=lambda body, key: discharge.discharge(service, admission, body, staff, once=key),
    )


ROUTES = [
    Route("/admissions/{admission}/reactions", record_reaction, methods=["POST"]),
    Route("/admissions/{admission}/allergies", record_allergy, methods=["POST"]),
    Route("/admissions/{admission}/practitioner-entries", recorded, methods=["GET"]),
    Route("/admissions/{admission}/discharge", discharge_patient, methods=["POST"]),
]
