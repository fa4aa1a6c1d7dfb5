"""Stream load against a real service: many clients in a process of their own, measured on the server.

The server runs in the test's process (uvicorn on 127.0.0.1 in a thread, as ``tests/web/conftest``), the
clients in another (``stream_clients``), so the memory measured (this process's resident set) and the
asyncio tasks counted (on the server's loop) are the server's alone.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alertsvc import store
from alertsvc.alerts import store as alert_store
from tests.web.conftest import RunningService

REPO = Path(__file__).resolve().parents[2]


def trimmed_rss_mib() -> float:
    """The resident set size after a full garbage collection and glibc's ``malloc_trim(0)``: memory the
    allocators merely kept (free pages in the arenas of the server's thread) is given back first, so
    what remains is memory in use."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mib()


def rss_mib() -> float:
    """This process's resident set size, MiB (/proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def heap_blocks() -> int:
    """Python heap blocks in use after a full garbage collection (``sys.getallocatedblocks``)."""
    gc.collect()
    return sys.getallocatedblocks()


def server_tasks(running: RunningService) -> int:
    """asyncio tasks alive on the server's loop (the counting task itself included)."""

    async def count() -> int:
        return len(asyncio.all_tasks())

    result: int = running.run(count())
    return result


def publish(running: RunningService, ward: str, count: int, type: str = "schedule") -> None:
    """``count`` events committed to the outbox and pushed to the ward's streams, the service's way."""

    async def commit_and_push() -> None:
        service = running.service
        with store.write(service.db):
            events = [
                alert_store.append_event(
                    service.db,
                    ward=ward,
                    type=type,
                    data={"admission": "load-test", "doses": [], "n": i},
                    admission=None,
                    now=running.clock.now,
                )
                for i in range(count)
            ]
        service.publish(events)

    running.run(commit_and_push())


def settle(check: Callable[[], bool], timeout: float = 20) -> bool:
    """Wait until ``check()`` holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


class Clients:
    """The ``stream_clients`` process: open, abort, reopen and close streams on command."""

    def __init__(self, running: RunningService, ward: str, token: str, count: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.stream_clients", running.url, ward, token, str(count)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.expect("open", count)

    def command(self, line: str, word: str, number: int | None = None) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        self.expect(word, number)

    def expect(self, word: str, number: int | None) -> list[str]:
        assert self.process.stdout is not None
        answer = self.process.stdout.readline().split()
        assert answer[:1] == [word], f"stream clients answered {answer!r}, expected {word}"
        if number is not None:
            assert int(answer[1]) == number, answer
        return answer

    def wait_for(self, event: str, seconds: float) -> tuple[int, float]:
        """Wait until every open stream has had ``event``: (how many had, monotonic time of the last)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"wait {event} {seconds}\n")
        self.process.stdin.flush()
        answer = self.expect("seen", None)
        return int(answer[1]), float(answer[2])

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.command("close", "closed")
                self.process.wait(30)
        finally:
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    pipe.close()


@dataclass
class Churn:
    """Figures of a churn run, each taken idle (every stream let go and every server task but the
    standing ones finished) at the start, after the first cycle (warm: buffers and caches sized) and at
    the end: resident memory (MiB, after malloc_trim), Python heap blocks (``sys.getallocatedblocks``
    after a full collection) and asyncio tasks on the server; and the heap with every stream open once
    more before the last close, per open stream (``open_blocks``), with the outbox at its largest."""

    clients: int
    cycles: int
    rss: list[float] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)
    tasks: list[int] = field(default_factory=list)
    events: int = 0
    opened_after_warm: int = 0
    open_blocks: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.clients} stream clients, half aborted, x {self.cycles} cycles, {self.events} events "
            f"pushed, {self.opened_after_warm} streams opened after warm-up, in {self.seconds:.0f} s: "
            f"server tasks {self.tasks[0]} -> {self.tasks[1]} -> {self.tasks[-1]}; Python heap blocks "
            f"{self.blocks[1]} (warm) -> {self.blocks[-1]} ({self.blocks[-1] - self.blocks[1]:+d}); "
            f"{self.open_blocks / self.clients:.0f} blocks per open stream; "
            f"RSS {self.rss[0]:.0f} -> {self.rss[1]:.0f} (warm) -> {self.rss[-1]:.0f} MiB"
        )

    def heap_tolerance(self) -> int:
        """Growth of the idle heap from warm to the end that is not a leak: 2,000 blocks (caches such as
        SQLite's statements settling) plus one block for every two streams opened after warm-up, so a
        leak of a single object per stream, ~50 blocks for a task or request, stands out."""
        return 2000 + self.opened_after_warm // 2


def churn(running: RunningService, ward: str, token: str, *, clients: int, cycles: int) -> Churn:
    """Open ``clients`` streams; abort half and publish while they go; then ``cycles`` times reopen half
    and abort half; close all. Measure memory and tasks once idle at the start, after the first cycle
    (warm: buffers and caches sized) and at the end, each after the server has let every stream go."""
    started = time.monotonic()
    hub = running.service.hub
    figures = Churn(clients, cycles)

    def idle() -> None:
        # Measured once the server has finished with every stream: its subscription closed and its
        # request's task done (a stream whose subscription is closed may still be unwinding, holding
        # its response, and a heap counted then counts those streams, not a leak).
        assert settle(lambda: hub.subscribers(ward) == 0), f"{hub.subscribers(ward)} subscriptions left"
        assert settle(lambda: server_tasks(running) <= figures.tasks[0] if figures.tasks else True)
        figures.tasks.append(server_tasks(running))
        figures.rss.append(trimmed_rss_mib())
        figures.blocks.append(heap_blocks())

    Clients(running, ward, token, 1).close()  # the first stream starts sse-starlette's one watcher task
    idle()
    half = clients // 2
    streams = Clients(running, ward, token, clients)
    try:
        for cycle in range(cycles):
            streams.command(f"abort {half}", "aborted", half)
            publish(running, ward, 20)  # events for streams that are gone and streams that are not
            figures.events += 40
            assert settle(lambda: hub.subscribers(ward) == clients - half), hub.subscribers(ward)
            streams.command(f"reopen {half}", "open", clients)
            figures.opened_after_warm += half if cycle else 0
            publish(running, ward, 20)
            if cycle == 0:
                streams.command(f"abort {clients}", "aborted", clients)
                idle()
                streams.command(f"reopen {clients}", "open", clients)
                figures.opened_after_warm += clients
        # every stream open, each having been sent the whole outbox from Last-Event-ID 0
        figures.open_blocks = heap_blocks() - figures.blocks[1]
    finally:
        streams.close()
    idle()
    figures.seconds = time.monotonic() - started
    return figures
