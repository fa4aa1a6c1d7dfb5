"""``alertsvc ledger serve LEDGER --key FILE [--port N]``: the patient's own pages and slice endpoint.

Listens on 127.0.0.1 by default and prints the URL to open. The pages answer only on this computer
(loopback); ``/slices/{grant}`` answers the grantee's signed requests from anywhere the server can be
reached, so ``--host 0.0.0.0`` (or a tunnel) lets a hospital read the grant while the pages stay local.
The secret key is loaded, checked against the ledger and never printed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alertsvc.config import REPO, Settings
from alertsvc.errors import IdentityError, InputError, KnowledgeBuildError
from alertsvc.ledger.identity import Identity

if TYPE_CHECKING:
    from alertsvc.knowledge.terminology import Normalizer

DEFAULT_PORT = 8765
DEFAULT_PAGES_DIR = REPO / "dashboards" / "patient"
PathArg = click.Path(path_type=Path, dir_okay=False)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free port), made before the URL is printed."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError as exc:
        raise InputError(f"--host: {host!r} is not an IP address (e.g. 127.0.0.1)") from exc
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror})") from exc
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _normalizer(data_dir: Path) -> Normalizer | None:
    from alertsvc.knowledge import kb
    from alertsvc.knowledge.terminology import Normalizer

    try:
        return Normalizer(kb.load(data_dir))
    except KnowledgeBuildError as exc:
        click.echo(f"warning: drug search is off ({exc}); reactions are recorded as text", err=True)
        return None


@click.command("serve")
@click.argument("path", metavar="LEDGER", type=PathArg)
@click.option("--key", "key_path", required=True, type=PathArg, help="The patient's key file.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port (0: any free port).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (the pages answer only on this computer).",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="Base URL a hospital reaches this server at (put in grant links); default: the listening address.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Knowledge files for drug search [env ALERTSVC_DATA_DIR; default data/].",
)
@click.option(
    "--pages-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_PAGES_DIR,
    show_default=True,
    help="The patient pages to serve.",
)
def serve(
    path: Path,
    key_path: Path,
    port: int,
    host: str,
    public_url: str | None,
    data_dir: Path | None,
    pages_dir: Path,
) -> None:
    """Serve the patient's pages for LEDGER, and its slices to grantees, until interrupted."""
    import uvicorn

    from alertsvc.patient_server.server import create_ledger_app

    try:
        key = Identity.load(key_path)
    except OSError as exc:
        raise IdentityError(f"{key_path}: cannot read key file ({exc.strerror})") from exc
    settings = Settings.from_env(os.environ, data_dir=data_dir)
    normalizer = _normalizer(settings.data_dir)
    sock = _listen(host, port)
    bound_port = sock.getsockname()[1]
    address = ipaddress.ip_address(host)
    page_host = (
        host if address.is_loopback else "::1" if address == ipaddress.ip_address("::") else "127.0.0.1"
    )
    try:
        base = public_url or _url(page_host if address.is_unspecified else host, bound_port)
        app = create_ledger_app(path, key, normalizer=normalizer, pages_dir=pages_dir, public_url=base)
        click.echo(f"patient {key.public_id}: ledger {path}")
        if address.is_loopback or address.is_unspecified:
            click.echo(f"open {_url(page_host, bound_port)}/ in your browser")
        else:
            click.echo(
                f"warning: the pages answer only on this computer, and {host} is not loopback: "
                "listen on 0.0.0.0 to use them",
                err=True,
            )
        click.echo(f"grant links point hospitals at {base}")
        config = uvicorn.Config(
            app, log_level="info", access_log=False, proxy_headers=False, lifespan="off", server_header=False
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
