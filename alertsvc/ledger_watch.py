"""Watching patients' ledgers: seconds from a flag on her page to the alert on the ward, not a poll;
and the poll every ``ledger_poll_seconds`` that stays as the fallback.

For each live admission admitted by grant link, the service holds one ``GET /watch/{grant}`` open on the
patient's ledger server (``alertsvc.patient_server.watch``), signed like its slice reads. On a signed
notice it acts at once through the paths it already has: ``changed`` or ``watching`` read the update
(``read_new_entries``, verified as always); ``scope-request`` reads the answer to a scope
request (``scope_requests.read_answer``); ``ended`` reads the update that carries the revocation (or
leaves the expiry to the service's own timer) and stops. A dropped connection is opened again after a
backoff (``BACKOFF_FIRST`` doubling to ``BACKOFF_MAX``, with jitter), and a silent one is noticed after
``READ_TIMEOUT`` seconds without a byte (the server pings every 15 s). The poll every
``ledger_poll_seconds`` stays as the fallback: a watch only makes the read come sooner.

One task per admission (``LedgerWatchers.sync``, called whenever the service rebuilds its timers):
started at admission or start-up, cancelled when the admission ends or moves to a wider grant (a new
watch on the new grant takes its place). Setting ``ledger_watch`` to 0 turns watching off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime, timedelta

import httpx

from alertsvc import admissions as adm
from alertsvc import ledger_reader, scope_requests
from alertsvc.admissions import Admission
from alertsvc.errors import AlertsvcError, LedgerError
from alertsvc.ledger.request_tokens import sign_request
from alertsvc.ledger.watch_notices import Notice, read_notice
from alertsvc.service_api import ServiceApi

READ_TIMEOUT = 45.0
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
MAX_LINE_BYTES = 16 * 1024
"""Longest line of the event stream accepted (a notice is well under 2 KiB)."""
log = logging.getLogger("alertsvc.ledger_watch")


async def poll(service: ServiceApi) -> None:
    """Read and apply new entries for every admission whose polling time has come."""
    now = service.clock()
    interval = timedelta(seconds=service.settings.ledger_poll_seconds)
    for admission in adm.active_admissions(service.db):
        if not admission.ledger_url or admission.expires_at <= now:
            continue
        if service.next_polls.get(admission.id, now) > now:
            continue
        service.next_polls[admission.id] = now + interval
        await read_new_entries(service, admission, now)
        current = adm.get_admission(service.db, admission.id)
        if current is not None and current.active:  # answers to its scope requests, if the watch missed them
            await scope_requests.read_pending_answers(service, current)


async def read_new_entries(service: ServiceApi, admission: Admission, now: datetime) -> None:
    """One read of the admission's ledger: apply an update with a newer head; log and retry on failure."""
    patient = await service.patient_of(admission.id)
    update = await ledger_reader.new_update(service, admission, patient.verified.head.seq, now)
    if update is None:
        return
    try:
        await service.apply_update(admission, update, actor="ledger-reader", now=now)
    except AlertsvcError as exc:
        log.error("admission %s: the ledger's update was refused: %s", admission.id, exc)


class LedgerWatchers:
    """The watch tasks of one service, one per live admission with a ledger server."""

    def __init__(self, service: ServiceApi) -> None:
        self.service = service
        self.tasks: dict[str, tuple[str, asyncio.Task[None]]] = {}

    def sync(self) -> None:
        """Start a watch for each live linked admission lacking one; cancel those no longer wanted."""
        if not self.service.settings.ledger_watch:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the service's loop (a command-line use): nothing to watch from
            return
        now = self.service.clock()
        wanted = {
            a.id: a for a in adm.active_admissions(self.service.db) if a.ledger_url and a.expires_at > now
        }
        for admission_id, (grant_id, task) in list(self.tasks.items()):
            admission = wanted.get(admission_id)
            if admission is None or admission.grant_id != grant_id or task.done():
                del self.tasks[admission_id]
                if task is not asyncio.current_task():  # a watch that ended its own admission just returns
                    task.cancel()
        for admission_id, admission in wanted.items():
            if admission_id not in self.tasks:
                task = loop.create_task(
                    watch_admission(self.service, admission), name=f"watch:{admission_id}"
                )
                self.tasks[admission_id] = (admission.grant_id, task)

    async def close(self) -> None:
        tasks = [task for _, task in self.tasks.values()]
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def watch_admission(service: ServiceApi, admission: Admission) -> None:
    """Hold the admission's watch until it ends or moves to another grant, reconnecting with backoff."""
    backoff = BACKOFF_FIRST
    while True:
        current = adm.get_admission(service.db, admission.id)
        if current is None or not current.active or current.grant_id != admission.grant_id:
            return
        connected = False
        try:
            async with contextlib.aclosing(_notices(service, current)) as notices:  # closes its connection
                async for notice in notices:
                    connected = True
                    if not await _act(service, current, notice):
                        return
        except (httpx.HTTPError, AlertsvcError, OSError) as exc:
            log.warning(
                "admission %s: watching the patient's ledger failed, will retry: %s", admission.id, exc
            )
        if connected:
            backoff = BACKOFF_FIRST
        await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
        backoff = min(backoff * 2, BACKOFF_MAX)


async def _act(service: ServiceApi, admission: Admission, notice: Notice) -> bool:
    """Do what ``notice`` calls for; False when the watch should stop for good."""
    if notice.type in ("watching", "changed", "ended"):
        await read_new_entries(service, admission, service.clock())
    if notice.type == "watching":
        await scope_requests.read_pending_answers(service, admission)
    elif notice.type == "scope-request" and notice.request is not None:
        await scope_requests.read_answer(service, admission, notice.request)
    elif notice.type == "replaced":
        raise LedgerError("another watch of this grant replaced this one")
    current = adm.get_admission(service.db, admission.id)
    return (
        notice.type != "ended"
        and current is not None
        and current.active
        and current.grant_id == admission.grant_id
    )


async def _notices(service: ServiceApi, admission: Admission) -> AsyncGenerator[Notice, None]:
    """The verified notices of one connection to the admission's watch, until it closes."""
    url = f"{admission.ledger_url}/watch/{admission.grant_id}"
    path = httpx.URL(url).raw_path.decode("ascii")
    token = sign_request(
        service.identity, method="GET", target=path, audience=admission.patient, now=service.clock()
    )
    timeout = httpx.Timeout(service.settings.ledger_timeout, read=READ_TIMEOUT)
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        if response.status_code == 403:  # revoked or expired: the read brings the revocation, signed
            await read_new_entries(service, admission, service.clock())
            return
        if response.status_code != 200:
            raise LedgerError(
                f"ledger server {admission.ledger_url}: watch answered HTTP {response.status_code}"
            )
        async for data in _event_data(response):
            yield read_notice(
                data, patient=admission.patient, grantee=service.identity.public_id, grant=admission.grant_id
            )


async def _event_data(response: httpx.Response) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event, lines bounded by ``MAX_LINE_BYTES``."""
    buffer = b""
    data: list[str] = []
    async for chunk in response.aiter_bytes():
        buffer += chunk
        while True:
            line, newline, rest = buffer.partition(b"\n")
            if not newline:
                break
            buffer = rest
            text = line.rstrip(b"\r").decode("utf-8", "replace")
            if not text:
                if data:
                    yield "\n".join(data)
                data = []
            elif text.startswith("data:"):
                data.append(text[5:].removeprefix(" "))
        if len(buffer) > MAX_LINE_BYTES:
            raise LedgerError(f"watch stream: a line longer than {MAX_LINE_BYTES} bytes")
