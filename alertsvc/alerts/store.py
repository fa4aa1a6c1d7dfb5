"""Alerts, acknowledgements and the event outbox in the service database.

Callers wrap writes in ``store.write(db)``; an alert and the event announcing it are written in the
same transaction (the outbox), and only published to the hub after that transaction commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alertsvc import sealing
from alertsvc.alerts.build import Alert
from alertsvc.alerts.hub import Event
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import KeyShredded

if TYPE_CHECKING:  # the store is the caller's: alerts import nothing but shared modules
    from alertsvc.store import Database


@dataclass(frozen=True)
class StoredAlert:
    """An alert as stored: its signed form, its claims, and where it stands."""

    id: str
    admission: str
    ward: str
    dedupe: str  # (admission, kind, ingredients): see alerts.build.dedupe_key
    version: int
    status: str
    severity_rank: int
    dose: str | None
    due: datetime | None
    reminded_dose: str | None
    claims: dict[str, Any]
    jws: str


@dataclass(frozen=True)
class Acknowledgement:
    """A nurse's acknowledgement of an alert in one shift; shown to every later shift."""

    id: str
    alert: str
    nurse: str
    shift: str
    shift_start: datetime
    reason_code: str
    reason_display: str
    comment: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alert": self.alert,
            "nurse": self.nurse,
            "shift": self.shift,
            "shift_start": iso(self.shift_start),
            "reason": {"code": self.reason_code, "display": self.reason_display},
            "comment": self.comment,
            "at": iso(self.at),
        }


ALERT_COLUMNS = (
    "id, admission, ward, dedupe, version, status, severity_rank, dose, due, reminded_dose, body, jws"
)


