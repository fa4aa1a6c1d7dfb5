"""Who may ask: staff tokens and their roles, and requests signed by a patient's (or a grantee's) own key.

No HTTP here: reading an ``Authorization`` header is the servers' (``alertsvc.server_http.bearer``), and
the target of a request (``server_http.request_target``) too. The service, its desks and both servers
take their rules from this module.

Staff tokens. A staff token is a compact JWS signed by the service key: one ward, one role (``nurse``
reads alerts, records administrations and acknowledges; ``admission`` presents grants), an expiry. Any
token fault is ``Unauthorized`` (a bare 401 for the client); a valid token for another ward or role is
``Forbidden``. A token issued in the future (beyond a small clock skew) or living longer than the maximum
lifetime (``TokenRules``, from the settings ``staff_token_max_hours`` and ``token_clock_skew_seconds``) is
a token fault too: a stolen token must not outlive a shift by much, and a clock cannot mint tomorrow's
tokens.

Signed requests (made by ``alertsvc.ledger.request_tokens``, where identities are), and the replay cache
that makes each usable once. Who uses them: the hospital service
reads a patient's ledger server (``GET /slices/{grant}[?since=N]``, signed by the service as grantee,
audience the patient's id); the patient reads the hospital's audit trail of her data
(``GET /admissions/{id}/audit``) and may post ledger updates herself (``POST /admissions/{id}/entries``),
signed by her key, audience the service's id.

A signed request is a compact JWS (EdDSA, ``typ`` ``alertsvc-request+jwt``) sent as a bearer token, over::

    {"iss": signer's id, "aud": the server's id, "htm": method, "htu": path[?query],
     "bdh": "sha256:" + base64url(SHA-256 of the exact body bytes; of nothing for a GET),
     "iat": issued, "exp": at most 60 s later, "jti": a fresh random nonce}

A server accepts it only for exactly this method, target (path and query), body and audience, from
``iat`` (less 30 s of clock skew) until ``exp``, and only once: ``ReplayCache`` remembers each accepted
``(iss, jti)`` until its ``exp``. Any fault is ``Unauthorized`` (a bare 401 for the client).

The replay cache is in memory, not in a database, and that is enough: one process serves a service
database and one a ledger, every entry is dropped once its token has expired (at most 60 s), and a
restart forgets nothing that matters because a server refuses every token issued before it started. So a
request captured before a restart cannot be replayed after it either. In exchange: no disk write on every
signed read, and no scratch state in the patient's ledger file, which is her signed record. A client
whose clock is behind the server's by d seconds is refused for the first d seconds after a restart, and
succeeds on its next try. Only requests from a signer the server then recognised (the grant's grantee,
the admission's patient) are remembered, so strangers with keys of their own cannot fill the cache; it
is bounded besides, and when full it refuses rather than forgets.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from alertsvc.config import Settings
from alertsvc.errors import AlertsvcError, Forbidden, Unauthorized
from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.request_tokens import SIGNED_REQUEST_LIFETIME, SIGNED_REQUEST_TYPE, body_digest

Role = Literal["nurse", "admission"]
ROLES: tuple[Role, ...] = ("nurse", "admission")
STAFF_TOKEN_TYPE = "alertsvc-staff+jwt"


@dataclass(frozen=True)
class TokenRules:
    """How long a staff token may live (``exp - iat``), and how far ahead of our clock its ``iat`` may be."""

    max_lifetime: timedelta = timedelta(hours=24)
    clock_skew: timedelta = timedelta(seconds=60)

    @classmethod
    def of(cls, settings: Settings) -> TokenRules:
        return cls(
            max_lifetime=timedelta(hours=settings.staff_token_max_hours),
            clock_skew=timedelta(seconds=settings.token_clock_skew_seconds),
        )


@dataclass(frozen=True)
class Staff:
    """Who a valid staff token says is asking."""

    name: str
    ward: str
    role: Role
    expires: datetime
    token_id: str


def issue_staff_token(
    service: Identity, *, ward: str, name: str, role: Role, now: datetime, hours: float
) -> str:
    """A token for ``name`` on ``ward`` in ``role``, valid for ``hours`` from ``now``."""
    if role not in ROLES:
        raise Unauthorized(f"unknown role {role!r}")
    claims = {
        "iss": service.public_id,
        "sub": name,
        "ward": ward,
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=hours)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jws.sign(claims, service, typ=STAFF_TOKEN_TYPE)


def read_staff_token(
    token: str, service_public_key: bytes, *, now: datetime, rules: TokenRules = TokenRules()
) -> Staff:
    """The staff a token names, or Unauthorized for any fault: a bad signature, malformed, expired,
    issued in the future or living longer than ``rules`` allow."""
    try:
        claims = jws.verify(token, service_public_key, typ=STAFF_TOKEN_TYPE)
        issued = _number(claims, "iat")
        staff = Staff(
            name=_text(claims, "sub"),
            ward=_text(claims, "ward"),
            role=_role(claims),
            expires=datetime.fromtimestamp(_number(claims, "exp"), tz=now.tzinfo),
            token_id=_text(claims, "jti"),
        )
    except AlertsvcError as exc:
        raise Unauthorized("bad staff token") from exc
    if now >= staff.expires:
        raise Unauthorized("staff token expired")
    if issued > (now + rules.clock_skew).timestamp():
        raise Unauthorized("staff token issued in the future")
    if staff.expires.timestamp() - issued > rules.max_lifetime.total_seconds():
        raise Unauthorized("staff token lives longer than the maximum")
    return staff


def require(staff: Staff, *, ward: str, roles: Collection[str]) -> None:
    """Forbidden unless the token is for ``ward`` and one of ``roles``."""
    if staff.ward != ward:
        raise Forbidden(f"this token is for ward {staff.ward!r}, not {ward!r}")
    if staff.role not in roles:
        raise Forbidden(f"role {staff.role!r} may not do this (needs {' or '.join(roles)})")


CLOCK_SKEW = timedelta(seconds=30)
"""How far ahead of the server's clock a signer's may be (a token issued that far 'in the future')."""
MAX_NONCE_CHARS = 128
log = logging.getLogger("alertsvc.access")


@dataclass(frozen=True)
class SignedRequest:
    """A verified signed request: who signed it, its nonce, and when it was issued and expires (epoch s)."""

    issuer: str
    nonce: str
    issued: int
    expires: int


@dataclass(frozen=True)
class SignedCall:
    """A request as its signature covers it, with no HTTP object in it: the bearer token, the method, the
    target (path, and ``?query`` if any) and the exact body bytes. The HTTP servers build it; the service
    reads it with ``read_signed_call``."""

    token: str
    method: str
    target: str
    body: bytes = b""


def read_signed_call(call: SignedCall, *, audience: str, now: datetime) -> SignedRequest:
    """``read_signed_request`` for one ``SignedCall``."""
    return read_signed_request(
        call.token, method=call.method, target=call.target, body=call.body, audience=audience, now=now
    )


def read_signed_request(
    token: str, *, method: str, target: str, body: bytes, audience: str, now: datetime
) -> SignedRequest:
    """The verified request, if ``token`` was signed for exactly this method, target, body and audience
    and is within its life at ``now``; else Unauthorized. Whether it was seen before is the caller's
    ``ReplayCache.admit`` to say, once it knows the signer is one it serves."""
    try:
        issuer = _text(jws.unverified_claims(token), "iss")
        claims = jws.verify_with_id(token, issuer, typ=SIGNED_REQUEST_TYPE)
        issued, expires, nonce = _number(claims, "iat"), _number(claims, "exp"), _text(claims, "jti")
    except AlertsvcError as exc:
        raise Unauthorized("bad signed request") from exc
    if (
        claims.get("aud") != audience
        or claims.get("htm") != method.upper()
        or claims.get("htu") != target
        or claims.get("bdh") != body_digest(body)
        or len(nonce) > MAX_NONCE_CHARS
    ):
        raise Unauthorized("signed request not for this request")
    moment = now.timestamp()
    if (
        not issued - CLOCK_SKEW.total_seconds() <= moment < expires
        or expires - issued > SIGNED_REQUEST_LIFETIME.total_seconds()
    ):
        raise Unauthorized("signed request not valid at this time")
    return SignedRequest(issuer=issuer, nonce=nonce, issued=issued, expires=expires)


def signed_request_signer(token: str, *, audience: str, now: datetime) -> str:
    """Before a request's body is read: the public id that signed ``token``, a request token for
    ``audience`` within its time; Unauthorized otherwise. What binds it to this request (method, target,
    body) and whether it was seen before are checked with the body, by ``read_signed_request`` and
    ``ReplayCache.admit``; this consumes nothing."""
    try:
        issuer = _text(jws.unverified_claims(token), "iss")
        claims = jws.verify_with_id(token, issuer, typ=SIGNED_REQUEST_TYPE)
        issued, expires = _number(claims, "iat"), _number(claims, "exp")
    except AlertsvcError as exc:
        raise Unauthorized("bad signed request") from exc
    moment = now.timestamp()
    if claims.get("aud") != audience or not issued - CLOCK_SKEW.total_seconds() <= moment < expires:
        raise Unauthorized("signed request not valid for this service or time")
    return issuer


class ReplayCache:
    """The signed requests a server has accepted, each remembered until it expires (see the docstring).

    ``started`` is when the server started: tokens issued before it are refused, since what was accepted
    before a restart is not remembered.
    """

    def __init__(self, *, started: datetime, capacity: int = 100_000) -> None:
        self.started = math.floor(started.timestamp())
        self.capacity = capacity
        self._seen: set[tuple[str, str]] = set()
        self._expiries: list[tuple[int, str, str]] = []  # a heap of (expires, issuer, nonce)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def admit(self, request: SignedRequest, *, now: datetime) -> None:
        """Accept ``request`` this once; Unauthorized if it was accepted before, was issued before this
        server started, or (the cache full) cannot be remembered."""
        if request.issued < self.started:
            raise Unauthorized("signed request issued before this server started")
        key = (request.issuer, request.nonce)
        with self._lock:
            moment = now.timestamp()
            while self._expiries and self._expiries[0][0] <= moment:
                _, issuer, nonce = heapq.heappop(self._expiries)
                self._seen.discard((issuer, nonce))
            if key in self._seen:
                raise Unauthorized("signed request replayed")
            if len(self._seen) >= self.capacity:
                log.warning("%d signed requests in flight: refusing more until some expire", self.capacity)
                raise Unauthorized("too many signed requests in flight")
            self._seen.add(key)
            heapq.heappush(self._expiries, (request.expires, *key))


def _text(claims: dict[str, object], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise Unauthorized(f"claim {name!r} missing")
    return value


def _number(claims: dict[str, object], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Unauthorized(f"claim {name!r} missing")
    return value


def _role(claims: dict[str, object]) -> Role:
    value = claims.get("role")
    for role in ROLES:
        if value == role:
            return role
    raise Unauthorized("claim 'role' missing or unknown")
