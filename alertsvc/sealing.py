"""Crypto-shredding: every value derived from an admission's slice is stored sealed with its own key.

Each admission gets a random 32-byte **data key** when it is admitted. Every value the service stores
that holds her data (the slice and its updates, dose drug and ingredients, alert bodies and JWS, her
events, free text written about her) is stored as ``SecretBox(data key).encrypt(value)`` (XSalsa20-Poly1305,
a random nonce per value). The data key itself is stored only wrapped (sealed the same way) under the
hospital's **key-encryption key** (KEK), in ``admission_keys``; the KEK lives in a file (``hospital.kek``,
0600, beside the service's identity) and never in the database. A copy of the database, its WAL, a
replica or a backup without that file reads nothing.

A purge destroys the admission's key row first, in a transaction of its own, then deletes her rows: once
the key is gone, every copy of her sealed values anywhere (an old WAL frame, a backup, a replica) is
ciphertext nobody can open, even with the KEK. ``docs/design.md`` ("Purge and crypto-shredding") lists
what stays in clear and why.

Reading stays quick: a ``Keyring`` keeps each admission's unwrapped key in memory for the admission's
life and drops it at purge. The keyring is attached to the database connection it serves
(``attach``/``keyring``), so the storage functions keep their ``db`` argument and nothing else.

Opening a value whose key is gone raises ``KeyShredded``; one the key does not open raises
``SealingError``: never garbage.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from collections.abc import Callable, Hashable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import nacl.exceptions
import nacl.secret

from alertsvc import store
from alertsvc.clock import iso
from alertsvc.errors import KeyShredded, SealingError
from alertsvc.store import Database

log = logging.getLogger("alertsvc.sealing")

KEY_BYTES = nacl.secret.SecretBox.KEY_SIZE
KEK_FILE_NAME = "hospital.kek"
KEK_HEADER = "alertsvc-kek-v1 "
"""A KEK file is one line: this header, then the key in base64url."""

_ATTRIBUTE = "_alertsvc_keyring"
TAG_PERSON = b"alertsvc dedupe"
"""Personalises the key that alert identities are hashed with (derived from an admission's data key)."""
TAG_MARK = "#"
"""Starts the hashed part of a stored alert identity (``tag``)."""
T = TypeVar("T")

REMEMBERED = 1024
"""Opened values kept in memory per admission (alert bodies and JWS, for the ward's list): a stay's
alerts fit."""
REMEMBERED_BUILT = 4096
"""Values built from sealed rows kept in memory per admission (its scheduled doses, read at every check):
a month's stay at 100 doses a day, before the oldest are let go."""


class Kek:
    """The hospital's key-encryption key: wraps and unwraps admissions' data keys. Never printed."""

    def __init__(self, key: bytes, path: Path) -> None:
        if len(key) != KEY_BYTES:
            raise SealingError(f"{path}: a key-encryption key is {KEY_BYTES} bytes, found {len(key)}")
        self._box = nacl.secret.SecretBox(key)
        self.path = path

    def __repr__(self) -> str:
        return f"Kek(path={str(self.path)!r}, key=<redacted>)"

    __str__ = __repr__

    def wrap(self, data_key: bytes) -> bytes:
        return bytes(self._box.encrypt(data_key))

    def unwrap(self, admission: str, wrapped: bytes) -> bytes:
        try:
            return bytes(self._box.decrypt(bytes(wrapped)))
        except nacl.exceptions.CryptoError as exc:
            raise SealingError(
                f"admission {admission}: the key-encryption key {self.path} does not open its data key "
                "(another hospital's KEK, or an old one after a rotation?)"
            ) from exc


def kek_path_for(service_key: Path, configured: Path | None = None) -> Path:
    """Where the KEK file is: the configured path, else ``hospital.kek`` beside the service's key."""
    return configured if configured else service_key.parent / KEK_FILE_NAME


def load_or_create_kek(path: Path) -> Kek:
    """The KEK in ``path``; a new random one written there (0600, never overwriting) when there is none.

    Several processes of one hospital share it by configuration (the same file, or a copy of it).
    """
    if rotating(path).exists():
        raise SealingError(
            f"{rotating(path)}: a key-encryption key rotation was cut short; run `alertsvc keys rotate-kek` "
            "again to finish it before serving"
        )
    if not path.exists():
        write_kek(path, secrets.token_bytes(KEY_BYTES))
        log.info("created a new key-encryption key in %s", path)
    return read_kek(path)


def read_kek(path: Path) -> Kek:
    """Read a KEK file, refusing one readable by group or others, or not a KEK file."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SealingError(f"{path}: cannot read the key-encryption key ({exc})") from exc
    if mode & 0o077:
        raise SealingError(
            f"{path}: the key-encryption key is accessible by group or others (chmod 600 {path})"
        )
    if not text.startswith(KEK_HEADER):
        raise SealingError(f"{path}: not an alertsvc key-encryption key file")
    try:
        key = base64.urlsafe_b64decode(text[len(KEK_HEADER) :] + "==")
    except ValueError as exc:
        raise SealingError(f"{path}: the key-encryption key is not base64url") from exc
    return Kek(key, path)


def write_kek(path: Path, key: bytes) -> None:
    """Write a new KEK file with mode 0600; never overwrites one (SealingError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError as exc:
        raise SealingError(f"{path}: a file is already there; refusing to overwrite it with a KEK") from exc
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (KEK_HEADER + base64.urlsafe_b64encode(key).decode().rstrip("=") + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


class Keyring:
    """Admissions' data keys: made at admission, unwrapped once and kept in memory, destroyed at purge."""

    def __init__(self, kek: Kek) -> None:
        self.kek = kek
        self._boxes: dict[str, nacl.secret.SecretBox] = {}
        self._opened: dict[str, dict[bytes, str]] = {}
        self._built: dict[str, dict[Hashable, Any]] = {}
        self._tag_keys: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"Keyring(kek={self.kek!r}, cached={len(self._boxes)})"

    def create(self, db: Database, admission: str, *, now: datetime) -> None:
        """A new data key for ``admission``, stored wrapped (inside the caller's transaction)."""
        data_key = secrets.token_bytes(KEY_BYTES)
        db.execute(
            "INSERT INTO admission_keys(admission, wrapped, created) VALUES (?, ?, ?)",
            [admission, self.kek.wrap(data_key), iso(now)],
        )
        self._keep(admission, data_key)

    def _keep(self, admission: str, data_key: bytes) -> nacl.secret.SecretBox:
        box = nacl.secret.SecretBox(data_key)
        self._boxes[admission] = box
        self._tag_keys[admission] = hashlib.blake2b(data_key, digest_size=32, person=TAG_PERSON).digest()
        return box

    def has_key(self, db: Database, admission: str) -> bool:
        if admission in self._boxes:
            return True
        return (
            db.execute("SELECT 1 FROM admission_keys WHERE admission = ?", [admission]).fetchone() is not None
        )

    def box(self, db: Database, admission: str) -> nacl.secret.SecretBox:
        """The admission's data key, ready to use (read and unwrapped once, then kept in memory)."""
        found = self._boxes.get(admission)
        if found is None:
            row = db.execute("SELECT wrapped FROM admission_keys WHERE admission = ?", [admission]).fetchone()
            if row is None:
                raise KeyShredded(
                    f"admission {admission}: its data key is gone (purged); its sealed values cannot be read"
                )
            found = self._keep(admission, self.kek.unwrap(admission, row[0]))
        return found

    def dedupe_tagger(self, db: Database, admission: str) -> Callable[[str], str]:
        """How the admission's alert identities (``alerts.build.dedupe_key``) are stored: see ``tag``.
        The key is read here, on the database's thread; the function returned is pure (a worker thread
        may use it)."""
        self.box(db, admission)
        key = self._tag_keys[admission]
        return lambda clear: tag(key, clear)

    def seal(self, db: Database, admission: str, value: str | bytes) -> bytes:
        data = value.encode() if isinstance(value, str) else bytes(value)
        return bytes(self.box(db, admission).encrypt(data))

    def open(self, db: Database, admission: str, sealed: bytes) -> bytes:
        try:
            return bytes(self.box(db, admission).decrypt(bytes(sealed)))
        except nacl.exceptions.CryptoError as exc:
            raise SealingError(f"admission {admission}: a sealed value does not open with its key") from exc

    def open_text_remembered(self, db: Database, admission: str, sealed: bytes) -> str:
        """``open`` as text, remembering what it opened for the admission's life (by the value's random
        nonce: a value sealed again has a new one), so the ward's list opens each alert once, not at every
        read. At most ``REMEMBERED`` values per admission."""
        remembered = self._opened.setdefault(admission, {})
        nonce = bytes(sealed[: nacl.secret.SecretBox.NONCE_SIZE])
        found = remembered.get(nonce)
        if found is None:
            found = self.open(db, admission, sealed).decode()
            if len(remembered) >= REMEMBERED:
                remembered.clear()
            remembered[nonce] = found
        return found

    def built_remembered(self, admission: str, stored: Hashable, build: Callable[[], T]) -> T:
        """What ``build`` makes of the stored row ``stored`` (sealed values and all), remembered for the
        admission's life: a row whose sealed values were sealed again (a new random nonce) is another row,
        so a remembered value is never stale. At most ``REMEMBERED_BUILT`` per admission, oldest let go
        first."""
        remembered = self._built.setdefault(admission, {})
        if stored in remembered:
            return cast(T, remembered[stored])
        built = build()
        if len(remembered) >= REMEMBERED_BUILT:
            del remembered[next(iter(remembered))]
        remembered[stored] = built
        return built

    def destroy(self, db: Database, admission: str) -> None:
        """Delete the admission's data key (inside the caller's transaction) and forget it."""
        db.execute("DELETE FROM admission_keys WHERE admission = ?", [admission])
        self.forget(admission)

    def forget(self, admission: str) -> None:
        self._boxes.pop(admission, None)
        self._opened.pop(admission, None)
        self._built.pop(admission, None)
        self._tag_keys.pop(admission, None)

    def rewrap(self, db: Database, new: Kek) -> int:
        """Wrap every live data key under ``new`` instead (inside the caller's transaction); how many."""
        rows = db.execute("SELECT admission, wrapped FROM admission_keys").fetchall()
        for admission, wrapped in rows:
            db.execute(
                "UPDATE admission_keys SET wrapped = ? WHERE admission = ?",
                [new.wrap(self.kek.unwrap(admission, wrapped)), admission],
            )
        self.kek = new
        return len(rows)


def tag(key: bytes, clear: str) -> str:
    """An alert identity ``<admission>|<kind>|<what>`` as stored: admission and kind in clear (what the
    store selects by), what it is about (ingredients' RxCUIs, a drug name as she wrote it, a dose) as a
    keyed hash under a key derived from the admission's data key. The same finding gets the same stored
    identity while the key lives, so the database still refuses a second alert for it; once the key is
    destroyed nobody can tell which drugs it was about. An identity already tagged is returned as it is."""
    admission, kind, what = clear.split("|", 2)
    if what.startswith(TAG_MARK):
        return clear
    digest = hashlib.blake2b(what.encode(), digest_size=16, key=key).hexdigest()
    return f"{admission}|{kind}|{TAG_MARK}{digest}"


def dedupe_tag(db: Database, admission: str, clear: str) -> str:
    """``clear`` (an alert identity of ``admission``) as stored: ``tag``."""
    return keyring(db).dedupe_tagger(db, admission)(clear)


def attach(db: Database, ring: Keyring) -> None:
    """Let the storage functions reach ``ring`` through the connection they are given."""
    setattr(db, _ATTRIBUTE, ring)


def keyring(db: Database) -> Keyring:
    found = getattr(db, _ATTRIBUTE, None)
    if not isinstance(found, Keyring):
        raise SealingError("this database connection has no keyring attached (sealing.attach)")
    return found


def seal(db: Database, admission: str, value: str | bytes) -> bytes:
    """``value`` sealed with the admission's data key (a random nonce each time)."""
    return keyring(db).seal(db, admission, value)


def unseal(db: Database, admission: str, stored: bytes | str) -> bytes:
    """A stored value opened with the admission's data key. A ``str`` is a value stored in clear (one a
    purge emptied, or one that never held her data) and is returned as it is."""
    if isinstance(stored, str):
        return stored.encode()
    return keyring(db).open(db, admission, stored)


def unseal_text(db: Database, admission: str, stored: bytes | str) -> str:
    return stored if isinstance(stored, str) else unseal(db, admission, stored).decode()


def unseal_remembered(db: Database, admission: str, stored: bytes | str) -> str:
    """``unseal_text``, remembering what it opened (``Keyring.open_text_remembered``): for hot reads."""
    return stored if isinstance(stored, str) else keyring(db).open_text_remembered(db, admission, stored)


def seal_optional(db: Database, admission: str, value: str | None) -> bytes | None:
    return None if value is None else seal(db, admission, value)


def unseal_optional(db: Database, admission: str, stored: bytes | str | None) -> str | None:
    return None if stored is None else unseal_text(db, admission, stored)


def rotating(path: Path) -> Path:
    """Where ``rotate_kek`` writes the new KEK before it replaces the old one."""
    return path.with_name(path.name + ".new")


def rotate_kek(db: Database, path: Path) -> int:
    """Wrap every live data key under a new KEK, then replace the KEK file (the old key is gone): old
    WAL frames, replicas and backups that still hold keys wrapped under the old KEK read nothing any
    more. How many keys were rewrapped. No service may be running on ``db`` meanwhile.

    Crash-safe in order: the new KEK is written (0600, fsynced) beside the old one, the keys are
    rewrapped in one transaction, the WAL is checkpointed, and the new file replaces the old one. Run
    again after a crash, it sees which of the two opens the stored keys and finishes from there.
    """
    old, fresh = read_kek(path), rotating(path)
    if fresh.exists():
        new = read_kek(fresh)
        row = db.execute("SELECT admission, wrapped FROM admission_keys LIMIT 1").fetchone()
        if row is not None and _opens(new, row):  # the keys were rewrapped: only the rename is left
            _checkpoint(db)
            os.replace(fresh, path)
            return 0
        fresh.unlink()
    write_kek(fresh, secrets.token_bytes(KEY_BYTES))
    new = read_kek(fresh)
    with store.write(db):
        count = Keyring(old).rewrap(db, new)
    _checkpoint(db)
    os.replace(fresh, path)
    return count


def _opens(kek: Kek, row: tuple[str, bytes]) -> bool:
    try:
        kek.unwrap(row[0], row[1])
    except SealingError:
        return False
    return True


def _checkpoint(db: Database) -> None:
    if not db.checkpoint():
        raise SealingError(
            "the WAL checkpoint after rewrapping was blocked by a reader: stop it and run again"
        )
