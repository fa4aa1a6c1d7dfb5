"""The JSON routes of the patient's pages (``/api/...``): see the ledger, search drugs, flag a reaction,
share (grant, grant file, slice, QR code), revoke, and read a hospital's audit trail.

Each POST checks the page token first (``require_csrf``), then reads the body, builds a signed entry with
``alertsvc.ledger.actions`` or ``grants`` and appends it. Only loopback clients get here (see ``server``).
"""

from __future__ import annotations

import io
import json
from typing import Any

import segno
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertsvc import errors
from alertsvc.ledger import actions, fhir
from alertsvc.ledger.allergy_status import no_known_allergies
from alertsvc.ledger.entries import SignedEntry, format_time
from alertsvc.ledger.grants import SCOPES, Grant, new_grant, parse_scope, read_revocation
from alertsvc.ledger.identity import public_key_of
from alertsvc.ledger.log import LedgerSnapshot
from alertsvc.ledger.remote import fetch_audit, grant_link
from alertsvc.ledger.server_views import grant_file, grant_view, ledger_view, revocations_by_grant
from alertsvc.ledger.slices import make_slice
from alertsvc.patient_server.scope_request_routes import revocations_with_widened
from alertsvc.patient_server.server_search import MAX_QUERY, ChosenDrug
from alertsvc.patient_server.server_state import PatientServer, json_body, server_of
from alertsvc.server_http import error_response, kebab

MAX_TEXT = 500
MAX_GRANT_HOURS = 24 * 366
NO_STORE = {"Cache-Control": "no-store"}


