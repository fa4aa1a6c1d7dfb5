"""Delivering practitioner entries to patients' ledger servers: a durable queue worked by a timer.

The queue is the ``practitioner_entries`` table (``alertsvc.bedside``): a row per entry, written in the
transaction that recorded it, with its state, the attempts so far, when the next is due and the last
error. ``deliver_due`` posts every due entry of an admission in one signed request
(``ledger.remote_entries.post_entries``) from a worker thread, then records the outcome:

- accepted (appended, or already there: her server answers with the ids it holds): ``delivered``;
- unreachable, timed out or failing (5xx): attempt n+1 at ``backoff(n)`` later: ``retry_seconds``
  doubled per attempt, capped at ``retry_max_seconds``; the entry keeps waiting while the grant lasts;
- refused by her server (out of scope, revoked, ...): retrying the same signed bytes cannot help, so it
  is kept for the stay and handed over at discharge (``handover``, the refusal as its reason).

Nothing is lost across a restart (the rows are the truth; the service arms the timer again at start-up)
and nothing is appended twice: an entry's id is the hash of its signed bytes, and her server does not
append an id it holds. One delivery runs at a time (a lock), so two timers cannot post the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

import anyio

from alertsvc import admissions as adm
from alertsvc import audit, store
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import AlertsvcError
from alertsvc.ledger.remote_entries import Refusal, post_entries
from alertsvc.practitioner_entries import DELIVERED, HANDOVER, PENDING, StoredEntry, pending
from alertsvc.service_api import ServiceApi
from alertsvc.store import Database

log = logging.getLogger("alertsvc.delivery")
MAX_BATCH = 100


def backoff(attempts: int, *, base: float, cap: float) -> timedelta:
    """How long after failed attempt number ``attempts`` (1, 2, ...) to try again: doubling, capped."""
    seconds = base * (2 ** min(max(attempts - 1, 0), 30))
    return timedelta(seconds=min(seconds, cap))


def next_wakeup(db: Database) -> datetime | None:
    """When the earliest pending entry is due (None when nothing waits)."""
    (first,) = db.execute(
        "SELECT min(next_attempt_at) FROM practitioner_entries WHERE state = ?", [PENDING]
    ).fetchone()
    return None if first is None else parse_iso(first)


async def deliver_due(service: ServiceApi) -> int:
    """Post every entry whose attempt is due, one request per admission; how many were delivered."""
    delivered = 0
    async with service.locks.hold(("delivery",)):
        now = service.clock()
        by_admission: dict[str, list[StoredEntry]] = {}
        for stored in pending(service.db, due_by=now):
            by_admission.setdefault(stored.admission, []).append(stored)
        for admission_id, batch in by_admission.items():
            delivered += await _deliver(service, admission_id, batch[:MAX_BATCH], now)
    return delivered


async def _deliver(
    service: ServiceApi, admission_id: str, batch: Sequence[StoredEntry], now: datetime
) -> int:
    admission = adm.get_admission(service.db, admission_id)
    if admission is None or not admission.active or not admission.ledger_url:
        return 0  # ended: its rows went with the purge
    post = partial(
        post_entries,
        admission.ledger_url,
        [s.entry.envelope() for s in batch],
        service.identity,
        patient=admission.patient,
        timeout=service.settings.ledger_timeout,
        now=now,
    )
    ids = [s.entry.id for s in batch]
    try:
        answer = await anyio.to_thread.run_sync(post)
    except Refusal as exc:
        log.error("admission %s: her ledger refused %d entries: %s", admission_id, len(ids), exc)
        _record(service, admission_id, ids, HANDOVER, now=now, error=str(exc), reason=f"refused: {exc}")
        return 0
    except AlertsvcError as exc:
        log.warning("admission %s: delivery failed, will retry: %s", admission_id, exc)
        _record(service, admission_id, ids, PENDING, now=now, error=str(exc))
        return 0
    held = {*_ids(answer.get("appended")), *_ids(answer.get("already"))}
    done = [i for i in ids if i in held]
    missing = [i for i in ids if i not in held]
    if done:
        _record(service, admission_id, done, DELIVERED, now=now)
    if missing:
        _record(service, admission_id, missing, PENDING, now=now, error="not in her ledger's answer")
    return len(done)


def _ids(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _record(
    service: ServiceApi,
    admission_id: str,
    ids: Sequence[str],
    state: str,
    *,
    now: datetime,
    error: str = "",
    reason: str = "",
) -> None:
    settings = service.settings
    db = service.db
    with store.write(db):
        if adm.get_admission(db, admission_id) is None:
            return
        for entry_id in ids:
            row = db.execute(
                "SELECT attempts FROM practitioner_entries WHERE id = ? AND admission = ? AND state = ?",
                [entry_id, admission_id, PENDING],
            ).fetchone()
            if row is None:  # purged, or settled by another run
                continue
            attempts = int(row[0]) + 1
            wait = backoff(
                attempts, base=settings.delivery_retry_seconds, cap=settings.delivery_retry_max_seconds
            )
            db.execute(
                """UPDATE practitioner_entries SET state = ?, attempts = ?, last_error = ?,
                       next_attempt_at = ?, delivered_at = ?, reason = CASE WHEN ? = '' THEN reason ELSE ? END
                   WHERE id = ?""",
                [
                    state,
                    attempts,
                    error[:500],
                    iso(now + wait) if state == PENDING else None,
                    iso(now) if state == DELIVERED else None,
                    reason,
                    reason[:500],
                    entry_id,
                ],
            )
        if state != PENDING:
            audit.record(
                db,
                now=now,
                actor="alertsvc",
                action="deliver-entries" if state == DELIVERED else "delivery-refused",
                admission=admission_id,
                detail={"entries": list(ids), "state": state},
            )
