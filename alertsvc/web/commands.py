"""``alertsvc serve`` and ``alertsvc staff token``.

Every setting of ``Settings`` is an option of ``serve`` and can also be set from the environment as
``ALERTSVC_<NAME>``; the help text of each option says which variable.

One ``serve`` per SQLite database file (``--database-url postgresql://...`` instead lets several share a
PostgreSQL database): it holds an exclusive lock (``flock``) on ``<database>.lock`` for the
life of its process, so a second one on the same file is refused at once, naming the process that holds
it; the operating system drops the lock however the process ends (``kill -9`` too), so a restart works.
Two processes on one database would each run the purges and timers and fan out only their own events.
A served process reads its knowledge files again on SIGHUP (``alertsvc.web.hangup``).
"""

from __future__ import annotations

import dataclasses
import fcntl
import gc
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import click

from alertsvc.access import Role, issue_staff_token
from alertsvc.clock import Clock, ShiftedClock, iso, parse_iso, utc_now
from alertsvc.config import PREFIX, Settings
from alertsvc.service_identity import load_or_create

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


def lock_database(db_path: Path) -> IO[str]:
    """Hold ``<db_path>.lock`` exclusively for as long as the returned file stays open (this process's
    life); ClickException naming the holder when another process holds it."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise click.ClickException(
            f"database {db_path} is already served by another alertsvc serve (process {holder}, "
            f"holding {lock_path}): stop it first, or serve another --db"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


@click.command()
@settings_options
def serve(**options: Any) -> None:
    """Run the alert service (uvicorn) until interrupted (one per database file)."""
    import uvicorn

    from alertsvc.web.app import create_app

    settings = settings_from(options)
    # SQLite: one process per file. PostgreSQL: several processes may share the database.
    lock = None if settings.database_url else lock_database(settings.db_path)  # held until this process ends
    app = create_app(settings, clock=clock_of(settings), reload_on_hangup=True)
    log_to_stderr()
    tune_gc_for_serving()
    where = without_password(settings.database_url) if settings.database_url else settings.db_path
    click.echo(f"alertsvc listening on http://{settings.host}:{settings.port}/ (database {where})")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
    if lock is not None:
        lock.close()


def log_to_stderr() -> None:
    """The service's own log (admissions ended, the timer lease, knowledge reloads) on stderr beside
    uvicorn's, from INFO up."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger = logging.getLogger("alertsvc")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def without_password(url: str) -> str:
    """A database URL fit to print: its password (if any) left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{parts.hostname or ''}{port}"))


def clock_of(settings: Settings) -> Clock:
    """The real clock, or (``clock_start`` set: drills and tests only) one shifted to start there."""
    if not settings.clock_start:
        return utc_now
    try:
        start = parse_iso(settings.clock_start)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}", param_hint="--clock-start / ALERTSVC_CLOCK_START") from exc
    click.echo(
        f"alertsvc: the clock is shifted to start at {iso(start)} (clock_start: drills and tests only)"
    )
    return ShiftedClock.starting_at(start)


@click.group()
def staff() -> None:
    """Staff access to the service."""


@staff.command("token")
@click.option("--ward", required=True, help="The ward the token is for.")
@click.option("--name", required=True, help="The staff member's name, shown on acknowledgements.")
@click.option("--role", type=click.Choice(["nurse", "admission"]), default="nurse", show_default=True)
@click.option(
    "--hours",
    type=float,
    default=12.0,
    show_default=True,
    help="How long the token is valid; at most the service's staff_token_max_hours (24).",
)
@click.option("--service-key", type=click.Path(path_type=Path), default=None, help="The service's key file.")
@click.option(
    "--link",
    is_flag=True,
    help="Print a sign-in link (the token in the URL fragment, which browsers never send to the server) "
    "instead of the bare token.",
)
@click.option(
    "--url",
    default=None,
    help="The ward dashboard's address for --link [default: http://HOST:PORT/ from the settings].",
)
def token(
    ward: str, name: str, role: str, hours: float, service_key: Path | None, link: bool, url: str | None
) -> None:
    """Issue a signed staff token bound to one ward and role (printed on stdout), or a sign-in link."""
    settings = settings_from({"service_key": service_key})
    base = url if url is not None else f"http://{settings.host}:{settings.port}/"
    if link and (not base.startswith(("http://", "https://")) or "#" in base or "?" in base):
        raise click.BadParameter(
            "must be an http:// or https:// address with no query or fragment", param_hint="--url"
        )
    most = settings.staff_token_max_hours
    if hours <= 0 or hours > most:
        raise click.BadParameter(
            f"must be more than 0 and at most {most:g} (the service refuses longer-lived tokens; "
            "setting staff_token_max_hours)",
            param_hint="--hours",
        )
    identity = load_or_create(settings.service_key)
    role_value: Role = "admission" if role == "admission" else "nurse"
    issued = issue_staff_token(identity, ward=ward, name=name, role=role_value, now=utc_now(), hours=hours)
    click.echo(sign_in_link(base, issued) if link else issued)


def sign_in_link(base: str, token: str) -> str:
    """The dashboard's address with the token in its fragment (``#token=``), never in a query string:
    the fragment stays in the browser, which reads it, keeps it for the tab and removes it from the
    address bar.

    >>> sign_in_link("http://127.0.0.1:8000", "a.b.c")
    'http://127.0.0.1:8000/#token=a.b.c'
    """
    return f"{base if base.endswith('/') else base + '/'}#token={token}"
