"""``GET /wards/{ward}/alerts/stream``: the ward's events as server-sent events, resumable.

Subscribe first, then send the backlog after ``Last-Event-ID`` from the outbox (read a page at a time as
it is sent, so an open stream holds none of it), then live events with a higher sequence number: no
event is lost between the two and none is sent twice.
Pings keep proxies from closing an idle stream and let the server notice clients that have gone. What a
stream may hold is bounded: a backlog page, the subscription's queue (``hub.QUEUE_LIMIT``; a stream
that falls behind is ended and resumes from the outbox) and the socket's buffers; a reader that takes
nothing for ``SEND_TIMEOUT_SECONDS`` while there is something to send is dropped.

One staff token holds at most ``max_streams_per_token`` streams at once (``StreamCounter``): the next is
429, naming the limit. A stream's place is given back however it ends (the client leaves, the server
shuts down, or the response never starts, as for HEAD).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from alertsvc import ward_desk
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.hub import Event
from alertsvc.errors import InputError, TooManyRequests
from alertsvc.server_http import bearer
from alertsvc.store import Database
from alertsvc.web import http

PING_SECONDS = 15
RETRY_MS = 2000
BACKLOG_PAGE = 500
"""Events read from the outbox at a time for a stream's backlog."""
SEND_TIMEOUT_SECONDS = 10.0
"""A client that takes no bytes for this long while the stream has some to send (a stalled reader: its
socket buffers full) is dropped; meanwhile its subscription holds at most ``hub.QUEUE_LIMIT`` events.
It reconnects with Last-Event-ID and catches up from the outbox."""
MAX_EVENT_ID = 2**63 - 1
"""The largest sequence number SQLite can hold (a larger Last-Event-ID cannot name an event)."""


class StreamCounter:
    """Open event streams per staff token (its ``jti``), at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def open(self, token_id: str) -> Callable[[], None]:
        """Count one more stream for ``token_id`` (TooManyRequests at the limit); returns its release,
        which may be called any number of times."""
        held = self._open.get(token_id, 0)
        if held >= self.limit:
            raise TooManyRequests(
                f"this token already holds {held} open event streams; at most {self.limit} event streams "
                "per token (setting max_streams_per_token): close one, or use another staff token"
            )
        self._open[token_id] = held + 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                left = self._open[token_id] - 1
                if left:
                    self._open[token_id] = left
                else:
                    del self._open[token_id]

        return release

    def held(self, token_id: str) -> int:
        return self._open.get(token_id, 0)


class _Stream(EventSourceResponse):
    """An event stream that runs ``on_end`` when its response ends, however it ends."""

    def __init__(
        self,
        content: AsyncIterator[ServerSentEvent | bytes],
        *,
        headers: dict[str, str],
        on_end: Callable[[], None],
    ) -> None:
        super().__init__(content, ping=PING_SECONDS, send_timeout=SEND_TIMEOUT_SECONDS, headers=headers)
        self._on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_end()


async def alert_stream(request: Request) -> EventSourceResponse:
    service = http.service_of(request)
    ward = request.path_params["ward"]
    staff = service.staff(bearer(request.headers.get("authorization")))
    service.require_nurse(staff, ward)
    after = _last_event_id(request)
    counter: StreamCounter = request.app.state.streams
    release = counter.open(staff.token_id)
    try:
        subscription = service.hub.subscribe(ward)
        ward_desk.audit_stream_opened(service, ward, after, staff)
    except BaseException:
        release()
        raise

    def end() -> None:
        subscription.close()
        release()

    async def events() -> AsyncIterator[ServerSentEvent | bytes]:
        sent = after
        try:
            yield ServerSentEvent(retry=RETRY_MS, comment="alertsvc ward stream")
            for past in _backlog(service.db, ward, after):
                yield past.encode()  # this stream's own copy of the event: not kept on it
                sent = past.seq
            while (live := await subscription.next()) is not None:
                if live.seq > sent:
                    # Let the loop run between events: a client that vanished is noticed after one
                    # failed write, not after every queued event was written to a dead socket.
                    await anyio.lowlevel.checkpoint()
                    yield live.wire  # encoded once for every stream of the ward
                    sent = live.seq
        finally:
            end()

    return _Stream(events(), headers={"Cache-Control": "no-store"}, on_end=end)


def _backlog(db: Database, ward: str, after: int) -> Iterator[Event]:
    """The ward's events after ``after`` from the outbox, read a page (``BACKLOG_PAGE``) at a time as
    the stream sends them. A page is let go as the next is read and the last when the backlog is sent:
    an open stream holds no backlog, and streams opened together do not each hold a page while they
    wait for their turn to send (which is what made a thousand streams from Last-Event-ID 0 double the
    server's heap)."""
    while True:
        page = alert_store.events_since(db, ward, after, limit=BACKLOG_PAGE)
        yield from page
        if len(page) < BACKLOG_PAGE:
            return
        after = page[-1].seq


def _last_event_id(request: Request) -> int:
    """The sequence number to resume after, 0 if none: the ``Last-Event-ID`` header (what EventSource
    sends when it reconnects) or else the ``last_event_id`` query parameter. Each given must be ASCII
    digits, as the stream sent them."""
    header, query = request.headers.get("last-event-id"), request.query_params.get("last_event_id")
    values = [_sequence_number(raw) for raw in (header, query) if raw]
    return values[0] if values else 0


def _sequence_number(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise InputError(f"Last-Event-ID {raw[:40]!r} is not an event sequence number (digits only)")
    value = int(raw)
    if value > MAX_EVENT_ID:
        raise InputError(f"Last-Event-ID {raw[:40]!r} is beyond any event sequence number")
    return value
