"""Reading a patient's ledger over the network while her grant lasts: the reads, and nothing that acts.

A patient may hand over a grant link (the ``alertsvc-grant:`` URI of her QR code: the ledger server's
address, the grant id and her public id) instead of a slice. The service then reads the slice from the
patient's own ledger server with requests signed by its key (``first_slice``), and later reads what is new
(``new_update``) when the watch or the poll every ``ledger_poll_seconds`` says so (both in
``alertsvc.ledger_watch``). The reads return the bytes; the caller verifies them like an upload
(``verify_slice`` / ``verify_update``) and applies them, so a revocation arrives as a signed entry and the
purge that follows is provable. A ledger server that cannot be reached is retried at the next poll and never
ends an admission by itself: the grant's own expiry does.

Network calls run in worker threads with a total deadline; nothing here blocks the event loop.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Protocol

import anyio

from alertsvc.admissions import Admission
from alertsvc.clock import Clock
from alertsvc.config import Settings
from alertsvc.errors import AlertsvcError
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.entries import read_head
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.remote import GrantLink, fetch_slice, fetch_update, read_grant_link

log = logging.getLogger("alertsvc.ledger_reader")


class Reader(Protocol):
    """What a read needs: the key it is signed with, the settings (its deadline) and the clock."""

    @property
    def identity(self) -> Identity: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...


async def first_slice(reader: Reader, link_text: str) -> tuple[bytes, GrantLink]:
    """The slice named by a grant link, read from the patient's ledger server; and the link itself
    (its patient id is the one the slice must be signed by)."""
    link = read_grant_link(link_text)
    fetch = partial(
        fetch_slice,
        link.url,
        link.grant,
        reader.identity,
        patient=link.patient,
        timeout=reader.settings.ledger_timeout,
        now=reader.clock(),
    )
    return await anyio.to_thread.run_sync(fetch), link


async def new_update(reader: Reader, admission: Admission, since: int, now: datetime) -> bytes | None:
    """The update of the admission's ledger after head ``since``, if its head is newer; None when there
    is nothing new or the read failed (logged: the next poll or notice tries again)."""
    fetch = partial(
        fetch_update,
        admission.ledger_url,
        admission.grant_id,
        since,
        reader.identity,
        patient=admission.patient,
        timeout=reader.settings.ledger_timeout,
        now=now,
    )
    try:
        update = await anyio.to_thread.run_sync(fetch)
    except AlertsvcError as exc:
        log.warning("admission %s: reading the patient's ledger failed, will retry: %s", admission.id, exc)
        return None
    return update if _head_of(update) > since else None


def _head_of(update: bytes) -> int:
    """The head sequence number an update leads to (read without verifying; verification follows)."""
    document = loads(update, what="ledger update")
    if not isinstance(document, dict):
        return -1
    try:
        return read_head(document.get("head"), patient=None, what="ledger update head").seq
    except AlertsvcError:
        return 1 << 62  # let verification say what is wrong with it
