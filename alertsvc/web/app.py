"""The Starlette application: ``create_app(settings)`` builds it; nothing is built at import time.

Routes are thin: read the token and the body, call the service, answer JSON. Errors of the one tree map
to HTTP here and only here, always as ``{"error": {"code", "message"}}``; a token fault is a bare 401.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from alertsvc import errors
from alertsvc.clock import Clock, utc_now
from alertsvc.config import Settings
from alertsvc.service import Service
from alertsvc.web import cds_hooks, routes, stream
from alertsvc.web.http import error_response

STATUS: list[tuple[type[errors.AlertsvcError], int]] = [
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.InputError, 400),
    (errors.GrantError, 403),
    (errors.LedgerError, 422),
    (errors.IdentityError, 422),
    (errors.KnowledgeError, 422),
    (errors.ScheduleError, 422),
]


def create_app(settings: Settings, *, clock: Clock = utc_now, service: Service | None = None) -> Starlette:
    """The web application over one ``Service`` (built from ``settings`` unless one is given)."""
    the_service = service if service is not None else Service(settings, clock=clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await the_service.start()
        try:
            yield {"service": the_service}
        finally:
            await the_service.stop()

    app_routes: list[Route | Mount] = [
        *routes.ROUTES,
        Route("/wards/{ward}/alerts/stream", stream.alert_stream, methods=["GET"]),
        *cds_hooks.ROUTES,
    ]
    if settings.dashboards_dir.is_dir():
        app_routes.append(
            Mount("/", StaticFiles(directory=settings.dashboards_dir, html=True), name="dashboards")
        )
    app = Starlette(
        routes=app_routes,
        lifespan=lifespan,
        exception_handlers={
            errors.AlertsvcError: _alertsvc_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    app.state.service = the_service
    return app


async def _alertsvc_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.AlertsvcError)
    if isinstance(exc, errors.Unauthorized):
        response = error_response(401, "unauthorized", "unauthorized")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    status = next((code for cls, code in STATUS if isinstance(exc, cls)), 500)
    return error_response(status, _kebab(type(exc).__name__), str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, _kebab(str(exc.detail)), str(exc.detail))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug, not a refusal: still the one error shape (Starlette logs the traceback and re-raises)."""
    return error_response(500, "internal-error", "internal error")


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).replace(" ", "-").lower()
