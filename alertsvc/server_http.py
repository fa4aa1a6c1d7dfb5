"""What alertsvc's two HTTP servers share (the hospital's ``web/`` and the patient's ``patient_server/``):
the one JSON error shape and the mapping of the error tree to statuses, the bearer token of a request,
and the target (path and query) that a signed request must name (``alertsvc.access``).

Every refusal is ``{"error": {"code", "message"}}``: the code is the error class in kebab case
(``GrantRevoked`` -> ``grant-revoked``), the message says what was wrong. A token fault is a bare 401
with no detail. Each server (the hospital service, the patient's ledger server) passes its own table of
error classes to statuses; the first class that matches wins.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from alertsvc import errors
from alertsvc.errors import Unauthorized

StatusTable = Sequence[tuple[type[errors.AlertsvcError], int]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def kebab(name: str) -> str:
    """``GrantRevoked`` -> ``grant-revoked``, ``Method Not Allowed`` -> ``method-not-allowed``: an error
    class or an HTTP reason phrase as an error code."""
    return "-".join(re.sub(r"(?<!^)(?=[A-Z])", " ", name).split()).lower()


def bearer(header_value: str | None) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or Unauthorized."""
    if not header_value:
        raise Unauthorized("no Authorization header")
    scheme, _, token = header_value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization is not a bearer token")
    return token.strip()


def request_target(request: Request) -> str:
    """What ``htu`` must say for ``request``: its path, and ``?`` and the query string when there is one."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def exception_handlers(table: StatusTable) -> dict[Any, Handler]:
    """Starlette exception handlers answering every error in the one shape."""

    async def alertsvc_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.AlertsvcError)
        if isinstance(exc, errors.Unauthorized):
            response = error_response(401, "unauthorized", "unauthorized")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        status = next((code for cls, code in table if isinstance(exc, cls)), 500)
        return error_response(status, kebab(type(exc).__name__), str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = error_response(exc.status_code, kebab(str(exc.detail)), str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. the Allow header of a 405
        return response

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        """A bug, not a refusal: still the one shape (Starlette logs the traceback and re-raises)."""
        return error_response(500, "internal-error", "internal error")

    return {errors.AlertsvcError: alertsvc_error, HTTPException: http_error, Exception: unexpected_error}
