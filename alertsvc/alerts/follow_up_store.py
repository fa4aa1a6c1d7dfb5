"""Follow-ups and given-overrides in the service database (tables in ``store.sqlite.ACTIONS_SCHEMA``).

Callers wrap writes in ``store.write(db)``. Rows name their admission, so a purge deletes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alertsvc import sealing
from alertsvc.alerts.follow_up import FollowUp, GivenOverride
from alertsvc.clock import iso, parse_iso

if TYPE_CHECKING:  # the store is the caller's: alerts import nothing but shared modules
    from alertsvc.store import Database

FOLLOW_UP_COLUMNS = (
    "id, alert, admission, ward, dose, opened_at, opened_by, opened_shift, state, comes_back, raised, "
    "prescriber, comment, closed_at, closed_by, resolution, resolution_note"
)
KEEP_ANSWERED = timedelta(hours=24)
"""An answered follow-up keeps its alert on the ward's list this long, so every shift sees the answer."""
OVERRIDE_COLUMNS = (
    "id, alert, admission, ward, dose, nurse, recorded_by, shift, shift_start, reason_code, reason_display, "
    "text, at"
)


_REPLACE_FOLLOW_UP = "ON CONFLICT (id) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in FOLLOW_UP_COLUMNS.replace(" ", "").split(",") if c != "id"
)


def save_follow_up(db: Database, follow_up: FollowUp) -> None:
    """Insert or replace a follow-up (one open follow-up per alert: the database refuses a second)."""
    f = follow_up
    db.execute(
        f"INSERT INTO follow_ups({FOLLOW_UP_COLUMNS}) VALUES ({','.join('?' * 17)}) {_REPLACE_FOLLOW_UP}",
        [
            f.id,
            f.alert,
            f.admission,
            f.ward,
            f.dose,
            iso(f.opened_at),
            f.opened_by,
            f.opened_shift,
            f.state,
            iso(f.comes_back),
            f.raised,
            f.prescriber,
            sealing.seal(db, f.admission, f.comment),
            iso(f.closed_at) if f.closed_at else None,
            f.closed_by,
            f.resolution,
            sealing.seal(db, f.admission, f.resolution_note),
        ],
    )


def open_follow_up(db: Database, alert_id: str) -> FollowUp | None:
    row = db.execute(
        f"SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups WHERE alert = ? AND state = 'open'", [alert_id]
    ).fetchone()
    return None if row is None else _follow_up(db, row)


def open_follow_ups(db: Database, *, admission: str | None = None) -> list[FollowUp]:
    """Every open follow-up (of one admission), the one coming back first first."""
    where, params = "state = 'open'", []
    if admission is not None:
        where += " AND admission = ?"
        params.append(admission)
    rows = db.execute(
        f"SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups WHERE {where} ORDER BY comes_back, id", params
    ).fetchall()
    return [_follow_up(db, row) for row in rows]


def follow_ups(db: Database, alert_ids: list[str]) -> dict[str, list[FollowUp]]:
    """Every follow-up of these alerts, oldest first."""
    found: dict[str, list[FollowUp]] = {a: [] for a in alert_ids}
    if alert_ids:
        marks = ",".join("?" * len(alert_ids))
        for row in db.execute(
            f"SELECT {FOLLOW_UP_COLUMNS} FROM follow_ups WHERE alert IN ({marks}) ORDER BY opened_at, id",
            alert_ids,
        ).fetchall():
            item = _follow_up(db, row)
            found[item.alert].append(item)
    return found


def save_override(db: Database, override: GivenOverride) -> None:
    o = override
    db.execute(
        f"INSERT INTO given_overrides({OVERRIDE_COLUMNS}) VALUES ({','.join('?' * 13)})",
        [
            o.id,
            o.alert,
            o.admission,
            o.ward,
            o.dose,
            o.nurse,
            o.recorded_by,
            o.shift,
            iso(o.shift_start),
            o.reason_code,
            o.reason_display,
            sealing.seal(db, o.admission, o.text),
            iso(o.at),
        ],
    )


def overrides(db: Database, alert_ids: list[str]) -> dict[str, list[GivenOverride]]:
    """Every dose given under these alerts with its override reason, oldest first."""
    found: dict[str, list[GivenOverride]] = {a: [] for a in alert_ids}
    if alert_ids:
        marks = ",".join("?" * len(alert_ids))
        for row in db.execute(
            f"SELECT {OVERRIDE_COLUMNS} FROM given_overrides WHERE alert IN ({marks}) ORDER BY at, id",
            alert_ids,
        ).fetchall():
            item = GivenOverride(
                id=row[0],
                alert=row[1],
                admission=row[2],
                ward=row[3],
                dose=row[4],
                nurse=row[5],
                recorded_by=row[6],
                shift=row[7],
                shift_start=parse_iso(row[8]),
                reason_code=row[9],
                reason_display=row[10],
                text=sealing.unseal_text(db, row[2], row[11]),
                at=parse_iso(row[12]),
            )
            found[item.alert].append(item)
    return found


def _follow_up(db: Database, row: Any) -> FollowUp:
    return FollowUp(
        id=row[0],
        alert=row[1],
        admission=row[2],
        ward=row[3],
        dose=row[4],
        opened_at=parse_iso(row[5]),
        opened_by=row[6],
        opened_shift=row[7],
        state=row[8],
        comes_back=parse_iso(row[9]),
        raised=int(row[10]),
        prescriber=row[11],
        comment=sealing.unseal_text(db, row[2], row[12]),
        closed_at=_maybe_time(row[13]),
        closed_by=row[14],
        resolution=row[15],
        resolution_note=sealing.unseal_text(db, row[2], row[16]),
    )


def _maybe_time(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


def wake_ups(db: Database, now: datetime) -> dict[str, datetime]:
    """Timers (job id -> instant): open follow-ups coming back, answered ones whose alert may now go."""
    found: dict[str, datetime] = {}
    for waiting in open_follow_ups(db):
        found[f"follow-up:{waiting.id}"] = max(now, waiting.comes_back)
    rows = db.execute(
        "SELECT id, closed_at FROM follow_ups WHERE state = 'closed' AND closed_at > ?",
        [iso(now - KEEP_ANSWERED)],
    ).fetchall()
    for follow_up_id, closed_at in rows:
        found[f"follow-up-kept:{follow_up_id}"] = parse_iso(closed_at) + KEEP_ANSWERED
    return found
