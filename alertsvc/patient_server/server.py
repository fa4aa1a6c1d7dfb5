"""The patient's own ledger server: their pages, and the slice endpoint the hospital reads.

``create_ledger_app(ledger_path, key, clock=...)`` builds a Starlette app over one ledger file and the
patient's key; nothing is built at import time. Two audiences, kept apart:

- The hospital (any client address): ``GET /slices/{grant}[?since=HEAD]`` with ``Authorization: Bearer``
  a request token signed by the grant's grantee (``alertsvc.access``: audience = the
  patient's public id, method GET, the request's path and query, an empty body, used once). A bad,
  missing, stale or replayed token is a bare 401; a valid token from someone other than the grantee, or
  for a revoked or expired grant, is 403; an unknown grant 404. The answer is the slice (``make_slice``)
  or the update since head HEAD (``make_update``); for a revoked grant, an update from HEAD up to the
  head carrying the signed revocation (and nothing after), so the hospital can prove the grant ended
  before it purges.
- The hospital, again: ``POST /entries``, practitioner entries delivered by a write grantee
  (``server_entries``), appended only when the grant allows them.
- The patient (pages under ``/``, JSON under ``/api/``): answered only to a loopback client that names
  the server by an IP address or ``localhost`` (no DNS rebinding), else 403. State-changing requests
  (POST) must carry the per-process token of the server-rendered page in ``X-CSRF-Token``, else 403, so
  another web site open in the patient's browser cannot flag, grant or revoke.

The ledger file is opened per request, so the command line can append to it while the server runs.
SQLite work happens in ``async`` endpoints, on the event loop's thread.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alertsvc import errors, server_http
from alertsvc.access import ReplayCache, read_signed_request
from alertsvc.clock import Clock, utc_now
from alertsvc.config import REPO
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger.grants import check_current, read_revocation
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger, LedgerSnapshot
from alertsvc.ledger.scope_requests import ScopeRequests
from alertsvc.ledger.slices import make_slice, make_update
from alertsvc.patient_server import scope_request_routes, server_entries, server_notes, server_routes, watch
from alertsvc.patient_server.server_search import DrugIndex
from alertsvc.patient_server.server_state import PatientServer, server_of
from alertsvc.patient_server.watch_hub import WatchHub
from alertsvc.server_http import bearer, error_response, request_target

HOSPITAL_PATHS = ("/slices/", "/watch/", "/scope-requests", "/entries")
"""Paths any client may reach (each answers only requests signed by a grantee); the rest are hers."""
DEFAULT_PAGES_DIR = REPO / "dashboards" / "patient"  # as in serve_command
CSRF_PLACEHOLDER = "__ALERTSVC_CSRF_TOKEN__"
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
log = logging.getLogger("alertsvc.patient_server.server")


def create_ledger_app(
    ledger_path: Path,
    key: Identity,
    *,
    clock: Clock = utc_now,
    normalizer: Normalizer | None = None,
    pages_dir: Path = DEFAULT_PAGES_DIR,
    public_url: str | None = None,
    csrf_token: str | None = None,
    remote_timeout: float = 10.0,
) -> Starlette:
    """The patient's ledger server over ``ledger_path``, signing with ``key`` (the ledger's patient).

    ``normalizer`` backs drug search (without it search answers 503 and reactions are recorded as
    text); ``public_url`` is the base URL put in grant links (default: the URL the page was loaded
    from); ``remote_timeout`` bounds the fetch of a hospital's audit trail.
    """
    with Ledger.open(Path(ledger_path)) as opened:
        if opened.patient != key.public_id:
            raise errors.IdentityError(
                f"key {key.public_id} is not the patient {opened.patient} of ledger {ledger_path}"
            )
    server = PatientServer(
        ledger_path=Path(ledger_path),
        key=key,
        clock=clock,
        csrf_token=csrf_token or secrets.token_urlsafe(32),
        drugs=None if normalizer is None else DrugIndex(normalizer),
        pages_dir=Path(pages_dir),
        public_url=None if public_url is None else public_url.rstrip("/"),
        remote_timeout=remote_timeout,
        replays=ReplayCache(started=clock()),
        watches=WatchHub(Path(ledger_path)),
        scope_requests=ScopeRequests(Path(ledger_path)),
    )
    routes: list[Route | Mount] = [
        Route("/", index, methods=["GET"]),
        Route("/index.html", index, methods=["GET"]),
        Route("/slices/{grant}", slices, methods=["GET"]),
        Route("/watch/{grant}", watch.watch, methods=["GET"]),
        *server_routes.ROUTES,
        *server_entries.ROUTES,
        *server_notes.ROUTES,
        *scope_request_routes.ROUTES,
    ]
    for folder in ("css", "js"):
        if (server.pages_dir / folder).is_dir():
            routes.append(Mount(f"/{folder}", StaticFiles(directory=server.pages_dir / folder)))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_SecurityHeaders), Middleware(_PatientOnly)],
        exception_handlers=server_http.exception_handlers(STATUS),
    )
    app.state.server = server
    return app


# --- the hospital's endpoint ---


async def slices(request: Request) -> Response:
    """The slice of a grant (or the update ``?since=HEAD``), to a request signed by its grantee."""
    server = server_of(request)
    now = server.clock()
    token = bearer(request.headers.get("authorization"))
    signed = read_signed_request(
        token, method="GET", target=request_target(request), body=b"", audience=server.patient, now=now
    )
    issuer = signed.issuer
    grant_id = request.path_params["grant"]
    since = _since(request.query_params.get("since"))
    snapshot = server.snapshot()
    grant = snapshot.grants().get(grant_id)
    if grant is None:
        raise errors.NotFound(f"no grant {grant_id[:80]} in this ledger")
    if issuer != grant.grantee:
        raise errors.WrongGrantee(f"grant {grant.id} is not for {issuer}")
    server.replays.admit(signed, now=now)
    revoked_at = _revocation_head(snapshot, grant.id)
    if since is not None and revoked_at is not None and since < revoked_at:
        # The grantee learns of the revocation as a signed entry it can verify (so its purge is provable),
        # with nothing the patient wrote after it.
        body = make_update(snapshot, grant.id, since, until_head_seq=revoked_at)
        log.info("grantee %s read the revocation of grant %s", issuer, grant.id)
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})
    with contextlib.suppress(errors.GrantNotYetValid):  # a slice may be fetched before admission starts
        check_current(grant, now=now, revocations=snapshot.revocations())
    body = (
        make_slice(snapshot, grant.id, now=now) if since is None else make_update(snapshot, grant.id, since)
    )
    what = "the slice" if since is None else f"the updates since head {since}"
    log.info("grantee %s read %s of grant %s", issuer, what, grant.id)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def _revocation_head(snapshot: LedgerSnapshot, grant_id: str) -> int | None:
    """The first head that carries a revocation of ``grant_id``, or None when it is not revoked."""
    for index, entry in enumerate(snapshot.trees["revocations"]):
        if read_revocation(entry).grant_id == grant_id:
            return next(h.seq for h in snapshot.heads if h.trees["revocations"].size > index)
    return None


def _since(value: str | None) -> int | None:
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{1,12}", value):
        raise errors.InputError(f"since: a head number (an integer >= 0), not {value[:40]!r}")
    return int(value)


# --- the patient's pages ---


async def index(request: Request) -> Response:
    """The page, with this process's CSRF token in a meta tag (never cached)."""
    server = server_of(request)
    try:
        template = (server.pages_dir / "index.html").read_text(encoding="utf-8")
    except OSError as exc:
        raise errors.ConfigError(f"{server.pages_dir}: no patient pages there ({exc.strerror})") from exc
    page = template.replace(CSRF_PLACEHOLDER, server.csrf_token)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


# --- errors: one JSON shape; a token fault is a bare 401 ---

STATUS: list[tuple[type[errors.AlertsvcError], int]] = [
    (errors.TooManyRequests, 429),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.GrantError, 403),
    (errors.InputError, 400),
    (errors.IdentityError, 400),
    (errors.UnknownKind, 400),
    (errors.TerminologyUnavailable, 503),
    (errors.KnowledgeError, 400),
    (errors.LedgerBusy, 503),
    (errors.ServiceError, 502),
]


# --- middleware (plain ASGI) ---


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _names_by_address(host_header: str) -> bool:
    """Whether a Host header names the server by IP address or ``localhost`` (not by a DNS name)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if host in ("localhost", "localhost."):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _PatientOnly:
    """Everything but the hospital's paths is for a loopback client naming the server by address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(HOSPITAL_PATHS):
            client = scope.get("client") or ("", 0)
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if not (_is_loopback(client[0]) and _names_by_address(host)):
                response = error_response(
                    403, "forbidden", "the patient's pages answer only on this computer"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _SecurityHeaders:
    """Content-Security-Policy and friends on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
