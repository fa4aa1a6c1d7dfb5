"""The practitioner entries recorded on the ward (the ``practitioner_entries`` table) and what every desk
that records one shares: whose admission it is, who the clinician is, the hospital that signs, and where
the entry starts on its way to the patient's ledger.

Delivery states: ``pending`` (awaiting delivery: the grant's write scope covers the kind and her ledger
server's address is known), ``delivered`` (in the patient's ledger) and ``handover`` (kept for the stay
and handed over at discharge in a signed file: no write grant, no ledger address, or her ledger refused
it). Reactions and allergies are recorded by ``alertsvc.bedside``, observations by
``alertsvc.observation_desk``, a "no known drug allergies" by ``alertsvc.allergy_desk``; ``alertsvc.delivery``
sends them and ``alertsvc.discharge`` hands over what is left.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alertsvc import admissions as adm
from alertsvc import sealing
from alertsvc.access import Staff, require
from alertsvc.admissions import Admission
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import Conflict, InputError, LimitExceeded, NotFound
from alertsvc.ledger import fhir
from alertsvc.ledger.entries import SignedEntry, format_time, read_entry_parts
from alertsvc.ledger.grants import Grant
from alertsvc.ledger.observations import read_observation
from alertsvc.ledger.practitioners import ROLES, Clinician, Hospital
from alertsvc.ledger.slices import VerifiedSlice
from alertsvc.service_api import ServiceApi
from alertsvc.store import Database

PENDING, DELIVERED, HANDOVER = "pending", "delivered", "handover"
NO_WRITE_GRANT = "no write grant"
NO_LEDGER_ADDRESS = "admitted from a slice file: her ledger server's address is not known"

# The table (``practitioner_entries``) is made with the others by ``storage.open_db``.


@dataclass(frozen=True)
class StoredEntry:
    """A practitioner entry of an admission and where it is on its way to the patient's ledger."""

    entry: SignedEntry
    admission: str
    clinician: Clinician
    state: str
    reason: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    delivered_at: datetime | None

    @property
    def status(self) -> str:
        """What the ward reads."""
        if self.state == DELIVERED:
            return "in the patient's ledger"
        if self.state == PENDING:
            if not self.attempts:
                return "awaiting delivery"
            tries = "1 attempt" if self.attempts == 1 else f"{self.attempts} attempts"
            return f"awaiting delivery ({tries}, last error: {self.last_error})"
        return f"not yet in the patient's ledger ({self.reason}): handed over at discharge"

    def as_json(self) -> dict[str, Any]:
        body = self.entry.body
        concept = body.get("code") or body.get("medicationCodeableConcept") or {}
        observed = read_observation(self.entry).quantity.text if self.entry.kind == "observation" else None
        return {
            "entry": self.entry.id,
            "kind": self.entry.kind,
            "drug": None if observed else concept.get("text"),
            "observation": observed,
            "no_known_allergies": self.entry.kind == "allergy" and fhir.is_no_known_allergy(body),
            "recorded_by": {"name": self.clinician.name, "role": self.clinician.role},
            "ward": self.clinician.ward,
            "created": format_time(self.entry.created),
            "state": self.state,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error or None,
            "next_attempt_at": None if self.next_attempt_at is None else iso(self.next_attempt_at),
            "delivered_at": None if self.delivered_at is None else iso(self.delivered_at),
        }


# -- storage -------------------------------------------------------------------------------------------


