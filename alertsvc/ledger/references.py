"""How a FHIR body of the ledger names a resource and an identity: the ground both ``fhir`` (medications,
allergies, reactions, consents) and ``observations`` stand on, so that neither needs the other's.

An identity is ``{"identifier": {"system": IDENTITY_SYSTEM, "value": "ed25519:..."}}``; a resource id is a
UUID that names a resource across its updates.
"""

from __future__ import annotations

import uuid
from typing import Any

from alertsvc.errors import InputError
from alertsvc.ledger.entries import require_dict, require_str

IDENTITY_SYSTEM = "urn:ietf:params:alertsvc:identity"


def new_resource_id() -> str:
    """A fresh FHIR resource id (a UUID; ids name a resource across its updates)."""
    return str(uuid.uuid4())


def identity_ref(public_id: str) -> dict[str, Any]:
    return {"identifier": {"system": IDENTITY_SYSTEM, "value": public_id}}


def read_identity_ref(value: object, *, what: str) -> str:
    ref = require_dict(value, what=what)
    ident = require_dict(ref.get("identifier"), what=f"{what} identifier")
    if ident.get("system") != IDENTITY_SYSTEM:
        raise InputError(f"{what}: identifier system must be {IDENTITY_SYSTEM}")
    return require_str(ident.get("value"), what=f"{what} identifier value")
