"""Admissions, wards and doses in the service database, and the purge that ends an admission.

An admission lives exactly as long as its grant, and a grant has at most one live admission: the
database refuses a second (a partial unique index, see ``store.LIVE_GRANT_INDEX``). When it ends,
everything derived from the patient's slice (the slice itself, doses, alerts, acknowledgements, the
events that carried them, stored answers to Idempotency-Keys) is deleted with ``secure_delete`` on and
the WAL checkpointed; what stays is the admission's id, ward, bed, a hash of the patient's public id
(so the patient can still fetch their audit trail) and when and why it ended.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, time

from alertsvc import idempotency, sealing
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import ConfigError
from alertsvc.knowledge.display import LOCALES, US
from alertsvc.knowledge.model import Ingredient
from alertsvc.schedule.mar import Outcome, ScheduledDose
from alertsvc.schedule.shifts import ShiftPattern, Ward
from alertsvc.store import Database


@dataclass(frozen=True)
class Admission:
    """A slice accepted for a ward and bed, living as long as its grant."""

    id: str
    ward: str
    bed: str
    label: str
    patient: str
    grant_id: str
    not_before: datetime
    expires_at: datetime
    admitted_at: datetime
    status: str
    ledger_url: str = ""

    @property
    def active(self) -> bool:
        return self.status == "active"


def patient_hash(patient: str) -> str:
    """What stays of the patient's id after a purge: enough to match their signed audit request."""
    return hashlib.sha256(patient.encode()).hexdigest()


def ended_grant(grant_id: str) -> str:
    """What stays of a grant id after its admission ends: enough to know its slice again, not the id."""
    return "ended:" + hashlib.sha256(grant_id.encode()).hexdigest()


def end_reason_for_grant(db: Database, grant_id: str) -> str | None:
    """Why an ended admission under ``grant_id`` ended (e.g. "grant revoked"), or None if there is none."""
    row = db.execute(
        "SELECT end_reason FROM admissions WHERE grant_id = ? AND status = 'ended' ORDER BY ended_at DESC",
        [ended_grant(grant_id)],
    ).fetchone()
    return None if row is None else str(row[0])


def insert_admission(db: Database, admission: Admission, slice_bytes: bytes, head_seq: int) -> bool:
    """Store a new live admission and its slice; False (nothing stored) if its grant has one already.

    The database decides, inside the caller's transaction: two admissions of one grant racing each
    other cannot both be inserted, whatever either of them checked before. The admission's data key is
    made here (``sealing``): its label and slice are stored sealed with it.
    """
    sealing.keyring(db).create(db, admission.id, now=admission.admitted_at)
    cursor = db.execute(
        """INSERT INTO admissions(id, ward, bed, label, patient, patient_hash, grant_id, not_before,
               expires_at, admitted_at, status, ledger_url) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
           ON CONFLICT(grant_id) WHERE status = 'active' DO NOTHING""",
        [
            admission.id,
            admission.ward,
            admission.bed,
            sealing.seal(db, admission.id, admission.label),
            admission.patient,
            patient_hash(admission.patient),
            admission.grant_id,
            iso(admission.not_before),
            iso(admission.expires_at),
            iso(admission.admitted_at),
            admission.status,
            admission.ledger_url,
        ],
    )
    if cursor.rowcount == 0:
        sealing.keyring(db).destroy(db, admission.id)
        return False
    db.execute(
        "INSERT INTO slices(admission, slice, head_seq) VALUES (?, ?, ?)",
        [admission.id, sealing.seal(db, admission.id, slice_bytes), head_seq],
    )
    return True


def add_slice_update(db: Database, admission: str, update_bytes: bytes, head_seq: int) -> None:
    """Keep an accepted update: the slice is the first slice plus every update, replayed in order."""
    db.execute(
        "INSERT INTO slice_updates(admission, head_seq, body) VALUES (?, ?, ?)",
        [admission, head_seq, sealing.seal(db, admission, update_bytes)],
    )


