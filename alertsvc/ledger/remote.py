"""Reading a patient's ledger over HTTP: the client the hospital service uses, and the grant link.

A patient's ledger server (``alertsvc ledger serve``) answers ``GET /slices/{grant}`` (the slice) and
``GET /slices/{grant}?since=HEAD`` (an update from head HEAD) to a request signed by the grantee's key
(``Authorization: Bearer`` a signed request token, see ``ledger.request_tokens``: for this method,
path and query and an empty body, audience the patient's public id, usable once within a minute).
``fetch_slice`` and ``fetch_update`` make such requests and return the exact bytes received, for
``verify_slice`` / ``verify_update``; ``fetch_audit`` is the patient's own signed read of a hospital's
audit trail. They block (call them from a worker thread) and each call ends by its deadline
``timeout``, whatever the server does (a watchdog shuts the socket down, see ``alertsvc.deadline_http``).

Errors (nothing here returns a status to check):

- ``LedgerError``: the ledger server could not be reached, did not answer in time, refused the signed
  request (401: wrong patient id as audience, or clocks too far apart) or failed (5xx). Worth retrying.
- ``GrantRevoked`` / ``GrantExpired`` / ``WrongGrantee``: a 403 from the server, by its error code.
- ``InputError``: a bad answer (not JSON, too large, an unexpected status such as 404 for a grant the
  ledger does not hold), or a malformed url, grant id or grant link given by the caller.

Grant link (what the patient's QR code carries, in the spirit of a SMART Health Link)::

    alertsvc-grant:<base64url, no padding, of the RFC 8785 JSON
                    {"grant": "sha256:<64 hex>", "patient": "ed25519:...", "url": "<base URL>"}>

``url`` is the ledger server's base URL (``http://127.0.0.1:8765`` by default); ``grant`` is the grant's
entry id; ``patient`` the patient's public id, the audience the grantee signs its requests for. The link
carries no secret: the grant only works for a request signed by the grantee's key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from alertsvc.clock import utc_now
from alertsvc.deadline_http import Watchdog, watched_session
from alertsvc.errors import (
    AlertsvcError,
    Forbidden,
    GrantExpired,
    GrantRevoked,
    IdentityError,
    InputError,
    LedgerError,
    NotFound,
    ServiceError,
    WrongGrantee,
)
from alertsvc.ledger.canonical import b64url, canonical, loads, unb64url
from alertsvc.ledger.identity import Identity, public_key_of
from alertsvc.ledger.request_tokens import sign_request

GRANT_LINK_PREFIX = "alertsvc-grant:"
MAX_ANSWER_BYTES = 32 * 1024 * 1024
GRANT_ID = re.compile(r"sha256:[0-9a-f]{64}")
_ADMISSION = re.compile(r"[A-Za-z0-9._~-]{1,200}")
_MAX_LINK_CHARS = 2048


# --- the grant link ---


@dataclass(frozen=True)
class GrantLink:
    """Where a grant can be read: the ledger server's base URL, the grant id and the patient's id."""

    url: str
    grant: str
    patient: str


def grant_link(url: str, grant_id: str, patient: str) -> str:
    """The ``alertsvc-grant:`` URI for ``grant_id`` of ``patient`` at the ledger server ``url``."""
    link = GrantLink(_base_url(url, what="ledger url"), _grant_id(grant_id), _patient_id(patient))
    return GRANT_LINK_PREFIX + b64url(
        canonical({"grant": link.grant, "patient": link.patient, "url": link.url})
    )


def read_grant_link(text: str) -> GrantLink:
    """The url, grant id and patient id in an ``alertsvc-grant:`` URI (InputError saying what is wrong)."""
    text = text.strip()
    if not text.startswith(GRANT_LINK_PREFIX) or len(text) > _MAX_LINK_CHARS:
        raise InputError(f"grant link: expected {GRANT_LINK_PREFIX}<base64url JSON>, got {text[:60]!r}")
    document = loads(unb64url(text[len(GRANT_LINK_PREFIX) :], what="grant link"), what="grant link")
    if not isinstance(document, dict) or set(document) != {"grant", "patient", "url"}:
        raise InputError("grant link: expected a JSON object with exactly the fields grant, patient and url")
    return GrantLink(
        _base_url(document["url"], what="grant link url"),
        _grant_id(document["grant"]),
        _patient_id(document["patient"]),
    )


def _patient_id(value: object) -> str:
    if not isinstance(value, str):
        raise InputError(f"patient id: expected a string, got {type(value).__name__}")
    try:
        public_key_of(value)
    except IdentityError as exc:
        raise InputError(f"patient id: {exc}") from exc
    return value


def _grant_id(value: object) -> str:
    if not isinstance(value, str) or not GRANT_ID.fullmatch(value):
        raise InputError(f"grant id {str(value)[:80]!r} is not sha256:<64 lower-case hex digits>")
    return value


def _base_url(value: object, *, what: str) -> str:
    """An http(s) base URL with a host and no query or fragment, without a trailing slash."""
    if not isinstance(value, str):
        raise InputError(f"{what}: expected a string, got {type(value).__name__}")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InputError(f"{what}: {value[:100]!r} is not an http(s) base URL like http://127.0.0.1:8765")
    return value.strip().rstrip("/")


# --- reading slices and updates (the hospital's side) ---


def fetch_slice(
    url: str,
    grant_id: str,
    requester: Identity,
    *,
    patient: str,
    timeout: float,
    now: datetime | None = None,
    session: requests.Session | None = None,
) -> bytes:
    """The current slice of ``grant_id`` from the ledger server at ``url`` (bytes for ``verify_slice``).

    ``requester`` is the grantee (the hospital service); ``patient`` the patient's public id, the
    audience of the signed request; ``now`` the signing time (default: the real clock).
    """
    return _fetch_ledger(url, grant_id, None, requester, patient, timeout, now, session)


def fetch_update(
    url: str,
    grant_id: str,
    since: int,
    requester: Identity,
    *,
    patient: str,
    timeout: float,
    now: datetime | None = None,
    session: requests.Session | None = None,
) -> bytes:
    """The entries added since head ``since`` with consistency proofs (bytes for ``verify_update``)."""
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise InputError(f"since: a head number is an integer >= 0, not {since!r}")
    return _fetch_ledger(url, grant_id, since, requester, patient, timeout, now, session)


def _fetch_ledger(
    url: str,
    grant_id: str,
    since: int | None,
    requester: Identity,
    patient: str,
    timeout: float,
    now: datetime | None,
    session: requests.Session | None,
) -> bytes:
    base, grant = _base_url(url, what="ledger url"), _grant_id(grant_id)
    path = urlsplit(base).path + "/slices/" + grant
    query = "" if since is None else f"?since={since}"
    where = f"ledger server {base}"
    try:
        status, body = _signed_get(base, path, query, requester, patient, timeout, now, session)
    except _Unreachable as exc:
        raise LedgerError(f"{where}: {exc}") from exc
    if status == 200:
        _json_object(body, what=f"{where} answer for grant {grant}")
        return body
    message = _error_message(body)
    if status == 401:
        raise LedgerError(
            f"{where} refused the signed request for grant {grant} (401): is {patient} its patient, "
            "and are the clocks right?"
        )
    if status == 403:
        code = _error_code(body)
        error = {"grant-revoked": GrantRevoked, "grant-expired": GrantExpired}.get(code, WrongGrantee)
        raise error(f"{where} refused grant {grant}: {message}")
    if status == 404:
        raise InputError(f"{where} holds no grant {grant}: {message}")
    if status < 500 and status != 429:
        raise InputError(f"{where} answered HTTP {status} for grant {grant}: {message}")
    raise LedgerError(f"{where} answered HTTP {status} for grant {grant}: {message}")


# --- the patient's read of a hospital's audit trail ---


def fetch_audit(
    hospital_url: str,
    admission: str,
    requester: Identity,
    *,
    hospital: str,
    timeout: float,
    now: datetime | None = None,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """``GET {hospital_url}/admissions/{admission}/audit``, signed by the patient for ``hospital``.

    Raises ServiceError when the hospital cannot be reached or fails, NotFound (404) and Forbidden (403)
    as it answers, and InputError for a bad answer or a malformed url or admission id.
    """
    base = _base_url(hospital_url, what="hospital url")
    if not _ADMISSION.fullmatch(admission):
        raise InputError(f"admission id {admission[:80]!r} has characters an admission id never has")
    path = urlsplit(base).path + f"/admissions/{admission}/audit"
    where = f"hospital {base}"
    try:
        status, body = _signed_get(base, path, "", requester, hospital, timeout, now, session)
    except _Unreachable as exc:
        raise ServiceError(f"{where}: {exc}") from exc
    if status == 200:
        return _json_object(body, what=f"{where} audit answer")
    message = _error_message(body)
    if status == 404:
        raise NotFound(f"{where} has no admission {admission}: {message}")
    if status == 403:
        raise Forbidden(f"{where} refused the audit trail of admission {admission}: {message}")
    if status == 401:
        raise ServiceError(
            f"{where} did not accept the patient's signed request (401): is {hospital} its public id?"
        )
    raise ServiceError(f"{where} answered HTTP {status} for the audit trail: {message}")


# --- one signed GET with a total deadline ---


class _Unreachable(Exception):
    """The server could not be reached or did not answer within the deadline (said in the message)."""


def _signed_get(
    base: str,
    path: str,
    query: str,
    requester: Identity,
    audience: str,
    timeout: float,
    now: datetime | None,
    session: requests.Session | None,
) -> tuple[int, bytes]:
    """(status, body) of a GET signed by ``requester`` for ``audience``, all of it within ``timeout``."""
    if not timeout > 0:
        raise InputError(f"timeout: a positive number of seconds, not {timeout!r}")
    token = sign_request(
        requester, method="GET", target=path + query, audience=audience, now=utc_now() if now is None else now
    )
    parts = urlsplit(base)
    target = f"{parts.scheme}://{parts.netloc}{path}{query}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    deadline = time.monotonic() + timeout
    owned = session is None
    http = watched_session() if session is None else session
    late = _Unreachable(f"no complete answer within {timeout:g} s")
    try:
        with Watchdog(deadline) as watchdog:
            try:
                return _get(http, target, headers, deadline)
            except _Unreachable as exc:
                if watchdog.expired or time.monotonic() >= deadline:
                    raise late from exc
                raise
            finally:
                if watchdog.expired:  # whatever was read may be cut short: refuse it
                    raise late
    finally:
        if owned:
            http.close()


def _get(http: requests.Session, target: str, headers: dict[str, str], deadline: float) -> tuple[int, bytes]:
    remaining = max(deadline - time.monotonic(), 0.001)
    try:
        response = http.get(
            target, headers=headers, timeout=(remaining, remaining), stream=True, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise _Unreachable(f"cannot get {target} ({_root_cause(exc)})") from exc
    with closing(response):
        return response.status_code, read_answer(response, target, broken=_Unreachable, too_big=InputError)


def read_answer(
    response: requests.Response,
    target: str,
    *,
    broken: Callable[[str], Exception],
    too_big: Callable[[str], Exception],
    limit: int = MAX_ANSWER_BYTES,
) -> bytes:
    """A streamed answer's body, read to at most ``limit`` bytes (else ``too_big``); a connection broken
    while reading raises ``broken``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = response.raw.read1(65536)
        except (Urllib3Error, OSError) as exc:
            raise broken(f"connection broken while reading the answer of {target} ({exc})") from exc
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise too_big(f"the answer of {target} is over {limit} bytes")
        chunks.append(chunk)


def _json_object(body: bytes, *, what: str) -> dict[str, Any]:
    try:
        value = loads(body, what=what)
    except AlertsvcError as exc:
        raise InputError(f"{what} is not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise InputError(f"{what} is not a JSON object")
    return value


def _error_part(body: bytes, name: str) -> str:
    try:
        value = loads(body, what="error answer")
    except AlertsvcError:
        return ""
    error = value.get("error") if isinstance(value, dict) else None
    part = error.get(name) if isinstance(error, dict) else None
    return part[:300] if isinstance(part, str) else ""


def _error_code(body: bytes) -> str:
    return _error_part(body, "code")


def _error_message(body: bytes) -> str:
    return _error_part(body, "message") or "no reason given"


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return str(exc) or type(exc).__name__
