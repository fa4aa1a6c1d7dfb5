"""``alertsvc keys rotate-kek``: rewrap every live admission's data key under a new key-encryption key.

Added to the ``keys`` group (``alertsvc.ledger.commands``) by ``alertsvc.cli``. The service must be
stopped (every process of the hospital): the database lock ``serve`` holds is taken here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from alertsvc import sealing, store
from alertsvc.web.commands import lock_database, settings_from, settings_options


@click.command("rotate-kek")
@settings_options
def rotate_kek(**options: Any) -> None:
    """Rewrap every admission's data key under a new KEK and delete the old one (service stopped)."""
    settings = settings_from(options)
    path = sealing.kek_path_for(settings.service_key, Path(settings.kek_file) if settings.kek_file else None)
    lock = lock_database(settings.db_path)
    db = store.open_database(settings.db_path, settings.database_url)
    try:
        count = sealing.rotate_kek(db, path)
    finally:
        db.close()
        lock.close()
    click.echo(f"rewrapped {count} data keys under a new key-encryption key in {path}; the old one is gone")


def keys_with_rotation() -> click.Group | None:
    """The ``keys`` group with ``rotate-kek`` added (None when the ledger commands are not built)."""
    try:
        from alertsvc.patient_server.commands import keys
    except ModuleNotFoundError:
        return None
    keys.add_command(rotate_kek)
    return keys
