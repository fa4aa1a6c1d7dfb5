"""Altering alerts in transit, as an attacker between the service and the ward would.

``alter_one_character`` changes exactly one character of a JWS's payload segment, chosen so the payload
still decodes to the same JSON but for one claim (the bed "12" reads "02"): the dashboard must not be
fooled into showing plausible, forged content as verified.

``TamperingProxy`` is a small HTTP proxy on 127.0.0.1 in front of the service. It passes every request
through unchanged, except the ward's event stream, which it rewrites line by line as it flows
(Playwright's ``page.route`` must read a whole response before fulfilling it, which an endless event
stream never finishes): by default it alters the JWS of every alert event; with ``forge_withdrawals`` it
leaves alerts alone and instead follows each alert event with a forged ``withdrawn`` event naming that
alert (its JWS signed by an attacker's key under the service's key id, see ``forged_withdrawal``), and
adds the alert ids of ``widen_with`` to the unsigned ``alerts`` list of each genuine ``withdrawn`` event.
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
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from alertsvc.ledger.canonical import b64url, canonical
from alertsvc.ledger.identity import Identity

ATTACKER = Identity.from_seed(b"mallory-between-service-and-ward")

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


def forged_withdrawal(alert_jws: str, alert_id: str) -> str:
    """A ``withdrawn`` event's data naming ``alert_id``, with a JWS that looks like the service's (its
    key id, the withdrawal type, plausible claims) but is signed by an attacker's key."""
    claims = payload_of(alert_jws)
    header = json.loads(_b64decode(alert_jws.split(".")[0]))
    forged_header = {"alg": "EdDSA", "kid": header["kid"], "typ": "alertsvc-withdrawal+jwt"}
    forged_claims = {
        "alerts": [alert_id],
        "admission": claims["admission"],
        "ward": claims["ward"],
        "reason": "grant revoked",
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    signing_input = b64url(canonical(forged_header)) + "." + b64url(canonical(forged_claims))
    token = signing_input + "." + b64url(ATTACKER.sign(signing_input.encode()))
    data = {"admission": claims["admission"], "alerts": [alert_id], "reason": "grant revoked", "jws": token}
    return json.dumps(data, separators=(",", ":"))


class TamperingProxy:
    """Forwards to ``upstream``; tampers with the events on ``/wards/*/alerts/stream`` (see above)."""

    def __init__(self, upstream: str, *, forge_withdrawals: bool = False) -> None:
        self.upstream = upstream
        self.forge_withdrawals = forge_withdrawals
        self.altered: list[str] = []  # ids of the alerts whose JWS was altered on the way
        self.forged: list[str] = []  # ids named by the forged withdrawals sent after their alerts
        self.widen_with: list[str] = []  # ids to add to the unsigned list of genuine withdrawals
        self.widened: list[str] = []  # ids so added
        self.seen: dict[str, str] = {}  # alert id -> its JWS, for every alert event passed on
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
        """Pass the event stream on line by line (as each line completes), tampering on the way."""
        pending = b""
        rewrite = self._forge_line if self.forge_withdrawals else self._alter_line
        event: dict[str, Any] = {}  # what the current event has said so far: type, alert id
        async for chunk in chunks:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if lines:
                yield b"".join(rewrite(line, event) + b"\n" for line in lines)
        if pending:
            yield pending

    def _forge_line(self, line: bytes, event: dict[str, Any]) -> bytes:
        """Alerts pass untouched, each followed by a forged withdrawal of it; genuine withdrawals also
        name ``widen_with`` in their unsigned list (their signed list is left as it is)."""
        if line.startswith(b"event:"):
            event["type"] = line.decode().removeprefix("event:").strip()
            return line
        if not line.strip():
            forge_for = event.pop("alert", None)
            event.clear()
            if forge_for is None:
                return line
            self.forged.append(forge_for)
            forged = forged_withdrawal(self.seen[forge_for], forge_for)
            return line + b"\nevent: withdrawn\ndata: " + forged.encode() + b"\n"
        data = _data_of(line)
        if data is None:
            return line
        if event.get("type") == "alert" and isinstance(data.get("jws"), str):
            self.seen[str(data["id"])] = data["jws"]
            event["alert"] = str(data["id"])
            return line
        if event.get("type") == "withdrawn" and isinstance(data.get("alerts"), list):
            extra = [a for a in self.widen_with if a not in data["alerts"]]
            self.widened += extra
            widened = data | {"alerts": [*data["alerts"], *extra]}
            return b"data: " + json.dumps(widened, separators=(",", ":")).encode()
        return line

    def _alter_line(self, line: bytes, event: dict[str, Any]) -> bytes:
        if line.startswith(b"event:"):
            event["type"] = line.decode().removeprefix("event:").strip()
        elif not line.strip():
            event.clear()
        data = _data_of(line)
        if data is None or event.get("type", "alert") != "alert" or not isinstance(data.get("jws"), str):
            return line
        self.altered.append(str(data.get("id")))
        return line.decode().replace(data["jws"], alter_one_character(data["jws"])).encode()


def _data_of(line: bytes) -> dict[str, Any] | None:
    """The JSON object of an event's ``data:`` line, or None."""
    if not line.startswith(b"data:"):
        return None
    try:
        data = json.loads(line.decode().removeprefix("data:").strip())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def run_proxy(upstream: str, *, forge_withdrawals: bool = False) -> Iterator[tuple[str, TamperingProxy]]:
    """The proxy on 127.0.0.1 (uvicorn in a thread, like the service); yields its URL and itself."""
    proxy = TamperingProxy(upstream, forge_withdrawals=forge_withdrawals)
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
