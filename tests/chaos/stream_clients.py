"""Many event-stream clients in one process of their own, driven over stdin/stdout by a test.

    python -m tests.chaos.stream_clients URL WARD TOKEN COUNT

Opens COUNT streams of the ward (raw HTTP/1.1 over asyncio sockets: a thousand cost little), prints
``open COUNT`` once every one has its first bytes, then obeys one command a line on stdin:

    abort K      abort K of the open streams at once (a reset, as a client that vanishes)
    close        close every open stream politely (FIN), print ``closed``, and exit
    reopen K     open K more streams
    wait E S     wait up to S seconds until every open stream has had an event named E; answer
                 ``seen N T``: how many had, and the monotonic time the last of them had it

Each command is answered with a line (``aborted K``, ``open N``, ``closed``). The test keeps the server
in its own process, so what it measures there (memory, tasks, subscriptions) is the server's alone.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import time
from urllib.parse import urlsplit

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def open_stream(host: str, port: int, ward: str, token: str) -> Stream:
    reader, writer = await asyncio.open_connection(host, port)
    request = (
        f"GET /wards/{ward}/alerts/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\nLast-Event-ID: 0\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 30)
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    while (await asyncio.wait_for(reader.readline(), 30)) not in (b"\r\n", b"\n"):
        pass  # headers
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)  # the first event or comment
    return reader, writer


async def drain_forever(reader: asyncio.StreamReader, seen: dict[str, float]) -> None:
    """Read what the server sends (a live dashboard) until the stream ends, noting when each event name
    first arrived (monotonic time, comparable across processes on Linux)."""
    while chunk := await reader.read(65536):
        for line in chunk.split(b"\n"):
            if line.startswith(b"event: "):
                seen.setdefault(line[7:].strip().decode(), time.monotonic())


async def main(url: str, ward: str, token: str, count: int) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    streams: list[tuple[Stream, asyncio.Task[None]]] = []
    seen: dict[asyncio.Task[None], dict[str, float]] = {}

    async def add(n: int) -> None:
        opened = await asyncio.gather(*(open_stream(host, port, ward, token) for _ in range(n)))
        for stream in opened:
            notes: dict[str, float] = {}
            task = asyncio.create_task(drain_forever(stream[0], notes))
            seen[task] = notes
            streams.append((stream, task))

    await add(count)
    print(f"open {len(streams)}", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
        if not line or line[0] == "close":
            for (_, writer), task in streams:
                task.cancel()
                writer.close()
            await asyncio.gather(*(w.wait_closed() for (_, w), _ in streams), return_exceptions=True)
            print("closed", flush=True)
            return
        if line[0] == "abort":
            chosen, streams[:] = streams[: int(line[1])], streams[int(line[1]) :]
            for (_, writer), task in chosen:
                task.cancel()
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()  # with SO_LINGER 0: a reset, as from a client that vanished
            print(f"aborted {len(chosen)}", flush=True)
        elif line[0] == "wait":
            name, deadline = line[1], time.monotonic() + float(line[2])
            while time.monotonic() < deadline and not all(name in seen[t] for _, t in streams):
                await asyncio.sleep(0.01)
            times = [seen[t][name] for _, t in streams if name in seen[t]]
            print(f"seen {len(times)} {max(times, default=0.0)}", flush=True)
        elif line[0] == "reopen":
            await add(int(line[1]))
            print(f"open {len(streams)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
