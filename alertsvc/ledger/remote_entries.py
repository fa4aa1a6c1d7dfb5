"""Delivering practitioner entries to a patient's ledger server: ``POST {url}/entries``, signed by the
grantee (the hospital service), with a total deadline (see ``remote`` for reads and the grant link).

``post_entries`` blocks (call it from a worker thread) and ends by ``timeout`` whatever the server does.

- ``LedgerError``: the server could not be reached, did not answer in time, refused the signed request
  (401) or failed (5xx, 429). Worth retrying later.
- ``Refusal``: the server read the entries and refused them (400, 403, 404, 413): retrying the same
  bytes will not help; its code and message say why (``out-of-scope``, ``grant-expired``, ...).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from alertsvc.deadline_http import Watchdog, watched_session
from alertsvc.errors import AlertsvcError, InputError, LedgerError
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.remote import read_answer
from alertsvc.ledger.request_tokens import sign_request

MAX_ANSWER_BYTES = 1024 * 1024


class Refusal(LedgerError):
    """The ledger server refused the entries themselves; ``code`` is its error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code = status, code


def entries_body(envelopes: Sequence[dict[str, str]]) -> bytes:
    """The exact bytes posted (and signed over): ``{"entries": [envelope, ...]}``."""
    return json.dumps({"entries": list(envelopes)}, separators=(",", ":")).encode()


def post_entries(
    url: str,
    envelopes: Sequence[dict[str, str]],
    requester: Identity,
    *,
    patient: str,
    timeout: float,
    now: datetime,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """Post ``envelopes`` to the ledger server at ``url``; its answer (appended, already, head)."""
    if not timeout > 0:
        raise InputError(f"timeout: a positive number of seconds, not {timeout!r}")
    parts = urlsplit(url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"ledger url {url[:100]!r} is not an http(s) base URL")
    path = parts.path + "/entries"
    body = entries_body(envelopes)
    token = sign_request(requester, method="POST", target=path, body=body, audience=patient, now=now)
    target = f"{parts.scheme}://{parts.netloc}{path}"
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    where = f"ledger server {parts.scheme}://{parts.netloc}"
    deadline = time.monotonic() + timeout
    owned = session is None
    http = watched_session() if session is None else session
    try:
        with Watchdog(deadline) as watchdog:
            try:
                status, answer = _post(http, target, headers, body, deadline)
            except LedgerError:
                if watchdog.expired or time.monotonic() >= deadline:
                    raise LedgerError(f"{where}: no complete answer within {timeout:g} s") from None
                raise
            if watchdog.expired:
                raise LedgerError(f"{where}: no complete answer within {timeout:g} s")
    finally:
        if owned:
            http.close()
    document = _json(answer)
    if status in (200, 201):
        if document is None:
            raise LedgerError(f"{where} answered {status} without a JSON object")
        return document
    error = document.get("error") if document else None
    code = str(error.get("code", "")) if isinstance(error, dict) else ""
    message = str(error.get("message", "")) if isinstance(error, dict) else ""
    if status == 401:
        raise LedgerError(f"{where} refused the signed request (401): is {patient} its patient?")
    if status in (400, 403, 404, 409, 413, 422):
        raise Refusal(status, code or "refused", message[:500] or "no reason given")
    raise LedgerError(f"{where} answered HTTP {status}: {message[:300] or 'no reason given'}")


def _post(
    http: requests.Session, target: str, headers: dict[str, str], body: bytes, deadline: float
) -> tuple[int, bytes]:
    remaining = max(deadline - time.monotonic(), 0.001)
    try:
        response = http.post(
            target,
            data=body,
            headers=headers,
            timeout=(remaining, remaining),
            stream=True,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise LedgerError(f"cannot post to {target} ({type(exc).__name__})") from exc
    with response:
        return response.status_code, read_answer(
            response, target, broken=LedgerError, too_big=LedgerError, limit=MAX_ANSWER_BYTES
        )


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        value = loads(body, what="ledger server answer")
    except AlertsvcError:
        return None
    return value if isinstance(value, dict) else None
