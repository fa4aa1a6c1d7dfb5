"""The service's limits on what one request may carry (pure): every list and every text has one.

The limits live in ``Settings`` (``max_*``; README, "Limits"). They are far above anything a hospital
sends (a patient on 100 medications at once, a ward's schedule of 1,000 orders in one request, a
2,000-entry ledger) and low enough that no request can exhaust the service's memory, hold its event loop
for long, or flood a ward with alerts: a slice's strings are copied into alerts, so a label or drug name
has a length limit too. Over a limit is ``LimitExceeded`` (422), naming the field, its size and the
limit; the body itself is bounded earlier, in bytes, as it is read (``web.http``: 413).

``check_body`` runs on every JSON body the HTTP routes read: a bound on the length of every list in it,
then the checks of that kind of request (by its name, e.g. "admission"). A slice's content is in signed
payloads, so what the entries say (how many medications are active, how long a drug name is) is checked
after their signatures, by ``check_slice``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from alertsvc.config import Settings
from alertsvc.errors import InputError, LimitExceeded
from alertsvc.ledger.slices import VerifiedSlice


def check_body(what: str, body: Any, settings: Settings) -> None:
    """The checks of requests named ``what`` (the most telling message first), then every list in
    ``body`` within ``max_list_items``."""
    specific = CHECKS.get(what)
    if specific is not None:
        specific(body, settings)
    _lists(body, what, settings.max_list_items)


def check_slice(verified: VerifiedSlice, settings: Settings, *, what: str = "slice") -> None:
    """What a verified slice says, within the limits: active medications, allergies and flagged
    reactions (each at most ``max_medications``) and the length of every text an alert may repeat."""
    most = settings.max_medications
    for name, items in (
        ("active medications", verified.medications),
        ("allergies", verified.allergies),
        ("flagged reactions", verified.reactions),
    ):
        if len(items) > most:
            raise LimitExceeded(f"{what}: {len(items)} {name}; at most {most} (setting max_medications)")
    names, notes = settings.max_name_chars, settings.max_note_chars
    for med in verified.medications:
        _entry_text(med.drug, f"medication entry {med.entry_id}: drug name", names, "max_name_chars")
        _entry_text(med.dose, f"medication entry {med.entry_id}: dose", notes, "max_note_chars")
    for allergy in verified.allergies:
        where = f"allergy entry {allergy.entry_id}"
        _entry_text(allergy.substance, f"{where}: substance", names, "max_name_chars")
        _entry_text(allergy.reaction, f"{where}: reaction", notes, "max_note_chars")
    for reaction in verified.reactions:
        where = f"reaction entry {reaction.entry_id}"
        _entry_text(reaction.drug, f"{where}: drug name", names, "max_name_chars")
        _entry_text(reaction.reaction, f"{where}: reaction", notes, "max_note_chars")


# -- the checks of each kind of request ----------------------------------------------------------------


def _admission(body: Any, settings: Settings) -> None:
    for name in ("ward", "bed", "label"):
        _text(body, name, settings.max_name_chars, "max_name_chars")
    _text(body, "grant_link", settings.max_note_chars, "max_note_chars")
    if isinstance(body, dict) and isinstance(body.get("slice"), dict):
        _ledger_document(body["slice"], "slice", settings)


def _ledger_update(body: Any, settings: Settings) -> None:
    _ledger_document(body, "ledger update", settings)


def _slice(body: Any, settings: Settings) -> None:
    _ledger_document(body, "slice", settings)


def _schedule(body: Any, settings: Settings) -> None:
    if not isinstance(body, dict):
        return
    items = [body.get(k) for k in ("administrations", "medication_requests")]
    count = sum(len(i) for i in items if isinstance(i, list))
    if count > settings.max_schedule_items:
        raise LimitExceeded(
            f"schedule: {count} administrations and medication requests; at most "
            f"{settings.max_schedule_items} in one request (setting max_schedule_items)"
        )
    for i, item in enumerate(_list(body, "administrations")):
        for name in ("admission", "drug", "dose", "route", "due"):
            _text(item, name, settings.max_name_chars, "max_name_chars", where=f"administrations[{i}].")
    for i, item in enumerate(_list(body, "medication_requests")):
        if isinstance(item, dict):
            _text(
                item,
                "admission",
                settings.max_name_chars,
                "max_name_chars",
                where=f"medication_requests[{i}].",
            )
            _resource(item.get("resource"), f"medication_requests[{i}].resource", settings)


def _dose_outcome(body: Any, settings: Settings) -> None:
    _text(body, "status", settings.max_name_chars, "max_name_chars")
    _text(body, "at", settings.max_name_chars, "max_name_chars")
    _text(body, "note", settings.max_note_chars, "max_note_chars")


def _acknowledgement(body: Any, settings: Settings) -> None:
    _text(body, "shift", settings.max_name_chars, "max_name_chars")
    _text(body, "comment", settings.max_note_chars, "max_note_chars")
    if isinstance(body, dict) and isinstance(body.get("reason"), dict):
        for name in ("code", "display"):
            _text(body["reason"], name, settings.max_name_chars, "max_name_chars", where="reason.")


def _cds_request(body: Any, settings: Settings) -> None:
    """Each FHIR resource of the draft orders and the prefetched bundles within ``max_resource_bytes``."""
    if not isinstance(body, dict):
        return
    context, prefetch = body.get("context"), body.get("prefetch")
    containers = [("context.draftOrders", context.get("draftOrders"))] if isinstance(context, dict) else []
    if isinstance(prefetch, dict):
        containers += [(f"prefetch.{key}", value) for key, value in prefetch.items()]
    for where, container in containers:
        entries = container.get("entry") if isinstance(container, dict) else None
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict):
                _resource(entry.get("resource"), f"{where}.entry[{i}].resource", settings)


CHECKS: Mapping[str, Callable[[Any, Settings], None]] = {
    "admission": _admission,
    "ledger update": _ledger_update,
    "slice": _slice,
    "schedule": _schedule,
    "dose outcome": _dose_outcome,
    "acknowledgement": _acknowledgement,
    "CDS Hooks request": _cds_request,
}
"""The checks of each kind of request, by the name its route reads its body under."""


# -- helpers ---------------------------------------------------------------------------------------------


def _ledger_document(document: Any, what: str, settings: Settings) -> None:
    """A slice or update: at most ``max_slice_entries`` entries, each at most ``max_resource_bytes``."""
    if not isinstance(document, dict):
        return
    trees = document.get("trees")
    sizes = {t: len(v) for t, v in trees.items() if isinstance(v, list)} if isinstance(trees, dict) else {}
    total = sum(sizes.values())
    if total > settings.max_slice_entries:
        largest = max(sizes, key=lambda t: sizes[t])
        raise LimitExceeded(
            f"{what}.trees.{largest}: {sizes[largest]} entries ({total} in all trees); at most "
            f"{settings.max_slice_entries} in one slice or update (setting max_slice_entries)"
        )
    envelopes: list[tuple[str, Any]] = [(f"{what}.head", document.get("head"))]
    grant = document.get("grant")
    if isinstance(grant, dict):
        envelopes.append((f"{what}.grant.entry", grant.get("entry")))
    for i, item in enumerate(_list(document, "write_grants")):
        envelopes.append(
            (f"{what}.write_grants[{i}].entry", item.get("entry") if isinstance(item, dict) else None)
        )
    for tree, entries in trees.items() if isinstance(trees, dict) else ():
        envelopes += [
            (f"{what}.trees.{tree}[{i}]", e)
            for i, e in enumerate(entries if isinstance(entries, list) else [])
        ]
    largest_payload = _base64_length(settings.max_resource_bytes)
    for where, envelope in envelopes:
        payload = envelope.get("payload") if isinstance(envelope, dict) else None
        if isinstance(payload, str) and len(payload) > largest_payload:
            raise LimitExceeded(
                f"{where}: an entry of about {len(payload) * 3 // 4} bytes; at most "
                f"{settings.max_resource_bytes} bytes (setting max_resource_bytes)"
            )


def _resource(value: Any, where: str, settings: Settings) -> None:
    if value is None:
        return
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > settings.max_resource_bytes:
        raise LimitExceeded(
            f"{where}: {size} bytes; at most {settings.max_resource_bytes} bytes for one FHIR resource "
            "(setting max_resource_bytes)"
        )


def _text(body: Any, name: str, limit: int, setting: str, *, where: str = "") -> None:
    """``body[name]``, if given, is at most ``limit`` characters; and it is text, a number or null: an
    object or list would be written out whole where a text is shown (a label in every alert)."""
    value = body.get(name) if isinstance(body, dict) else None
    if isinstance(value, dict | list):
        raise InputError(
            f"'{where}{name}' must be text, not a JSON {'object' if isinstance(value, dict) else 'list'}"
        )
    if isinstance(value, str) and len(value) > limit:
        raise LimitExceeded(f"'{where}{name}': {len(value)} characters; at most {limit} (setting {setting})")


def _entry_text(value: str | None, where: str, limit: int, setting: str) -> None:
    if value is not None and len(value) > limit:
        raise LimitExceeded(f"{where} of {len(value)} characters; at most {limit} (setting {setting})")


def _list(body: Any, name: str) -> list[Any]:
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, list) else []


def _lists(value: Any, where: str, limit: int) -> None:
    """Every list anywhere in ``value`` has at most ``limit`` items (the path of the first that has more)."""
    stack: list[tuple[str, Any]] = [(where, value)] if isinstance(value, dict | list) else []
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{path}.{k}", v) for k, v in item.items() if isinstance(v, dict | list))
        elif len(item) > limit:
            raise LimitExceeded(
                f"{path}: {len(item)} items; at most {limit} in any list (setting max_list_items)"
            )
        else:
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(item) if isinstance(v, dict | list))


def _base64_length(size: int) -> int:
    return (size + 2) // 3 * 4
