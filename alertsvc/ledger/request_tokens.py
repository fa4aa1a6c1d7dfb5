"""Request tokens: a patient's or a grantee's signature over one HTTP request, made with her own key.

The token is a compact JWS (``typ`` ``alertsvc-request+jwt``) over the method, the target (path and
query), the SHA-256 of the exact body bytes, the audience (the server's public id), a short life and a
fresh nonce. It is made here, beside the identities that sign it, so the ledger's own client
(``ledger.remote``) can sign its reads; a server checks it, and accepts it once, with
``alertsvc.access.read_signed_request`` and its ``ReplayCache``.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from alertsvc.ledger import jws
from alertsvc.ledger.canonical import b64url
from alertsvc.ledger.identity import Identity

SIGNED_REQUEST_TYPE = "alertsvc-request+jwt"
SIGNED_REQUEST_LIFETIME = timedelta(seconds=60)


def body_digest(body: bytes) -> str:
    """What ``bdh`` says of a body: ``sha256:`` and the base64url SHA-256 of its exact bytes."""
    return "sha256:" + b64url(hashlib.sha256(body).digest())


def sign_request(
    signer: Identity, *, method: str, target: str, body: bytes = b"", audience: str, now: datetime
) -> str:
    """A request token for one ``method`` and ``target`` (path, and ``?query`` if any) with this ``body``,
    at ``audience``, usable once within ``SIGNED_REQUEST_LIFETIME`` of ``now``."""
    claims = {
        "iss": signer.public_id,
        "aud": audience,
        "htm": method.upper(),
        "htu": target,
        "bdh": body_digest(body),
        "iat": int(now.timestamp()),
        "exp": int((now + SIGNED_REQUEST_LIFETIME).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jws.sign(claims, signer, typ=SIGNED_REQUEST_TYPE)
