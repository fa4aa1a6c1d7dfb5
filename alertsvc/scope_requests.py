"""Asking the patient for more: a ward's request for a wider scope, her answer, and the wider grant read.

``POST /admissions/{id}/scope-requests`` ``{"scope": ["reactions"], "reason": "..."}`` (staff of the
admission's ward): the service sends a request signed by its own key (a signed request of the grantee)
to her ledger server's ``POST /scope-requests``, then stores it and tells the ward "requested, awaiting
the patient" (a ``scope-request`` event on the ward stream, and the answer). Only an admission admitted
by grant link can ask: one admitted from a slice file has no ledger server to ask (409).

She answers on her page. The service learns of it at once from its watch of the grant (a
``scope-request`` notice), or at the next poll (``read_pending_answers``), and reads
``GET /scope-requests/{id}``. Declined: the ward is told. Approved: the answer names her new grant; the
service reads its slice, verifies it as at admission (grantee, patient, signatures, proofs) and checks
that it covers at least what the old grant did, then moves the admission onto it in one transaction
(the slice replaced, the grant and its end updated, the request answered, the check run again). From
then on the admission reads and watches the new grant. A new grant that fails any check is refused
(status ``refused``, with why) and the admission keeps its old grant.

Statuses: ``requested`` -> ``approved`` | ``declined`` | ``refused``. Requests are deleted with the
admission's data when it ends (the reason may say something clinical).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import anyio

from alertsvc import admissions as adm
from alertsvc import audit, idempotency, intake, sealing, store
from alertsvc.access import Staff, require
from alertsvc.admissions import Admission
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.hub import Event
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import (
    AlertsvcError,
    Conflict,
    InputError,
    NotFound,
    TooManyRequests,
)
from alertsvc.ledger.canonical import canonical, loads
from alertsvc.ledger.grants import SCOPES, parse_scope
from alertsvc.ledger.remote import fetch_slice
from alertsvc.ledger_calls import call_ledger_server
from alertsvc.patient_data import Patient
from alertsvc.service_api import ServiceApi
from alertsvc.store import Database

MAX_REASON_CHARS = 500
MAX_PENDING = 5
WORDS = {
    "requested": "requested, awaiting the patient",
    "approved": "approved by the patient: now shared",
    "declined": "declined by the patient",
    "refused": "approved, but the new grant was refused",
}
log = logging.getLogger("alertsvc.scope_requests")


@dataclass(frozen=True)
class StoredRequest:
    id: str
    admission: str
    ward: str
    grant_id: str
    scope: tuple[str, ...]
    reason: str
    requested_by: str
    requested_at: datetime
    status: str
    answered_at: datetime | None
    new_grant: str | None
    note: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "admission": self.admission,
            "scope": list(self.scope),
            "reason": self.reason,
            "requested_by": self.requested_by,
            "requested_at": iso(self.requested_at),
            "status": self.status,
            "status_text": WORDS[self.status] + (f": {self.note}" if self.note else ""),
            "answered_at": None if self.answered_at is None else iso(self.answered_at),
            "new_grant": self.new_grant,
        }


_COLUMNS = (
    "id, admission, ward, grant_id, scope, reason, requested_by, requested_at, status, answered_at, "
    "new_grant, note"
)


def _stored(db: Database, row: tuple[Any, ...]) -> StoredRequest:
    return StoredRequest(
        row[0],
        row[1],
        row[2],
        row[3],
        tuple(json.loads(row[4])),
        sealing.unseal_text(db, row[1], row[5]),
        row[6],
        parse_iso(row[7]),
        row[8],
        None if row[9] is None else parse_iso(row[9]),
        row[10],
        sealing.unseal_optional(db, row[1], row[11]),
    )


def requests_of(service: ServiceApi, admission_id: str, *, status: str | None = None) -> list[StoredRequest]:
    sql = f"SELECT {_COLUMNS} FROM scope_requests WHERE admission = ?"
    params = [admission_id]
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    return [
        _stored(service.db, r)
        for r in service.db.execute(sql + " ORDER BY requested_at, id", params).fetchall()
    ]


def _ward_admission(service: ServiceApi, admission_id: str, staff: Staff) -> Admission:
    """The admission, for staff of its ward (another ward's admission is as unknown as a guessed id)."""
    admission = adm.get_admission(service.db, admission_id)
    if admission is None or admission.ward != staff.ward:
        raise NotFound(f"no admission {admission_id}")
    require(staff, ward=admission.ward, roles=("admission", "nurse"))
    return admission


def view(service: ServiceApi, admission_id: str, staff: Staff) -> dict[str, Any]:
    """``GET /admissions/{id}/scope-requests``: every request of the admission and its answer."""
    admission = _ward_admission(service, admission_id, staff)
    return {
        "admission": admission.id,
        "requests": [r.as_json() for r in requests_of(service, admission.id)],
    }


def _read_body(body: dict[str, Any]) -> tuple[list[str], str]:
    unknown = sorted(set(body) - {"scope", "reason"})
    if unknown:
        raise InputError(f"scope request: unknown field {unknown[0]!r} (expected scope and reason)")
    value = body.get("scope")
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise InputError(f"'scope': a non-empty list of some of {', '.join(SCOPES)}")
    if len(value) > len(SCOPES):
        raise InputError(f"'scope': {len(value)} names; at most {len(SCOPES)}")
    scope = parse_scope(value, what="'scope'")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InputError("'reason' is required: say why the ward needs it (the patient reads it)")
    if len(reason) > MAX_REASON_CHARS:
        raise InputError(f"'reason': {len(reason)} characters; at most {MAX_REASON_CHARS}")
    return sorted(scope), " ".join(reason.split())


async def request_scope(
    service: ServiceApi,
    admission_id: str,
    body: dict[str, Any],
    staff: Staff,
    *,
    once: idempotency.Pending | None = None,
) -> dict[str, Any]:
    """Send a signed scope request to her ledger server; store it; tell the ward. Nothing is stored
    when her server cannot be reached (502) or refuses it."""
    admission = _ward_admission(service, admission_id, staff)
    admission = service.active_admission(admission.id)
    scope, reason = _read_body(body)
    if not admission.ledger_url:
        raise Conflict(
            f"admission {admission.id} was admitted from a slice file: there is no ledger server to ask; "
            "ask the patient to share again with the wider scope"
        )
    patient = await service.patient_of(admission.id)
    already = sorted(set(scope) & patient.verified.grant.scope)
    if already:
        raise InputError(
            f"'scope': the grant already covers {', '.join(already)}; ask only for what it lacks"
        )
    pending = requests_of(service, admission.id, status="requested")
    if len(pending) >= MAX_PENDING:
        raise TooManyRequests(
            f"admission {admission.id} has {len(pending)} requests awaiting the patient; "
            f"at most {MAX_PENDING}"
        )
    request_id = "sr-" + uuid.uuid4().hex
    document = {
        "id": request_id,
        "grant": admission.grant_id,
        "scope": scope,
        "reason": reason,
        "admission": admission.id,
    }
    await call_ledger_server(service, admission, "POST", "/scope-requests", canonical(document))
    now = service.clock()
    with store.write(service.db):
        service.active_admission(admission.id)  # it may have ended meanwhile
        service.db.execute(
            f"INSERT INTO scope_requests({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?, 'requested', NULL, NULL, NULL)",
            [request_id, admission.id, admission.ward, admission.grant_id, json.dumps(scope),
             sealing.seal(service.db, admission.id, reason), staff.name, iso(now)],
        )  # fmt: skip
        audit.record(
            service.db,
            now=now,
            actor=staff.name,
            action="scope-request",
            admission=admission.id,
            ward=admission.ward,
            detail={"request": request_id, "scope": scope},
        )
        stored = _get(service, request_id)
        event = _event(service, stored, now)
        answer = stored.as_json()
        idempotency.remember(service.db, once, answer, admissions=[admission.id])
    service.publish([event])
    return answer


def _get(service: ServiceApi, request_id: str) -> StoredRequest:
    row = service.db.execute(f"SELECT {_COLUMNS} FROM scope_requests WHERE id = ?", [request_id]).fetchone()
    if row is None:
        raise NotFound(f"no scope request {request_id}")
    return _stored(service.db, row)


def _event(service: ServiceApi, stored: StoredRequest, now: datetime) -> Event:
    """The ward stream's ``scope-request`` event: the request as the API shows it, and the bed."""
    admission = adm.get_admission(service.db, stored.admission)
    data = {**stored.as_json(), "bed": admission.bed if admission else None}
    return alert_store.append_event(
        service.db, ward=stored.ward, type="scope-request", data=data, admission=stored.admission, now=now
    )


async def read_pending_answers(service: ServiceApi, admission: Admission) -> None:
    """Read her answer to each request of the admission still awaiting one (the poll's fallback)."""
    for stored in requests_of(service, admission.id, status="requested"):
        await read_answer(service, admission, stored.id)


async def read_answer(service: ServiceApi, admission: Admission, request_id: str) -> None:
    """Read her answer to one request and act on it; errors are logged (the next poll tries again)."""
    try:
        stored = _get(service, request_id)
        if stored.status != "requested" or stored.admission != admission.id:
            return
        raw = await call_ledger_server(service, admission, "GET", f"/scope-requests/{request_id}", b"")
        answer = loads(raw, what="scope request answer")
        status = answer.get("status") if isinstance(answer, dict) else None
        if status == "declined":
            _answered(service, stored, "declined")
        elif status == "approved" and isinstance(answer, dict) and isinstance(answer.get("new_grant"), str):
            await _move_to_wider_grant(service, admission, stored, answer["new_grant"])
    except AlertsvcError as exc:
        log.warning(
            "admission %s: reading the answer to scope request %s failed: %s", admission.id, request_id, exc
        )


def _answered(
    service: ServiceApi,
    stored: StoredRequest,
    status: str,
    *,
    new_grant: str | None = None,
    note: str | None = None,
) -> None:
    now = service.clock()
    with store.write(service.db):
        changed = service.db.execute(
            """UPDATE scope_requests SET status = ?, answered_at = ?, new_grant = ?, note = ?
               WHERE id = ? AND status = 'requested'""",
            [
                status,
                iso(now),
                new_grant,
                sealing.seal_optional(service.db, stored.admission, note),
                stored.id,
            ],
        ).rowcount
        events = [_event(service, _get(service, stored.id), now)] if changed else []
    service.publish(events)  # the watch and the poll may both read one answer: it is told once


async def _move_to_wider_grant(
    service: ServiceApi, admission: Admission, stored: StoredRequest, grant_id: str
) -> None:
    """Read and verify the new grant's slice; move the admission onto it (or refuse it, saying why)."""
    now = service.clock()
    fetch = lambda: fetch_slice(  # noqa: E731
        admission.ledger_url, grant_id, service.identity, patient=admission.patient,
        timeout=service.settings.ledger_timeout, now=now,
    )  # fmt: skip
    slice_bytes = await anyio.to_thread.run_sync(fetch)  # unreachable: LedgerError, tried again later
    previous = await service.patient_of(admission.id)
    try:
        verified = await intake.verified_slice(
            service.settings,
            slice_bytes,
            patient=admission.patient,
            now=now,
            grantee=service.identity.public_id,
        )
        if verified.grant.id != grant_id:
            raise InputError(f"the slice read is for grant {verified.grant.id}, not {grant_id}")
        lost = sorted(previous.verified.grant.scope - verified.grant.scope)
        if lost:
            raise InputError(f"grant {grant_id} does not cover {', '.join(lost)}, which the old grant did")
    except AlertsvcError as exc:
        log.error("admission %s: the wider grant %s was refused: %s", admission.id, grant_id, exc)
        _answered(service, stored, "refused", new_grant=grant_id, note=str(exc)[:300])
        return
    patient = Patient(verified, await service.normalise(verified))
    async with service.locks.hold(("slice", admission.id)):
        current = service.active_admission(admission.id)
        if current.grant_id != stored.grant_id:
            return  # moved already (the watch and the poll both read the answer)
        moved = replace(
            current,
            grant_id=grant_id,
            not_before=verified.grant.not_before,
            expires_at=verified.grant.expires_at,
        )
        with store.write(service.db):
            db = service.db
            db.execute(
                "UPDATE admissions SET grant_id = ?, not_before = ?, expires_at = ? "
                "WHERE id = ? AND status = 'active'",
                [grant_id, iso(moved.not_before), iso(moved.expires_at), admission.id],
            )
            db.execute("DELETE FROM slice_updates WHERE admission = ?", [admission.id])
            db.execute(
                "UPDATE slices SET slice = ?, head_seq = ? WHERE admission = ?",
                [sealing.seal(db, admission.id, slice_bytes), verified.head.seq, admission.id],
            )
            db.execute(
                "UPDATE scope_requests SET status = 'approved', answered_at = ?, new_grant = ? WHERE id = ?",
                [iso(now), grant_id, stored.id],
            )
            audit.record(
                db, now=now, actor="ledger-reader", action="widen-scope", admission=admission.id,
                ward=admission.ward, detail={"request": stored.id, "scope": sorted(verified.grant.scope)},
            )  # fmt: skip
            events = [_event(service, _get(service, stored.id), now), *service.reconcile(moved, patient, now)]
        service.patient_changed(admission.id, patient)
    log.info(
        "admission %s now reads grant %s (scope %s)", admission.id, grant_id, sorted(verified.grant.scope)
    )
    service.publish(events)
    service.rebuild_timers()  # the expiry may have moved; the watch follows the new grant
