"""Fan-out of ward events to connected streams, in one process.

The outbox (the ``events`` table) is the truth: an event is committed there before it is published here.
A stream subscribes first, then reads the backlog after its ``Last-Event-ID`` from the database, then
takes live events, skipping any sequence number it has already sent: nothing is lost between the backlog
read and the first live event, and nothing is sent twice. A subscriber that falls too far behind is
closed; its client reconnects with ``Last-Event-ID`` and catches up from the database.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class Event:
    """One committed outbox row: ``seq`` is the SSE id, ``type`` the SSE event name, ``data`` JSON text."""

    seq: int
    ward: str
    type: str
    data: str

    @functools.cached_property
    def wire(self) -> bytes:
        """The event as server-sent-event bytes, encoded once however many streams carry it (a live
        event, shared by every stream of the ward)."""
        return self.encode()

    def encode(self) -> bytes:
        """The event as server-sent-event bytes, encoded afresh (a backlog event, read by one stream)."""
        return f"id: {self.seq}\r\nevent: {self.type}\r\ndata: {self.data}\r\n\r\n".encode()


class Subscription:
    """A ward's live events for one stream; iterate it, and close it when the stream ends."""

    def __init__(self, hub: Hub, ward: str) -> None:
        self._hub = hub
        self.ward = ward
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self._queue.get_nowait()  # make room for the end marker
            self._queue.put_nowait(None)

    def end(self) -> None:
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            self.overflowed = True

    def close(self) -> None:
        self._hub.unsubscribe(self)

    async def next(self) -> Event | None:
        """The next live event, or None when the subscription has ended (closed or fell behind)."""
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event


class Hub:
    """Publishes committed events to every subscription of their ward."""

    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, ward: str) -> Subscription:
        subscription = Subscription(self, ward)
        self._subscriptions[ward].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions[subscription.ward].discard(subscription)

    def publish(self, event: Event) -> None:
        for subscription in list(self._subscriptions.get(event.ward, ())):
            subscription.offer(event)

    def subscribers(self, ward: str) -> int:
        return len(self._subscriptions.get(ward, ()))

    def close_all(self) -> None:
        """End every stream (at shutdown), so clients reconnect and resume."""
        for subscriptions in self._subscriptions.values():
            for subscription in list(subscriptions):
                subscription.end()
