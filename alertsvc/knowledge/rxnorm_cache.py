"""What the RxNav client keeps on its own side so it asks RxNav less: an answer cache and a rate limiter.

``AnswerCache`` keeps RxNav's JSON answers for a time-to-live (``Settings.rxnav_cache_ttl``), in two
places chosen by what the request was keyed by:

- **Concept answers** (keyed by a public RxNorm concept: an RxCUI or an RxClass class id, and naming at
  least one concept) go to their own SQLite file, so they outlive a restart. Nothing in them was written
  by a patient: they are RxNorm's own public records.
- **Term answers** (keyed by what someone wrote: a drug name, an NDC, an approximate-match term) stay in
  this process's memory only, bounded in number, and ``forget_terms()`` drops them all; the service calls
  it at every purge, so a patient's words outlive neither her admission nor the process, and never reach
  a disk. (RxNav echoes the name asked for in its answer, so the answer itself is patient-derived too.)

A cache file written before this split held term answers (table ``answers``); opening it drops that table
with ``secure_delete`` on and checkpoints the WAL, so an upgrade does not leave names behind for a week.
SQLite connections must not cross threads, so each thread gets its own connection to the same file.

``RateLimiter`` keeps the client within RxNav's terms of service (at most 20 requests per second from one
address) by remembering when the last requests were due to leave: in any window of ``period`` seconds at
most ``max_requests`` go out; the next one waits, or gives up when waiting would pass its deadline.
After a 403 (RxNav's way of saying the limit was exceeded) it sends nothing for a cool-down period.

Both take their clock (and the limiter its ``sleep``) as arguments, so tests need not wait for real.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

from alertsvc.errors import TerminologyUnavailable

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS concepts (
    key TEXT PRIMARY KEY,   -- base URL, path and sorted query of a request keyed by an RxCUI or class id
    body TEXT NOT NULL,     -- RxNav's JSON answer
    fetched REAL NOT NULL   -- clock() when it was fetched
)
"""
_LEGACY_TABLE = "answers"  # before term answers were kept apart: keyed by names, NDCs and RxCUIs alike
MAX_TERMS = 4096
"""Term answers held in memory at most (the oldest go first): a look-up needs two or three."""


class AnswerCache:
    """RxNav answers by request, each valid for ``ttl`` seconds after it was fetched: concept answers in an
    SQLite file, term answers in memory (see the module docstring)."""

    def __init__(self, path: Path, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.ttl = ttl
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._terms: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # check_same_thread=False only so close() can close every thread's connection at the end;
            # each connection is otherwise used by the one thread that opened it.
            conn = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA secure_delete=ON")
                conn.execute(_SCHEMA)
                _drop_legacy_answers(conn, self.path)
            except sqlite3.Error:
                conn.close()
                raise
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def get(self, key: str, *, concept: bool) -> str | None:
        """The cached answer to ``key`` if it was fetched less than ``ttl`` seconds ago, else None.

        ``concept``: whether ``key`` names a public concept (an RxCUI or class id) rather than a term
        someone wrote. A cache file that cannot be read (locked for too long, corrupt, disk gone) counts
        as a miss: the answer is fetched from RxNav instead, and the problem is logged.
        """
        if not concept:
            with self._lock:
                held = self._terms.get(key)
            return held[0] if held is not None and self._fresh(held[1]) else None
        try:
            row = (
                self._connection()
                .execute("SELECT body, fetched FROM concepts WHERE key = ?", (key,))
                .fetchone()
            )
        except sqlite3.Error as exc:
            log.warning("RxNav answer cache %s cannot be read: %s", self.path, exc)
            return None
        if row is None or not self._fresh(float(row[1])):
            return None
        return str(row[0])

    def put(self, key: str, body: str, *, concept: bool) -> None:
        """Remember ``body`` as the answer to ``key`` from now on: a concept answer in the file (a write
        that fails is logged), a term answer in memory only."""
        if not concept:
            with self._lock:
                self._terms[key] = (body, self._clock())
                self._terms.move_to_end(key)
                while len(self._terms) > MAX_TERMS:
                    self._terms.popitem(last=False)
            return
        try:
            self._connection().execute(
                "INSERT OR REPLACE INTO concepts (key, body, fetched) VALUES (?, ?, ?)",
                (key, body, self._clock()),
            )
        except sqlite3.Error as exc:
            log.warning("RxNav answer cache %s cannot be written: %s", self.path, exc)

    def forget_terms(self) -> int:
        """Drop every term answer (what patients and wards wrote); returns how many were dropped."""
        with self._lock:
            count = len(self._terms)
            self._terms.clear()
        return count

    def purge_expired(self) -> int:
        """Delete answers older than the time-to-live; returns how many were deleted."""
        cutoff = self._clock() - self.ttl
        with self._lock:
            stale = [key for key, (_, fetched) in self._terms.items() if fetched <= cutoff]
            for key in stale:
                del self._terms[key]
        cursor = self._connection().execute("DELETE FROM concepts WHERE fetched <= ?", (cutoff,))
        return cursor.rowcount + len(stale)

    def close(self) -> None:
        """Close every thread's connection and forget the term answers."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._terms.clear()
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def _fresh(self, fetched: float) -> bool:
        return self._clock() - fetched < self.ttl


def _drop_legacy_answers(conn: sqlite3.Connection, path: Path) -> None:
    """Drop the table of an older cache file, which kept answers keyed by drug names, and checkpoint the
    WAL so that its pages (zeroed by secure_delete) replace every copy of them."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_LEGACY_TABLE,)
    ).fetchone()
    if found is None:
        return
    conn.execute(f"DROP TABLE {_LEGACY_TABLE}")
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        log.warning("RxNav answer cache %s: old answers dropped, but the WAL checkpoint was blocked", path)
    else:
        log.info("RxNav answer cache %s: dropped the answers an older alertsvc kept by drug name", path)


class RateLimiter:
    """At most ``max_requests`` in any ``period`` seconds; nothing at all during a cool-down after a 403."""

    def __init__(
        self,
        max_requests: int = 20,
        period: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_requests < 1 or period <= 0:
            raise ValueError(
                f"a rate limit needs max_requests >= 1 and period > 0, not {max_requests}/{period}"
            )
        self.max_requests = max_requests
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque(maxlen=max_requests)  # the latest reserved send times
        self._blocked_until = float("-inf")
        self._lock = threading.Lock()

    def acquire(self, budget: float) -> None:
        """Wait until one more request may go out, then count it as sent.

        Raises TerminologyUnavailable, without waiting, when the wait would take longer than ``budget``
        seconds or the limiter is cooling down after a 403.
        """
        # Each caller reserves its send time under the lock, then waits outside it, so one caller's wait
        # never lengthens another's: the n-th request goes out at least ``period`` after the (n-max)-th.
        with self._lock:
            now = self._clock()
            if now < self._blocked_until:
                raise TerminologyUnavailable(
                    f"RxNav refused a request for exceeding its rate limit (HTTP 403); "
                    f"not asking again for {self._blocked_until - now:.1f} s"
                )
            slot = now
            if len(self._sent) == self.max_requests:
                slot = max(now, self._sent[0] + self.period)
            if slot - now > budget:
                raise TerminologyUnavailable(
                    f"the client-side limit of {self.max_requests} requests per {self.period:g} s "
                    f"would delay this request past its deadline"
                )
            self._sent.append(slot)
        if slot > now:
            self._sleep(slot - now)

    def cool_down(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from now (after RxNav answered 403)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)