def insert(db: Database, stored: StoredEntry) -> None:
    """Inside the caller's transaction."""
    (seq,) = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM practitioner_entries").fetchone()
    clinician = {"name": stored.clinician.name, "role": stored.clinician.role, "ward": stored.clinician.ward}
    db.execute(
        """INSERT INTO practitioner_entries(id, admission, kind, payload, signature, created, clinician,
               state, reason, attempts, next_attempt_at, last_error, delivered_at, seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            stored.entry.id,
            stored.admission,
            stored.entry.kind,
            sealing.seal(db, stored.admission, stored.entry.payload),
            stored.entry.signature,
            format_time(stored.entry.created),
            json.dumps(clinician),
            stored.state,
            stored.reason,
            stored.attempts,
            None if stored.next_attempt_at is None else iso(stored.next_attempt_at),
            stored.last_error,
            None,
            seq,
        ],
    )


_COLUMNS = (
    "id, admission, payload, signature, clinician, state, reason, attempts, next_attempt_at, last_error, "
    "delivered_at"
)


def _row(db: Database, row: Sequence[Any]) -> StoredEntry:
    payload = sealing.unseal(db, row[1], row[2])
    entry = read_entry_parts(payload, bytes(row[3]), what=f"stored practitioner entry {row[0]}")
    who = json.loads(row[4])
    return StoredEntry(
        entry=entry,
        admission=row[1],
        clinician=Clinician(who["name"], who["role"], who["ward"]),
        state=row[5],
        reason=row[6],
        attempts=row[7],
        next_attempt_at=None if row[8] is None else parse_iso(row[8]),
        last_error=row[9],
        delivered_at=None if row[10] is None else parse_iso(row[10]),
    )


def entries_of(db: Database, admission: str) -> list[StoredEntry]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM practitioner_entries WHERE admission = ? ORDER BY seq", [admission]
    )
    return [_row(db, r) for r in rows]


def pending(db: Database, *, due_by: datetime | None = None) -> list[StoredEntry]:
    """Entries awaiting delivery (those whose next attempt is due by ``due_by``, when given)."""
    sql = f"SELECT {_COLUMNS} FROM practitioner_entries WHERE state = ?"
    args: list[Any] = [PENDING]
    if due_by is not None:
        sql += " AND next_attempt_at <= ?"
        args.append(iso(due_by))
    return [_row(db, r) for r in db.execute(sql + " ORDER BY seq", args)]


# -- the working copy ----------------------------------------------------------------------------------


def allergy_trees(
    db: Database, admission: str, verified: VerifiedSlice
) -> tuple[Mapping[str, Sequence[SignedEntry]], Grant | None]:
    """The trees and grant the ward's allergy status is read from (``allergy_status``): the slice's, with
    the allergies recorded on the ward that it does not yet hold. The ward knows those whatever the
    grant shares, so with any of them the status is read without the grant (never "not shared")."""
    held = {e.id for e in verified.entries.get("allergies", ())}
    recorded = [
        s.entry for s in entries_of(db, admission) if s.entry.kind == "allergy" and s.entry.id not in held
    ]
    if not recorded:
        return verified.entries, verified.grant
    shared = verified.entries.get("allergies", ()) if "allergies" in verified.grant.scope else ()
    return {**verified.entries, "allergies": (*shared, *recorded)}, None


def delivery_state(grant: Grant, admission: Admission, kind: str) -> tuple[str, str]:
    """Where a new practitioner entry of ``kind`` starts: (state, reason)."""
    if not grant.may_write(kind):
        return HANDOVER, NO_WRITE_GRANT
    if not admission.ledger_url:
        return HANDOVER, NO_LEDGER_ADDRESS
    return PENDING, ""


def ward_admission(service: ServiceApi, admission_id: str, staff: Staff) -> Admission:
    """The staff member's ward's admission; another ward's is "no admission", as a guessed id is."""
    admission = adm.get_admission(service.db, admission_id)
    if admission is None or admission.ward != staff.ward:
        raise NotFound(f"no admission {admission_id}")
    require(staff, ward=admission.ward, roles=("nurse",))
    if not admission.active:
        raise Conflict(f"admission {admission_id} has ended")
    return admission


def bounded_text(body: dict[str, Any], name: str, limit: int, setting: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise InputError(f"'{name}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"'{name}' must be non-empty text")
    if len(value) > limit:
        raise LimitExceeded(f"'{name}': {len(value)} characters; at most {limit} (setting {setting})")
    return " ".join(value.split())


def clinician_of(body: dict[str, Any], staff: Staff, *, name_limit: int) -> Clinician:
    value = body.get("clinician")
    if not isinstance(value, dict):
        raise InputError(f'\'clinician\' is required: {{"name", "role"}} (role one of {", ".join(ROLES)})')
    name = bounded_text(value, "name", name_limit, "max_name_chars", required=True) or ""
    role = value.get("role")
    if role not in ROLES:
        raise InputError(f"'clinician.role' is one of {', '.join(ROLES)}, not {str(role)[:40]!r}")
    return Clinician(name=name, role=str(role), ward=staff.ward)


def hospital_of(service: ServiceApi) -> Hospital:
    return Hospital(public_id=service.identity.public_id, name=service.settings.hospital_name)
