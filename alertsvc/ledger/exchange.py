"""Export a whole ledger as portable JSON or as a FHIR R4 Bundle, and import either back.

JSON: ``{"type": "alertsvc-ledger-export", "v": 1, "patient", "entries": [{"tree", "index", "entry"}],
"heads": [envelope, ...]}``.

FHIR: a ``collection`` Bundle other systems accept, one resource per ledger resource in its current state,
each carrying the signed entries of its versions (``alertsvc.ledger.fhir_export``). Bundles written before
that (each entry's body as signed, with a ``valueString`` signed-entry extension) still import.

Import verifies everything first, exactly as ``alertsvc ledger verify`` does, and that every FHIR
resource is exactly what its signed entries make; only then is a new ledger file written (all or nothing).
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from alertsvc.errors import BrokenLog, InputError
from alertsvc.ledger.canonical import canonical, loads
from alertsvc.ledger.entries import (
    TREE_OF_KIND,
    TREES,
    check_tree,
    entry_id,
    open_envelope,
    read_entry_parts,
    require_dict,
    require_int,
    require_list,
    require_str,
)
from alertsvc.ledger.fhir_export import HEAD_CONTENT_TYPE, SIGNED_ENTRY_URL, Coder, bundle, check_bundle
from alertsvc.ledger.log import LedgerSnapshot, verify_log
from alertsvc.ledger.store import LedgerStore, StoredEntry, StoredHead, StoredLog

EXPORT_TYPE = "alertsvc-ledger-export"


def _json(document: object) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def export_json(snapshot: LedgerSnapshot) -> bytes:
    """The verified ledger as portable JSON."""
    return _json(
        {
            "type": EXPORT_TYPE,
            "v": 1,
            "patient": snapshot.patient,
            "entries": [
                {"tree": tree, "index": index, "entry": entry.envelope()}
                for tree in TREES
                for index, entry in enumerate(snapshot.trees[tree])
            ],
            "heads": [head.envelope() for head in snapshot.heads],
        }
    )


def export_fhir(snapshot: LedgerSnapshot, *, coder: Coder | None = None) -> bytes:
    """The verified ledger as a FHIR R4 collection Bundle (``fhir_export``; RxNorm codings by ``coder``)."""
    return _json(bundle(snapshot, coder=coder))


def _entry_row(tree: str, index: int, payload: bytes, signature: bytes) -> StoredEntry:
    """A row as the store keeps it; author and created are read loosely here, verified by verify_log."""
    name = f"{tree}[{index}]"
    try:
        data = require_dict(loads(payload, what=f"{name} payload"), what=f"{name} payload")
    except InputError as exc:
        raise BrokenLog(f"{name}: {exc}") from exc
    author, created = data.get("author"), data.get("created")
    return StoredEntry(
        tree,
        index,
        entry_id(payload),
        payload,
        signature,
        author if isinstance(author, str) else "",
        created if isinstance(created, str) else "",
    )


def _head_row(position: int, payload: bytes, signature: bytes) -> StoredHead:
    try:
        seq = require_dict(loads(payload, what=f"head {position}"), what=f"head {position}").get("seq")
    except InputError as exc:
        raise BrokenLog(f"head {position}: {exc}") from exc
    return StoredHead(seq if isinstance(seq, int) else -1, payload, signature)


def _read_json_export(document: dict[str, Any]) -> StoredLog:
    if set(document) != {"type", "v", "patient", "entries", "heads"} or document.get("v") != 1:
        raise InputError(f"export: expected a version 1 {EXPORT_TYPE} with patient, entries and heads")
    patient = require_str(document["patient"], what="export patient")
    rows: list[StoredEntry] = []
    for i, item in enumerate(require_list(document["entries"], what="export entries")):
        item = require_dict(item, what=f"export entries[{i}]")
        tree = check_tree(
            require_str(item.get("tree"), what=f"export entries[{i}] tree"), what=f"entries[{i}]"
        )
        index = require_int(item.get("index"), what=f"export entries[{i}] index")
        payload, signature = open_envelope(item.get("entry"), what=f"{tree}[{index}]")
        rows.append(_entry_row(tree, index, payload, signature))
    rows.sort(key=lambda row: (TREES.index(row.tree), row.index))
    heads = [
        _head_row(i, *open_envelope(head, what=f"head {i}"))
        for i, head in enumerate(require_list(document["heads"], what="export heads"))
    ]
    return StoredLog(patient, tuple(rows), tuple(heads))


def _signed_entries(resource: dict[str, Any], *, what: str) -> list[tuple[str | None, int | None, str]]:
    """(tree, index, envelope JSON) of each signed entry a resource carries; tree and index are None in
    Bundles written before ``fhir_export`` (one ``valueString`` extension, the body as signed)."""
    extensions = require_list(resource.get("extension"), what=f"{what} extension")
    ours = [e for e in extensions if isinstance(e, dict) and e.get("url") == SIGNED_ENTRY_URL]
    if not ours:
        raise InputError(f"{what}: carries no {SIGNED_ENTRY_URL} extension")
    if len(ours) == 1 and "valueString" in ours[0]:
        return [(None, None, require_str(ours[0]["valueString"], what=f"{what} signed entry"))]
    found: list[tuple[str | None, int | None, str]] = []
    for n, extension in enumerate(ours):
        parts = {
            require_str(p.get("url"), what=f"{what} signed entry {n}"): p
            for p in require_list(extension.get("extension"), what=f"{what} signed entry {n}")
            if isinstance(p, dict)
        }
        if set(parts) != {"tree", "index", "envelope"}:
            raise InputError(f"{what}: signed entry {n} needs tree, index and envelope; got {sorted(parts)}")
        tree = check_tree(require_str(parts["tree"].get("valueCode"), what=f"{what} tree"), what=what)
        index = require_int(parts["index"].get("valueUnsignedInt"), what=f"{what} index")
        found.append(
            (tree, index, require_str(parts["envelope"].get("valueString"), what=f"{what} envelope"))
        )
    return found


def _legacy_body(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource of a Bundle written before ``fhir_export``, without our extension: the body as signed."""
    body = dict(resource)
    others = [
        e for e in body.pop("extension") if not (isinstance(e, dict) and e.get("url") == SIGNED_ENTRY_URL)
    ]
    if others:
        body["extension"] = others
    return body


