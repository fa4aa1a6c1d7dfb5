"""Real servers for tests: an ASGI app on uvicorn on 127.0.0.1 (port 0) in a thread of its own."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp


@contextmanager
def uvicorn_thread(app: ASGIApp, *, lifespan: str = "on") -> Iterator[tuple[str, asyncio.AbstractEventLoop]]:
    """Serve ``app``; yield its base URL and the event loop it runs on (to run coroutines there)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan=lifespan,
        timeout_graceful_shutdown=3,  # a held stream (a grantee's watch) must not hold the shutdown
    )
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", loop
    finally:
        server.should_exit = True
        thread.join(10)
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()


def serve_app(app: ASGIApp, *, lifespan: str = "off") -> Iterator[str]:
    """Serve ``app`` (a generator for fixtures: ``yield from serve_app(app)``); yield its base URL."""
    with uvicorn_thread(app, lifespan=lifespan) as (url, _):
        yield url
