"""Schemathesis hooks for ``test_openapi.py`` (loaded by the ``schemathesis`` command through
``SCHEMATHESIS_HOOKS``): who is asking, and real ids to aim at.

``ALERTSVC_SCHEMATHESIS`` (JSON) carries what the test set up on the real server: staff tokens, the
patient's and a CDS client's key seeds (hex), the service's id and the ids of a real ward, admission,
dose and alert. Each case gets the credential its operation's security scheme asks for, made fresh where
the scheme wants that (a CDS Hooks JWT is used once; a patient's signed request names the exact path).
Half the cases' path parameters are swapped for the real ids, so the fuzzing reaches past "no such
alert" into the code that acts on one.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.request_tokens import sign_request

CONTEXT: dict[str, Any] = json.loads(os.environ.get("ALERTSVC_SCHEMATHESIS", "{}"))


def _identity(name: str) -> Identity:
    return Identity.from_seed(bytes.fromhex(CONTEXT[name]))


def patient_request(method: str, path: str) -> str:
    """A request the patient signed for ``method`` and ``path`` with no body (a signed request covers the
    body's hash, and a GET has none), valid now and accepted once."""
    now = datetime.now(UTC)
    return sign_request(
        _identity("patient_seed"),
        method=method,
        target=path,
        body=b"",
        audience=CONTEXT["service_id"],
        now=now,
    )


def cds_jwt(audience: str) -> str:
    now = int(time.time())
    claims = {"iss": CONTEXT["cds_issuer"], "aud": audience, "iat": now, "exp": now + 300}
    return jws.sign(claims | {"jti": uuid.uuid4().hex}, _identity("cds_seed"), typ="JWT")


@schemathesis.auth(refresh_interval=None, retry_on=[])
class AlertsvcAuth:
    """The credential each operation's security scheme asks for."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str | None:
        path, method = context.operation.path, context.operation.method.upper()
        formatted = case.formatted_path
        if path.startswith("/cds-services/"):
            return cds_jwt(CONTEXT["base_url"] + formatted)
        if path.endswith("/audit"):
            return patient_request(method, formatted)
        if path == "/admissions":
            return str(CONTEXT["admission_token"])
        # /entries takes the ward's nurse token: a patient-signed POST signs the exact body bytes, which
        # schemathesis serialises after this hook (the signed-request tests cover that path).
        return str(CONTEXT["nurse_token"])

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


REAL = {"ward": "ward", "admission": "admission", "dose": "dose", "alert": "alert", "service": "cds_service"}


@schemathesis.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> Any:
    """Keep the generated ids, or swap every one that is a valid id (no '/') for a real one."""
    if not path_parameters:
        return st.just(path_parameters)
    real = {
        name: CONTEXT[REAL[name]] if name in REAL and "/" not in str(value) else value
        for name, value in path_parameters.items()
    }
    return st.sampled_from([path_parameters, real])


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> Any:
    """Keep the generated body, or aim it at the real admission: a schedule item's ``admission`` text, a
    CDS call's ``context.encounterId``. Only text is swapped for text, so a body generated to break the
    schema still breaks it."""
    operation = context.operation
    if operation is None or not isinstance(body, dict):
        return st.just(body)
    aimed: Any = body
    if operation.path == "/wards/{ward}/schedule":
        aimed = {
            key: [
                item | {"admission": CONTEXT["admission"]}
                if isinstance(item, dict) and isinstance(item.get("admission"), str)
                else item
                for item in value
            ]
            if key in ("administrations", "medication_requests") and isinstance(value, list)
            else value
            for key, value in body.items()
        }
    elif operation.path == "/cds-services/{service}" and isinstance(body.get("context"), dict):
        aimed = body | {"context": body["context"] | {"encounterId": CONTEXT["admission"]}}
    return st.sampled_from([body, aimed])
