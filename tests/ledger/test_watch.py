"""The grantee's watch on the patient's ledger server (``GET /watch/{grant}``), on a real uvicorn: who may
open it, the signed notices it sends (a change in the grant's scope, not outside it; a revocation; an
expiry), and its bounds (one watch per grant, a newer one replacing the older)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from alertsvc.errors import BadSignature, TooManyRequests
from alertsvc.ledger import grants
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.watch_notices import Notice, read_notice
from alertsvc.patient_server.watch_hub import WatchHub
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, STRANGER, add, grant_to, medication, reaction
from tests.ledger.test_server import RunningLedger, clock, normalizer, running, shared_server, signed
from tests.watching import WatchReader

__all__ = ["clock", "normalizer", "running", "shared_server"]  # fixtures


def open_watch(running: RunningLedger, grant_id: str, *, signer: object = HOSPITAL) -> WatchReader:
    path = f"/watch/{grant_id}"
    return WatchReader(running.url + path, signed(signer, path, now=running.clock.now))  # type: ignore[arg-type]


def notice(watch: WatchReader, grant_id: str, timeout: float = 5) -> Notice:
    item = watch.next(timeout)
    assert item is not None, "the watch ended"
    event, data = item
    found = read_notice(data, patient=PATIENT.public_id, grantee=HOSPITAL.public_id, grant=grant_id)
    assert found.type == event
    return found


def test_a_change_in_the_grants_scope_is_notified_at_once_and_nothing_outside_it(
    running: RunningLedger, ledger: Ledger
) -> None:
    grant = grant_to(HOSPITAL, scope=("reactions",))
    add(ledger, grant)
    with open_watch(running, grant.id) as watch:
        assert watch.status == 200
        first = notice(watch, grant.id)
        assert first.type == "watching" and first.head == running.head()
        assert first.trees == {"reactions": 0, "revocations": 0}

        add(ledger, medication("warfarin"))  # outside the scope (by another connection, as the CLI would)
        assert watch.quiet(1.0)

        add(ledger, reaction("ibuprofen"))
        changed = notice(watch, grant.id, timeout=2)
        assert changed.type == "changed"
        assert changed.head == running.head() and changed.trees["reactions"] == 1


def test_a_flag_on_her_page_wakes_the_watch_in_well_under_a_second(
    running: RunningLedger, ledger: Ledger
) -> None:
    grant = grant_to(HOSPITAL, scope=("reactions",))
    add(ledger, grant)
    with open_watch(running, grant.id) as watch:
        notice(watch, grant.id)
        with running.page() as page:
            flagged = page.post("/api/reactions", json={"drug": "ibuprofen", "reaction": "hives"})
        assert flagged.status_code == 201, flagged.text
        assert notice(watch, grant.id, timeout=1).type == "changed"


def test_a_revocation_ends_the_watch_with_a_signed_notice(running: RunningLedger, ledger: Ledger) -> None:
    grant = grant_to(HOSPITAL)
    add(ledger, grant)
    with open_watch(running, grant.id) as watch:
        notice(watch, grant.id)
        add(ledger, grants.new_revocation(PATIENT, grants.read_grant(grant), now=NOW))
        ended = notice(watch, grant.id)
        assert (ended.type, ended.reason) == ("ended", "revoked")
        assert ended.trees["revocations"] == 1
        assert watch.next() is None  # and the stream closes
    with open_watch(running, grant.id) as again:
        assert again.status == 403 and b"grant-revoked" in again.body


def test_the_watch_ends_when_the_grant_expires(running: RunningLedger, ledger: Ledger) -> None:
    grant = grant_to(HOSPITAL, hours=1)
    add(ledger, grant)
    with open_watch(running, grant.id) as watch:
        notice(watch, grant.id)
        running.clock.now = NOW + timedelta(hours=1)
        ended = notice(watch, grant.id, timeout=3)
        assert (ended.type, ended.reason) == ("ended", "expired")


def test_a_newer_watch_of_the_same_grant_replaces_the_older(running: RunningLedger, ledger: Ledger) -> None:
    grant = grant_to(HOSPITAL)
    add(ledger, grant)
    with open_watch(running, grant.id) as older:
        notice(older, grant.id)
        with open_watch(running, grant.id) as newer:
            notice(newer, grant.id)
            assert notice(older, grant.id).type == "replaced"
            assert older.next() is None
            add(ledger, reaction("ibuprofen"))
            assert notice(newer, grant.id).type == "changed"


@pytest.mark.parametrize("who", ["nobody", "stranger", "unknown grant"])
def test_only_the_grantee_may_watch(running: RunningLedger, ledger: Ledger, who: str) -> None:
    grant = grant_to(HOSPITAL)
    add(ledger, grant)
    path = f"/watch/{grant.id}"
    if who == "nobody":
        watch = WatchReader(running.url + path, {})
        expected = 401
    elif who == "stranger":
        watch = open_watch(running, grant.id, signer=STRANGER)
        expected = 403
    else:
        other = "sha256:" + "0" * 64
        watch = WatchReader(running.url + f"/watch/{other}", signed(HOSPITAL, f"/watch/{other}", now=NOW))
        expected = 404
    with watch:
        assert watch.status == expected, watch.body


def test_a_notice_not_signed_by_the_patient_is_refused(running: RunningLedger, ledger: Ledger) -> None:
    grant = grant_to(HOSPITAL)
    add(ledger, grant)
    with open_watch(running, grant.id) as watch:
        item = watch.next()
    assert item is not None
    _, data = item
    with pytest.raises(BadSignature):
        read_notice(data, patient=STRANGER.public_id, grantee=HOSPITAL.public_id, grant=grant.id)
    with pytest.raises(BadSignature):
        read_notice(data, patient=PATIENT.public_id, grantee=STRANGER.public_id, grant=grant.id)
    header, payload, signature = data.split(".")
    with pytest.raises(BadSignature):
        read_notice(f"{header}.{payload}.{signature[:-4]}AAAA", patient=PATIENT.public_id,
                    grantee=HOSPITAL.public_id, grant=grant.id)  # fmt: skip


def test_the_hub_holds_one_watch_per_grant_and_at_most_its_limit(ledger: Ledger) -> None:
    async def scenario() -> None:
        hub = WatchHub(ledger.path, limit=2)
        first, other = hub.open("g1"), hub.open("g2")
        with pytest.raises(TooManyRequests, match="at most 2"):
            hub.open("g3")
        newer = hub.open("g1")  # replaces the older watch of g1, within the limit
        assert first.replaced and not newer.replaced and len(hub) == 2
        hub.close(first)  # the replaced one leaving does not close its successor
        assert len(hub) == 2
        hub.close(newer)
        hub.close(other)
        assert len(hub) == 0
        await asyncio.sleep(0.5)  # the check of other writers stops once nobody watches

    asyncio.run(scenario())
