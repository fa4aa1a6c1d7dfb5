"""What the RxNav client keeps on its own side so it asks RxNav less: an answer cache and a rate limiter.

``AnswerCache`` stores RxNav's JSON answers in their own SQLite file with a time-to-live, so a term
looked up once is not fetched again for a week (``Settings.rxnav_cache_ttl``). SQLite connections must not
cross threads, so each thread gets its own connection to the same file.

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
from collections import deque
from collections.abc import Callable
from pathlib import Path

from alertsvc.errors import TerminologyUnavailable

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,   -- base URL, path and sorted query of the request
    body TEXT NOT NULL,     -- RxNav's JSON answer, as received
    fetched REAL NOT NULL   -- clock() when it was fetched
)
"""


class AnswerCache:
    """RxNav answers by request, in an SQLite file, each valid for ``ttl`` seconds after it was fetched."""

    def __init__(self, path: Path, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.ttl = ttl
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []

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
                conn.execute(_SCHEMA)
            except sqlite3.Error:
                conn.close()
                raise
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def get(self, key: str) -> str | None:
        """The cached answer to ``key`` if it was fetched less than ``ttl`` seconds ago, else None.

        A cache that cannot be read (locked for too long, corrupt, disk gone) counts as a miss: the
        answer is fetched from RxNav instead, and the problem is logged.
        """
        try:
            row = (
                self._connection()
                .execute("SELECT body, fetched FROM answers WHERE key = ?", (key,))
                .fetchone()
            )
        except sqlite3.Error as exc:
            log.warning("RxNav answer cache %s cannot be read: %s", self.path, exc)
            return None
        if row is None:
            return None
        body, fetched = row
        if self._clock() - float(fetched) >= self.ttl:
            return None
        return str(body)

    def put(self, key: str, body: str) -> None:
        """Remember ``body`` as the answer to ``key`` from now on (a write that fails is logged)."""
        try:
            self._connection().execute(
                "INSERT OR REPLACE INTO answers (key, body, fetched) VALUES (?, ?, ?)",
                (key, body, self._clock()),
            )
        except sqlite3.Error as exc:
            log.warning("RxNav answer cache %s cannot be written: %s", self.path, exc)

    def purge_expired(self) -> int:
        """Delete answers older than the time-to-live; returns how many were deleted."""
        cursor = self._connection().execute(
            "DELETE FROM answers WHERE fetched <= ?", (self._clock() - self.ttl,)
        )
        return cursor.rowcount

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()


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
