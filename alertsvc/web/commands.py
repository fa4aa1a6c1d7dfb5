"""``alertsvc serve`` and ``alertsvc staff token``.

Every setting of ``Settings`` is an option of ``serve`` and can also be set from the environment as
``ALERTSVC_<NAME>``; the help text of each option says which variable.
"""

from __future__ import annotations

import dataclasses
import gc
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from alertsvc.clock import utc_now
from alertsvc.config import PREFIX, Settings
from alertsvc.service_identity import load_or_create
from alertsvc.web.auth import Role, issue_staff_token

OPTION_NAMES = {"db_path": "--db"}
TYPES: dict[str, Any] = {"int": int, "float": float, "Path": click.Path(path_type=Path), "str": str}


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One option per Settings field, with its help text and its environment variable."""
    for f in reversed(dataclasses.fields(Settings)):
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "str")
        env = PREFIX + f.name.upper()
        default = f.default if f.default is not dataclasses.MISSING else None
        command = click.option(
            OPTION_NAMES.get(f.name, "--" + f.name.replace("_", "-")),
            f.name,
            type=TYPES.get(kind, str),
            default=None,
            help=f"{f.metadata.get('help', '')} [env {env}; default {default}]",
        )(command)
    return command


def settings_from(options: dict[str, Any]) -> Settings:
    """Settings from the environment, then the options given on the command line."""
    return Settings.from_env(os.environ, **options)


GC_YOUNG_THRESHOLD = 100_000
"""Allocations between young-generation collections (CPython's default is 700)."""


def tune_gc_for_serving() -> None:
    """Once the app (and its knowledge graph) is built, before serving.

    The knowledge graph is tens of megabytes of objects that live as long as the process: frozen out
    of the garbage collector's reach, full collections no longer walk them all (which took hundreds of
    milliseconds in the middle of pushing an alert to a thousand streams; see bench/service_bench.py).
    A higher young-generation threshold (100,000 allocations: a few megabytes) lets such a burst run
    without collection pauses.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


@click.command()
@settings_options
def serve(**options: Any) -> None:
    """Run the alert service (uvicorn) until interrupted."""
    import uvicorn

    from alertsvc.web.app import create_app

    settings = settings_from(options)
    app = create_app(settings)
    tune_gc_for_serving()
    click.echo(f"alertsvc listening on http://{settings.host}:{settings.port}/ (database {settings.db_path})")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)


@click.group()
def staff() -> None:
    """Staff access to the service."""


@staff.command("token")
@click.option("--ward", required=True, help="The ward the token is for.")
@click.option("--name", required=True, help="The staff member's name, shown on acknowledgements.")
@click.option("--role", type=click.Choice(["nurse", "admission"]), default="nurse", show_default=True)
@click.option("--hours", type=float, default=12.0, show_default=True, help="How long the token is valid.")
@click.option("--service-key", type=click.Path(path_type=Path), default=None, help="The service's key file.")
def token(ward: str, name: str, role: str, hours: float, service_key: Path | None) -> None:
    """Issue a signed staff token bound to one ward and role (printed on stdout)."""
    settings = settings_from({"service_key": service_key})
    if hours <= 0 or hours > 24 * 7:
        raise click.BadParameter("must be more than 0 and at most 168", param_hint="--hours")
    identity = load_or_create(settings.service_key)
    role_value: Role = "admission" if role == "admission" else "nurse"
    click.echo(issue_staff_token(identity, ward=ward, name=name, role=role_value, now=utc_now(), hours=hours))
