"""Signed entries and signed tree heads: RFC 8785 payloads signed with Ed25519.

Both are carried as the same envelope, ``{"payload": b64url(P), "signature": b64url(sig)}``, where ``P``
is the canonical JSON the signer signed. Signatures are verified over the exact bytes ``P`` received,
never over a re-encoding, and ``P`` must itself be canonical so one logical entry has one id.

An entry's payload is ``{"v": 1, "kind", "patient", "author", "created", "body"[, "grant"]}``; its id is
``"sha256:" + sha256_hex(P)``. A tree head's payload is ``{"v": 1, "patient", "seq", "timestamp",
"trees": {tree: {"size", "root"}}}`` signed by the patient: it commits to all six Merkle trees at once.
A head signed before the ``observations`` tree existed commits to the other five; it is read as committing
to an empty ``observations`` tree (size 0, the empty root), which is what that ledger held.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alertsvc.errors import IdentityError, InputError, UnknownKind, UnknownSigner
from alertsvc.ledger import identity as identities
from alertsvc.ledger import merkle
from alertsvc.ledger.canonical import b64url, canonical, loads, sha256_hex, unb64url
from alertsvc.ledger.identity import Identity

VERSION = 1
KINDS = ("medication", "allergy", "reaction", "grant", "revocation", "observation")
TREES = ("medications", "allergies", "reactions", "grants", "revocations", "observations")
TREE_OF_KIND: Mapping[str, str] = dict(zip(KINDS, TREES, strict=True))
KIND_OF_TREE: Mapping[str, str] = dict(zip(TREES, KINDS, strict=True))
CLINICAL_KINDS = frozenset({"medication", "allergy", "reaction", "observation"})
"""Kinds a practitioner may write under a grant; grants and revocations are the patient's alone."""

ADDED_TREES = frozenset({"observations"})
"""Trees added after the first release: a head may leave them out, meaning they were empty."""
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")  # ASCII digits only
_ROOT = re.compile(r"[0-9a-f]{64}")
_ENTRY_FIELDS = frozenset({"v", "kind", "patient", "author", "created", "body", "grant"})


# --- small typed readers for parsed JSON, shared by every module that reads ledger documents ---


