"""What every route of one patient ledger server shares, and the small helpers the routes use."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from alertsvc import errors
from alertsvc.access import ReplayCache
from alertsvc.clock import Clock
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger, LedgerSnapshot
from alertsvc.ledger.scope_requests import ScopeRequests
from alertsvc.patient_server.server_search import DrugIndex
from alertsvc.patient_server.watch_hub import WatchHub

CSRF_HEADER = "X-CSRF-Token"
MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class PatientServer:
    """One ledger server: the ledger file, the patient's key, the clock (``request.app.state.server``)."""

    ledger_path: Path
    key: Identity
    clock: Clock
    csrf_token: str
    drugs: DrugIndex | None
    pages_dir: Path
    public_url: str | None
    remote_timeout: float
    replays: ReplayCache  # the grantee's signed reads, each accepted once
    watches: WatchHub  # the grantees' held watches (``GET /watch/{grant}``)
    scope_requests: ScopeRequests  # the grantees' requests for a wider scope

    @property
    def patient(self) -> str:
        return self.key.public_id

    @contextlib.contextmanager
    def ledger(self) -> Iterator[Ledger]:
        """The ledger file, opened for this request (LedgerNotFound if it went away)."""
        with Ledger.open(self.ledger_path) as opened:
            if opened.patient != self.patient:
                raise errors.IdentityError(f"{self.ledger_path} is no longer the ledger of {self.patient}")
            yield opened

    def snapshot(self) -> LedgerSnapshot:
        """The whole ledger, verified."""
        with self.ledger() as opened:
            return opened.read()

    def url(self, request: Request) -> str:
        """The base URL the hospital reaches this server at (put in grant links and files)."""
        return self.public_url or str(request.base_url).rstrip("/")

    def require_csrf(self, request: Request) -> None:
        """Forbidden unless the request carries this process's page token (set by the page's script)."""
        given = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.csrf_token.encode()):
            raise errors.Forbidden(f"missing or wrong {CSRF_HEADER}: reload the page and try again")


def server_of(request: Request) -> PatientServer:
    server: PatientServer = request.app.state.server
    return server


async def json_body(request: Request, *, what: str) -> dict[str, Any]:
    """The request's JSON object, read strictly (duplicate keys, NaN and bad UTF-8 refused)."""
    body = await request.body()
    if not body:
        raise errors.InputError(f"{what}: empty; a JSON object is required")
    if len(body) > MAX_BODY_BYTES:
        raise errors.InputError(f"{what}: over {MAX_BODY_BYTES} bytes")
    value = loads(body, what=what)
    if not isinstance(value, dict):
        raise errors.InputError(f"{what}: must be a JSON object")
    return value
