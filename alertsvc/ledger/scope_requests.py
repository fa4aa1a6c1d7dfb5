"""Requests from a grantee (the hospital) for a wider scope, kept by the patient's ledger server until
she answers them.

A request names one of her grants, the scopes it lacks that the hospital wants (``reactions``, ...) and
a reason; it arrives as a request signed by the grant's grantee (``POST /scope-requests``), and the
signed token is kept with it, so what the hospital asked is provable. She approves or declines it on
her page. Approving writes a new grant, signed by her, to the same grantee with the old grant's scope and
the new one, from now until the old grant's end (asking for more never lengthens the stay's access); the
old grant stays, and revoking it revokes the grants that widened it too (``widened_from``).

Requests live in a small SQLite file beside the ledger (``<ledger>.scope-requests``), not in the ledger:
they are the hospital's words, not her record. Bounds: ``MAX_PENDING_PER_GRANT`` unanswered requests per
grant, ``MAX_REQUESTS`` kept in all (answered ones older than ``KEEP_ANSWERED`` are dropped first).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alertsvc import errors
from alertsvc.ledger.entries import format_time, parse_time
from alertsvc.ledger.grants import SCOPES, Grant, parse_scope

REQUEST_ID = re.compile(r"sr-[0-9a-f]{16,32}")
MAX_REASON_CHARS = 500
MAX_LABEL_CHARS = 200
MAX_PENDING_PER_GRANT = 5
MAX_REQUESTS = 500
KEEP_ANSWERED = timedelta(days=30)
STATUSES = ("pending", "approved", "declined")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scope_requests (
    id TEXT PRIMARY KEY, grant_id TEXT NOT NULL, grantee TEXT NOT NULL, scope TEXT NOT NULL,
    reason TEXT NOT NULL, admission TEXT NOT NULL, requested_at TEXT NOT NULL, body_hash TEXT NOT NULL,
    token TEXT NOT NULL, status TEXT NOT NULL, answered_at TEXT, new_grant TEXT
);
"""


@dataclass(frozen=True)
class ScopeRequest:
    """A hospital's request for more of her ledger, and her answer."""

    id: str
    grant_id: str
    grantee: str
    scope: frozenset[str]
    reason: str
    admission: str
    requested_at: datetime
    body_hash: str
    token: str
    status: str
    answered_at: datetime | None = None
    new_grant: str | None = None

    def as_json(self) -> dict[str, Any]:
        """What the hospital reads of it (``GET /scope-requests/{id}``) and her page shows."""
        return {
            "id": self.id,
            "grant": self.grant_id,
            "grantee": self.grantee,
            "scope": sorted(self.scope),
            "reason": self.reason,
            "admission": self.admission,
            "requested_at": format_time(self.requested_at),
            "status": self.status,
            "answered_at": None if self.answered_at is None else format_time(self.answered_at),
            "new_grant": self.new_grant,
        }


@dataclass(frozen=True)
class Asked:
    """What a grantee's request body says, checked (``read_request``)."""

    id: str
    grant_id: str
    scope: frozenset[str]
    reason: str
    admission: str


def read_request(body: dict[str, Any], grant: Grant | None) -> Asked:
    """The checked request ``{"id", "grant", "scope": [...], "reason", "admission"?}`` for ``grant``
    (InputError naming the field; NotFound for a grant this ledger does not hold)."""
    unknown = sorted(set(body) - {"id", "grant", "scope", "reason", "admission"})
    if unknown:
        raise errors.InputError(f"scope request: unknown field {unknown[0]!r}")
    request_id = body.get("id")
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise errors.InputError("scope request: 'id' is sr- and 16 to 32 lower-case hex digits")
    if grant is None:
        raise errors.NotFound(f"no grant {str(body.get('grant'))[:80]} in this ledger")
    scope = read_scope(body.get("scope"), grant)
    reason = _text(body.get("reason"), "reason", MAX_REASON_CHARS)
    admission = body.get("admission", "")
    if not isinstance(admission, str) or len(admission) > MAX_LABEL_CHARS:
        raise errors.InputError(f"scope request: 'admission' is text of at most {MAX_LABEL_CHARS} characters")
    return Asked(request_id, grant.id, scope, reason, admission)


def read_scope(value: object, grant: Grant) -> frozenset[str]:
    """The scopes asked for: a non-empty list of known scope names, none of which ``grant`` already has."""
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise errors.InputError(f"'scope': a non-empty list of some of {', '.join(SCOPES)}")
    if len(value) > len(SCOPES):
        raise errors.InputError(f"'scope': at most {len(SCOPES)} names")
    scope = parse_scope(value, what="'scope'")
    already = sorted(scope & grant.scope)
    if already:
        raise errors.InputError(
            f"'scope': grant {grant.id} already covers {', '.join(already)}; ask only for what it lacks"
        )
    return scope


def _text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise errors.InputError(f"scope request: '{name}' is required, non-empty text")
    if len(value) > limit:
        raise errors.InputError(f"scope request: '{name}' is {len(value)} characters; at most {limit}")
    return " ".join(value.split())