def _text(body: dict[str, Any], name: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise errors.InputError(f"'{name}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise errors.InputError(f"'{name}' must be non-empty text")
    if len(value) > limit:
        raise errors.InputError(f"'{name}' is longer than {limit} characters")
    return " ".join(value.split())


def _grant(snapshot: LedgerSnapshot, grant_id: str) -> Grant:
    found = snapshot.grants().get(grant_id)
    if found is None:
        raise errors.NotFound(f"no grant {grant_id[:80]} in this ledger")
    return found


def _append(server: PatientServer, entry: SignedEntry, *also: SignedEntry) -> dict[str, Any]:
    now = server.clock()
    with server.ledger() as ledger:
        head = ledger.append([entry, *also], patient=server.key, now=now)
    server.watches.poke()  # the grantees watching learn of it at once
    return {"entry": entry.id, "kind": entry.kind, "head": head.seq}


def _attachment(body: bytes, name: str) -> Response:
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type="application/json", headers=headers)


def _short(grant_id: str) -> str:
    return grant_id.removeprefix("sha256:")[:12]


# --- reading ---


async def ledger(request: Request) -> JSONResponse:
    server = server_of(request)
    view = ledger_view(server.snapshot(), now=server.clock(), url=server.url(request))
    view["search"] = server.drugs is not None
    return JSONResponse(view, headers=NO_STORE)


async def drugs(request: Request) -> JSONResponse:
    """``?q=war`` -> ``{"query", "matches": [{"label", "rxcui", "kind", "ingredients"}]}``."""
    server = server_of(request)
    if server.drugs is None:
        raise errors.TerminologyUnavailable("drug search is off: the knowledge base was not loaded")
    query = request.query_params.get("q", "")[:MAX_QUERY]
    matches = server.drugs.search(query)
    return JSONResponse({"query": query, "matches": [m.as_json() for m in matches]})


# --- flagging a reaction ---


def _chosen(server: PatientServer, drug: str, rxcui: str | None) -> ChosenDrug:
    if server.drugs is not None:
        return server.drugs.choose(drug, rxcui)
    code = rxcui or (drug if drug.isdigit() else None)
    return ChosenDrug(drug, code, (), unresolved=None if code else "the drug list is not loaded")


async def flag_reaction(request: Request) -> JSONResponse:
    """``{"drug", "rxcui"?, "reaction", "severity"?}`` -> a reaction entry signed by the patient."""
    server = server_of(request)
    server.require_csrf(request)
    body = await json_body(request, what="flagged reaction")
    drug = _text(body, "drug", limit=MAX_QUERY) or ""
    rxcui = _text(body, "rxcui", required=False, limit=20)
    if rxcui is not None and not rxcui.isdigit():
        raise errors.InputError(f"'rxcui' is an RxNorm code (digits), not {rxcui!r}")
    reaction = _text(body, "reaction") or ""
    severity = _text(body, "severity", required=False, limit=20)
    if severity is not None and severity not in fhir.SEVERITIES:
        raise errors.InputError(f"'severity' is one of {', '.join(fhir.SEVERITIES)}, not {severity!r}")
    chosen = _chosen(server, drug, rxcui)
    now = server.clock()
    entry = actions.flagged_reaction(
        server.key, chosen.drug, reaction=reaction, severity=severity, rxcui=chosen.rxcui, now=now
    )
    result = _append(server, entry)
    result.update(
        drug=chosen.drug,
        rxcui=chosen.rxcui,
        ingredients=[{"rxcui": i.rxcui, "name": i.name} for i in chosen.ingredients],
        unresolved=chosen.unresolved,
    )
    return JSONResponse(result, status_code=201)


# --- sharing ---


async def assert_no_allergies(request: Request) -> JSONResponse:
    """A signed "no known drug allergies" assertion (refused, 400, while allergies are recorded)."""
    server = server_of(request)
    server.require_csrf(request)
    return JSONResponse(_append(server, no_known_allergies(server.key, now=server.clock())), status_code=201)


async def create_grant(request: Request) -> JSONResponse:
    """``{"grantee": "ed25519:...", "scope": [...], "hours": N}`` -> a grant entry, and its view."""
    server = server_of(request)
    server.require_csrf(request)
    body = await json_body(request, what="grant")
    grantee = _text(body, "grantee", limit=100) or ""
    public_key_of(grantee)  # IdentityError naming a malformed id
    if grantee == server.patient:
        raise errors.InputError("the grantee is the hospital's id (ed25519:...), not your own")
    scope_value = body.get("scope")
    if not isinstance(scope_value, list) or not all(isinstance(s, str) for s in scope_value):
        raise errors.InputError(f"'scope' is a list of some of {', '.join(SCOPES)}")
    scope = parse_scope(scope_value, what="scope")
    if not scope:
        raise errors.InputError("choose at least one thing to share: medications, allergies or reactions")
    hours = body.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= MAX_GRANT_HOURS:
        raise errors.InputError(f"'hours' is a number of hours above 0 and at most {MAX_GRANT_HOURS}")
    now = server.clock()
    entry = new_grant(server.key, grantee=grantee, scope=scope, not_before=now, hours=hours, now=now)
    result = _append(server, entry)
    snapshot = server.snapshot()
    result["grant"] = grant_view(_grant(snapshot, entry.id), None, now=now, url=server.url(request))
    return JSONResponse(result, status_code=201)


async def grant_file_download(request: Request) -> Response:
    server = server_of(request)
    grant = _grant(server.snapshot(), request.path_params["grant"])
    document = grant_file(grant, url=server.url(request))
    body = (json.dumps(document, indent=2) + "\n").encode()
    return _attachment(body, f"grant-{_short(grant.id)}.json")


async def slice_download(request: Request) -> Response:
    """The slice for the hospital, made now (403 for a revoked or expired grant)."""
    server = server_of(request)
    snapshot = server.snapshot()
    grant = _grant(snapshot, request.path_params["grant"])
    body = make_slice(snapshot, grant.id, now=server.clock())
    return _attachment(body, f"slice-{_short(grant.id)}.json")


async def grant_qr(request: Request) -> Response:
    """The grant link as a QR code (SVG, made here: nothing is fetched from elsewhere)."""
    server = server_of(request)
    grant = _grant(server.snapshot(), request.path_params["grant"])
    link = grant_link(server.url(request), grant.id, grant.patient)
    buffer = io.BytesIO()
    segno.make(link, error="m").save(
        buffer, kind="svg", scale=4, border=4, xmldecl=False, title=f"Grant {_short(grant.id)}"
    )
    return Response(buffer.getvalue(), media_type="image/svg+xml", headers=NO_STORE)


async def revoke(request: Request) -> JSONResponse:
    server = server_of(request)
    server.require_csrf(request)
    snapshot = server.snapshot()
    grant = _grant(snapshot, request.path_params["grant"])
    earlier = revocations_by_grant(snapshot.revocations()).get(grant.id)
    if earlier is not None:
        raise errors.Conflict(f"grant {grant.id} was already revoked at {format_time(earlier.created)}")
    first, *widened = revocations_with_widened(server, snapshot, grant)
    result = _append(server, first, *widened)
    result["grant"] = grant.id
    result["also_revoked"] = [read_revocation(r).grant_id for r in widened]
    return JSONResponse(result, status_code=201)


# --- who accessed what: the hospital's audit trail ---


async def audit(request: Request) -> JSONResponse:
    """``{"grant", "hospital_url", "admission"}`` -> the hospital's audit trail of that admission.

    Fetched from ``{hospital_url}/admissions/{admission}/audit`` with a request signed by the patient's
    key for the grant's grantee (the hospital's public id).
    """
    server = server_of(request)
    server.require_csrf(request)
    body = await json_body(request, what="audit request")
    grant = _grant(server.snapshot(), _text(body, "grant", limit=100) or "")
    hospital_url = _text(body, "hospital_url", limit=300) or ""
    admission = _text(body, "admission", limit=200) or ""
    try:
        answer = await run_in_threadpool(
            fetch_audit,
            hospital_url,
            admission,
            server.key,
            hospital=grant.grantee,
            timeout=server.remote_timeout,
            now=server.clock(),
        )
    except errors.ServiceError as exc:  # the hospital's answer, not ours: a bad gateway whatever it was
        return error_response(502, kebab(type(exc).__name__), str(exc))
    records = answer.get("audit")
    if not isinstance(records, list):
        raise errors.InputError(f"hospital {hospital_url} answered without an audit list")
    fetched = server.clock()
    return JSONResponse(
        {
            "grant": grant.id,
            "hospital": grant.grantee,
            "hospital_url": hospital_url,
            "admission": admission,
            "fetched_at": format_time(fetched),
            "audit": records,
        },
        headers=NO_STORE,
    )


ROUTES = [
    Route("/api/ledger", ledger, methods=["GET"]),
    Route("/api/drugs", drugs, methods=["GET"]),
    Route("/api/reactions", flag_reaction, methods=["POST"]),
    Route("/api/no-known-allergies", assert_no_allergies, methods=["POST"]),
    Route("/api/grants", create_grant, methods=["POST"]),
    Route("/api/grants/{grant}/grant.json", grant_file_download, methods=["GET"]),
    Route("/api/grants/{grant}/slice.json", slice_download, methods=["GET"]),
    Route("/api/grants/{grant}/qr.svg", grant_qr, methods=["GET"]),
    Route("/api/grants/{grant}/revoke", revoke, methods=["POST"]),
    Route("/api/audit", audit, methods=["POST"]),
]
