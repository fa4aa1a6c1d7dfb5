"""Ed25519 identities: key pairs for patients, practitioners and the hospital service.

An identity's public id is written ``ed25519:<base64url of the 32-byte public key>``. The secret seed
lives only inside an :class:`Identity` and in its key file (mode 0600); ``repr`` and ``str`` show the
public id alone, never the seed (PyNaCl's own ``str(SigningKey)`` prints it).

Key file (JSON, one object, mode 0600)::

    {"type": "alertsvc-identity", "version": 1, "public_id": "ed25519:...", "seed": "<base64url>"}

Verification raises :class:`~alertsvc.errors.BadSignature` or returns None; there is no boolean to
forget to check.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.signing

from alertsvc.errors import BadSignature, IdentityError, InputError
from alertsvc.ledger.canonical import b64url, canonical, loads, unb64url

__all__ = [
    "KEY_FILE_TYPE",
    "PUBLIC_ID_PREFIX",
    "Identity",
    "jwk",
    "public_key_of",
    "verify",
    "verify_all",
    "verify_raw",
]

PUBLIC_ID_PREFIX = "ed25519:"
KEY_FILE_TYPE = "alertsvc-identity"
KEY_FILE_VERSION = 1
SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
_MAX_KEY_FILE_BYTES = 4096
_KEY_FILE_FIELDS = frozenset({"type", "version", "public_id", "seed"})


def _public_id(public_key: bytes) -> str:
    return PUBLIC_ID_PREFIX + b64url(public_key)


class Identity:
    """An Ed25519 key pair. Holds the secret: never printed, only saved to a 0600 key file."""

    __slots__ = ("_public_id", "_signing_key")

    def __init__(self, signing_key: nacl.signing.SigningKey) -> None:
        self._signing_key = signing_key
        self._public_id = _public_id(bytes(signing_key.verify_key))

    @classmethod
    def generate(cls) -> Identity:
        """A new identity from the operating system's random source."""
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Identity:
        """The identity whose RFC 8032 secret key is ``seed`` (32 bytes)."""
        if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
            size = f"{len(seed)} bytes" if isinstance(seed, bytes) else type(seed).__name__
            raise IdentityError(f"an Ed25519 seed is {SEED_BYTES} bytes, got {size}")
        return cls(nacl.signing.SigningKey(seed))

    @classmethod
    def load(cls, path: Path) -> Identity:
        """Read a key file written by :meth:`save`, refusing anything doubtful.

        Raises IdentityError naming ``path`` when the file is missing or unreadable, is not an alertsvc
        key file (a ledger, a slice, any other JSON), has a public_id that does not match its seed, or
        is readable or writable by group or others.
        """
        path = Path(path)
        raw, mode = _read_key_file(path)
        try:
            doc = loads(raw, what=str(path))
        except InputError as exc:
            raise IdentityError(f"{path}: not an alertsvc key file ({exc.args[0]})") from exc
        if not isinstance(doc, dict) or doc.get("type") != KEY_FILE_TYPE:
            found = f"type {doc.get('type')!r}" if isinstance(doc, dict) else f"a JSON {type(doc).__name__}"
            raise IdentityError(
                f"{path}: not an alertsvc key file (found {found}, expected {KEY_FILE_TYPE!r})"
            )
        if doc.get("version") != KEY_FILE_VERSION:
            raise IdentityError(f"{path}: unsupported key file version {doc.get('version')!r}")
        if set(doc) != _KEY_FILE_FIELDS:
            raise IdentityError(
                f"{path}: key file fields are {sorted(doc)}, expected {sorted(_KEY_FILE_FIELDS)}"
            )
        if mode & 0o077:
            raise IdentityError(
                f"{path}: key file is accessible by group or others (mode {mode:04o}); "
                f"it must be 0600 (chmod 600 {path})"
            )
        seed_text = doc["seed"]
        try:
            seed = unb64url(seed_text, what="seed")
        except InputError as exc:
            raise IdentityError(f"{path}: {exc.args[0]}") from exc
        if len(seed) != SEED_BYTES:
            raise IdentityError(f"{path}: seed is {len(seed)} bytes, expected {SEED_BYTES}")
        identity = cls.from_seed(seed)
        if doc["public_id"] != identity.public_id:
            raise IdentityError(
                f"{path}: public_id {doc['public_id']!r} does not match the seed "
                f"(the seed's is {identity.public_id}); the file was altered"
            )
        return identity

    def save(self, path: Path) -> None:
        """Write a new key file with mode 0600; never overwrites an existing file (IdentityError)."""
        path = Path(path)
        doc = {
            "type": KEY_FILE_TYPE,
            "version": KEY_FILE_VERSION,
            "public_id": self.public_id,
            "seed": b64url(self._signing_key.encode()),
        }
        content = (json.dumps(doc, indent=2) + "\n").encode("utf-8")
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        )
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError as exc:
            raise IdentityError(
                f"{path}: a file is already there; refusing to overwrite it with a key"
            ) from exc
        except FileNotFoundError as exc:
            raise IdentityError(f"{path}: directory {path.parent} does not exist") from exc
        except OSError as exc:
            raise IdentityError(f"{path}: cannot create key file ({exc.strerror})") from exc
        try:
            os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise IdentityError(f"{path}: cannot write key file ({exc.strerror})") from exc
        os.close(fd)
        _fsync_directory(path.parent)

    @property
    def public_id(self) -> str:
        """``ed25519:<base64url of the public key>``."""
        return self._public_id

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return bytes(self._signing_key.verify_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached Ed25519 signature of ``message``."""
        return bytes(self._signing_key.sign(message).signature)

    def __repr__(self) -> str:
        return f"Identity({self._public_id!r})"

    def __str__(self) -> str:
        return self._public_id

    def __copy__(self) -> Identity:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> Identity:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("an Identity holds a secret key and is not pickled; save() it to a key file")


def _read_key_file(path: Path) -> tuple[bytes, int]:
    """Read a key file through one descriptor and return its bytes and permission bits."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as exc:
        raise IdentityError(f"{path}: no key file there") from exc
    except IsADirectoryError as exc:  # pragma: no cover - Linux opens directories read-only fine
        raise IdentityError(f"{path}: is a directory, not a key file") from exc
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read key file ({exc.strerror})") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IdentityError(f"{path}: is a directory, not a key file")
        if not stat.S_ISREG(info.st_mode):
            raise IdentityError(f"{path}: not a regular file")
        if info.st_size > _MAX_KEY_FILE_BYTES:
            raise IdentityError(f"{path}: not an alertsvc key file ({info.st_size} bytes is far too large)")
        raw = b""
        while chunk := os.read(fd, _MAX_KEY_FILE_BYTES + 1):
            raw += chunk
            if len(raw) > _MAX_KEY_FILE_BYTES:
                raise IdentityError(f"{path}: not an alertsvc key file (far too large)")
    except OSError as exc:
        raise IdentityError(f"{path}: cannot read key file ({exc.strerror})") from exc
    finally:
        os.close(fd)
    return raw, stat.S_IMODE(info.st_mode)


def _fsync_directory(directory: Path) -> None:
    """Make the new directory entry durable; best effort where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def public_key_of(public_id: str) -> bytes:
    """The 32-byte public key inside ``ed25519:<base64url>``.

    Raises IdentityError for another prefix, bad base64url, a wrong length, or bytes that are not a
    usable Ed25519 public key (not a curve point, or of small order: no signature could ever verify).
    """
    if not isinstance(public_id, str):
        raise IdentityError(f"a public id is text, got {type(public_id).__name__}")
    if not public_id.startswith(PUBLIC_ID_PREFIX):
        raise IdentityError(f"public id {public_id[:60]!r} does not start with {PUBLIC_ID_PREFIX!r}")
    try:
        key = unb64url(public_id[len(PUBLIC_ID_PREFIX) :], what=f"public id {public_id[:60]!r}")
    except InputError as exc:
        raise IdentityError(exc.args[0]) from exc
    if len(key) != PUBLIC_KEY_BYTES:
        raise IdentityError(f"public id {public_id!r} holds {len(key)} bytes, expected {PUBLIC_KEY_BYTES}")
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(key):
        raise IdentityError(f"public id {public_id!r} is not a valid Ed25519 public key")
    return key


def verify(public_id: str, message: bytes, signature: bytes, *, what: str) -> None:
    """Return None if ``signature`` is ``public_id``'s signature of ``message``; else BadSignature.

    A malformed ``public_id`` raises IdentityError (see :func:`public_key_of`).
    """
    _verify(public_key_of(public_id), message, signature, what=what, signer=public_id)


def verify_raw(public_key: bytes, message: bytes, signature: bytes, *, what: str) -> None:
    """Like :func:`verify` for a raw 32-byte public key; every failure is BadSignature."""
    if not isinstance(public_key, bytes) or len(public_key) != PUBLIC_KEY_BYTES:
        size = len(public_key) if isinstance(public_key, bytes) else type(public_key).__name__
        raise BadSignature(f"{what}: public key is {size} bytes, expected {PUBLIC_KEY_BYTES}")
    _verify(public_key, message, signature, what=what, signer=None)


SignatureCheck = tuple[bytes, bytes, bytes, str]
"""(raw public key, message, signature, what it is) for ``verify_all``."""

SPREAD_FROM = 32
"""From this many signatures on, ``verify_all`` spreads them over the cores. A slice verifies each tree in
one call: a 200-entry slice's checks (about 14 ms on one core) take about half that on two."""


def verify_all(checks: Sequence[SignatureCheck]) -> None:
    """Verify each signature like :func:`verify_raw`; raise the BadSignature of the first that fails.

    libsodium's checks release the GIL (PyNaCl calls it through cffi), so a long list is cut into one
    run per core, checked in worker threads at once. Each run stops at its first failure and the
    earliest of those is raised: the same error, whatever the number of cores, as checking in order."""
    runs = _cores() if len(checks) >= SPREAD_FROM else 1
    size = max(1, -(-len(checks) // runs))
    parts = [checks[start : start + size] for start in range(0, len(checks), size)]
    failures = map(_first_failure, parts) if len(parts) == 1 else _pool().map(_first_failure, parts)
    first = next((failure for failure in failures if failure is not None), None)  # in order
    if first is not None:
        raise first


def _first_failure(checks: Sequence[SignatureCheck]) -> BadSignature | None:
    """Check in order and stop at the first failure: it, or None."""
    for public_key, message, signature, what in checks:
        try:
            verify_raw(public_key, message, signature, what=what)
        except BadSignature as exc:
            return exc
    return None


@functools.cache
def _cores() -> int:
    """The cores this process may run on (at most four: a slice has no more runs worth cutting)."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """The threads ``verify_all`` checks in, made at its first long list and kept."""
    return ThreadPoolExecutor(max_workers=_cores(), thread_name_prefix="alertsvc-verify")


def _verify(public_key: bytes, message: bytes, signature: bytes, *, what: str, signer: str | None) -> None:
    """``signer`` names the key in the error (None: spelled from ``public_key`` only when one is raised)."""
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        size = f"{len(signature)} bytes" if isinstance(signature, bytes) else type(signature).__name__
        raise BadSignature(
            f"{what}: signature does not verify with {signer or _public_id(public_key)} "
            f"(it is {size}, expected {SIGNATURE_BYTES})"
        )
    try:
        _verify_key(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as exc:
        raise BadSignature(
            f"{what}: signature does not verify with {signer or _public_id(public_key)}"
        ) from exc


@functools.lru_cache(maxsize=4096)
def _verify_key(public_key: bytes) -> nacl.signing.VerifyKey:
    """One PyNaCl VerifyKey per signer, made once: a slice carries hundreds of one patient's entries."""
    return nacl.signing.VerifyKey(public_key)


def jwk(public_id: str) -> dict[str, str]:
    """The public key as a JWK (RFC 8037 OKP) with ``kid`` = its RFC 7638 SHA-256 thumbprint."""
    x = b64url(public_key_of(public_id))
    thumbprint = hashlib.sha256(canonical({"crv": "Ed25519", "kty": "OKP", "x": x})).digest()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "EdDSA", "use": "sig", "kid": b64url(thumbprint)}
