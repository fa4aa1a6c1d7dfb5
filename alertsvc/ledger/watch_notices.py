"""The notices a patient's ledger server sends down a grantee's watch (``GET /watch/{grant}``), signed.

Each notice is a compact JWS (EdDSA, ``typ`` ``alertsvc-watch+jwt``) signed by the patient's key, over::

    {"iss": patient id, "aud": grantee id, "grant": grant id, "type": one of NOTICE_TYPES,
     "head": latest head seq, "head_hash": "sha256:" + base64url(SHA-256 of that head's signed payload),
     "trees": {tree: size, for the trees the grant covers}, "iat": epoch seconds, "jti": a random nonce
     [, "reason": why a watch ended] [, "request": a scope request id, "status": its answer]}

- ``watching``: sent first, the ledger as it stands (the grantee reads an update if it is behind);
- ``changed``: an entry was appended to a tree the grant covers (scope, or revocations);
- ``scope-request``: a scope request of this grant was answered (``request``, ``status``);
- ``ended``: the watch ends because the grant was revoked or expired (``reason``);
- ``replaced``: a newer watch of the same grant took this one's place.

A notice is only a wake-up: the grantee reads the update through the ordinary signed read and verifies
it as always, so a forged or replayed notice can at worst cause one harmless read. The grantee still
checks the signature, so a stream that is not from the patient is noticed and dropped.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alertsvc.errors import AlertsvcError, BadSignature
from alertsvc.ledger import jws
from alertsvc.ledger.canonical import b64url
from alertsvc.ledger.entries import TreeHead
from alertsvc.ledger.identity import Identity

NOTICE_TYPE = "alertsvc-watch+jwt"
NOTICE_TYPES = ("watching", "changed", "scope-request", "ended", "replaced")


@dataclass(frozen=True)
class Notice:
    """A verified notice from the patient's watch stream."""

    type: str
    grant: str
    head: int
    head_hash: str
    trees: Mapping[str, int]
    reason: str | None = None
    request: str | None = None
    status: str | None = None


def head_hash(head: TreeHead) -> str:
    """``sha256:`` and the base64url SHA-256 of the head's signed payload: names exactly one head."""
    return "sha256:" + b64url(hashlib.sha256(head.payload).digest())


def sign_notice(
    patient: Identity,
    *,
    grantee: str,
    grant: str,
    type: str,
    head: TreeHead,
    trees: Mapping[str, int],
    now: datetime,
    **extra: str,
) -> str:
    """A notice of ``type`` about ``grant`` for ``grantee``, signed by the patient."""
    if type not in NOTICE_TYPES:
        raise ValueError(f"notice type {type!r} is not one of {', '.join(NOTICE_TYPES)}")
    claims: dict[str, Any] = {
        "iss": patient.public_id,
        "aud": grantee,
        "grant": grant,
        "type": type,
        "head": head.seq,
        "head_hash": head_hash(head),
        "trees": dict(trees),
        "iat": int(now.timestamp()),
        "jti": uuid.uuid4().hex,
        **extra,
    }
    return jws.sign(claims, patient, typ=NOTICE_TYPE)


def read_notice(token: str, *, patient: str, grantee: str, grant: str) -> Notice:
    """The notice in ``token`` if the patient signed it for this grantee and grant; BadSignature if not."""
    try:
        claims = jws.verify_with_id(token, patient, typ=NOTICE_TYPE)
    except AlertsvcError as exc:
        raise BadSignature(f"watch notice for grant {grant}: not signed by the patient {patient}") from exc
    if claims.get("iss") != patient or claims.get("aud") != grantee or claims.get("grant") != grant:
        raise BadSignature(f"watch notice: not about grant {grant} for {grantee}")
    kind, head, digest, trees = (
        claims.get("type"),
        claims.get("head"),
        claims.get("head_hash"),
        claims.get("trees"),
    )
    if (
        kind not in NOTICE_TYPES
        or not isinstance(head, int)
        or isinstance(head, bool)
        or not isinstance(digest, str)
        or not isinstance(trees, dict)
        or not all(isinstance(v, int) for v in trees.values())
    ):
        raise BadSignature(f"watch notice for grant {grant}: malformed claims")
    return Notice(
        type=str(kind),
        grant=grant,
        head=head,
        head_hash=digest,
        trees=trees,
        reason=_optional(claims, "reason"),
        request=_optional(claims, "request"),
        status=_optional(claims, "status"),
    )


def _optional(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value[:200] if isinstance(value, str) else None
