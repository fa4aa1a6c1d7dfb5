"""The observations recorded on the ward for an admission (the ``ward_observations`` table): saved by
``alertsvc.observation_desk`` when a nurse records one, read by the check of the admission. Each row is
deleted with its admission.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alertsvc import sealing
from alertsvc.clock import iso, parse_iso
from alertsvc.knowledge.observations import LabValue
from alertsvc.lab_values import lab_value
from alertsvc.ledger import observations
from alertsvc.store import Database


@dataclass(frozen=True)
class WardObservation:
    """An observation recorded for an admission on the ward."""

    id: str
    admission: str
    quantity: observations.Quantity
    measured: datetime
    recorded_by: str
    recorded_at: datetime
    note: str
    resource: dict[str, Any]
    entry: str = ""
    """The practitioner entry written for the patient's ledger ("" for a row made before they were)."""

    def lab_value(self) -> LabValue:
        """As the check takes it; named by its ledger entry, as the same value read from her ledger is."""
        ref = "entry:" + self.entry if self.entry else "observation:" + self.id
        return lab_value(self.quantity, measured=self.measured, ref=ref)

    def as_json(self) -> dict[str, Any]:
        code = self.quantity.code
        return {
            "id": self.id,
            "admission": self.admission,
            "code": code.code,
            "name": code.short,
            "value": self.quantity.value,
            "unit": code.unit,
            "text": self.quantity.text,
            "measured": iso(self.measured),
            "recorded_by": self.recorded_by,
            "recorded_at": iso(self.recorded_at),
            "note": self.note,
            "resource": self.resource,
            "entry": self.entry or None,
        }


def save(db: Database, found: WardObservation, *, ward: str) -> None:
    db.execute(
        """INSERT INTO ward_observations(id, admission, ward, code, value, measured, recorded_by,
               recorded_at, note, resource, entry) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
        [
            found.id,
            found.admission,
            ward,
            found.quantity.code.code,
            found.quantity.value,
            iso(found.measured),
            found.recorded_by,
            iso(found.recorded_at),
            sealing.seal(db, found.admission, found.note),
            sealing.seal(db, found.admission, json.dumps(found.resource, separators=(",", ":"))),
            found.entry,
        ],
    )


def recorded(db: Database, admission: str) -> list[WardObservation]:
    """The observations recorded for an admission, oldest measurement first."""
    rows = db.execute(
        "SELECT id, admission, code, value, measured, recorded_by, recorded_at, note, resource, entry "
        "FROM ward_observations WHERE admission = ? ORDER BY measured, id",
        [admission],
    ).fetchall()
    return [
        WardObservation(
            id=row[0],
            admission=row[1],
            quantity=observations.resolve(row[2], float(row[3]), observations.CODES[row[2]].unit),
            measured=parse_iso(row[4]),
            recorded_by=row[5],
            recorded_at=parse_iso(row[6]),
            note=sealing.unseal_text(db, admission, row[7]),
            resource=json.loads(sealing.unseal(db, admission, row[8])),
            entry=row[9],
        )
        for row in rows
    ]


def recorded_values(db: Database, admission: str) -> list[LabValue]:
    """The admission's ward observations as the check's modifiers take them."""
    return [found.lab_value() for found in recorded(db, admission)]