def require_dict(value: object, *, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def require_list(value: object, *, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{what}: expected a JSON array, got {type(value).__name__}")
    return value


def require_str(value: object, *, what: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{what}: expected a string, got {type(value).__name__}")
    return value


def require_int(value: object, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what}: expected an integer, got {type(value).__name__}")
    return value


def format_time(moment: datetime) -> str:
    """An aware datetime as UTC ISO 8601 to the second, e.g. ``2026-03-08T02:00:00Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(f"time {moment.isoformat()} has no time zone; alertsvc needs aware UTC times")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object, *, what: str) -> datetime:
    """Read a time written by ``format_time``; anything else is an ``InputError`` naming ``what``."""
    text = require_str(value, what=what)
    if not _TIME.fullmatch(text):
        raise InputError(f"{what}: {text!r} is not a UTC time like 2026-03-08T02:00:00Z")
    try:
        return datetime.fromisoformat(text)  # the pattern leaves it nothing but dates and times to judge
    except ValueError as exc:
        raise InputError(f"{what}: {text!r} is not a valid date and time") from exc


def tree_of(kind: str) -> str:
    try:
        return TREE_OF_KIND[kind]
    except KeyError:
        raise UnknownKind(f"unknown entry kind {kind!r}: expected one of {', '.join(KINDS)}") from None


def check_tree(name: str, *, what: str) -> str:
    if name not in TREES:
        raise UnknownKind(f"{what}: unknown tree {name!r}: expected one of {', '.join(TREES)}")
    return name


# --- envelopes ---


def envelope_of(payload: bytes, signature: bytes) -> dict[str, str]:
    return {"payload": b64url(payload), "signature": b64url(signature)}


def open_envelope(value: object, *, what: str) -> tuple[bytes, bytes]:
    """The (payload, signature) bytes of an envelope, without verifying anything yet."""
    env = require_dict(value, what=what)
    if set(env) != {"payload", "signature"}:
        raise InputError(
            f"{what}: an envelope has exactly the fields payload and signature, got {sorted(env)}"
        )
    payload = unb64url(require_str(env["payload"], what=f"{what} payload"), what=f"{what} payload")
    signature = unb64url(require_str(env["signature"], what=f"{what} signature"), what=f"{what} signature")
    return payload, signature


@functools.lru_cache(maxsize=4096)
def _public_key(public_id: str) -> bytes:
    """The checked public key of an id (cached: checking that a key is a curve point is not free)."""
    return identities.public_key_of(public_id)


def _verified_payload(
    payload: bytes, signature: bytes, signer_field: str, *, what: str, require_canonical: bool
) -> dict[str, Any]:
    """Parse a payload strictly and check that ``signer_field`` signed these exact bytes.

    ``require_canonical`` also refuses payloads that are not RFC 8785 canonical, so that one logical
    entry has one id; the ledger asks for it when an entry enters, readers of signed bytes need not.
    """
    data, public_key = _signed_payload(payload, signer_field, what=what)
    identities.verify_raw(public_key, payload, signature, what=what)
    return _checked_payload(data, payload, what=what, require_canonical=require_canonical)


def _signed_payload(payload: bytes, signer_field: str, *, what: str) -> tuple[dict[str, Any], bytes]:
    """A payload parsed, and the public key of the signer it names (its signature not checked yet)."""
    data = require_dict(loads(payload, what=f"{what} payload"), what=f"{what} payload")
    signer = require_str(data.get(signer_field), what=f"{what} {signer_field}")
    try:
        return data, _public_key(signer)
    except IdentityError as exc:
        raise InputError(f"{what}: {signer_field} {signer[:60]!r} is not a usable identity: {exc}") from exc


def _checked_payload(
    data: dict[str, Any], payload: bytes, *, what: str, require_canonical: bool
) -> dict[str, Any]:
    """What is checked of a payload once its signature holds: its form and version."""
    if require_canonical and canonical(data) != payload:
        raise InputError(f"{what}: payload is not RFC 8785 canonical JSON")
    if data.get("v") != VERSION:
        raise InputError(f"{what}: unsupported version {data.get('v')!r} (expected {VERSION})")
    return data


# --- entries ---


def entry_id(payload: bytes) -> str:
    return "sha256:" + sha256_hex(payload)


@dataclass(frozen=True)
class SignedEntry:
    """One verified ledger entry. ``body`` is the FHIR resource; do not mutate it."""

    id: str
    payload: bytes
    signature: bytes
    kind: str
    patient: str
    author: str
    created: datetime
    body: dict[str, Any] = field(compare=False, hash=False, repr=False)
    grant: str | None = None

    @property
    def tree(self) -> str:
        return TREE_OF_KIND[self.kind]

    @property
    def leaf_data(self) -> bytes:
        """What the Merkle tree hashes: payload then signature, so a swapped signature changes the root."""
        return self.payload + self.signature

    def envelope(self) -> dict[str, str]:
        return envelope_of(self.payload, self.signature)


def sign_entry(
    author: Identity,
    *,
    kind: str,
    patient: str,
    body: Mapping[str, Any],
    created: datetime,
    grant: str | None = None,
) -> SignedEntry:
    """Build and sign an entry; ``grant`` is set only on entries a practitioner writes under a write grant."""
    tree_of(kind)
    data: dict[str, Any] = {
        "v": VERSION,
        "kind": kind,
        "patient": patient,
        "author": author.public_id,
        "created": format_time(created),
        "body": dict(body),
    }
    if grant is not None:
        data["grant"] = grant
    payload = canonical(data)
    what = f"new {kind} entry"
    return _entry_from(loads(payload, what=what), payload, author.sign(payload), what=what)


def read_entry_parts(
    payload: bytes, signature: bytes, *, what: str, require_canonical: bool = False
) -> SignedEntry:
    """Verify and parse an entry from its exact payload bytes and signature."""
    data = _verified_payload(payload, signature, "author", what=what, require_canonical=require_canonical)
    return _entry_from(data, payload, signature, what=what)


def _entry_from(data: dict[str, Any], payload: bytes, signature: bytes, *, what: str) -> SignedEntry:
    if not data.keys() <= _ENTRY_FIELDS:
        raise InputError(f"{what}: unknown fields {sorted(set(data) - _ENTRY_FIELDS)}")
    kind = require_str(data.get("kind"), what=f"{what} kind")
    tree_of(kind)
    grant = data.get("grant")
    return SignedEntry(
        id=entry_id(payload),
        payload=payload,
        signature=signature,
        kind=kind,
        patient=require_str(data.get("patient"), what=f"{what} patient"),
        author=require_str(data["author"], what=f"{what} author"),
        created=parse_time(data.get("created"), what=f"{what} created"),
        body=require_dict(data.get("body"), what=f"{what} body"),
        grant=None if grant is None else require_str(grant, what=f"{what} grant"),
    )


def read_entry(value: object, *, what: str) -> SignedEntry:
    """Verify and parse an entry envelope ``{"payload", "signature"}``."""
    payload, signature = open_envelope(value, what=what)
    return read_entry_parts(payload, signature, what=what)


def read_entries(values: Sequence[object], *, names: Sequence[str]) -> list[SignedEntry]:
    """Verify and parse many entry envelopes, each named by ``names``, as ``read_entry`` does one by one;
    their signatures are checked together (``identity.verify_all``: on every core for a long list).

    Each envelope is opened and parsed first, then every signature is checked, then each entry's
    fields: of several faults, the first of the earliest step is raised."""
    opened = [open_envelope(value, what=name) for value, name in zip(values, names, strict=True)]
    parsed = [
        _signed_payload(payload, "author", what=name)
        for (payload, _), name in zip(opened, names, strict=True)
    ]
    identities.verify_all(
        [
            (public_key, payload, signature, name)
            for (payload, signature), (_, public_key), name in zip(opened, parsed, names, strict=True)
        ]
    )
    return [
        _entry_from(
            _checked_payload(data, payload, what=name, require_canonical=False), payload, signature, what=name
        )
        for (payload, signature), (data, _), name in zip(opened, parsed, names, strict=True)
    ]


# --- tree heads ---


@dataclass(frozen=True)
class TreeState:
    """Size and RFC 9162 root (32 raw bytes) of one Merkle tree."""

    size: int
    root: bytes


@dataclass(frozen=True)
class TreeHead:
    """A verified, patient-signed commitment to the size and root of all six trees."""

    seq: int
    patient: str
    timestamp: datetime
    trees: Mapping[str, TreeState] = field(compare=False, hash=False)
    payload: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    def envelope(self) -> dict[str, str]:
        return envelope_of(self.payload, self.signature)

    def summary(self) -> dict[str, Any]:
        """Plain JSON for people: seq, timestamp and each tree's size and hex root."""
        return {
            "seq": self.seq,
            "timestamp": format_time(self.timestamp),
            "trees": {t: {"size": s.size, "root": s.root.hex()} for t, s in self.trees.items()},
        }


def sign_head(
    patient: Identity, *, seq: int, timestamp: datetime, trees: Mapping[str, TreeState]
) -> TreeHead:
    if set(trees) != set(TREES):
        raise UnknownKind(f"a tree head commits to exactly {', '.join(TREES)}; got {sorted(trees)}")
    data = {
        "v": VERSION,
        "patient": patient.public_id,
        "seq": seq,
        "timestamp": format_time(timestamp),
        "trees": {t: {"size": trees[t].size, "root": trees[t].root.hex()} for t in TREES},
    }
    payload = canonical(data)
    what = f"new head {seq}"
    return _head_from(loads(payload, what=what), payload, patient.sign(payload), patient=None, what=what)


def read_head_parts(payload: bytes, signature: bytes, *, patient: str | None, what: str) -> TreeHead:
    """Verify and parse a tree head; when ``patient`` is given the head must be that patient's."""
    data = _verified_payload(payload, signature, "patient", what=what, require_canonical=False)
    return _head_from(data, payload, signature, patient=patient, what=what)


def _head_from(
    data: dict[str, Any], payload: bytes, signature: bytes, *, patient: str | None, what: str
) -> TreeHead:
    if set(data) != {"v", "patient", "seq", "timestamp", "trees"}:
        raise InputError(
            f"{what}: a tree head has fields v, patient, seq, timestamp, trees; got {sorted(data)}"
        )
    signer = require_str(data["patient"], what=f"{what} patient")
    if patient is not None and signer != patient:
        raise UnknownSigner(f"{what}: head is signed by {signer}, not by the patient {patient}")
    seq = require_int(data["seq"], what=f"{what} seq")
    raw_trees = require_dict(data["trees"], what=f"{what} trees")
    if set(raw_trees) == set(TREES) - ADDED_TREES:  # signed before those trees existed: they were empty
        raw_trees = {
            **raw_trees,
            **{name: {"size": 0, "root": merkle.EMPTY_ROOT.hex()} for name in ADDED_TREES},
        }
    if set(raw_trees) != set(TREES):
        raise UnknownKind(
            f"{what}: a tree head commits to exactly {', '.join(TREES)}; got {sorted(raw_trees)}"
        )
    trees: dict[str, TreeState] = {}
    for name in TREES:
        state = require_dict(raw_trees[name], what=f"{what} tree {name}")
        size = require_int(state.get("size"), what=f"{what} tree {name} size")
        root = require_str(state.get("root"), what=f"{what} tree {name} root")
        if set(state) != {"size", "root"} or size < 0 or not _ROOT.fullmatch(root):
            raise InputError(f"{what}: tree {name} needs a size >= 0 and a 64-digit lower-case hex root")
        trees[name] = TreeState(size=size, root=bytes.fromhex(root))
    if seq < 0:
        raise InputError(f"{what}: seq {seq} is negative")
    return TreeHead(
        seq=seq,
        patient=signer,
        timestamp=parse_time(data["timestamp"], what=f"{what} timestamp"),
        trees=trees,
        payload=payload,
        signature=signature,
    )


def read_head(value: object, *, patient: str | None, what: str) -> TreeHead:
    payload, signature = open_envelope(value, what=what)
    return read_head_parts(payload, signature, patient=patient, what=what)
