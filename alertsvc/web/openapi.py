"""``GET /openapi.json``: an OpenAPI 3.1 description of the service's HTTP API, built from its routes table.

Every route the app serves (every ``Route``, every method but HEAD) is a path and operation of the
document: its path parameters come from the route itself, its words, bodies and answers from
``openapi_operations.OPERATIONS``. A route missing from that table is still listed, marked
``x-undocumented`` (and ``tests/web/test_openapi.py`` fails until it is described), so the document
cannot silently fall behind the routes. Every POST takes an optional ``Idempotency-Key`` header.
Every refusal has the one error shape (``#/components/schemas/Error``); a bad token is a bare 401.

Three ways to say who is asking (``components.securitySchemes``): a ward staff token (``staffToken``), a
request signed with the patient's own key (``patientSignedRequest``) and a CDS Hooks client's JWT
(``cdsClientJwt``), each sent as ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

import alertsvc
from alertsvc.web import openapi_actions, openapi_ledger_schemas
from alertsvc.web.openapi_operations import CDS_SCHEMAS, ERRORS
from alertsvc.web.openapi_operations import OPERATIONS as BASE_OPERATIONS
from alertsvc.web.openapi_schemas import SCHEMAS, ref

OPERATIONS = BASE_OPERATIONS | openapi_actions.OPERATIONS

OPENAPI_VERSION = "3.1.0"

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A client's key for this write: a retry with the same key gets the first answer.",
    "schema": {"type": "string"},
}

SECURITY_SCHEMES = {
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWS",
        "description": "A ward staff token (`alertsvc staff token`): a compact JWS (EdDSA, typ "
        "alertsvc-staff+jwt) signed by the service, naming one ward and one role (nurse or admission).",
    },
    "patientSignedRequest": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWS",
        "description": "A request signed with the patient's own Ed25519 key: a compact JWS (typ "
        "alertsvc-request+jwt) whose claims name the service (aud), the method (htm) and path (htu), "
        "and a validity of at most five minutes (iat, exp, jti).",
    },
    "cdsClientJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "CDS Hooks 2.0: a JWT signed by a trusted CDS client (EdDSA, ES384 or RS384), aud "
        "the endpoint's URL, exp at most an hour ahead, a jti used once.",
    },
}


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}
        for name in route.param_convertors
    ]


def _undocumented(method: str, path: str) -> dict[str, Any]:
    return {
        "summary": f"{method} {path} (not yet described)",
        "x-undocumented": True,
        "responses": {"default": {"$ref": "#/components/responses/E400"}},
    }


def document(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes`` (a Starlette app's routes table)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            operation = dict(OPERATIONS.get((method, route.path)) or _undocumented(method, route.path))
            parameters = [*_path_parameters(route), *operation.get("parameters", [])]
            if method == "POST":
                parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
            if parameters:
                operation["parameters"] = parameters
            operation["operationId"] = f"{method.lower()} {route.path}"
            paths.setdefault(route.path, {})[method.lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "alertsvc",
            "version": alertsvc.__version__,
            "description": "Drug-interaction alerts for a ward from a patient's signed ledger slice: "
            "admissions, the ward's schedule, signed alerts and their event stream, acknowledgements, "
            "CDS Hooks 2.0.",
        },
        "paths": paths,
        "components": {
            "schemas": openapi_actions.with_actions(SCHEMAS | openapi_ledger_schemas.SCHEMAS | CDS_SCHEMAS),
            "responses": {f"E{code}": _error(code, text) for code, text in ERRORS.items()},
            "parameters": {"IdempotencyKey": IDEMPOTENCY_KEY},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _error(code: int, text: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": text,
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if code == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}}
    return response


async def openapi_json(request: Request) -> JSONResponse:
    """The document of the app serving this request (built once per app)."""
    built = getattr(request.app.state, "openapi", None)
    if built is None:
        built = request.app.state.openapi = document(request.app.routes)
    return JSONResponse(built)


ROUTES = [Route("/openapi.json", openapi_json, methods=["GET"])]
