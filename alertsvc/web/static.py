"""The dashboards' static files, mounted at ``/`` beneath every API route.

A plain ``Mount("/")`` matches every path for every method, so a request whose path names an API route
but whose method that route does not take (``TRACE /wards/w/schedule``) would be answered by the static
files ("405, Allow: GET, HEAD") instead of by the route (405 naming the methods it does take). This
mount takes only GET and HEAD; any other method falls through to the routes: a 405 with the route's own
``Allow``, or a 404 where no route has that path.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class ReadOnlyMount(Mount):
    """A mount that matches GET and HEAD requests only."""

    def matches(self, scope: Scope) -> tuple[Match, MutableMapping[str, Any]]:
        if scope["type"] == "http" and scope.get("method") not in ("GET", "HEAD"):
            return Match.NONE, {}
        return super().matches(scope)


def dashboards(directory: Path) -> ReadOnlyMount:
    """The dashboards under ``directory``, served at ``/`` (``index.html`` for a directory)."""
    return ReadOnlyMount("/", StaticFiles(directory=directory, html=True), name="dashboards")
