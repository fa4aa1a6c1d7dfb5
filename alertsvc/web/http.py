"""Small helpers every route uses: the service of a request, its strict JSON body, the error shape."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from alertsvc import errors
from alertsvc.ledger.canonical import loads
from alertsvc.service import Service


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def json_body(request: Request, *, what: str = "request body") -> dict[str, Any]:
    """The request's JSON object, read strictly (duplicate keys, NaN and bad UTF-8 refused)."""
    body = await request.body()
    if not body:
        raise errors.InputError(f"{what}: empty; a JSON object is required")
    value = loads(body, what=what)
    if not isinstance(value, dict):
        raise errors.InputError(f"{what}: must be a JSON object")
    return value