def _head_binary(resource: dict[str, Any], position: int, *, what: str) -> StoredHead:
    if resource.get("contentType") != HEAD_CONTENT_TYPE:
        raise InputError(f"{what}: a head Binary has contentType {HEAD_CONTENT_TYPE}")
    try:
        raw = base64.b64decode(require_str(resource.get("data"), what=f"{what} data"), validate=True)
    except binascii.Error as exc:
        raise InputError(f"{what}: data is not base64") from exc
    return _head_row(position, *open_envelope(loads(raw, what=what), what=f"head {position}"))


def _read_fhir_export(bundle: dict[str, Any]) -> tuple[StoredLog, list[dict[str, Any]] | None]:
    """The rows and heads of a Bundle, and its entries when they are to be checked against what the
    verified entries make (``fhir_export.check_bundle``); None for a Bundle written before that, whose
    bodies are compared with the bodies their entries sign here."""
    if bundle.get("type") != "collection":
        raise InputError("FHIR export: expected a Bundle of type collection")
    rows: list[StoredEntry] = []
    heads: list[StoredHead] = []
    counts = dict.fromkeys(TREES, 0)
    items = require_list(bundle.get("entry"), what="Bundle.entry")
    legacy: bool | None = None
    for i, item in enumerate(items):
        what = f"Bundle.entry[{i}]"
        resource = require_dict(require_dict(item, what=what).get("resource"), what=f"{what}.resource")
        if resource.get("resourceType") == "Binary":
            heads.append(_head_binary(resource, len(heads), what=what))
            continue
        for tree, index, envelope_text in _signed_entries(resource, what=what):
            if legacy is not None and legacy != (tree is None):
                raise InputError(f"{what}: signed entries of two Bundle formats in one Bundle")
            legacy = tree is None
            payload, signature = open_envelope(loads(envelope_text, what=f"{what} signed entry"), what=what)
            kind = require_dict(loads(payload, what=f"{what} payload"), what=what).get("kind")
            if not isinstance(kind, str) or kind not in TREE_OF_KIND:
                raise InputError(f"{what}: signed entry of unknown kind {kind!r}")
            tree = tree or TREE_OF_KIND[kind]
            row = _entry_row(tree, counts[tree] if index is None else index, payload, signature)
            counts[tree] += 1
            if legacy:
                signed = read_entry_parts(payload, signature, what=f"{tree}[{row.index}] (entry {row.id})")
                if canonical(_legacy_body(resource)) != canonical(signed.body):
                    kind = resource.get("resourceType")
                    raise BrokenLog(f"{what}: the {kind} differs from the body entry {row.id} signs")
            rows.append(row)
    if not heads:
        raise InputError("FHIR export: no head Binary resources")
    patient = require_dict(loads(heads[0].payload, what="head 0"), what="head 0").get("patient")
    rows.sort(key=lambda row: (TREES.index(row.tree), row.index))
    log = StoredLog(require_str(patient, what="head 0 patient"), tuple(rows), tuple(heads))
    return log, None if legacy else items


def _read(data: bytes) -> tuple[StoredLog, list[dict[str, Any]] | None]:
    document = require_dict(loads(data, what="export"), what="export")
    if document.get("resourceType") == "Bundle":
        return _read_fhir_export(document)
    if document.get("type") == EXPORT_TYPE:
        return _read_json_export(document), None
    raise InputError(f"export: neither an {EXPORT_TYPE} document nor a FHIR Bundle")


def read_export(data: bytes) -> StoredLog:
    """Rows and heads from either export format (unverified: pass them to ``verify_log``)."""
    return _read(data)[0]


def import_ledger(data: bytes, out: Path) -> LedgerSnapshot:
    """Verify an export completely, then write it as a new ledger at ``out`` (LedgerExists if taken)."""
    log, bundle_entries = _read(data)
    snapshot = verify_log(log)
    if bundle_entries is not None:
        check_bundle(bundle_entries, snapshot)
    LedgerStore.create(out, log.patient, entries=log.entries, heads=log.heads).close()
    return snapshot
