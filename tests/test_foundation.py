"""The foundation: settings from a mapping, the error tree, the command line's help."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from alertsvc import errors
from alertsvc.cli import main
from alertsvc.config import Settings


def test_settings_read_from_a_mapping_not_os_environ() -> None:
    settings = Settings.from_env(
        {"ALERTSVC_PORT": "9001", "ALERTSVC_DB_PATH": "/tmp/x.db", "ALERTSVC_RXNAV_TIMEOUT": "1.5"}
    )
    assert settings.port == 9001
    assert settings.db_path == Path("/tmp/x.db")
    assert settings.rxnav_timeout == 1.5


def test_overrides_win_over_environment_and_none_is_ignored() -> None:
    settings = Settings.from_env({"ALERTSVC_PORT": "9001"}, port=9002, host=None)
    assert settings.port == 9002
    assert settings.host == "127.0.0.1"


def test_bad_setting_names_the_variable() -> None:
    with pytest.raises(errors.ConfigError, match="ALERTSVC_PORT"):
        Settings.from_env({"ALERTSVC_PORT": "eighty"})


def test_every_error_class_descends_from_the_one_root() -> None:
    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert len(classes) > 20
    assert all(issubclass(c, errors.AlertsvcError) for c in classes)
    for c in classes:
        assert c.__name__ in (errors.__doc__ or ""), f"{c.__name__} is missing from the drawn tree"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, prefix + name + " "))
    return found


def test_every_command_has_help_text() -> None:
    for name, command in _commands(main):
        assert command.help, f"alertsvc {name} has no help text"


def test_top_level_help_runs() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "alertsvc" in result.output
