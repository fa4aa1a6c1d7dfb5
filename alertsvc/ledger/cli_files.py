"""Files and keys for the ledger's command line: read the clock once, load key files, write output files
whole or not at all (never over an existing file), and open a patient's ledger with their key checked.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from alertsvc.errors import IdentityError, InputError
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.entries import require_dict, require_str
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger

GRANT_FILE_TYPE = "alertsvc-grant"
PathArg = click.Path(path_type=Path, dir_okay=False)


def now() -> datetime:
    return datetime.now(UTC)


def load_key(path: Path) -> Identity:
    try:
        return Identity.load(path)
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read key file ({exc.strerror})") from exc


def parse_iso(text: str, *, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"{what}: {text!r} is not an ISO 8601 time like 2026-03-08T09:00:00Z") from exc
    if moment.tzinfo is None:
        raise InputError(f"{what}: {text!r} has no time zone (add Z or +01:00)")
    return moment.astimezone(UTC)


@contextlib.contextmanager
def patient_ledger(path: Path, key_path: Path) -> Iterator[tuple[Ledger, Identity]]:
    """Open the ledger and the patient's key, refusing a key that is not this ledger's patient."""
    key = load_key(key_path)
    with Ledger.open(path) as ledger:
        if key.public_id != ledger.patient:
            raise IdentityError(
                f"{key_path}: key {key.public_id} is not the patient {ledger.patient} of ledger {path}"
            )
        yield ledger, key


@contextlib.contextmanager
def new_file(path: Path) -> Iterator[Any]:
    """Write ``path`` beside it first; put it in place only if the block succeeds, never over a file."""
    if path.exists():
        raise InputError(f"{path}: a file is already there; refusing to overwrite it")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{path}: cannot write there ({exc.strerror})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    except FileExistsError as exc:
        raise InputError(f"{path}: a file is already there; refusing to overwrite it") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror})") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def read_file(path: Path, *, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror})") from exc


def grant_id(ledger_or_file: str) -> str:
    """GRANT as a grant id (``sha256:...``) or a grant file written by ``ledger grant``."""
    if ledger_or_file.startswith("sha256:"):
        return ledger_or_file
    path = Path(ledger_or_file)
    document = require_dict(loads(read_file(path, what="grant file"), what=str(path)), what=str(path))
    if document.get("type") != GRANT_FILE_TYPE:
        raise InputError(f"{path}: not an alertsvc grant file (and not a grant id sha256:...)")
    return require_str(document.get("grant"), what=f"{path} grant")
