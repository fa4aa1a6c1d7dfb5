"""Refused requests to the routes that serve patient data, noted for the audit log.

Every 4xx answer of such a route (401, 403, 404, 409, 413, 422, 429...) is counted in ``audit.Refusals``
with who asked (the staff name when the token is valid; "unknown" otherwise), the route (its template,
never the path as sent), the status and the reason code; with the admission it concerns when the path
names a real one (so the patient sees it in her own trail) and the ward when it is a real ward. Nothing of
the token or the body is kept. A 401 is counted without looking anything up: a flood of bad tokens costs
a dictionary update each. The counts are written one second after the first refusal since the last write,
in one transaction, and at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from alertsvc import admissions as adm
from alertsvc import audit, errors, store
from alertsvc.alerts import store as alert_store
from alertsvc.server_http import bearer, kebab
from alertsvc.service import Service

FLUSH_SECONDS = 1.0
Handler = Callable[[Request, Exception], Awaitable[Response]]
log = logging.getLogger("alertsvc.refusals")


class RefusalAudit:
    """Notes refused requests of the routes in ``routes`` (endpoint -> path template) for the audit log."""

    def __init__(self, service: Service, routes: Mapping[Any, str]) -> None:
        self.service = service
        self.routes = routes
        self.refusals = audit.Refusals()
        self._timer: asyncio.TimerHandle | None = None

    def audited(self, handlers: Mapping[Any, Handler]) -> dict[Any, Handler]:
        """``handlers`` (exception class -> handler), each also noting the refusal it answers."""

        def wrap(handler: Handler) -> Handler:
            async def noted(request: Request, exc: Exception) -> Response:
                response = await handler(request, exc)
                self.note(request, response.status_code, reason_code(exc))
                return response

            return noted

        return {key: wrap(handler) for key, handler in handlers.items()}

    def note(self, request: Request, status: int, reason: str) -> None:
        template = self.routes.get(request.scope.get("endpoint"))
        if template is None or not 400 <= status < 500:
            return
        refusal = audit.Refusal("unknown", f"{request.method} {template}", status, reason)
        if status != 401:
            refusal = audit.Refusal(
                self._who(request),
                refusal.route,
                status,
                reason,
                self._admission(request),
                self._ward(request),
            )
        self.refusals.add(refusal, self.service.clock())
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write the refusals counted so far (called a second after the first, and at shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.refusals:
            return
        try:
            with store.write(self.service.db):
                self.refusals.flush(self.service.db, now=self.service.clock())
        except (errors.StoreError, RuntimeError) as exc:  # kept for the next flush (RuntimeError: stopped)
            log.error("could not write %d refused requests to the audit log: %s", len(self.refusals), exc)

    def _who(self, request: Request) -> str:
        try:
            return self.service.staff(bearer(request.headers.get("authorization"))).name
        except errors.AlertsvcError:
            return "unknown"

    def _admission(self, request: Request) -> str | None:
        """The real admission the path names (by its own id, or an alert's or a dose's), if any."""
        params, db = request.path_params, self.service.db
        if "admission" in params:
            found = adm.get_admission(db, params["admission"])
            return None if found is None else found.id
        if "alert" in params:
            alert = alert_store.get_alert(db, params["alert"])
            return None if alert is None else alert.admission
        if "dose" in params:
            dose = adm.get_dose(db, params["dose"])
            return None if dose is None else dose.admission
        return None

    def _ward(self, request: Request) -> str | None:
        ward = request.path_params.get("ward")
        return ward if isinstance(ward, str) and adm.get_ward(self.service.db, ward) is not None else None


def reason_code(exc: Exception) -> str:
    """The error code the answer carries (see ``problems``)."""
    if isinstance(exc, errors.Unauthorized):
        return "unauthorized"
    if isinstance(exc, errors.AlertsvcError):
        return kebab(type(exc).__name__)
    if isinstance(exc, HTTPException):
        return kebab(str(exc.detail))
    return "internal-error"
