"""A real HTTP server on 127.0.0.1 answering like RxNav from recorded responses, and misbehaving on request.

``rxnav_responses/routes.json`` maps a request (path under ``/REST`` and its query) to a response file.
The first segment of the URL chooses how the server behaves, so any endpoint can be tried in any way:

    /REST/...              answer from the recordings (404 with a JSON error when nothing is recorded)
    /slow/REST/...         wait ``slow_seconds`` (longer than any client timeout), then answer
    /drip/REST/...         send headers, then one byte every ``drip_interval`` seconds, for ever
    /trickle/REST/...      send the status line, then a header one byte every ``drip_interval`` s, for ever
    /forbidden/REST/...    403, as RxNav answers a client over its rate limit
    /error/REST/...        500, every time
    /flaky/REST/...        500 the first time each path and query is asked, the recorded answer afterwards
    /garbage/REST/...      200 with a truncated JSON body
    /shape/REST/...        200 with valid JSON in a shape RxNav never sends

Every request is logged (mode, path, query, arrival time on time.monotonic) so tests can count them.
Other test modules use it through the ``rxnav_server`` fixture (import it into the test module) or
``serve_recorded()``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

RESPONSES = Path(__file__).resolve().parent / "rxnav_responses"
MODES = ("", "slow", "drip", "trickle", "forbidden", "error", "flaky", "garbage", "shape")


@dataclass(frozen=True)
class RecordedRequest:
    mode: str
    path: str  # below /REST, e.g. "rxcui.json"
    query: tuple[tuple[str, str], ...]
    at: float  # time.monotonic() on arrival


def _match_key(path: str, query: dict[str, str]) -> tuple[str, frozenset[tuple[str, str]]]:
    # RxNav's query parameters are case-insensitive, and so are the names it searches for.
    return path, frozenset((k.lower(), v.lower()) for k, v in query.items())


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # socketserver's 5 drops connections when a client asks in parallel

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up at its deadline hangs up on a slow or dripping answer: that is expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class RxNavServer:
    """Serves ``directory``'s recordings on 127.0.0.1 (port 0: the system picks a free one)."""

    def __init__(self, directory: Path = RESPONSES, slow_seconds: float = 5.0, drip_interval: float = 0.2):
        self.slow_seconds = slow_seconds
        self.drip_interval = drip_interval
        self._routes: dict[tuple[str, frozenset[tuple[str, str]]], bytes] = {}
        for route in json.loads((directory / "routes.json").read_text(encoding="utf-8")):
            body = (directory / route["file"]).read_bytes()
            self._routes[_match_key(route["path"], route["query"])] = body
        self._log: list[RecordedRequest] = []
        self._seen_by_flaky: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _QuietHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="rxnav-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, mode: str = "") -> str:
        """Base URL to give the client: ``http://127.0.0.1:PORT[/mode]/REST``."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        prefix = f"/{mode}" if mode else ""
        return f"http://127.0.0.1:{self.port}{prefix}/REST"

    def start(self) -> RxNavServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ----- the request log ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        """Forget logged requests and which requests the flaky mode has failed once."""
        with self._lock:
            self._log.clear()
            self._seen_by_flaky.clear()

    def count(self, path: str | None = None, mode: str | None = None) -> int:
        return sum(
            1 for r in self.requests if (path is None or r.path == path) and (mode is None or r.mode == mode)
        )

    # ----- used by the handler --------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._log.append(request)

    def _first_time(self, path: str, raw_query: str) -> bool:
        with self._lock:
            key = (path, raw_query)
            if key in self._seen_by_flaky:
                return False
            self._seen_by_flaky.add(key)
            return True

    def _recorded(self, path: str, query: dict[str, str]) -> bytes | None:
        return self._routes.get(_match_key(path, query))


def _handler_for(server: RxNavServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            segments = parts.path.strip("/").split("/")
            mode = segments[0] if segments and segments[0] in MODES[1:] else ""
            if mode:
                segments = segments[1:]
            if not segments or segments[0] != "REST":
                self._send(404, b'{"error": "not under /REST"}')
                return
            path = "/".join(segments[1:])
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            server._record(RecordedRequest(mode, path, tuple(sorted(query.items())), time.monotonic()))
            body = server._recorded(path, query)
            if mode == "slow":
                if server.stopping.wait(server.slow_seconds):
                    return
            elif mode == "drip":
                self._drip()
                return
            elif mode == "trickle":
                self._trickle()
                return
            elif mode == "forbidden":
                self._send(403, b"<html><body>403 Forbidden</body></html>", "text/html")
                return
            elif mode == "error" or (mode == "flaky" and server._first_time(path, parts.query)):
                self._send(500, b"<html><body>500 Internal Server Error</body></html>", "text/html")
                return
            elif mode == "garbage":
                self._send(200, b'{"idGroup": {"rxnormId": ["112')
                return
            elif mode == "shape":
                self._send(200, b'{"idGroup": ["11289"], "relatedGroup": "warfarin", "properties": [1]}')
                return
            if body is None:
                self._send(404, json.dumps({"error": f"nothing recorded for {path}?{parts.query}"}).encode())
            else:
                self._send(200, body)

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _trickle(self) -> None:
            self.close_connection = True
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Trickle: ")
                self.wfile.flush()
                while not server.stopping.wait(server.drip_interval):
                    self.wfile.write(b"a")
                    self.wfile.flush()
            except OSError:
                return

        def _drip(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(b"{")
                self.wfile.flush()
                while not server.stopping.wait(server.drip_interval):
                    self.wfile.write(b" ")
                    self.wfile.flush()
            except OSError:  # the client hung up: what a deadline should make it do
                return

    return Handler


@contextmanager
def serve_recorded(directory: Path = RESPONSES, **options: float) -> Iterator[RxNavServer]:
    """A started RxNavServer, stopped on leaving the block."""
    server = RxNavServer(directory, **options).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def rxnav_server() -> Iterator[RxNavServer]:
    """One recorded-RxNav server per test module; call ``clear()`` before counting requests."""
    with serve_recorded() as server:
        yield server
