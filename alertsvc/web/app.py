"""The Starlette application: ``create_app(settings)`` builds it; nothing is built at import time.

Routes are thin: read the token and the body, call the service, answer JSON. Errors of the one tree map
to HTTP here and only here, always as ``{"error": {"code", "message"}}``; a token fault is a bare 401.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from alertsvc import errors
from alertsvc.clock import Clock, utc_now
from alertsvc.config import Settings
from alertsvc.service import Service
from alertsvc.web import cds_hooks, openapi, problems, routes, static, stream

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
        *openapi.ROUTES,
    ]
    if settings.dashboards_dir.is_dir():
        app_routes.append(static.dashboards(settings.dashboards_dir, list(app_routes)))
    app = Starlette(
        routes=app_routes,
        lifespan=lifespan,
        exception_handlers=problems.exception_handlers(STATUS),
    )
    app.state.service = the_service
    return app
