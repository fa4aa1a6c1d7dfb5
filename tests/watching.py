"""A grantee's watch (``GET /watch/{grant}``) read in a thread of its own, for tests: events arrive in a
queue the test takes from with a timeout, so "nothing arrived" can be asserted too."""

from __future__ import annotations

import queue
import threading
from contextlib import closing
from types import TracebackType

import httpx


class WatchReader:
    """Holds one watch open; ``status`` is its HTTP status, ``next()`` the next (event, data)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self._events: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._opened = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self.status = 0
        self.body = b""
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()
        assert self._opened.wait(10), "the watch did not answer"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                if response.status_code != 200:
                    self.body = response.read()
                    self._opened.set()
                    return
                self._opened.set()
                event, data = "message", []
                with closing(response.iter_lines()) as lines:
                    for line in lines:
                        if not line:
                            if data:
                                self._events.put((event, "\n".join(data)))
                            event, data = "message", []
                        elif line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:"):
                            data.append(line[5:].strip())
        except httpx.HTTPError:
            pass
        finally:
            self._opened.set()
            self._events.put(None)  # the stream ended

    def next(self, timeout: float = 5) -> tuple[str, str] | None:
        """The next event, or None when the stream ended; AssertionError when none came in time."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no watch event within {timeout} s") from None

    def quiet(self, seconds: float) -> bool:
        """True when no event arrives for ``seconds``."""
        try:
            item = self._events.get(timeout=seconds)
        except queue.Empty:
            return True
        self._events.put(item)
        return False

    def close(self) -> None:
        self._client.close()
        self._thread.join(5)

    def __enter__(self) -> WatchReader:
        return self

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.close()
