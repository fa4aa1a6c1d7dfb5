"""Export a whole ledger as portable JSON or as a FHIR R4 Bundle, and import either back.

JSON: ``{"type": "alertsvc-ledger-export", "v": 1, "patient", "entries": [{"tree", "index", "entry"}],
"heads": [envelope, ...]}``.

FHIR: a ``collection`` Bundle. Each entry's body is a resource whose resource-level ``extension``
carries the signed envelope (url ``urn:ietf:params:alertsvc:signed-entry``, valueString = the envelope's
JSON); entries appear tree by tree in index order. Heads are ``Binary`` resources (contentType
``application/json``, data = base64 of the head envelope's JSON), in seq order. Bundle and Binary are
not DomainResources and cannot carry extensions, hence Binary.

Import verifies everything first, exactly as ``alertsvc ledger verify`` does, and that every FHIR
resource equals the body its envelope signs; only then is a new ledger file written (all or nothing).
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
from alertsvc.ledger.log import LedgerSnapshot, verify_log
from alertsvc.ledger.store import LedgerStore, StoredEntry, StoredHead, StoredLog

EXPORT_TYPE = "alertsvc-ledger-export"
SIGNED_ENTRY_URL = "urn:ietf:params:alertsvc:signed-entry"
HEAD_CONTENT_TYPE = "application/json"


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


def export_fhir(snapshot: LedgerSnapshot) -> bytes:
    """The verified ledger as a FHIR R4 collection Bundle (see the module docstring)."""
    resources: list[dict[str, Any]] = []
    for tree in TREES:
        for entry in snapshot.trees[tree]:
            resource = dict(entry.body)
            envelope_text = json.dumps(entry.envelope(), separators=(",", ":"))
            resource["extension"] = [
                *resource.get("extension", []),
                {"url": SIGNED_ENTRY_URL, "valueString": envelope_text},
            ]
            resources.append(resource)
    for head in snapshot.heads:
        data = base64.b64encode(canonical(head.envelope())).decode("ascii")
        resources.append(
            {
                "resourceType": "Binary",
                "id": f"head-{head.seq}",
                "contentType": HEAD_CONTENT_TYPE,
                "data": data,
            }
        )
    return _json(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": snapshot.latest.summary()["timestamp"],
            "entry": [{"resource": resource} for resource in resources],
        }
    )


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


def _without_signed_entry(resource: dict[str, Any], *, what: str) -> tuple[dict[str, Any], str]:
    """The resource as signed (our extension removed) and the envelope JSON text it carried."""
    extensions = require_list(resource.get("extension"), what=f"{what} extension")
    ours = [e for e in extensions if isinstance(e, dict) and e.get("url") == SIGNED_ENTRY_URL]
    if len(ours) != 1:
        raise InputError(f"{what}: expected one {SIGNED_ENTRY_URL} extension, found {len(ours)}")
    body = dict(resource)
    others = [e for e in extensions if e is not ours[0]]
    if others:
        body["extension"] = others
    else:
        del body["extension"]
    return body, require_str(ours[0].get("valueString"), what=f"{what} signed entry")


def _read_fhir_export(bundle: dict[str, Any]) -> StoredLog:
    if bundle.get("type") != "collection":
        raise InputError("FHIR export: expected a Bundle of type collection")
    rows: list[StoredEntry] = []
    heads: list[StoredHead] = []
    counts = dict.fromkeys(TREES, 0)
    for i, item in enumerate(require_list(bundle.get("entry"), what="Bundle.entry")):
        what = f"Bundle.entry[{i}]"
        resource = require_dict(require_dict(item, what=what).get("resource"), what=f"{what}.resource")
        if resource.get("resourceType") == "Binary":
            if resource.get("contentType") != HEAD_CONTENT_TYPE:
                raise InputError(f"{what}: a head Binary has contentType {HEAD_CONTENT_TYPE}")
            try:
                raw = base64.b64decode(require_str(resource.get("data"), what=f"{what} data"), validate=True)
            except binascii.Error as exc:
                raise InputError(f"{what}: data is not base64") from exc
            heads.append(
                _head_row(len(heads), *open_envelope(loads(raw, what=what), what=f"head {len(heads)}"))
            )
            continue
        body, envelope_text = _without_signed_entry(resource, what=what)
        payload, signature = open_envelope(loads(envelope_text, what=f"{what} signed entry"), what=what)
        kind = require_dict(loads(payload, what=f"{what} payload"), what=what).get("kind")
        if not isinstance(kind, str) or kind not in TREE_OF_KIND:
            raise InputError(f"{what}: signed entry of unknown kind {kind!r}")
        tree = TREE_OF_KIND[kind]
        row = _entry_row(tree, counts[tree], payload, signature)
        counts[tree] += 1
        signed = read_entry_parts(payload, signature, what=f"{tree}[{row.index}] (entry {row.id})")
        if canonical(body) != canonical(signed.body):
            raise BrokenLog(
                f"{what}: the {body.get('resourceType')} differs from the body entry {row.id} signs"
            )
        rows.append(row)
    if not heads:
        raise InputError("FHIR export: no head Binary resources")
    patient = require_dict(loads(heads[0].payload, what="head 0"), what="head 0").get("patient")
    rows.sort(key=lambda row: (TREES.index(row.tree), row.index))
    return StoredLog(require_str(patient, what="head 0 patient"), tuple(rows), tuple(heads))


def read_export(data: bytes) -> StoredLog:
    """Rows and heads from either export format (unverified: pass them to ``verify_log``)."""
    document = require_dict(loads(data, what="export"), what="export")
    if document.get("resourceType") == "Bundle":
        return _read_fhir_export(document)
    if document.get("type") == EXPORT_TYPE:
        return _read_json_export(document)
    raise InputError(f"export: neither an {EXPORT_TYPE} document nor a FHIR Bundle")


def import_ledger(data: bytes, out: Path) -> LedgerSnapshot:
    """Verify an export completely, then write it as a new ledger at ``out`` (LedgerExists if taken)."""
    log = read_export(data)
    snapshot = verify_log(log)
    LedgerStore.create(out, log.patient, entries=log.entries, heads=log.heads).close()
    return snapshot
