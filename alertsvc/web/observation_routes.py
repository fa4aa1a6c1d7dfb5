"""``POST /admissions/{admission}/observations``: ward staff record an INR, potassium, creatinine, eGFR or
QTc for an admission; the check runs again at once (``alertsvc.observation_desk``).

Who is asking is read first (a bad token is a bare 401), then the write goes through ``once`` so an
``Idempotency-Key`` is honoured like on every other POST.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alertsvc import observation_desk
from alertsvc.server_http import bearer
from alertsvc.web import http as web
from alertsvc.web.idempotent import once, staff_caller


async def record_observation(request: Request) -> Response:
    service = web.service_of(request)
    staff = service.staff(bearer(request.headers.get("authorization")))
    admission = request.path_params["admission"]
    return await once(
        request,
        caller=staff_caller(staff),
        status=201,
        what="observation",
        write=lambda body, key: observation_desk.record(service, admission, body, staff, once=key),
    )


ROUTES = [Route("/admissions/{admission}/observations", record_observation, methods=["POST"])]
