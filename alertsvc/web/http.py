"""Small helpers every route uses: the service of a request, its strict JSON body, the error shape.

A body is read only after the route has checked who is asking, and never beyond ``max_body_bytes``: a
Content-Length over the limit is refused before a byte of the body is read, and a body of unknown length
(chunked) as soon as it passes the limit (413, naming the limit). A large body is parsed and checked
against the limits (``alertsvc.limits``) in a worker thread, so the event loop keeps serving meanwhile.
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.requests import Request

from alertsvc import errors
from alertsvc.config import Settings
from alertsvc.ledger.canonical import loads
from alertsvc.limits import check_body
from alertsvc.service import Service

PARSE_ON_LOOP_BYTES = 64 * 1024
"""Bodies up to this size are parsed on the event loop (a fraction of a millisecond); larger ones in a
worker thread."""


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def json_body(request: Request, *, what: str = "request body") -> dict[str, Any]:
    """The request's JSON object, read strictly (duplicate keys, NaN and bad UTF-8 refused) and within
    the service's limits: its size in bytes, then every list and text in it (``alertsvc.limits``)."""
    settings = service_of(request).settings
    body = await read_body(request, settings.max_body_bytes, what=what)
    if not body:
        raise errors.InputError(f"{what}: empty; a JSON object is required")
    if len(body) <= PARSE_ON_LOOP_BYTES:
        return _parsed(body, what, settings)
    parsed: dict[str, Any] = await anyio.to_thread.run_sync(_parsed, body, what, settings)
    return parsed


async def read_body(request: Request, limit: int, *, what: str) -> bytes:
    """The request's body, or BodyTooLarge as soon as it is known to be over ``limit`` bytes. The body is
    kept on the request, so a later ``request.body()`` (the Idempotency-Key's hash) reads the same bytes."""
    cached: bytes | None = getattr(request, "_body", None)
    if cached is not None:
        return cached
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise errors.BodyTooLarge(
            f"{what}: {int(declared)} bytes; at most {limit} bytes in one request (setting max_body_bytes)"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.BodyTooLarge(
                f"{what}: over {limit} bytes; at most {limit} bytes in one request (setting max_body_bytes)"
            )
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # what Starlette's own request.body() caches
    return body


def _parsed(body: bytes, what: str, settings: Settings) -> dict[str, Any]:
    value = loads(body, what=what)
    if not isinstance(value, dict):
        raise errors.InputError(f"{what}: must be a JSON object")
    check_body(what, value, settings)
    return value
