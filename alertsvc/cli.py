"""The ``alertsvc`` command line.

Each area registers its own click group here (``ledger``/``keys`` from
``alertsvc.patient_server.commands``, ``knowledge``/``normalize`` from ``alertsvc.knowledge.commands``,
``check`` from ``alertsvc.check_command``, ``serve``/``staff`` from ``alertsvc.web.commands``). Errors of
the one tree become one line on stderr and exit status 1.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from alertsvc import __version__
from alertsvc.errors import AlertsvcError

# (module, attribute) pairs of click commands or groups added to the top-level group when present.
COMMANDS: list[tuple[str, str]] = [
    ("alertsvc.patient_server.commands", "keys"),
    ("alertsvc.patient_server.commands", "ledger"),
    ("alertsvc.knowledge.commands", "knowledge"),
    ("alertsvc.knowledge.commands", "normalize"),
    ("alertsvc.check_command", "check"),
    ("alertsvc.web.commands", "serve"),
    ("alertsvc.web.commands", "staff"),
]
EXTENSIONS: list[tuple[str, str]] = [("alertsvc.kek_commands", "keys_with_rotation")]
"""(module, function) pairs returning a group with commands added to it from elsewhere (or None)."""


class AlertsvcGroup(click.Group):
    """A click group that turns an ``AlertsvcError`` into one clear line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AlertsvcError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=AlertsvcGroup)
@click.version_option(__version__, prog_name="alertsvc")
def main() -> None:
    """alertsvc: patient-owned signed ledgers, drug interaction checks, signed ward alerts."""


def _register() -> None:
    for module_name, attribute in COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # that area is not built yet
            raise
        command = getattr(module, attribute, None)
        if command is not None:
            main.add_command(command)
    for module_name, function in EXTENSIONS:
        extended = getattr(importlib.import_module(module_name), function)()
        if extended is not None:
            main.add_command(extended)


_register()
