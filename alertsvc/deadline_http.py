"""HTTP with a total deadline: a requests session whose every call can be cut off at a deadline (used by
the RxNav client and by the calls to a patient's ledger server).

requests' ``timeout=(connect, read)`` bounds each socket read, not the whole call: a server sending one
byte just inside each read timeout (in the headers or the body) holds a call for as long as it likes.
``Watchdog(deadline)`` closes that hole: the session's connections hand their socket to the watchdog of
the calling thread just before reading the answer, and a timer shuts that socket down when the deadline
passes, which ends any read blocked on it at once. Requests through a proxy use requests' own
connections and keep only the per-read timeouts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse


class Watchdog:
    """Shuts down the socket of this thread's request when its deadline passes, wherever it is blocked.

    requests' timeouts bound each socket read; a server sending a byte just inside each one (in the headers
    or the body) would hold the call for ever. The connection classes below hand their socket to the
    watchdog of the current thread just before reading the answer; a timer shuts that socket down at the
    deadline, which ends any read on it at once.
    """

    _current = threading.local()

    def __init__(self, deadline: float) -> None:
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        Watchdog._current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        Watchdog._current.watchdog = None

    @classmethod
    def watch(cls, sock: socket.socket | None) -> None:
        watchdog: Watchdog | None = getattr(cls._current, "watchdog", None)
        if watchdog is not None and sock is not None:
            with watchdog._lock:
                watchdog._sock = sock
                expired = watchdog.expired
            if expired:
                watchdog._shutdown()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
        self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing left to stop
                self._sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        Watchdog.watch(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        Watchdog.watch(self.sock)
        return super().getresponse()


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, with connections that let the watchdog see their socket (proxies excepted)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def watched_session() -> requests.Session:
    """A requests session whose connections report their socket to the current thread's Watchdog."""
    session = requests.Session()
    session.mount("http://", _WatchedAdapter())
    session.mount("https://", _WatchedAdapter())
    return session