class ScopeRequests:
    """The requests file of one ledger server (opened per call, on the event loop's thread)."""

    def __init__(self, ledger_path: Path) -> None:
        self.path = Path(str(ledger_path) + ".scope-requests")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.executescript(_SCHEMA)
            yield conn

    def add(self, asked: Asked, *, grantee: str, body_hash: str, token: str, now: datetime) -> ScopeRequest:
        """Keep a new request; the one already kept under its id when the body is the same (a retry);
        Conflict when the id was used for another body; TooManyRequests beyond the bounds."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                kept = self._get(db, asked.id)
                if kept is not None:
                    if kept.body_hash != body_hash or kept.grantee != grantee:
                        raise errors.Conflict(f"scope request {asked.id} was already made with another body")
                    db.execute("COMMIT")
                    return kept
                db.execute(
                    "DELETE FROM scope_requests WHERE status != 'pending' AND answered_at < ?",
                    [format_time(now - KEEP_ANSWERED)],
                )
                pending = _count(db, "status = 'pending' AND grant_id = ?", asked.grant_id)
                if pending >= MAX_PENDING_PER_GRANT:
                    raise errors.TooManyRequests(
                        f"grant {asked.grant_id} already has {pending} requests awaiting the patient; "
                        f"at most {MAX_PENDING_PER_GRANT}"
                    )
                if _count(db, "1") >= MAX_REQUESTS:
                    raise errors.TooManyRequests(f"this ledger server keeps at most {MAX_REQUESTS} requests")
                db.execute(
                    """INSERT INTO scope_requests(id, grant_id, grantee, scope, reason, admission,
                           requested_at, body_hash, token, status) VALUES (?,?,?,?,?,?,?,?,?, 'pending')""",
                    [
                        asked.id,
                        asked.grant_id,
                        grantee,
                        json.dumps(sorted(asked.scope)),
                        asked.reason,
                        asked.admission,
                        format_time(now),
                        body_hash,
                        token,
                    ],
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            added = self._get(db, asked.id)
        assert added is not None
        return added

    def get(self, request_id: str) -> ScopeRequest | None:
        if not REQUEST_ID.fullmatch(request_id):
            return None
        if not self.path.exists():
            return None
        with self._db() as db:
            return self._get(db, request_id)

    def all(self) -> list[ScopeRequest]:
        """Every kept request, newest first."""
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM scope_requests ORDER BY requested_at DESC, id"
            ).fetchall()
        return [_request(row) for row in rows]

    def answer(
        self, request_id: str, *, status: str, now: datetime, new_grant: str | None = None
    ) -> ScopeRequest:
        """Record her answer to a pending request (Conflict if it was answered already)."""
        if status not in ("approved", "declined"):
            raise ValueError(status)
        with self._db() as db:
            cursor = db.execute(
                """UPDATE scope_requests SET status = ?, answered_at = ?, new_grant = ?
                   WHERE id = ? AND status = 'pending'""",
                [status, format_time(now), new_grant, request_id],
            )
            found = self._get(db, request_id)
        if found is None:
            raise errors.NotFound(f"no scope request {request_id[:80]}")
        if cursor.rowcount == 0:
            raise errors.Conflict(f"scope request {request_id} was already {found.status}")
        return found

    def answered_ids(self, grant_id: str) -> set[str]:
        return {r.id for r in self.all() if r.grant_id == grant_id and r.status != "pending"}

    def answered(self, grant_id: str, *, exclude: Iterable[str]) -> list[tuple[str, str]]:
        """(id, status) of the answered requests of ``grant_id`` not in ``exclude``."""
        skip = set(exclude)
        return [
            (r.id, r.status)
            for r in self.all()
            if r.grant_id == grant_id and r.status != "pending" and r.id not in skip
        ]

    def widened_from(self, grant_id: str) -> list[str]:
        """The grants made by approving requests about ``grant_id`` (and, in turn, about those)."""
        found: list[str] = []
        frontier = [grant_id]
        approved = [r for r in self.all() if r.status == "approved" and r.new_grant]
        while frontier:
            current = frontier.pop()
            for request in approved:
                if request.grant_id == current and request.new_grant not in found:
                    assert request.new_grant is not None
                    found.append(request.new_grant)
                    frontier.append(request.new_grant)
        return found

    @staticmethod
    def _get(db: sqlite3.Connection, request_id: str) -> ScopeRequest | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM scope_requests WHERE id = ?", [request_id]).fetchone()
        return None if row is None else _request(row)


_COLUMNS = (
    "id, grant_id, grantee, scope, reason, admission, requested_at, body_hash, token, status, answered_at, "
    "new_grant"
)


def _count(db: sqlite3.Connection, where: str, *params: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM scope_requests WHERE {where}", params).fetchone()[0])


def _request(row: tuple[Any, ...]) -> ScopeRequest:
    return ScopeRequest(
        id=row[0],
        grant_id=row[1],
        grantee=row[2],
        scope=frozenset(json.loads(row[3])),
        reason=row[4],
        admission=row[5],
        requested_at=parse_time(row[6], what="requested_at"),
        body_hash=row[7],
        token=row[8],
        status=row[9],
        answered_at=None if row[10] is None else parse_time(row[10], what="answered_at"),
        new_grant=row[11],
    )
