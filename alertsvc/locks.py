"""Locks by name, for the one process that serves a database: writes that must not interleave across an
``await`` (two updates of one admission's slice, two requests with one Idempotency-Key) take the lock of
their name; a lock lives only while someone holds or waits for it.

What must hold across processes and crashes is enforced by the database itself (unique indexes, state
checked inside ``BEGIN IMMEDIATE``); these locks only make the usual case orderly instead of refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLocks:
    """``async with locks.hold(name):`` one holder per name at a time, waiters served in order."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, name: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(name, (asyncio.Lock(), 0))
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)

    def __len__(self) -> int:
        """How many names are held or waited for (none once every request has finished)."""
        return len(self._locks)
