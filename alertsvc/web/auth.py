"""Staff tokens and patient-signed requests.

A staff token is a compact JWS signed by the service key: one ward, one role (``nurse`` reads alerts,
records administrations and acknowledges; ``admission`` presents grants), an expiry. Any token fault is
``Unauthorized`` (a bare 401 for the client); a valid token for another ward or role is ``Forbidden``.
A token issued in the future (beyond a small clock skew) or living longer than the maximum lifetime
(``TokenRules``, from the settings ``staff_token_max_hours`` and ``token_clock_skew_seconds``) is a token
fault too: a stolen token must not outlive a shift by much, and a clock cannot mint tomorrow's tokens.

Requests signed by a patient's (or grantee's) own key are in ``alertsvc.web.signed_requests``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from alertsvc.alerts import jws
from alertsvc.config import Settings
from alertsvc.errors import AlertsvcError, Forbidden, Unauthorized
from alertsvc.ledger.identity import Identity

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


def bearer(header_value: str | None) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or Unauthorized."""
    if not header_value:
        raise Unauthorized("no Authorization header")
    scheme, _, token = header_value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization is not a bearer token")
    return token.strip()


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
