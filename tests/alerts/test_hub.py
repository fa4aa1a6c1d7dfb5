"""The hub fans events out per ward; a subscriber that falls behind is ended, not silently skipped."""

from __future__ import annotations

import asyncio

from alertsvc.alerts import hub as hub_module
from alertsvc.alerts.hub import Event, Hub


def test_events_reach_every_subscriber_of_their_ward_only() -> None:
    async def scenario() -> tuple[list[int], list[int], list[int]]:
        hub = Hub()
        a1, a2, b = hub.subscribe("A"), hub.subscribe("A"), hub.subscribe("B")
        for seq in (1, 2, 3):
            hub.publish(Event(seq, "A", "alert", "{}"))
        hub.publish(Event(4, "B", "alert", "{}"))
        hub.close_all()
        return [e.seq async for e in a1], [e.seq async for e in a2], [e.seq async for e in b]

    assert asyncio.run(scenario()) == ([1, 2, 3], [1, 2, 3], [4])


def test_a_subscriber_that_overflows_is_ended_and_flagged() -> None:
    async def scenario() -> tuple[bool, int]:
        hub = Hub()
        sub = hub.subscribe("A")
        for seq in range(hub_module.QUEUE_LIMIT + 5):
            hub.publish(Event(seq, "A", "alert", "{}"))
        received = [e async for e in sub]
        return sub.overflowed, len(received)

    overflowed, count = asyncio.run(scenario())
    assert overflowed
    assert count == hub_module.QUEUE_LIMIT - 1  # the last slot carries the end marker


def test_closed_subscriptions_get_nothing() -> None:
    hub = Hub()
    sub = hub.subscribe("A")
    sub.close()
    assert hub.subscribers("A") == 0
