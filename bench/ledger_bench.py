"""Ledger speed: single-entry appends per second (each signs a new head) and slice verification time.

Run with ``python -m bench bench.ledger_bench``. Builds a 200-entry ledger in a temporary folder.

``verify_slice`` is set against the floor under it, in the same run: the Ed25519 checks of every
signature the slice carries (its entries, head and grant) done by raw PyNaCl, one ``VerifyKey`` per
signer, over bytes decoded beforehand. Each run times both, one after the other, so a shared machine's
load falls on both alike; the ratio is the median of the per-run ratios.
"""

from __future__ import annotations

import base64
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nacl.signing

from alertsvc.ledger import fhir, grants
from alertsvc.ledger.entries import SignedEntry, sign_entry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice, verify_slice

ENTRIES = 200
SLICE_RUNS = 100


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
    signatures = _signature_checks(data)
    timings, floors, ratios = [], [], []
    for _ in range(SLICE_RUNS):
        started = time.perf_counter()
        verify_slice(data, patient=patient.public_id, now=later, grantee=hospital.public_id)
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        for verify_key, payload, signature in signatures:
            verify_key.verify(payload, signature)
        floors.append(time.perf_counter() - started)
        ratios.append(timings[-1] / floors[-1])
    return [
        f"appends: {len(entries) / appended:,.0f}/s (single-entry appends to a ledger growing to {ENTRIES}, "
        "each with a signed head, WAL + synchronous=FULL)",
        f"verify whole ledger ({ENTRIES} entries, {len(snapshot.heads)} heads): {verified * 1000:.0f} ms",
        f"verify_slice, {ENTRIES} entries ({len(data):,} bytes): {_median_p99(timings)} "
        f"over {SLICE_RUNS} runs (target median < 20 ms)",
        f"  its {len(signatures)} Ed25519 checks alone (raw PyNaCl, one VerifyKey per signer): "
        f"{_median_p99(floors)}; verify_slice / checks alone: median {statistics.median(ratios):.2f}x, "
        f"p99 {_p99(ratios):.2f}x",
    ]


def _signature_checks(slice_bytes: bytes) -> list[tuple[nacl.signing.VerifyKey, bytes, bytes]]:
    """(key, payload, signature) of every signature a slice carries, decoded with the standard library."""
    document = json.loads(slice_bytes)
    envelopes = [document["head"], document["grant"]["entry"]]
    envelopes += [proven["entry"] for proven in document["write_grants"]]
    envelopes += [envelope for tree in document["trees"].values() for envelope in tree]
    keys: dict[str, nacl.signing.VerifyKey] = {}
    checks = []
    for envelope in envelopes:
        payload, signature = (_unb64(envelope[part]) for part in ("payload", "signature"))
        fields = json.loads(payload)
        signer = fields.get("author", fields["patient"])  # entries name their author, heads the patient
        if signer not in keys:
            keys[signer] = nacl.signing.VerifyKey(_unb64(signer.removeprefix("ed25519:")))
        checks.append((keys[signer], payload, signature))
    return checks


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def _median_p99(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:.1f} ms, p99 {_p99(seconds) * 1000:.1f} ms"
