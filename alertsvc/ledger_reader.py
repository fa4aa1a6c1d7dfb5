"""Reading patients' ledgers over the network while their grants last.

A patient may hand over a grant link (the ``alertsvc-grant:`` URI of their QR code: the ledger server's
address, the grant id and their public id) instead of a slice. The service then reads the slice from the
patient's own ledger server with requests signed by its key, and keeps reading new entries every
``ledger_poll_seconds`` (so a reaction flagged at 14:00 reaches the ward within a minute) until the grant
ends; then it stops. Every answer is verified like an upload (``verify_slice`` / ``verify_update``); a
revocation arrives as a signed entry, so the purge that follows is provable. A ledger server that cannot
be reached is retried at the next poll and never ends an admission by itself: the grant's own expiry does.

Network calls run in worker threads with a total deadline; nothing here blocks the event loop.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import anyio

from alertsvc import admissions as adm
from alertsvc import scope_requests
from alertsvc.admissions import Admission
from alertsvc.errors import AlertsvcError
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.entries import read_head
from alertsvc.ledger.remote import GrantLink, fetch_slice, fetch_update, read_grant_link

if TYPE_CHECKING:
    from alertsvc.service import Service

log = logging.getLogger("alertsvc.ledger_reader")


async def first_slice(service: Service, link_text: str) -> tuple[bytes, GrantLink]:
    """The slice named by a grant link, read from the patient's ledger server; and the link itself
    (its patient id is the one the slice must be signed by)."""
    link = read_grant_link(link_text)
    fetch = partial(
        fetch_slice,
        link.url,
        link.grant,
        service.identity,
        patient=link.patient,
        timeout=service.settings.ledger_timeout,
        now=service.clock(),
    )
    return await anyio.to_thread.run_sync(fetch), link


def next_poll(service: Service, admission: Admission, now: datetime) -> datetime:
    """When to read this admission's ledger next (never after its grant ends)."""
    due = service.next_polls.get(admission.id) or now + timedelta(
        seconds=service.settings.ledger_poll_seconds
    )
    return min(due, admission.expires_at)


async def poll(service: Service) -> None:
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


async def read_new_entries(service: Service, admission: Admission, now: datetime) -> None:
    """One read of the admission's ledger: apply an update with a newer head; log and retry on failure."""
    patient = await service.patient_of(admission.id)
    since = patient.verified.head.seq
    fetch = partial(
        fetch_update,
        admission.ledger_url,
        admission.grant_id,
        since,
        service.identity,
        patient=admission.patient,
        timeout=service.settings.ledger_timeout,
        now=now,
    )
    try:
        update = await anyio.to_thread.run_sync(fetch)
    except AlertsvcError as exc:
        log.warning("admission %s: reading the patient's ledger failed, will retry: %s", admission.id, exc)
        return
    if _head_of(update) <= since:
        return  # nothing new
    try:
        await service.apply_update(admission, update, actor="ledger-reader", now=now)
    except AlertsvcError as exc:
        log.error("admission %s: the ledger's update was refused: %s", admission.id, exc)


def _head_of(update: bytes) -> int:
    """The head sequence number an update leads to (read without verifying; verification follows)."""
    document = loads(update, what="ledger update")
    if not isinstance(document, dict):
        return -1
    try:
        return read_head(document.get("head"), patient=None, what="ledger update head").seq
    except AlertsvcError:
        return 1 << 62  # let verification say what is wrong with it
