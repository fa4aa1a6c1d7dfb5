"""The append-only audit log: every read of a slice, alert, acknowledgement or administration, every
purge, and every refused request to a route that serves patient data. Entries name people, actions and
admission ids, never drug names or ledger entry ids, so the log can outlive the purge of what it
describes. Triggers in the schema refuse UPDATE and DELETE.

Refused requests (action ``refused``) name who asked (the staff name of a valid token, else "unknown"),
the route, the status and the reason code, never the token or the body. They are counted in memory
(``Refusals``) and written at most once a second, one record per distinct refusal with its count, so a
flood of bad requests costs one write a second rather than one each (and at most ``MAX_DISTINCT``
records a flush: the rest are counted in one record). A crash loses at most that second's refusals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alertsvc.clock import iso
from alertsvc.store import Database


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    admission: str | None
    ward: str | None
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "admission": self.admission,
            "ward": self.ward,
            "detail": self.detail,
        }


def record(
    db: Database,
    *,
    now: datetime,
    actor: str,
    action: str,
    admission: str | None = None,
    ward: str | None = None,
    patient_hash: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry (inside the caller's transaction when there is one)."""
    db.execute(
        "INSERT INTO audit(at, actor, action, admission, ward, patient_hash, detail) VALUES (?,?,?,?,?,?,?)",
        [iso(now), actor, action, admission, ward, patient_hash, json.dumps(detail or {}, sort_keys=True)],
    )


def trail(db: Database, admission: str) -> list[AuditRecord]:
    """Everything recorded about one admission, oldest first."""
    return [
        AuditRecord(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]))
        for row in db.execute(
            "SELECT seq, at, actor, action, admission, ward, detail FROM audit "
            "WHERE admission = ? ORDER BY seq",
            [admission],
        ).fetchall()
    ]


def patient_hash_of(db: Database, admission: str) -> str | None:
    row = db.execute("SELECT patient_hash FROM admissions WHERE id = ?", [admission]).fetchone()
    return None if row is None else str(row[0])


MAX_DISTINCT = 1000
"""The most refusal records one flush writes; further distinct refusals are counted in one more."""


@dataclass(frozen=True)
class Refusal:
    """One kind of refused request: who, which route, what status and why (an error code)."""

    actor: str
    route: str
    status: int
    reason: str
    admission: str | None = None
    ward: str | None = None


@dataclass
class Refusals:
    """Refused requests counted since the last flush (see the module docstring)."""

    counts: dict[Refusal, int] = field(default_factory=dict)
    first: dict[Refusal, datetime] = field(default_factory=dict)
    last: dict[Refusal, datetime] = field(default_factory=dict)
    overflow: int = 0

    def add(self, refusal: Refusal, now: datetime) -> None:
        if refusal not in self.counts and len(self.counts) >= MAX_DISTINCT:
            self.overflow += 1
            return
        self.counts[refusal] = self.counts.get(refusal, 0) + 1
        self.first.setdefault(refusal, now)
        self.last[refusal] = now

    def __len__(self) -> int:
        return len(self.counts) + (1 if self.overflow else 0)

    def flush(self, db: Database, *, now: datetime) -> int:
        """Write what was counted (inside the caller's transaction); returns the records written."""
        for refusal, count in self.counts.items():
            record(
                db,
                now=self.first[refusal],
                actor=refusal.actor,
                action="refused",
                admission=refusal.admission,
                ward=refusal.ward,
                detail={
                    "route": refusal.route,
                    "status": refusal.status,
                    "reason": refusal.reason,
                    "count": count,
                    "last": iso(self.last[refusal]),
                },
            )
        if self.overflow:
            detail = {"route": "*", "status": 0, "reason": "too-many-kinds", "count": self.overflow}
            record(db, now=now, actor="unknown", action="refused", detail=detail | {"last": iso(now)})
        written = len(self)
        self.counts, self.first, self.last, self.overflow = {}, {}, {}, 0
        return written
