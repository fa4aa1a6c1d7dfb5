"""The Starlette application: ``create_app(settings)`` builds it; nothing is built at import time.

Routes are thin: read the token and the body, call the service, answer JSON. Errors of the one tree map
to HTTP here and only here, always as ``{"error": {"code", "message"}}``; a token fault is a bare 401.
Refused requests to the routes that serve patient data are audited (``refusals``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from alertsvc import errors, server_http
from alertsvc.clock import Clock, utc_now
from alertsvc.config import Settings
from alertsvc.service import Service
from alertsvc.web import cds_hooks, openapi, routes, static, stream
from alertsvc.web.hangup import reloads_on_hangup
from alertsvc.web.refusals import RefusalAudit

STATUS: list[tuple[type[errors.AlertsvcError], int]] = [
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.IdempotencyKeyReused, 422),
    (errors.TooManyRequests, 429),
    (errors.Unreachable, 502),
    (errors.BodyTooLarge, 413),
    (errors.LimitExceeded, 422),
    (errors.ReasonRequired, 422),
    (errors.InputError, 400),
    (errors.GrantError, 403),
    (errors.LedgerError, 422),
    (errors.IdentityError, 422),
    (errors.KnowledgeError, 422),
    (errors.ScheduleError, 422),
]

PUBLIC = frozenset({routes.jwks, routes.health, cds_hooks.discovery})
"""Endpoints that serve no patient data: their refusals are not audited."""


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    service: Service | None = None,
    reload_on_hangup: bool = False,
) -> Starlette:
    """The web application over one ``Service`` (built from ``settings`` unless one is given); with
    ``reload_on_hangup`` (the serving process's main thread), SIGHUP reloads its knowledge (``hangup``)."""
    the_service = service if service is not None else Service(settings, clock=clock)
    app_routes: list[Route | Mount] = [
        *routes.ROUTES,
        Route("/wards/{ward}/alerts/stream", stream.alert_stream, methods=["GET"]),
        *cds_hooks.ROUTES,
    ]
    patient_routes = {
        r.endpoint: r.path for r in app_routes if isinstance(r, Route) and r.endpoint not in PUBLIC
    }
    refusals = RefusalAudit(the_service, patient_routes)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await the_service.start()
        try:
            async with reloads_on_hangup(the_service) if reload_on_hangup else nullcontext():
                yield {"service": the_service}
        finally:
            refusals.flush()
            await the_service.stop()

    app_routes += openapi.ROUTES  # the API's description: public, never refused
    if settings.dashboards_dir.is_dir():
        app_routes.append(static.dashboards(settings.dashboards_dir, list(app_routes)))
    app = Starlette(
        routes=app_routes,
        lifespan=lifespan,
        exception_handlers=refusals.audited(server_http.exception_handlers(STATUS)),
    )
    app.state.service = the_service
    app.state.streams = stream.StreamCounter(settings.max_streams_per_token)
    return app
