"""The ``Idempotency-Key`` header on every POST route (see ``alertsvc.idempotency``).

A route first reads who is asking (a bad token is a bare 401 before anything else), then hands its write
to ``once``: without the header the write simply runs; with it, requests with one key of one caller are
served one at a time, a stored answer is replayed, and a new write stores its answer in its own
transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from alertsvc import failpoints, idempotency
from alertsvc.access import Staff
from alertsvc.web import http

Write = Callable[[dict[str, Any], idempotency.Pending | None], Awaitable[Any]]
"""A route's write: (the request's JSON object, the pending key or None without the header) -> answer."""


def staff_caller(staff: Staff) -> str:
    """A staff member as the owner of keys: the same person on the same ward and role, whatever token."""
    return idempotency.caller_id("staff", staff.ward, staff.role, staff.name)


async def once(request: Request, *, caller: str, status: int, what: str, write: Write) -> Response:
    """Answer a write at most once per Idempotency-Key; see the module docstring."""
    header = request.headers.get(idempotency.HEADER)
    key = None if header is None else idempotency.read_key(header)
    body = await http.json_body(request, what=what)
    if key is None:
        return JSONResponse(await write(body, None), status_code=status)
    service = http.service_of(request)
    pending = idempotency.Pending(
        caller=caller,
        route=f"{request.method} {request.url.path}",
        key=key,
        request_hash=idempotency.request_hash(await request.body()),
        status=status,
        now=service.clock(),
        before_commit=lambda: service.failpoints.hit(failpoints.ANSWER_STORED_BEFORE_COMMIT),
    )
    async with service.locks.hold(("idempotency", *pending.scope)):
        stored = idempotency.recall(service.db, pending)
        if stored is not None:
            return Response(
                stored.answer,
                status_code=stored.status,
                media_type="application/json",
                headers={idempotency.REPLAYED_HEADER: "true"},
            )
        answer = await write(body, pending)
    service.failpoints.hit(failpoints.AFTER_COMMIT_BEFORE_ANSWER)
    return JSONResponse(answer, status_code=status)
