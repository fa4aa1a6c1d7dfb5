"""Scope requests on the patient's ledger server (see ``scope_requests``).

The hospital (any client address), with requests signed by the grant's grantee:

- ``POST /scope-requests`` ``{"id", "grant", "scope": [...], "reason", "admission"?}`` -> 201 the request,
  ``status`` ``pending`` (200 and the same request for a retry with the same id and body; 409 for the
  same id with another body; 429 beyond the bounds; 403 for a revoked or expired grant or another
  grantee; 404 for an unknown grant; 400 naming a bad field);
- ``GET /scope-requests/{id}`` -> the request and her answer (``new_grant`` once approved).

The patient (loopback, page token on POST): ``GET /api/scope-requests``, and
``POST /api/scope-requests/{id}/approve`` (a new grant, see ``scope_requests``) or ``.../decline``.
Every answer wakes the grant's watch, which tells the hospital at once.
"""

from __future__ import annotations

import contextlib

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from alertsvc import errors
from alertsvc.access import read_signed_request, signed_request_signer
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.entries import SignedEntry, format_time, parse_time
from alertsvc.ledger.grants import Grant, check_current, new_grant, new_revocation
from alertsvc.ledger.log import LedgerSnapshot
from alertsvc.ledger.request_tokens import body_digest
from alertsvc.ledger.scope_requests import ScopeRequest, read_request
from alertsvc.ledger.server_views import revocations_by_grant
from alertsvc.patient_server.server_state import PatientServer, server_of
from alertsvc.server_http import bearer, request_target

MAX_REQUEST_BYTES = 8 * 1024
NO_STORE = {"Cache-Control": "no-store"}