def accepted_head(db: Database, admission: str) -> int | None:
    """The head sequence number of the admission's slice as stored (first slice or latest update)."""
    row = db.execute(
        "SELECT max(head_seq) FROM (SELECT head_seq FROM slices WHERE admission = ? "
        "UNION ALL SELECT head_seq FROM slice_updates WHERE admission = ?) AS heads",
        [admission, admission],
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def get_admission(db: Database, admission_id: str) -> Admission | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM admissions WHERE id = ?", [admission_id]).fetchone()
    return None if row is None else _admission(db, row)


def shredded_admission(db: Database, admission_id: str) -> Admission | None:
    """The admission as stored, its label left empty: for finishing a purge once its key is gone."""
    row = db.execute(f"SELECT {_COLUMNS} FROM admissions WHERE id = ?", [admission_id]).fetchone()
    return None if row is None else _admission(db, (*row[:3], "", *row[4:]))


def active_admissions(db: Database, *, ward: str | None = None) -> list[Admission]:
    sql = f"SELECT {_COLUMNS} FROM admissions WHERE status = 'active'"
    params: list[str] = []
    if ward is not None:
        sql += " AND ward = ?"
        params.append(ward)
    return [_admission(db, row) for row in db.execute(sql + " ORDER BY expires_at, id", params).fetchall()]


def live_admission_times(db: Database) -> list[tuple[str, datetime, bool]]:
    """(id, expires at, linked to a ledger server) of every active admission: what the timers need,
    read without opening any sealed value."""
    rows = db.execute("SELECT id, expires_at, ledger_url FROM admissions WHERE status = 'active'").fetchall()
    return [(row[0], parse_iso(row[1]), bool(row[2])) for row in rows]


def pending_dose_times(db: Database, *, after: datetime, until: datetime) -> list[tuple[str, datetime]]:
    """(id, due) of every dose with no outcome due after ``after`` and by ``until``, from the partial
    index ``doses_pending``: what the timers need, read without opening any sealed value."""
    rows = db.execute(
        "SELECT id, due FROM doses WHERE outcome IS NULL AND due > ? AND due <= ? ORDER BY due",
        [iso(after), iso(until)],
    ).fetchall()
    return [(row[0], parse_iso(row[1])) for row in rows]


def admissions_with_doses_due(db: Database, windows: list[tuple[datetime, datetime]]) -> set[str]:
    """The admissions with a dose that has no outcome and is due within one of ``windows`` (each from,
    exclusive, until, inclusive), from the partial index ``doses_pending``."""
    found: set[str] = set()
    for since, until in windows:
        rows = db.execute(
            "SELECT DISTINCT admission FROM doses WHERE outcome IS NULL AND due > ? AND due <= ?",
            [iso(since), iso(until)],
        ).fetchall()
        found.update(row[0] for row in rows)
    return found


def active_for_grant(db: Database, grant_id: str) -> Admission | None:
    """The grant's live admission (the database allows one), or None."""
    found = active_of_grant(db, grant_id)
    return found[0] if found else None


def active_of_grant(db: Database, grant_id: str) -> list[Admission]:
    """Every live admission of the grant, oldest first (one since schema version 2; copies made before
    it are ended by ``alertsvc.migrations``)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM admissions WHERE grant_id = ? AND status = 'active' "
        "ORDER BY admitted_at, id",
        [grant_id],
    ).fetchall()
    return [_admission(db, row) for row in rows]


def slice_of(db: Database, admission_id: str) -> tuple[bytes, list[bytes]] | None:
    """The admission's first slice and its accepted updates, oldest first."""
    row = db.execute("SELECT slice FROM slices WHERE admission = ?", [admission_id]).fetchone()
    if row is None:
        return None
    updates = db.execute(
        "SELECT body FROM slice_updates WHERE admission = ? ORDER BY head_seq", [admission_id]
    ).fetchall()
    return sealing.unseal(db, admission_id, row[0]), [sealing.unseal(db, admission_id, u[0]) for u in updates]


def purge(db: Database, admission_id: str, *, now: datetime, reason: str) -> list[str]:
    """Delete everything derived from the admission's slice; returns the withdrawn alert ids.

    Runs inside the caller's transaction; the caller checkpoints the WAL after it commits.
    """
    sealing.keyring(db).destroy(db, admission_id)  # already gone when ``ending`` shredded it first
    alert_ids = [r[0] for r in db.execute("SELECT id FROM alerts WHERE admission = ?", [admission_id])]
    (grant_id,) = db.execute("SELECT grant_id FROM admissions WHERE id = ?", [admission_id]).fetchone()
    for table in (
        "slices",
        "slice_updates",
        "doses",
        "acknowledgements",
        "alerts",
        "events",
        "ward_observations",
        "practitioner_entries",
        "scope_requests",
        *("follow_ups", "given_overrides", "cds_cards", "cds_overrides"),  # issue 11's actions
    ):
        db.execute(f"DELETE FROM {table} WHERE admission = ?", [admission_id])
    idempotency.forget_admission(db, admission_id)
    db.execute(
        """UPDATE admissions SET status = 'ended', ended_at = ?, end_reason = ?, label = '', patient = '',
               grant_id = ?, ledger_url = '' WHERE id = ?""",
        [iso(now), reason, ended_grant(grant_id), admission_id],
    )
    return alert_ids


# -- wards -------------------------------------------------------------------------------------------


def get_ward(db: Database, ward_id: str) -> Ward | None:
    row = db.execute(
        "SELECT id, name, timezone, shifts, locale FROM wards WHERE id = ?", [ward_id]
    ).fetchone()
    if row is None:
        return None
    starts = tuple((name, _time(text)) for name, text in json.loads(row[3]))
    return Ward(id=row[0], name=row[1], timezone=row[2], shifts=ShiftPattern(starts=starts), locale=row[4])


def save_ward(db: Database, ward: Ward) -> None:
    shifts = json.dumps([[name, start.strftime("%H:%M")] for name, start in ward.shifts.starts])
    db.execute(
        """INSERT INTO wards(id, name, timezone, shifts, locale) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone,
               shifts = excluded.shifts, locale = excluded.locale""",
        [ward.id, ward.name, ward.timezone, shifts, ward.locale],
    )


def all_wards(db: Database) -> list[Ward]:
    return [w for (wid,) in db.execute("SELECT id FROM wards ORDER BY id") if (w := get_ward(db, wid))]


def last_shift_start(db: Database, ward_id: str) -> str:
    row = db.execute("SELECT last_shift_start FROM wards WHERE id = ?", [ward_id]).fetchone()
    return "" if row is None else str(row[0])


def set_last_shift_start(db: Database, ward_id: str, start: datetime) -> None:
    db.execute("UPDATE wards SET last_shift_start = ? WHERE id = ?", [iso(start), ward_id])


def configured_wards(spec: str, *, default_zone: str, default_locale: str = US) -> list[Ward]:
    """Wards from the ``wards`` setting: ``id[=Time/Zone][@locale]`` separated by ";", e.g.
    ``icu=Europe/London@en-GB;ed@en-US;4b`` (a ward without a zone or locale gets the default).

    >>> wards = configured_wards("icu=Europe/London@en-GB;ed", default_zone="UTC")
    >>> [(w.id, w.timezone, w.locale) for w in wards]
    [('icu', 'Europe/London', 'en-GB'), ('ed', 'UTC', 'en-US')]
    """
    wards = []
    for part in (p.strip() for p in spec.split(";")):
        if part:
            rest, _, locale = part.partition("@")
            ward_id, _, zone = rest.partition("=")
            locale = locale.strip() or default_locale
            if locale not in LOCALES:
                raise ConfigError(
                    f"ward {ward_id.strip()!r}: unknown locale {locale!r} (known: {', '.join(LOCALES)})"
                )
            wards.append(
                Ward(
                    id=ward_id.strip(),
                    name=ward_id.strip(),
                    timezone=zone.strip() or default_zone,
                    locale=locale,
                )
            )
    return wards


# -- doses -------------------------------------------------------------------------------------------


def save_dose(db: Database, dose: ScheduledDose, *, now: datetime) -> None:
    db.execute(
        """INSERT INTO doses(id, admission, ward, drug, ingredients, dose, route, due, outcome, created)
           VALUES (?,?,?,?,?,?,?,?,?,?)
           ON CONFLICT(id) DO UPDATE SET outcome = excluded.outcome""",
        [
            dose.id,
            dose.admission,
            dose.ward,
            sealing.seal(db, dose.admission, dose.drug),
            sealing.seal(db, dose.admission, json.dumps([[i.rxcui, i.name] for i in dose.ingredients])),
            sealing.seal(db, dose.admission, dose.dose),
            dose.route,
            iso(dose.due),
            sealing.seal_optional(db, dose.admission, _outcome_text(dose.outcome)),
            iso(now),
        ],
    )


def doses(db: Database, *, admission: str | None = None, ward: str | None = None) -> list[ScheduledDose]:
    where, params = [], []
    if admission is not None:
        where.append("admission = ?")
        params.append(admission)
    if ward is not None:
        where.append("ward = ?")
        params.append(ward)
    sql = "SELECT id, admission, ward, drug, ingredients, dose, route, due, outcome FROM doses"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [_dose(db, row) for row in db.execute(sql + " ORDER BY due, id", params).fetchall()]


def get_dose(db: Database, dose_id: str) -> ScheduledDose | None:
    row = db.execute(
        "SELECT id, admission, ward, drug, ingredients, dose, route, due, outcome FROM doses WHERE id = ?",
        [dose_id],
    ).fetchone()
    return None if row is None else _dose(db, row)


def outcome_json(outcome: Outcome) -> dict[str, str]:
    return _outcome_json(outcome)


_COLUMNS = "id, ward, bed, label, patient, grant_id, not_before, expires_at, admitted_at, status, ledger_url"


def _admission(db: Database, row: tuple[str, ...]) -> Admission:
    return Admission(
        id=row[0],
        ward=row[1],
        bed=row[2],
        label=sealing.unseal_text(db, row[0], row[3]) if row[3] else "",  # emptied by a purge
        patient=row[4],
        grant_id=row[5],
        not_before=parse_iso(row[6]),
        expires_at=parse_iso(row[7]),
        admitted_at=parse_iso(row[8]),
        status=row[9],
        ledger_url=row[10],
    )


def _dose(db: Database, stored: tuple[str, ...]) -> ScheduledDose:
    """The stored dose, opened and parsed once for as long as its row stays as it is (read at every
    check, every dose of the stay)."""
    return sealing.keyring(db).built_remembered(stored[1], tuple(stored), lambda: _open_dose(db, stored))


def _open_dose(db: Database, stored: tuple[str, ...]) -> ScheduledDose:
    opened = (sealing.unseal_text(db, stored[1], v) for v in stored[3:6])
    row = [stored[0], stored[1], stored[2], *opened]
    row += [stored[6], stored[7]]
    outcome_text = sealing.unseal_optional(db, stored[1], stored[8])
    outcome = None
    if outcome_text:
        data = json.loads(outcome_text)
        outcome = Outcome(
            status=data["status"],
            recorded_at=parse_iso(data["recorded_at"]),
            nurse=data["nurse"],
            note=data["note"],
        )
    return ScheduledDose(
        id=row[0],
        admission=row[1],
        ward=row[2],
        drug=row[3],
        ingredients=tuple(Ingredient(rxcui, name) for rxcui, name in json.loads(row[4])),
        dose=row[5],
        route=row[6],
        due=parse_iso(row[7]),
        outcome=outcome,
    )


def _outcome_text(outcome: Outcome | None) -> str | None:
    return None if outcome is None else json.dumps(_outcome_json(outcome))


def _outcome_json(outcome: Outcome) -> dict[str, str]:
    return {
        "status": outcome.status,
        "recorded_at": iso(outcome.recorded_at),
        "nurse": outcome.nurse,
        "note": outcome.note,
    }


def _time(text: str) -> time:
    return time.fromisoformat(text)
