"""``GET /watch/{grant}`` on the patient's ledger server: a held stream that tells the grantee at once
when the grant's slice has changed, so a reaction flagged on her page reaches the ward in about a second
rather than at the hospital's next poll.

Who may watch: exactly who may read the slice (``GET /slices/{grant}``): a request signed by the grant's
grantee for this method and path, audience the patient's id, used once; a bad token is a bare 401, a
token from anyone else 403, a revoked or expired grant 403 (``grant-revoked`` / ``grant-expired``), an
unknown grant 404. The answer is a server-sent event stream of signed notices (``watch_notices``):
``watching`` first, then ``changed`` whenever an entry is appended to a tree the grant covers,
``scope-request`` when a scope request of the grant is answered, and ``ended`` (revoked or expired) as
the last; comments every ``PING_SECONDS`` keep it alive and let either side notice a dead peer.

Bounds: one watch per grant (a newer one replaces the older, which ends with ``replaced``: that is how a
grantee that lost its connection without the server noticing gets back in), at most
``watch_hub.MAX_WATCHES`` watches per server (then 429), a reader that takes nothing for
``SEND_TIMEOUT_SECONDS`` is dropped.

How changes are noticed: the routes of this server poke the hub after they append; the command line and
any other process are noticed within ``watch_hub.CHECK_SECONDS`` by ``PRAGMA data_version`` on one
connection the hub holds open while anyone watches.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from alertsvc import errors
from alertsvc.access import read_signed_request
from alertsvc.ledger.grants import Grant, check_current
from alertsvc.ledger.log import LedgerSnapshot
from alertsvc.ledger.watch_notices import sign_notice
from alertsvc.patient_server.server_state import PatientServer, server_of
from alertsvc.patient_server.watch_hub import Watch
from alertsvc.server_http import bearer, request_target

PING_SECONDS = 15
SEND_TIMEOUT_SECONDS = 10.0
WAKE_SECONDS = 1.0
"""How often an idle watch wakes up to see whether its grant has expired."""
log = logging.getLogger("alertsvc.patient_server.watch")


def covered_sizes(snapshot: LedgerSnapshot, grant: Grant) -> dict[str, int]:
    """The size of each tree ``grant`` covers, at the latest head."""
    return {tree: snapshot.latest.trees[tree].size for tree in grant.trees}


def _revoked(snapshot: LedgerSnapshot, grant: Grant) -> bool:
    return any(r.grant_id == grant.id for r in snapshot.revocations())


class _WatchStream(EventSourceResponse):
    def __init__(self, content: AsyncIterator[ServerSentEvent], *, on_end: Callable[[], None]) -> None:
        super().__init__(
            content,
            ping=PING_SECONDS,
            send_timeout=SEND_TIMEOUT_SECONDS,
            headers={"Cache-Control": "no-store"},
        )
        self._on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_end()


async def watch(request: Request) -> EventSourceResponse:
    """``GET /watch/{grant}``: the grantee's held stream of signed notices (see the module docstring)."""
    server = server_of(request)
    now = server.clock()
    token = bearer(request.headers.get("authorization"))
    signed = read_signed_request(
        token, method="GET", target=request_target(request), body=b"", audience=server.patient, now=now
    )
    grant_id = request.path_params["grant"]
    generation = server.watches.generation  # before the read: a change after it is not missed
    snapshot = server.snapshot()
    grant = snapshot.grants().get(grant_id)
    if grant is None:
        raise errors.NotFound(f"no grant {grant_id[:80]} in this ledger")
    if signed.issuer != grant.grantee:
        raise errors.WrongGrantee(f"grant {grant.id} is not for {signed.issuer}")
    server.replays.admit(signed, now=now)
    with contextlib.suppress(errors.GrantNotYetValid):  # one may watch before the stay starts
        check_current(grant, now=now, revocations=snapshot.revocations())
    held = server.watches.open(grant.id)
    log.info("grantee %s watches grant %s", signed.issuer, grant.id)
    return _WatchStream(
        _notices(server, grant, snapshot, held, generation), on_end=lambda: server.watches.close(held)
    )


async def _notices(
    server: PatientServer, grant: Grant, snapshot: LedgerSnapshot, held: Watch, generation: int
) -> AsyncIterator[ServerSentEvent]:
    hub = server.watches

    def notice(kind: str, at: LedgerSnapshot, **extra: str) -> ServerSentEvent:
        token = sign_notice(
            server.key,
            grantee=grant.grantee,
            grant=grant.id,
            type=kind,
            head=at.latest,
            trees=covered_sizes(at, grant),
            now=server.clock(),
            **extra,
        )
        return ServerSentEvent(data=token, event=kind)

    sizes = covered_sizes(snapshot, grant)
    answered = server.scope_requests.answered_ids(grant.id)
    yield notice("watching", snapshot)
    while True:
        left = (grant.expires_at - server.clock()).total_seconds()
        await hub.wait(generation, min(WAKE_SECONDS, left))
        if held.replaced:
            yield notice("replaced", snapshot)
            return
        if server.clock() >= grant.expires_at:
            yield notice("ended", snapshot, reason="expired")
            return
        if hub.generation == generation:
            continue
        generation = hub.generation
        try:
            snapshot = hub.snapshot(server.snapshot)
        except errors.AlertsvcError as exc:
            log.error("watch of grant %s ends: the ledger cannot be read (%s)", grant.id, exc)
            return
        if _revoked(snapshot, grant):
            yield notice("ended", snapshot, reason="revoked")
            return
        now_sizes = covered_sizes(snapshot, grant)
        if now_sizes != sizes:
            sizes = now_sizes
            yield notice("changed", snapshot)
        for request_id, status in server.scope_requests.answered(grant.id, exclude=answered):
            answered.add(request_id)
            yield notice("scope-request", snapshot, request=request_id, status=status)
