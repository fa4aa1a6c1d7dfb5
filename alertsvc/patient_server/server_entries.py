"""``POST /entries`` on the patient's ledger server: practitioner entries delivered by a write grantee.

The request is signed by the grantee (``alertsvc.access``: method POST, path ``/entries``,
the exact body, audience the patient's public id, used once); a bad, missing, stale or replayed token is
a bare 401. The body is ``{"entries": [{"payload", "signature"}, ...]}`` (at most ``MAX_ENTRIES``).

Every entry is checked before anything is appended, and the batch is appended in one transaction under
one new patient-signed head, or not at all:

- its signature verifies over the exact payload bytes, which are canonical JSON (else 400
  ``bad-signature`` / ``bad-entry``);
- it is for this patient, a medication, allergy, reaction or observation, and signed by the requester
  (else 403 ``not-the-author``); its body is a well-formed FHIR resource of its kind (else 400
  ``bad-entry``); a "no known drug allergies" assertion while her ledger records allergies is 409
  ``allergies-recorded``;
- it names a grant of this ledger (else 404 ``no-such-grant``) whose grantee is the requester (403
  ``wrong-grantee``), whose write scope covers the kind (403 ``out-of-scope``), that was written within
  the grant's period and that holds now: not revoked, not expired (403 ``grant-revoked`` /
  ``grant-expired`` / ``grant-not-yet-valid``).

An entry already in the ledger (same id: a retry after a lost answer) is not appended again; the answer
lists it under ``already``. ``201 {"appended": [ids], "already": [ids], "head": seq}``.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertsvc import errors
from alertsvc.access import read_signed_request, signed_request_signer
from alertsvc.ledger import fhir
from alertsvc.ledger.allergy_status import AllergiesRecorded, refuse_if_allergies
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.entries import CLINICAL_KINDS, SignedEntry, format_time, open_envelope, read_entry_parts
from alertsvc.ledger.grants import Grant, check_current, write_problem
from alertsvc.patient_server.server_state import MAX_BODY_BYTES, server_of
from alertsvc.server_http import bearer, error_response, request_target

MAX_ENTRIES = 100
log = logging.getLogger("alertsvc.patient_server.server")


class Refused(Exception):
    """An entry the ledger will not take: HTTP status, error code and a message naming the entry."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def post_entries(request: Request) -> Response:
    server = server_of(request)
    now = server.clock()
    token = bearer(request.headers.get("authorization"))
    signed_request_signer(token, audience=server.patient, now=now)  # who, before reading the body
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return error_response(413, "body-too-large", f"entries: over {MAX_BODY_BYTES} bytes")
    raw = await request.body()
    signed = read_signed_request(
        token, method="POST", target=request_target(request), body=raw, audience=server.patient, now=now
    )
    if len(raw) > MAX_BODY_BYTES:
        return error_response(413, "body-too-large", f"entries: over {MAX_BODY_BYTES} bytes")
    snapshot = server.snapshot()
    grants = snapshot.grants()
    if not any(g.grantee == signed.issuer for g in grants.values()):
        raise errors.Forbidden(f"{signed.issuer} holds no grant of this ledger")
    server.replays.admit(signed, now=now)
    try:
        entries = _read_entries(raw)
        known = {e.id for tree in snapshot.trees.values() for e in tree}
        revocations = snapshot.revocations()
        fresh: list[SignedEntry] = []
        already: list[str] = []
        for entry in entries:
            if entry.id in known:
                already.append(entry.id)
                continue
            _check(entry, signed.issuer, server.patient, grants)
            try:
                check_current(grants[entry.grant or ""], now=now, revocations=revocations)
            except errors.GrantError as exc:
                code = {
                    errors.GrantRevoked: "grant-revoked",
                    errors.GrantExpired: "grant-expired",
                    errors.GrantNotYetValid: "grant-not-yet-valid",
                }.get(type(exc), "grant-error")
                raise Refused(403, code, f"{entry.kind} entry {entry.id}: {exc}") from exc
            if entry.id not in {e.id for e in fresh}:
                fresh.append(entry)
        allergies = [*snapshot.trees["allergies"], *(e for e in fresh if e.kind == "allergy")]
        for entry in fresh:
            try:
                refuse_if_allergies(entry, allergies)
            except AllergiesRecorded as exc:
                raise Refused(409, "allergies-recorded", str(exc)) from exc
    except Refused as refusal:
        log.warning("refused entries from %s: %s", signed.issuer, refusal.message)
        return error_response(refusal.status, refusal.code, refusal.message)
    head = snapshot.latest.seq
    if fresh:
        with server.ledger() as ledger:
            head = ledger.append(fresh, patient=server.key, now=now).seq
        log.info("appended %d entries from %s", len(fresh), signed.issuer)
    answer: dict[str, Any] = {
        "appended": [e.id for e in fresh],
        "already": already,
        "head": head,
        "at": format_time(now),
    }
    return JSONResponse(answer, status_code=201 if fresh else 200, headers={"Cache-Control": "no-store"})


def _read_entries(raw: bytes) -> list[SignedEntry]:
    try:
        document = loads(raw, what="entries")
    except errors.InputError as exc:
        raise Refused(400, "bad-request", str(exc)) from exc
    listed = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(document, dict) or set(document) != {"entries"} or not isinstance(listed, list):
        raise Refused(400, "bad-request", 'entries: expected {"entries": [{payload, signature}, ...]}')
    if not listed or len(listed) > MAX_ENTRIES:
        raise Refused(400, "bad-request", f"entries: 1 to {MAX_ENTRIES} entries, not {len(listed)}")
    entries = []
    for position, value in enumerate(listed):
        what = f"entries[{position}]"
        try:
            payload, signature = open_envelope(value, what=what)
            entries.append(read_entry_parts(payload, signature, what=what, require_canonical=True))
        except errors.BadSignature as exc:
            raise Refused(400, "bad-signature", str(exc)) from exc
        except (errors.InputError, errors.LedgerError) as exc:
            raise Refused(400, "bad-entry", str(exc)) from exc
    return entries


def _check(entry: SignedEntry, requester: str, patient: str, grants: dict[str, Grant]) -> None:
    what = f"{entry.kind} entry {entry.id}"
    if entry.patient != patient:
        raise Refused(403, "wrong-patient", f"{what} is for {entry.patient}, not this ledger's patient")
    if entry.kind not in CLINICAL_KINDS:
        raise Refused(403, "out-of-scope", f"{what}: only the patient writes {entry.kind} entries")
    if entry.author != requester:
        raise Refused(403, "not-the-author", f"{what} is signed by {entry.author}, not by {requester}")
    if entry.grant is None:
        raise Refused(403, "no-write-grant", f"{what} names no grant it is written under")
    grant = grants.get(entry.grant)
    if grant is None:
        raise Refused(404, "no-such-grant", f"{what} names grant {entry.grant[:80]}, not in this ledger")
    if not grant.may_write(entry.kind):  # a handover grant endorses only what the patient imports
        raise Refused(403, "out-of-scope", f"{what}: grant {grant.id}'s write scope does not cover it")
    try:
        fhir.read_clinical(entry)
    except errors.InputError as exc:
        raise Refused(400, "bad-entry", str(exc)) from exc
    problem = write_problem(entry, grants)
    if problem is not None:
        code = (
            "out-of-scope"
            if "write scope" in problem
            else "outside-grant-period"
            if "outside grant" in problem
            else "wrong-grantee"
        )
        raise Refused(403, code, f"{what}: {problem}")


ROUTES = [Route("/entries", post_entries, methods=["POST"])]
