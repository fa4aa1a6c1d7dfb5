"""A request's RxNav look-ups: made together, in parallel, under one deadline for the whole request.

Without this, each drug the offline terminology cannot resolve costs up to ``rxnav_timeout`` on its own,
one after another: ten unknown drugs with RxNav stalled held an admission for 30 s. ``Lookups`` sits
between the ``Normalizer`` and the RxNav client (it is the normaliser's online terminology) and runs a
request's normalisation in two passes in its worker thread:

1. the normalisation runs with every online answer "not looked up yet", noting each term it asks for;
2. those terms are looked up at once (``rxnav_parallel`` at a time, for all requests together), each
   ending by the request's deadline (``rxnav_request_seconds`` after it started);
3. the normalisation runs again with the answers (a term left unanswered at the deadline is unresolved,
   saying so, and becomes an ``unchecked`` alert like any other unresolved drug).

The offline part runs twice, which costs milliseconds; nothing goes online when everything resolves
offline, and then there is one pass. Work passed to ``run`` must not keep state between calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import Any, TypeVar

import anyio

from alertsvc.config import Settings
from alertsvc.knowledge.model import Resolution
from alertsvc.knowledge.rxnorm import RxNormClient

T = TypeVar("T")
NOT_YET = "not looked up yet"
GRACE_SECONDS = 1.0
"""How long past the deadline to wait for look-ups in flight (they end at the deadline themselves)."""


class Lookups:
    """The online terminology of the service's normaliser: see the module docstring."""

    def __init__(self, client: RxNormClient, *, seconds: float, parallel: int) -> None:
        self.client = client
        self.seconds = seconds
        self._pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="rxnav")
        self._local = threading.local()

    def resolve(self, term: str) -> Resolution:
        """The answer for ``term`` in the current pass (outside ``run``: a look-up of its own)."""
        answers: dict[str, Resolution] | None = getattr(self._local, "answers", None)
        if answers is None:
            return self.client.resolve(term)
        if term not in answers:  # the first pass notes it; a second pass asks only what the first did
            answers[term] = (
                Resolution(term, (), unresolved=NOT_YET, via="rxnav")
                if self._local.first_pass
                else self.client.resolve(term, deadline=self._local.deadline)
            )
        return answers[term]

    def run(self, work: Callable[[], T]) -> T:
        """``work()`` in this thread, its look-ups made together under one deadline (see above)."""
        deadline = time.monotonic() + self.seconds
        asked: dict[str, Resolution] = {}
        self._local.answers, self._local.first_pass, self._local.deadline = asked, True, deadline
        try:
            result = work()
        finally:
            self._local.answers = None
        if not asked:
            return result
        self._local.answers, self._local.first_pass = self._look_up(asked, deadline), False
        try:
            return work()
        finally:
            self._local.answers = None

    def _look_up(self, terms: Iterable[str], deadline: float) -> dict[str, Resolution]:
        futures = {term: self._pool.submit(self.client.resolve, term, deadline=deadline) for term in terms}
        wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()) + GRACE_SECONDS)
        answers = {}
        for term, future in futures.items():
            if future.done() and not future.cancelled():
                answers[term] = future.result()
            else:
                future.cancel()
                answers[term] = Resolution(
                    term,
                    (),
                    unresolved=f"RxNav did not answer within this request's {self.seconds:g} s",
                    via="rxnav",
                )
        return answers

    def close(self) -> None:
        """Stop the look-up threads (look-ups in flight end at their deadline) and close the client."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()


def lookups_for(client: RxNormClient | None, settings: Settings) -> Lookups | None:
    """The service's Lookups over ``client`` (None when the service is offline only)."""
    if client is None:
        return None
    return Lookups(client, seconds=settings.rxnav_request_seconds, parallel=settings.rxnav_parallel)


async def in_thread(lookups: Lookups | None, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread, its look-ups (if any) under one request deadline."""
    work = partial(function, *args)
    if lookups is None:
        return await anyio.to_thread.run_sync(work)
    return await anyio.to_thread.run_sync(lookups.run, work)
