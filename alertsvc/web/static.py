"""The dashboards' static files, mounted at ``/`` beneath every API route.

A plain ``Mount("/")`` matches every path for every method, and Starlette's router prefers a full match
to a route whose path matches but whose method does not. So ``TRACE /wards/w/schedule`` was answered by
the static files ("405, Allow: GET, HEAD" instead of the route's own methods) and ``GET /admissions`` by a
missing file (404 instead of 405, Allow: POST). This mount steps aside for any request whose path an API
route serves: the route answers, with a 405 naming the methods it takes. Paths no route serves (the
dashboards' pages, or nothing at all) go to the static files for GET and HEAD, and are a 404 for any
other method.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class DashboardMount(Mount):
    """A mount at ``/`` that never shadows an API route's path."""

    def __init__(self, directory: Path, api_routes: Sequence[BaseRoute]) -> None:
        super().__init__("/", StaticFiles(directory=directory, html=True), name="dashboards")
        self.api_routes = tuple(api_routes)

    def matches(self, scope: Scope) -> tuple[Match, MutableMapping[str, Any]]:
        if scope["type"] == "http" and (
            scope.get("method") not in ("GET", "HEAD")
            or any(route.matches(scope)[0] != Match.NONE for route in self.api_routes)
        ):
            return Match.NONE, {}
        return super().matches(scope)


def dashboards(directory: Path, api_routes: Sequence[BaseRoute]) -> DashboardMount:
    """The dashboards under ``directory``, served at ``/`` beneath ``api_routes``."""
    return DashboardMount(directory, api_routes)
