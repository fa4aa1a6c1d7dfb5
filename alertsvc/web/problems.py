"""The one JSON error shape of alertsvc's HTTP servers, and the mapping of the error tree to statuses.

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

StatusTable = Sequence[tuple[type[errors.AlertsvcError], int]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def kebab(name: str) -> str:
    """``GrantRevoked`` -> ``grant-revoked``, ``Method Not Allowed`` -> ``method-not-allowed``: an error
    class or an HTTP reason phrase as an error code."""
    return "-".join(re.sub(r"(?<!^)(?=[A-Z])", " ", name).split()).lower()


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
