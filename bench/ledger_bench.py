"""Ledger speed: single-entry appends per second (each signs a new head) and slice verification time.

Run with ``python -m bench bench.ledger_bench``. Builds a 200-entry ledger in a temporary folder.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alertsvc.ledger import fhir, grants
from alertsvc.ledger.entries import SignedEntry, sign_entry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice, verify_slice

ENTRIES = 200
SLICE_RUNS = 15


def _entry(patient: Identity, i: int, now: datetime) -> SignedEntry:
    kind = ("medication", "medication", "allergy", "reaction")[i % 4]
    common = {"resource_id": fhir.new_resource_id(), "patient": patient.public_id, "rxcui": None}
    if kind == "medication":
        body = fhir.medication_statement(**common, drug=f"drug {i}", dose="1 tablet", effective=now)
    elif kind == "allergy":
        body = fhir.allergy_intolerance(
            **common, substance=f"agent {i}", criticality="high", reaction="hives", recorded=now
        )
    else:
        body = fhir.reaction_intolerance(
            **common, flagged_by=patient.public_id, drug=f"drug {i}", reaction="rash", severity="mild",
            observed=now, recorded=now,
        )  # fmt: skip
    return sign_entry(patient, kind=kind, patient=patient.public_id, body=body, created=now)


def run() -> list[str]:
    patient, hospital = Identity.generate(), Identity.generate()
    now = datetime.now(UTC).replace(microsecond=0)
    with (
        tempfile.TemporaryDirectory() as folder,
        Ledger.init(Path(folder) / "b.ledger", patient, now=now) as ledger,
    ):
        entries = [_entry(patient, i, now) for i in range(ENTRIES - 1)]
        started = time.perf_counter()
        for entry in entries:
            ledger.append([entry], patient=patient, now=now)
        appended = time.perf_counter() - started
        grant = grants.new_grant(patient, grantee=hospital.public_id, scope=grants.SCOPES, not_before=now,
                                 hours=24, now=now)  # fmt: skip
        ledger.append([grant], patient=patient, now=now)
        started = time.perf_counter()
        snapshot = ledger.verify()
        verified = time.perf_counter() - started
        data = make_slice(snapshot, grant.id, now=now)
    later = now + timedelta(hours=1)
    timings = []
    for _ in range(SLICE_RUNS):
        started = time.perf_counter()
        verify_slice(data, patient=patient.public_id, now=later, grantee=hospital.public_id)
        timings.append(time.perf_counter() - started)
    return [
        f"appends: {len(entries) / appended:,.0f}/s (single-entry appends to a ledger growing to {ENTRIES}, "
        "each with a signed head, WAL + synchronous=FULL)",
        f"verify whole ledger ({ENTRIES} entries, {len(snapshot.heads)} heads): {verified * 1000:.0f} ms",
        f"verify_slice, {ENTRIES} entries ({len(data):,} bytes): "
        f"median {statistics.median(timings) * 1000:.1f} ms over {SLICE_RUNS} runs",
    ]
