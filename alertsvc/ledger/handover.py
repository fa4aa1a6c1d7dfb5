"""Entries handed over at discharge, and ``alertsvc ledger import-entries LEDGER --key FILE HANDOVER``.

A hospital that recorded a reaction, an allergy or a discharge medicine without a write grant (or could not
deliver it) hands the signed entries over in a file, ``{"payload": b64url(P), "signature": b64url(sig)}``,
``P`` the RFC 8785 JSON ``{"v": 1, "type": "alertsvc-handover", "patient", "hospital": {"id", "name"},
"admission", "created", "entries": [entry envelopes]}`` signed by the hospital's identity ``hospital.id``
(``alertsvc.discharge`` writes it).

Importing verifies the file's signature and every entry's (over the exact bytes), that every entry names
this patient, is a medication, allergy or reaction signed by that hospital under a grant of this ledger
to it, then appends what the ledger does not hold yet, in one append: entries their own grant allows as
they are; for the others (the grant had no write scope for them) first a handover grant the patient
signs (purpose ``handover``, the hospital, write scope of just those kinds, from the earliest entry's time
until one second after now), which ``grants.authorising_grant`` reads as her endorsement. Importing the
same file again appends nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click

from alertsvc.errors import AlertsvcError, InputError, UnknownSigner
from alertsvc.ledger import cli_files as files
from alertsvc.ledger import fhir
from alertsvc.ledger.canonical import canonical, loads
from alertsvc.ledger.entries import (
    CLINICAL_KINDS,
    TREE_OF_KIND,
    SignedEntry,
    envelope_of,
    format_time,
    open_envelope,
    read_entry_parts,
    require_dict,
    require_list,
    require_str,
)
from alertsvc.ledger.grants import HANDOVER_PURPOSE, check_current, new_grant, write_problem
from alertsvc.ledger.identity import Identity, public_key_of, verify_raw
from alertsvc.ledger.log import LedgerSnapshot
from alertsvc.ledger.practitioners import Hospital

HANDOVER_TYPE = "alertsvc-handover"


@dataclass(frozen=True)
class Handover:
    """A verified handover file: the hospital that signed it and its entries."""

    hospital: str
    hospital_name: str
    admission: str
    entries: tuple[SignedEntry, ...]


def handover_file(
    hospital_identity: Identity,
    hospital: Hospital,
    *,
    patient: str,
    admission: str,
    entries: Sequence[SignedEntry],
    now: datetime,
) -> dict[str, str]:
    """The signed handover file of ``entries`` (see the module docstring)."""
    if hospital_identity.public_id != hospital.public_id:
        raise InputError("a handover file is signed by the hospital it names")
    document = {
        "v": 1,
        "type": HANDOVER_TYPE,
        "patient": patient,
        "hospital": {"id": hospital.public_id, "name": hospital.name},
        "admission": admission,
        "created": format_time(now),
        "entries": [e.envelope() for e in entries],
    }
    payload = canonical(document)
    return envelope_of(payload, hospital_identity.sign(payload))


def read_handover(document: object, *, patient: str, what: str = "handover file") -> Handover:
    """Verify a handover file for ``patient``; InputError or UnknownSigner naming what is wrong."""
    payload, signature = open_envelope(document, what=what)
    data = require_dict(loads(payload, what=what), what=what)
    if data.get("type") != HANDOVER_TYPE or data.get("v") != 1:
        raise InputError(f"{what}: not an alertsvc handover file (type {HANDOVER_TYPE}, v 1)")
    hospital = require_dict(data.get("hospital"), what=f"{what} hospital")
    hospital_id = require_str(hospital.get("id"), what=f"{what} hospital id")
    try:
        verify_raw(public_key_of(hospital_id), payload, signature, what=what)
    except AlertsvcError as exc:
        raise UnknownSigner(f"{what}: not signed by the hospital it names ({exc})") from exc
    if data.get("patient") != patient:
        raise InputError(f"{what} is for patient {data.get('patient')}, not {patient}")
    entries = []
    for position, value in enumerate(require_list(data.get("entries"), what=f"{what} entries")):
        where = f"{what} entries[{position}]"
        entry_payload, entry_signature = open_envelope(value, what=where)
        entry = read_entry_parts(entry_payload, entry_signature, what=where, require_canonical=True)
        if entry.patient != patient:
            raise InputError(f"{where} ({entry.id}) is for patient {entry.patient}, not {patient}")
        if entry.author != hospital_id:
            raise UnknownSigner(f"{where} ({entry.id}) is signed by {entry.author}, not the hospital")
        if entry.kind not in CLINICAL_KINDS:
            raise InputError(f"{where} ({entry.id}) is a {entry.kind}: only the patient writes those")
        fhir.read_clinical(entry)
        entries.append(entry)
    return Handover(
        hospital=hospital_id,
        hospital_name=str(hospital.get("name", "")),
        admission=str(data.get("admission", "")),
        entries=tuple(entries),
    )


def plan_import(
    snapshot: LedgerSnapshot, handover: Handover, patient: Identity, *, now: datetime
) -> list[SignedEntry]:
    """What to append for ``handover``: its new entries, after a handover grant if some need one."""
    known = {e.id for tree in snapshot.trees.values() for e in tree}
    fresh = [e for e in dict.fromkeys(handover.entries) if e.id not in known]
    if not fresh:
        return []
    grants = snapshot.grants()
    revocations = snapshot.revocations()
    endorse: list[SignedEntry] = []
    for entry in fresh:
        named = grants.get(entry.grant or "")
        if named is None or named.grantee != handover.hospital:
            raise UnknownSigner(
                f"entry {entry.id} names grant {entry.grant}, "
                f"not a grant of this ledger to {handover.hospital}"
            )
        if named.may_write(entry.kind) and write_problem(entry, grants) is None:
            try:
                check_current(named, now=now, revocations=revocations)
                continue  # its own grant still allows it
            except AlertsvcError:
                pass
        endorse.append(entry)
    if not endorse:
        return fresh
    start = min(e.created for e in endorse)
    seconds = math.floor((now - start).total_seconds()) + 1
    grant = new_grant(
        patient,
        grantee=handover.hospital,
        scope=(),
        write_scope=sorted({TREE_OF_KIND[e.kind] for e in endorse}),
        not_before=start,
        hours=seconds / 3600,
        now=now,
        purpose=HANDOVER_PURPOSE,
    )
    return [grant, *fresh]


def summary(appended: Sequence[SignedEntry], handover: Handover) -> str:
    added = [e for e in appended if e.kind != "grant"]
    if not added:
        return f"nothing new: the {len(handover.entries)} entries of the handover are already in the ledger"
    kinds = ", ".join(sorted({e.kind for e in added}))
    return f"imported {len(added)} entries ({kinds}) signed by {handover.hospital_name or handover.hospital}"


@click.command("import-entries")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.argument("handover_path", metavar="FILE", type=files.PathArg)
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
def import_entries(path: Path, handover_path: Path, key_path: Path) -> None:
    """Import the signed entries a hospital handed over at discharge (FILE) into LEDGER."""
    now = files.now()
    document = loads(files.read_file(handover_path, what="handover file"), what=str(handover_path))
    with files.patient_ledger(path, key_path) as (ledger, key):
        handover = read_handover(document, patient=key.public_id, what=str(handover_path))
        appended = plan_import(ledger.read(), handover, key, now=now)
        if appended:
            ledger.append(appended, patient=key, now=now)
    click.echo(summary(appended, handover))
