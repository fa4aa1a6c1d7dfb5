"""Altering alerts in transit, as an attacker between the service and the ward would.

``alter_one_character`` changes exactly one character of a JWS's payload segment, chosen so the payload
still decodes to the same JSON but for one claim (the bed "12" reads "02"): the dashboard must not be
fooled into showing plausible, forged content as verified.

``TamperingProxy`` is a small HTTP proxy on 127.0.0.1 in front of the service. It passes every request
through unchanged, except the ward's event stream, whose alert events it rewrites line by line as they
flow (Playwright's ``page.route`` must read a whole response before fulfilling it, which an endless
event stream never finishes).
"""

from __future__ import annotations

import asyncio
import base64
import json
import string
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

BASE64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def payload_of(jws: str) -> dict[str, Any]:
    """The payload of a compact JWS, decoded without checking anything."""
    claims: dict[str, Any] = json.loads(_b64decode(jws.split(".")[1]))
    return claims


def alter_one_character(jws: str, claim: str = "bed") -> str:
    """``jws`` with one character of its payload segment changed: the one holding the lowest bit of the
    first character of the string ``claim`` (a digit stays a digit: "12" becomes "02")."""
    header, payload, signature = jws.split(".")
    marker = f'"{claim}":"'.encode()
    at = _b64decode(payload).index(marker) + len(marker)
    bit = 8 * at + 7  # the value's first byte, lowest bit, counted from the payload's first bit
    index, offset = divmod(bit, 6)
    chars = list(payload)
    chars[index] = BASE64URL[BASE64URL.index(chars[index]) ^ (1 << (5 - offset))]
    return ".".join([header, "".join(chars), signature])


class TamperingProxy:
    """Forwards to ``upstream``; alters the JWS of every alert event on ``/wards/*/alerts/stream``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.altered: list[str] = []  # ids of the alerts whose JWS was altered on the way
        self.client: httpx.AsyncClient | None = None

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.forward, methods=["GET", "POST"])])

    async def forward(self, request: Request) -> StreamingResponse:
        if self.client is None:
            self.client = httpx.AsyncClient(base_url=self.upstream, timeout=httpx.Timeout(10, read=None))
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        outgoing = self.client.build_request(
            request.method,
            request.url.path,
            params=request.url.query,
            headers=headers,
            content=await request.body(),
        )
        response = await self.client.send(outgoing, stream=True)
        is_stream = request.url.path.endswith("/alerts/stream") and response.status_code == 200
        body = self._rewrite(response.aiter_bytes()) if is_stream else response.aiter_raw()
        return StreamingResponse(
            body,
            status_code=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP},
            background=BackgroundTask(response.aclose),
        )

    async def _rewrite(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Pass the event stream on line by line (as each line completes), altering alert JWSs."""
        pending = b""
        async for chunk in chunks:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if lines:
                yield b"".join(self._alter_line(line) + b"\n" for line in lines)
        if pending:
            yield pending

    def _alter_line(self, line: bytes) -> bytes:
        if not line.startswith(b"data:"):
            return line
        text = line.decode()
        value = text.removeprefix("data:").strip()
        try:
            data = json.loads(value)
        except ValueError:
            return line
        if not isinstance(data, dict) or not isinstance(data.get("jws"), str):
            return line
        self.altered.append(str(data.get("id")))
        return text.replace(data["jws"], alter_one_character(data["jws"])).encode()


@contextmanager
def run_proxy(upstream: str) -> Iterator[tuple[str, TamperingProxy]]:
    """The proxy on 127.0.0.1 (uvicorn in a thread, like the service); yields its URL and itself."""
    proxy = TamperingProxy(upstream)
    config = uvicorn.Config(
        proxy.app(),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        await server.serve()
        if proxy.client is not None:
            await proxy.client.aclose()

    # The proxy has its own thread and loop (Playwright's sync API holds the test's thread);
    # asyncio.run cancels what is left and closes the loop.
    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the tampering proxy did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", proxy
    finally:
        server.should_exit = True
        thread.join(10)
