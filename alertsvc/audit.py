"""The append-only audit log: every read of a slice, alert, acknowledgement or administration, and every
purge. Entries name people, actions and admission ids, never drug names or ledger entry ids, so the log
can outlive the purge of what it describes. Triggers in the schema refuse UPDATE and DELETE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from alertsvc.clock import iso


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
    db: sqlite_utils.Database,
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


def trail(db: sqlite_utils.Database, admission: str) -> list[AuditRecord]:
    """Everything recorded about one admission, oldest first."""
    return [
        AuditRecord(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]))
        for row in db.execute(
            "SELECT seq, at, actor, action, admission, ward, detail FROM audit "
            "WHERE admission = ? ORDER BY seq",
            [admission],
        ).fetchall()
    ]


def patient_hash_of(db: sqlite_utils.Database, admission: str) -> str | None:
    row = db.execute("SELECT patient_hash FROM admissions WHERE id = ?", [admission]).fetchone()
    return None if row is None else str(row[0])
