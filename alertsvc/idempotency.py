"""Idempotency keys: a client that may repeat a write (a retry after a timeout, a crash, a lost answer)
sends ``Idempotency-Key: <key>``, and the repeat gets the first answer instead of a second write.

The first answer (status and body, exactly as sent) is stored in the same transaction as the write it
answers, so after a crash either both the write and its answer exist or neither does: a retry then
replays the answer or does the write for the first time, never twice. An answer is kept under (caller,
route, key) with the hash of the request body:

- a request with a stored key and the same body gets the stored answer (``Idempotent-Replayed: true``);
- the same key with a different body is refused (``IdempotencyKeyReused``, naming the key);
- the caller is who the credential names (a nurse, a patient's key, a CDS client), not the token itself,
  so a retry with a fresh token still matches; another caller's key is another key;
- refusals are not kept: nothing was written, so a retry is judged afresh;
- a key is kept for ``KEY_LIFETIME`` (24 hours) from its first use; an answer about an admission (which
  may name its drugs) is deleted with the admission's data when it ends, whichever comes first.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alertsvc import sealing
from alertsvc.clock import iso, parse_iso
from alertsvc.errors import Conflict, IdempotencyKeyReused, InputError, UniqueViolation
from alertsvc.store import Database

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True)
class Pending:
    """A keyed request about to write: where its answer goes, once the write has made it."""

    caller: str
    route: str
    key: str
    request_hash: str
    status: int
    now: datetime
    before_commit: Callable[[], None] = field(default=lambda: None, compare=False, repr=False)
    """Crash tests only: runs once the answer is in the transaction, before it commits."""

    @property
    def scope(self) -> tuple[str, str, str]:
        return (self.caller, self.route, self.key)


@dataclass(frozen=True)
class Stored:
    status: int
    answer: bytes


def read_key(value: str) -> str:
    """The header's key, or InputError naming the header: 1 to 255 visible ASCII characters."""
    if not _KEY.fullmatch(value):
        raise InputError(f"{HEADER}: must be 1 to 255 visible ASCII characters (no spaces)")
    return value


def caller_id(kind: str, *names: str) -> str:
    """Who is asking, as stored with a key: a hash, so a patient's public id is not kept in clear."""
    return hashlib.sha256(json.dumps([kind, *names]).encode()).hexdigest()


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def render(answer: Any) -> bytes:
    """The answer's JSON exactly as Starlette's JSONResponse writes it (so a replay is byte-identical)."""
    return json.dumps(
        answer, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()


def recall(db: Database, pending: Pending) -> Stored | None:
    """The stored answer for this key, None if there is none (or it has expired); IdempotencyKeyReused
    when the key was used with a different body."""
    row = db.execute(
        "SELECT request_hash, status, answer, created, expires FROM idempotency "
        "WHERE caller = ? AND route = ? AND key = ?",
        list(pending.scope),
    ).fetchone()
    if row is None or parse_iso(row[4]) <= pending.now:
        return None
    if row[0] != pending.request_hash:
        raise IdempotencyKeyReused(
            f"{HEADER} {pending.key!r} was first used at {row[3]} with a different request body for "
            f"{pending.route}; a new request needs a new key"
        )
    return Stored(status=int(row[1]), answer=_opened(db, pending, row[2]))


def remember(db: Database, pending: Pending | None, answer: Any, *, admissions: Iterable[str] = ()) -> None:
    """Store the answer to a keyed write, inside the write's own transaction (nothing without a key).

    ``admissions``: those whose data the answer holds; it is deleted when any of them is purged, and stored
    sealed with the first one's data key (``sealing``), so it dies with that key too.
    """
    if pending is None:
        return
    holders = sorted(set(admissions))
    db.execute(
        "DELETE FROM idempotency WHERE caller = ? AND route = ? AND key = ? AND expires <= ?",
        [*pending.scope, iso(pending.now)],
    )
    try:
        answer_id = db.insert_returning(
            "INSERT INTO idempotency(caller, route, key, request_hash, status, answer, created, expires) "
            "VALUES (?,?,?,?,?,?,?,?) RETURNING id",
            [
                *pending.scope,
                pending.request_hash,
                pending.status,
                sealing.seal(db, holders[0], render(answer)) if holders else render(answer),
                iso(pending.now),
                iso(pending.now + KEY_LIFETIME),
            ],
        )
    except UniqueViolation as exc:  # another process answered this key first
        raise Conflict(f"{HEADER} {pending.key!r} was answered by another request; send it again") from exc
    for admission in holders:
        db.execute(
            "INSERT INTO idempotency_admissions(answer, admission) VALUES (?, ?)",
            [answer_id, admission],
        )
    pending.before_commit()


def _opened(db: Database, pending: Pending, stored: bytes) -> bytes:
    """A stored answer, opened with the key of the first admission it holds data of (if any)."""
    (holder,) = db.execute(
        "SELECT min(a.admission) FROM idempotency i JOIN idempotency_admissions a ON a.answer = i.id "
        "WHERE i.caller = ? AND i.route = ? AND i.key = ?",
        list(pending.scope),
    ).fetchone()
    return bytes(stored) if holder is None else sealing.unseal(db, holder, stored)


def forget_admission(db: Database, admission: str) -> None:
    """Delete every stored answer holding this admission's data (part of its purge)."""
    db.execute(
        "DELETE FROM idempotency WHERE id IN (SELECT answer FROM idempotency_admissions WHERE admission = ?)",
        [admission],
    )


def forget_expired(db: Database, now: datetime) -> int:
    """Delete every answer whose key has expired; how many."""
    return int(db.execute("DELETE FROM idempotency WHERE expires <= ?", [iso(now)]).rowcount)


def next_expiry(db: Database) -> datetime | None:
    row = db.execute("SELECT min(expires) FROM idempotency").fetchone()
    return None if row is None or row[0] is None else parse_iso(row[0])