def get_alert(db: Database, alert_id: str) -> StoredAlert | None:
    row = db.execute(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?", [alert_id]).fetchone()
    return None if row is None else stored_alert(opened_row(db, row))


def save_alert(
    db: Database, alert: Alert, jws: str, *, reminded_dose: str | None, body: str | None = None
) -> None:
    """Insert or replace the alert with this id (a new version replaces the old one). ``body`` is its
    claims as ``alert_body`` writes them, if already written (e.g. in a worker thread)."""
    db.execute(
        """INSERT INTO alerts(id, admission, ward, dedupe, version, status, severity_rank, dose, due,
               reminded_dose, body, jws, created, updated)
           VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET version = excluded.version, status = 'active',
               severity_rank = excluded.severity_rank, dose = excluded.dose, due = excluded.due,
               reminded_dose = excluded.reminded_dose, body = excluded.body, jws = excluded.jws,
               updated = excluded.updated""",
        [
            alert.id,
            alert.admission.id,
            alert.admission.ward,
            sealing.dedupe_tag(db, alert.admission.id, alert.dedupe_key),  # no drug in clear
            alert.version,
            alert.severity_rank,
            alert.dose.id if alert.dose else None,
            iso(alert.dose.due) if alert.dose else None,
            reminded_dose,
            sealing.seal(db, alert.admission.id, alert_body(alert.claims()) if body is None else body),
            sealing.seal(db, alert.admission.id, jws),
            iso(alert.created),
            iso(alert.updated),
        ],
    )


def save_signed_claims(db: Database, alert_id: str, claims: dict[str, Any], jws: str) -> None:
    """Replace a stored alert's signed claims with a new version of them (e.g. its follow-up changed)."""
    admission = claims["admission"]
    db.execute(
        "UPDATE alerts SET version = ?, body = ?, jws = ?, updated = ? WHERE id = ?",
        [
            claims["version"],
            sealing.seal(db, admission, json.dumps(claims, sort_keys=True)),
            sealing.seal(db, admission, jws),
            claims["updated"],
            alert_id,
        ],
    )


def alert_body(claims: dict[str, Any]) -> str:
    """An alert's claims as stored (its ``body``)."""
    return json.dumps(claims, sort_keys=True)


def active_alerts(
    db: Database, *, ward: str | None = None, admission: str | None = None
) -> list[StoredAlert]:
    """Active alerts, most severe first, then by the due time of the dose concerned."""
    return [stored_alert(row) for row in active_alert_rows(db, ward=ward, admission=admission)]


def rows_to_check(db: Database, *, admission: str) -> list[Any]:
    """The admission's active alerts and those withdrawn that a check may find again (all but overdue
    alerts, each about one missed dose), as rows: a finding found again revives its alert (same id, next
    version) rather than colliding with it on the unique ``dedupe`` key. Body and JWS come opened."""
    rows = db.execute(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE admission = ? "
        "AND (status = 'active' OR dedupe NOT LIKE '%|overdue|%') "
        "ORDER BY severity_rank, due IS NULL, due, created, id",
        [admission],
    ).fetchall()
    return [opened_row(db, row) for row in rows]


def active_alert_rows(db: Database, *, ward: str | None = None, admission: str | None = None) -> list[Any]:
    """``active_alerts`` as their rows (``ALERT_COLUMNS``), not yet decoded (``stored_alert``): reading
    is quick, decoding hundreds of claims is not, and can be left to a worker thread. Their body and JWS
    come opened (``opened_row``): the keys are at hand here, on the database's thread."""
    where, params = ["status = 'active'"], []
    if ward is not None:
        where.append("ward = ?")
        params.append(ward)
    if admission is not None:
        where.append("admission = ?")
        params.append(admission)
    rows = db.execute(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE {' AND '.join(where)} "
        "ORDER BY severity_rank, due IS NULL, due, created, id",
        params,
    ).fetchall()
    return [opened_row(db, row) for row in rows]


def opened_row(db: Database, row: Any) -> tuple[Any, ...]:
    """An alert row (``ALERT_COLUMNS``) with its sealed body and JWS opened with its admission's key."""
    return (
        *row[:10],
        sealing.unseal_remembered(db, row[1], row[10]),
        sealing.unseal_remembered(db, row[1], row[11]),
    )


def count_active(db: Database, *, admission: str) -> int:
    """How many alerts of the admission are active."""
    row = db.execute("SELECT COUNT(*) FROM alerts WHERE status = 'active' AND admission = ?", [admission])
    return int(row.fetchone()[0])


@dataclass(frozen=True)
class DoseReminder:
    """An active alert bound to a dose: when the dose is due and which dose it was last reminded for."""

    alert: str
    dose: str | None
    due: datetime
    reminded_dose: str | None
    admission: str


def dose_reminders(db: Database, *, until: datetime) -> list[DoseReminder]:
    """Every active alert bound to a dose due by ``until``, read without decoding its claims (the timers
    need these after every change, for every admission)."""
    rows = db.execute(
        "SELECT id, dose, due, reminded_dose, admission FROM alerts"
        " WHERE status = 'active' AND due IS NOT NULL AND due <= ?",
        [iso(until)],
    ).fetchall()
    return [DoseReminder(row[0], row[1], parse_iso(row[2]), row[3], row[4]) for row in rows]


def add_acknowledgement(db: Database, ack: Acknowledgement, *, admission: str, ward: str) -> None:
    db.execute(
        """INSERT INTO acknowledgements(id, alert, admission, ward, nurse, shift, shift_start,
               reason_code, reason_display, comment, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
        [
            ack.id,
            ack.alert,
            admission,
            ward,
            ack.nurse,
            ack.shift,
            iso(ack.shift_start),
            ack.reason_code,
            ack.reason_display,
            sealing.seal(db, admission, ack.comment),
            iso(ack.at),
        ],
    )


def acknowledgements(db: Database, alert_ids: list[str]) -> dict[str, list[Acknowledgement]]:
    """Every acknowledgement of these alerts, oldest first."""
    found: dict[str, list[Acknowledgement]] = {a: [] for a in alert_ids}
    if not alert_ids:
        return found
    marks = ",".join("?" * len(alert_ids))
    for row in db.execute(
        f"SELECT id, alert, nurse, shift, shift_start, reason_code, reason_display, comment, at, admission "
        f"FROM acknowledgements WHERE alert IN ({marks}) ORDER BY at, id",
        alert_ids,
    ).fetchall():
        ack = Acknowledgement(
            row[0],
            row[1],
            row[2],
            row[3],
            parse_iso(row[4]),
            row[5],
            row[6],
            sealing.unseal_text(db, row[9], row[7]),
            parse_iso(row[8]),
        )
        found[ack.alert].append(ack)
    return found


def append_event(
    db: Database,
    *,
    ward: str,
    type: str,
    data: dict[str, Any] | str,
    admission: str | None,
    now: datetime,
) -> Event:
    """Write one event to the outbox; publish it to the hub only after the transaction commits. ``data``
    is JSON, or its text as ``event_text`` writes it."""
    text = data if isinstance(data, str) else event_text(data)
    seq = db.insert_returning(
        "INSERT INTO events(ward, type, data, admission, at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
        [ward, type, _stored_event(db, admission, text), admission, iso(now)],
    )
    db.announce(json.dumps({"ward": ward, "seq": seq}))  # wakes the other processes' followers at commit
    return Event(seq=seq, ward=ward, type=type, data=text)


def events_after(db: Database, after: int, *, limit: int) -> tuple[list[Event], int]:
    """Every ward's events after sequence number ``after``, in order, at most ``limit`` rows read, and the
    last sequence number read (``after`` when none): what a process of a cluster follows
    (``alertsvc.cluster``). An event whose admission's key is already gone (a purge under way, its rows
    about to go) is left out: nobody may read it any more."""
    rows = db.execute(
        "SELECT seq, ward, type, data, admission FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        [after, limit],
    ).fetchall()
    found = []
    for seq, ward, type_, data, admission in rows:
        try:
            found.append(Event(seq=seq, ward=ward, type=type_, data=_opened(db, admission, data)))
        except KeyShredded:
            continue
    return found, int(rows[-1][0]) if rows else after


def events_since(db: Database, ward: str, after: int, *, limit: int | None = None) -> list[Event]:
    """The ward's events after sequence number ``after``, in order, at most ``limit`` (None: all) of them
    (a stream's backlog, read a page at a time). An admission's events come opened with its key."""
    sql = "SELECT seq, type, data, admission FROM events WHERE ward = ? AND seq > ? ORDER BY seq"
    params: list[Any] = [ward, after]
    if limit is not None:
        sql, params = sql + " LIMIT ?", [*params, limit]
    return [
        Event(seq=row[0], ward=ward, type=row[1], data=_opened(db, row[3], row[2]))
        for row in db.execute(sql, params).fetchall()
    ]


def _stored_event(db: Database, admission: str | None, text: str) -> bytes:
    """An event's data as stored: sealed with its admission's key, or (a ward's event) its UTF-8 bytes."""
    return text.encode() if admission is None else sealing.seal(db, admission, text)


def _opened(db: Database, admission: str | None, data: bytes | str) -> str:
    """An event's data as stored, opened (text in a database older than crypto-shredding is as it is)."""
    if admission is None:
        return data if isinstance(data, str) else bytes(data).decode()
    return sealing.unseal_text(db, admission, data)


def event_text(data: dict[str, Any]) -> str:
    """An event's data as stored and sent."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def last_seq(db: Database) -> int:
    """The sequence number of the latest event of any ward (0 when none): where a follower starts."""
    row = db.execute("SELECT MAX(seq) FROM events").fetchone()
    return int(row[0] or 0)


def last_event_id(db: Database, ward: str) -> int:
    """The sequence number of the ward's latest event (0 when none): where a fresh stream resumes."""
    row = db.execute("SELECT MAX(seq) FROM events WHERE ward = ?", [ward]).fetchone()
    return int(row[0] or 0)


def stored_alert(row: Any) -> StoredAlert:
    """An alert from its row (``ALERT_COLUMNS``)."""
    id_, admission, ward, dedupe, version, status, rank, dose, due, reminded, body, jws = row
    return StoredAlert(
        id=id_,
        admission=admission,
        ward=ward,
        dedupe=dedupe,
        version=version,
        status=status,
        severity_rank=rank,
        dose=dose,
        due=parse_iso(due) if due else None,
        reminded_dose=reminded,
        claims=json.loads(body),
        jws=jws,
    )
