"""SIGHUP reads the knowledge files again (``kill -HUP <pid>``; systemd's ``ExecReload``), in the serving
process only (``alertsvc serve``): the knowledge is swapped and what it may change re-checked
(``knowledge_recheck.reload``) while the service goes on serving. Files that do not load leave the
knowledge in use as it is, and say why in the log.

Without this handler, SIGHUP's default action ends the process. On a cluster, the process signalled
tells the others, which read their own files again (``alertsvc.cluster``).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from alertsvc import knowledge_recheck

if TYPE_CHECKING:
    from alertsvc.service import Service


@asynccontextmanager
async def reloads_on_hangup(service: Service) -> AsyncIterator[None]:
    """Reload the service's knowledge on each SIGHUP while the block runs; a reload still running at its
    end is cancelled (a restart re-checks every admission with the knowledge on disk)."""
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = loop.create_task(knowledge_recheck.reload_logged(service))
        running.add(task)
        task.add_done_callback(running.discard)

    loop.add_signal_handler(signal.SIGHUP, hangup)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        for task in list(running):
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
