"""``POST /admissions/{id}/scope-requests`` and ``GET /admissions/{id}/scope-requests``: the ward asks the
patient for a wider scope and sees her answer (``alertsvc.scope_requests``). Staff of the admission's ward;
the POST takes an ``Idempotency-Key`` like every write.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertsvc import scope_requests
from alertsvc.server_http import bearer
from alertsvc.web import http as web
from alertsvc.web.idempotent import once, staff_caller


async def scope_request(request: Request) -> Response:
    service = web.service_of(request)
    staff = service.staff(bearer(request.headers.get("authorization")))
    admission = request.path_params["admission"]
    if request.method == "GET":
        return JSONResponse(scope_requests.view(service, admission, staff))
    return await once(
        request,
        caller=staff_caller(staff),
        status=201,
        what="scope request",
        write=lambda body, key: scope_requests.request_scope(service, admission, body, staff, once=key),
    )


ROUTES = [Route("/admissions/{admission}/scope-requests", scope_request, methods=["GET", "POST"])]
