"""SIGHUP reads the knowledge files again (``kill -HUP <pid>``; systemd's ``ExecReload``), in the serving
process only (``alertsvc serve``): the knowledge is swapped and what it may change re-checked
(``knowledge_recheck.reload``) while the service goes on serving. Files that do not load leave the
knowledge in use as it is, and say why in the log.

Without this handler, SIGHUP's default action ends the process. Each process of a cluster reloads on
its own signal: send it to every one.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from alertsvc import knowledge_recheck
from alertsvc.errors import KnowledgeError

if TYPE_CHECKING:
    from alertsvc.service import Service

log = logging.getLogger("alertsvc.knowledge")


@asynccontextmanager
async def reloads_on_hangup(service: Service) -> AsyncIterator[None]:
    """Reload the service's knowledge on each SIGHUP while the block runs; a reload still running at its
    end is cancelled (a restart re-checks every admission with the knowledge on disk)."""
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = loop.create_task(reload(service))
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


async def reload(service: Service) -> None:
    """One reload, its outcome logged: a reload that fails leaves the service serving."""
    log.info("reading the knowledge files in %s again", service.settings.data_dir)
    try:
        done = await knowledge_recheck.reload(service)
    except (KnowledgeError, OSError) as exc:
        log.error("knowledge not reloaded (%s still in use): %s", service.knowledge.version, exc)
        return
    except Exception:  # the knowledge may be swapped already: the next sweep re-checks every admission
        log.exception("knowledge reload failed (%s now in use)", service.knowledge.version)
        return
    if done.rechecked is None:
        log.info("knowledge unchanged: %s", done.version)
        return
    log.info(
        "knowledge %s replaces %s: %d admissions re-checked (%d left alone: nothing they take changed), "
        "%d alert events",
        done.version,
        done.previous,
        done.rechecked.admissions,
        done.rechecked.skipped,
        done.rechecked.events,
    )
