"""The open watches of one patient ledger server (``GET /watch/{grant}``, in ``watch``) and what wakes them.

One watch per grant: a newer one replaces the older (marked ``replaced``, so its stream ends with that
notice); at most ``MAX_WATCHES`` per server, then TooManyRequests. The server's routes ``poke`` the hub
after they append; while anyone watches, the hub also holds one connection to the ledger file open and
pokes when ``PRAGMA data_version`` says another process (the command line) has committed. A woken watch
reads the ledger through ``snapshot``, once per change for all of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import anyio

from alertsvc import errors
from alertsvc.ledger.log import LedgerSnapshot
from alertsvc.ledger.store import LedgerStore

MAX_WATCHES = 64
CHECK_SECONDS = 0.2
"""How often the hub asks SQLite whether another process has written to the ledger."""
log = logging.getLogger("alertsvc.patient_server.watch_hub")


class Watch:
    """One open watch of one grant."""

    def __init__(self, grant_id: str) -> None:
        self.grant_id = grant_id
        self.replaced = False


class WatchHub:
    """The open watches of one ledger server and what wakes them (see the module docstring)."""

    def __init__(self, ledger_path: Path, *, limit: int = MAX_WATCHES) -> None:
        self.ledger_path = ledger_path
        self.limit = limit
        self.generation = 0
        self._changed = asyncio.Event()
        self._open: dict[str, Watch] = {}
        self._checker: asyncio.Task[None] | None = None
        self._read: tuple[int, LedgerSnapshot] | None = None

    def snapshot(self, read: Callable[[], LedgerSnapshot]) -> LedgerSnapshot:
        """The ledger as of the hub's current generation, ``read`` once for every watch that wakes."""
        if self._read is None or self._read[0] != self.generation:
            self._read = (self.generation, read())
        return self._read[1]

    def __len__(self) -> int:
        return len(self._open)

    def poke(self) -> None:
        """The ledger (or a scope request) may have changed: wake every watch to look."""
        self.generation += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, generation: int, timeout: float) -> None:
        """Until the hub is poked after ``generation``, or ``timeout`` seconds."""
        if self.generation != generation:
            return
        with anyio.move_on_after(max(timeout, 0.0)):
            await self._changed.wait()

    def open(self, grant_id: str) -> Watch:
        """A new watch of ``grant_id``, replacing an older one; TooManyRequests at the limit."""
        older = self._open.get(grant_id)
        if older is None and len(self._open) >= self.limit:
            raise errors.TooManyRequests(
                f"this ledger server already holds {len(self._open)} watches; at most {self.limit}"
            )
        if older is not None:
            older.replaced = True
        watch = Watch(grant_id)
        self._open[grant_id] = watch
        if older is not None:
            self.poke()
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check_other_writers())
        return watch

    def close(self, watch: Watch) -> None:
        if self._open.get(watch.grant_id) is watch:
            del self._open[watch.grant_id]

    async def _check_other_writers(self) -> None:
        """While anyone watches: poke when another connection has committed to the ledger file."""
        try:
            with LedgerStore.open(self.ledger_path) as store:
                seen = store.data_version()
                while self._open:
                    await asyncio.sleep(CHECK_SECONDS)
                    version = store.data_version()
                    if version != seen:
                        seen = version
                        self.poke()
        except errors.AlertsvcError as exc:
            log.error("watching %s for changes failed: %s", self.ledger_path, exc)
            self.poke()  # let each watch find out for itself, and end
