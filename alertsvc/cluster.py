"""One service process's part in a cluster: several processes of one hospital on one PostgreSQL database.

Any HTTP load balancer may send any request to any process; what they share is the database.

- **Fan-out.** Every event is written to the shared outbox and announced (``NOTIFY``, sent when its
  transaction commits: ``alert_store.append_event``). Each process follows the outbox from where it
  started and hands each event, in sequence order and once, to its own hub, whose streams carry it on
  (``alertsvc.alerts.hub``). Its own commits it follows at once (``catch_up``), without waiting for the
  notification. The writer's advisory lock (``store.postgres``) makes events commit in sequence order, so
  following "after the last sequence number seen" misses none. A dashboard whose process died reconnects
  to any other and resumes by ``Last-Event-ID`` from the same table.
- **Timers.** Exactly one process fires timers (doses due and overdue, shift changes, expiries, ledger
  reads and watches, deliveries): the holder of the timer lease (``store.lease``). When it gains the lease
  it runs a tick that re-checks every admission (a sweep), which raises what fell due while nobody held it
  (once: alerts are deduplicated in the database), and plans its timers; when it loses it, it cancels
  them and its ledger watches at once. A process that changed something while not holding the lease
  tells the holder to plan again (a ``Notice`` with ``timers``); the holder also plans again every
  ``REPLAN_EVERY`` seconds, in case a notice was lost.
- **Caches.** A process that changed an admission's data tells the others (a ``Notice`` naming the
  admission), which drop what they keep of it: the verified slice and its data key (a purged
  admission's key then goes from every process). When the listener reconnects, notices may have been
  lost: every cached slice is dropped.
- **Knowledge.** A process that reloaded its knowledge files (SIGHUP) tells the others the version it
  now checks with; each that checks with another reads its own files again and re-checks (those already
  brought in line write nothing), so one signal updates the cluster and processes on old knowledge take
  back little, for little time. A process whose files hold another version says so in its log.

The lease is not a fence: during a takeover two processes may fire for a moment. What they write is
deduplicated by the database (alerts by their unique ``dedupe`` key; writers serialised by the store's
lock), and a ledger delivery posted twice is appended once by her server, so nothing happens twice. The
lease's connection lives on a thread of its own (``LeaseThread``): a long tick here cannot time it out.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING, Any

from alertsvc import knowledge_recheck
from alertsvc.alerts import store as alert_store
from alertsvc.store.fanout import Fanout, Heard, Notice
from alertsvc.store.lease import LeaseThread

if TYPE_CHECKING:
    from alertsvc.service import Service

log = logging.getLogger("alertsvc.cluster")

READ_PAGE = 500
REPLAN_EVERY = 30.0
"""Seconds between the lease holder's own re-plans of its timers (besides those it is told to make)."""
FIRST_TRY_TIMEOUT = 10.0
"""How long start-up waits for the first answer about the lease."""


class Cluster:
    """Fan-out, the timer lease and cache notices of one process (see the module docstring)."""

    def __init__(self, service: Service, url: str, schema: str, *, poll_every: float = 3.0) -> None:
        self.service = service
        self.id = secrets.token_hex(6)
        """This process, in the notices it sends (so it ignores its own)."""
        self.fanout = Fanout(url, schema, poll_every=poll_every, application_name="alertsvc fan-out")
        self.lease = LeaseThread(  # its checks answered however busy this loop is
            url,
            f"{schema}:timers",
            on_gained=self._gained,
            on_lost=self._lost,
            application_name="alertsvc timer lease",
        )
        self.last_seq = 0
        self._listening = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._gaining: asyncio.Task[None] | None = None
        self._replan_wanted = False

    @property
    def holds_timers(self) -> bool:
        return self.lease.held

    def status(self) -> dict[str, Any]:
        """For ``/healthz``: this process, whether it fires the timers, how far it has followed."""
        return {"process": self.id, "timers": self.holds_timers, "followed": self.last_seq}

    async def start(self) -> None:
        """Follow the outbox from its end, listen, and try for the lease; returns once the first try is
        answered, and, when the lease was gained, once its first tick is done."""
        self.last_seq = alert_store.last_seq(self.service.db)
        self._spawn(self.fanout.run(self._heard), "fan-out")
        self.lease.start()
        self._spawn(self._replan_now_and_then(), "re-plan")
        await asyncio.wait_for(self.lease.tried.wait(), FIRST_TRY_TIMEOUT)
        if self._gaining is not None:
            await asyncio.shield(self._gaining)

    async def stop(self) -> None:
        """Release the lease (another process takes over at once) and stop listening."""
        await self.lease.stop()
        self.fanout.stop()
        tasks = list(self._tasks)
        for task in tasks:
            if task.get_name() == "re-plan":
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- fan-out -----------------------------------------------------------------------------------

    def catch_up(self) -> None:
        """Hand the hub every event committed since the last one followed, in order, once. Nothing is
        awaited between reading and publishing, so two catch-ups on the event loop never interleave."""
        while True:
            events, last = alert_store.events_after(self.service.db, self.last_seq, limit=READ_PAGE)
            for event in events:
                self.service.hub.publish(event)
            read_all = last - self.last_seq < READ_PAGE  # fewer rows than a page: no second read
            self.last_seq = last
            if read_all:
                return

    def tell(
        self, *, admission: str | None = None, timers: bool = False, knowledge: str | None = None
    ) -> None:
        """Tell the other processes that ``admission``'s data changed, that timers may have, and/or that
        this process now checks with ``knowledge``."""
        self.service.db.announce(Notice(self.id, admission, timers, knowledge).payload())

    async def _heard(self, heard: Heard | None) -> None:
        if self.fanout.connections != self._listening:  # (re)connected: notices may have been lost
            self._listening = self.fanout.connections
            self.service.patient_cache.clear()
        if isinstance(heard, Notice):
            if heard.sender != self.id:
                if heard.admission is not None:
                    self.service.patient_cache.pop(heard.admission, None)
                    self.service.keyring.forget(heard.admission)
                if heard.timers:
                    self._replan_soon()
                if heard.knowledge is not None and heard.knowledge != self.service.knowledge.version:
                    reload = knowledge_recheck.reload_logged(self.service, heard=heard.knowledge)
                    self._spawn(reload, "knowledge reload")
            return
        self.catch_up()

    # -- timers ------------------------------------------------------------------------------------

    def _gained(self) -> None:
        log.info("process %s now fires the timers", self.id)
        self.service.swept_at = None  # others ticked meanwhile: the first tick re-checks everyone
        self._gaining = self._spawn(self.service.tick(), "tick on gaining the lease")

    def _lost(self) -> None:
        log.warning("process %s no longer fires the timers", self.id)
        self.service.runner.cancel_all()
        self._spawn(self.service.watchers.close(), "closing ledger watches")

    def _replan_soon(self) -> None:
        """Plan the timers again on the next turn of the loop (once for a burst of notices)."""
        if self._replan_wanted or not self.holds_timers:
            return
        self._replan_wanted = True

        def replan() -> None:
            self._replan_wanted = False
            if self.holds_timers:
                self.service.rebuild_timers()

        asyncio.get_running_loop().call_soon(replan)

    async def _replan_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(REPLAN_EVERY)
            self._replan_soon()

    def _spawn(self, work: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._logged(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _logged(work: Any, name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed tick must not end the process; the next timer or re-plan retries
            log.exception("cluster task %r failed", name)