# --- the hospital's side ---


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise errors.InputError(f"scope request: {declared} bytes; at most {MAX_REQUEST_BYTES}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise errors.InputError(f"scope request: over {MAX_REQUEST_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def ask(request: Request) -> JSONResponse:
    """``POST /scope-requests``: a grantee asks for more of the ledger."""
    server = server_of(request)
    now = server.clock()
    token = bearer(request.headers.get("authorization"))
    signed_request_signer(token, audience=server.patient, now=now)  # who, before a byte of the body
    raw = await _bounded_body(request)
    signed = read_signed_request(
        token, method="POST", target=request_target(request), body=raw, audience=server.patient, now=now
    )
    if not raw:
        raise errors.InputError("scope request: empty; a JSON object is required")
    body = loads(raw, what="scope request")
    if not isinstance(body, dict):
        raise errors.InputError("scope request: must be a JSON object")
    snapshot = server.snapshot()
    grant_id = body.get("grant")
    grant = snapshot.grants().get(grant_id) if isinstance(grant_id, str) else None
    if grant is not None and signed.issuer != grant.grantee:
        raise errors.WrongGrantee(f"grant {grant.id} is not for {signed.issuer}")
    asked = read_request(body, grant)
    assert grant is not None
    server.replays.admit(signed, now=now)
    _current(grant, snapshot, server)
    before = server.scope_requests.get(asked.id)
    kept = server.scope_requests.add(
        asked, grantee=signed.issuer, body_hash=body_digest(raw), token=token, now=now
    )
    return JSONResponse(kept.as_json(), status_code=200 if before is not None else 201, headers=NO_STORE)


async def status(request: Request) -> JSONResponse:
    """``GET /scope-requests/{id}``: the request and her answer, to its grantee."""
    server = server_of(request)
    now = server.clock()
    token = bearer(request.headers.get("authorization"))
    signed = read_signed_request(
        token, method="GET", target=request_target(request), body=b"", audience=server.patient, now=now
    )
    found = server.scope_requests.get(request.path_params["request"])
    if found is None or found.grantee != signed.issuer:  # another grantee's request is as unknown
        raise errors.NotFound(f"no scope request {request.path_params['request'][:80]}")
    server.replays.admit(signed, now=now)
    return JSONResponse(found.as_json(), headers=NO_STORE)


def _current(grant: Grant, snapshot: LedgerSnapshot, server: PatientServer) -> None:
    with contextlib.suppress(errors.GrantNotYetValid):  # one may ask before the stay starts
        check_current(grant, now=server.clock(), revocations=snapshot.revocations())


# --- the patient's side ---


async def listing(request: Request) -> JSONResponse:
    server = server_of(request)
    return JSONResponse({"requests": [r.as_json() for r in server.scope_requests.all()]}, headers=NO_STORE)


def _pending(server: PatientServer, request_id: str) -> ScopeRequest:
    found = server.scope_requests.get(request_id)
    if found is None:
        raise errors.NotFound(f"no scope request {request_id[:80]}")
    if found.status != "pending":
        raise errors.Conflict(f"scope request {found.id} was already {found.status}")
    return found


def widened_grant(server: PatientServer, asked: ScopeRequest, grant: Grant) -> SignedEntry:
    """Her new grant answering ``asked``: the old scope and the new, same grantee, write scope and purpose,
    from now (or the old grant's start, if later) until the old grant's end, never beyond it."""
    now = server.clock()
    start = max(parse_time(format_time(now), what="now"), grant.not_before)
    hours = (grant.expires_at - start).total_seconds() / 3600
    if hours <= 0:
        raise errors.Conflict(f"grant {grant.id} has ended; there is nothing to widen")
    return new_grant(
        server.key,
        grantee=grant.grantee,
        scope=grant.scope | asked.scope,
        write_scope=grant.write_scope,
        not_before=start,
        hours=hours,
        now=now,
        purpose=grant.purpose,
    )


async def approve(request: Request) -> JSONResponse:
    server = server_of(request)
    server.require_csrf(request)
    asked = _pending(server, request.path_params["request"])
    snapshot = server.snapshot()
    grant = snapshot.grants().get(asked.grant_id)
    if grant is None:
        raise errors.NotFound(f"no grant {asked.grant_id} in this ledger")
    try:
        _current(grant, snapshot, server)
    except errors.GrantError as exc:
        raise errors.Conflict(f"cannot widen grant {grant.id}: {exc}") from exc
    entry = widened_grant(server, asked, grant)
    with server.ledger() as ledger:
        head = ledger.append([entry], patient=server.key, now=server.clock())
    answered = server.scope_requests.answer(
        asked.id, status="approved", now=server.clock(), new_grant=entry.id
    )
    server.watches.poke()
    return JSONResponse({**answered.as_json(), "entry": entry.id, "head": head.seq}, status_code=201)


async def decline(request: Request) -> JSONResponse:
    server = server_of(request)
    server.require_csrf(request)
    asked = _pending(server, request.path_params["request"])
    answered = server.scope_requests.answer(asked.id, status="declined", now=server.clock())
    server.watches.poke()
    return JSONResponse(answered.as_json())


def revocations_with_widened(
    server: PatientServer, snapshot: LedgerSnapshot, grant: Grant
) -> list[SignedEntry]:
    """Revoking ``grant`` revokes the grants that widened it too (unless already revoked)."""
    revoked = revocations_by_grant(snapshot.revocations())
    grants = snapshot.grants()
    chain = [grant] + [
        grants[g] for g in server.scope_requests.widened_from(grant.id) if g in grants and g not in revoked
    ]
    now = server.clock()
    return [new_revocation(server.key, g, now=now) for g in chain]


ROUTES = [
    Route("/scope-requests", ask, methods=["POST"]),
    Route("/scope-requests/{request}", status, methods=["GET"]),
    Route("/api/scope-requests", listing, methods=["GET"]),
    Route("/api/scope-requests/{request}/approve", approve, methods=["POST"]),
    Route("/api/scope-requests/{request}/decline", decline, methods=["POST"]),
]
