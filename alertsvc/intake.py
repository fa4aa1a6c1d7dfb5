"""What a slice or an update must pass before the service keeps it: its signatures and proofs, then the
limits on what it says (``alertsvc.limits``). Verifying a 2,000-entry slice takes about half a second of
Ed25519 and hashing: it runs in a worker thread, so the event loop keeps serving the ward meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import anyio

from alertsvc.config import Settings
from alertsvc.errors import InputError
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.slices import VerifiedSlice, verify_slice, verify_update
from alertsvc.limits import check_body, check_slice


async def verified_slice(
    settings: Settings, slice_bytes: bytes, *, patient: str | None, now: datetime, grantee: str
) -> VerifiedSlice:
    """``verify_slice`` in a worker thread, then the limits on what the slice says."""
    verify = partial(_slice, settings, slice_bytes, patient=patient, now=now, grantee=grantee)
    verified: VerifiedSlice = await anyio.to_thread.run_sync(verify)
    return verified


async def verified_update(
    settings: Settings, previous: VerifiedSlice, update_bytes: bytes, *, now: datetime
) -> VerifiedSlice:
    """``verify_update`` in a worker thread, then the limits on the slice it leads to."""
    verified: VerifiedSlice = await anyio.to_thread.run_sync(
        partial(_update, settings, previous, update_bytes, now=now)
    )
    return verified


async def replayed(
    first: bytes, updates: list[bytes], *, patient: str, now: datetime, grantee: str
) -> VerifiedSlice:
    """A stored slice and its accepted updates, verified again in order (in a worker thread); they
    were within the limits when they were accepted."""

    def replay() -> VerifiedSlice:
        verified = verify_slice(first, patient=patient, now=now, grantee=grantee)
        for update in updates:
            verified = verify_update(verified, update, now=now)
        return verified

    result: VerifiedSlice = await anyio.to_thread.run_sync(replay)
    return result


def check_grant_matches(grant: Any, verified: VerifiedSlice) -> None:
    """The grant presented with a slice (its file or its id), if any, is the slice's own grant."""
    if grant is None:
        return
    grant_id = grant.get("grant") or grant.get("id") if isinstance(grant, dict) else grant
    if grant_id != verified.grant.id:
        raise InputError(
            f"the grant presented ({grant_id}) is not the grant of the slice ({verified.grant.id})"
        )


def _slice(
    settings: Settings, slice_bytes: bytes, *, patient: str | None, now: datetime, grantee: str
) -> VerifiedSlice:
    check_body("slice", loads(slice_bytes, what="slice"), settings)  # also a slice read from a grant link
    verified = verify_slice(slice_bytes, patient=patient, now=now, grantee=grantee)
    check_slice(verified, settings)
    return verified


def _update(
    settings: Settings, previous: VerifiedSlice, update_bytes: bytes, *, now: datetime
) -> VerifiedSlice:
    check_body("ledger update", loads(update_bytes, what="ledger update"), settings)
    verified = verify_update(previous, update_bytes, now=now)
    if not verified.revoked:
        check_slice(verified, settings, what="slice with this update")
    return verified
