"""Ledger fixtures: identities from fixed seeds, a fixed clock, entry builders, ledgers on tmp_path."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertsvc.ledger import fhir, grants
from alertsvc.ledger.entries import SignedEntry, sign_entry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger

REPO = Path(__file__).resolve().parent.parent.parent
NOW = datetime(2026, 3, 8, 2, 0, tzinfo=UTC)
PATIENT = Identity.from_seed(b"p" * 32)
PRACTITIONER = Identity.from_seed(b"d" * 32)
HOSPITAL = Identity.from_seed(b"h" * 32)
STRANGER = Identity.from_seed(b"s" * 32)


def medication(
    drug: str, *, author: Identity = PATIENT, at: datetime = NOW, grant: str | None = None
) -> SignedEntry:
    body = fhir.medication_statement(
        resource_id=fhir.new_resource_id(),
        patient=PATIENT.public_id,
        drug=drug,
        rxcui=drug if drug.isdigit() else None,
        dose="1 tablet daily",
        effective=at,
    )
    return sign_entry(
        author, kind="medication", patient=PATIENT.public_id, body=body, created=at, grant=grant
    )


def allergy(substance: str, *, at: datetime = NOW) -> SignedEntry:
    body = fhir.allergy_intolerance(
        resource_id=fhir.new_resource_id(),
        patient=PATIENT.public_id,
        substance=substance,
        rxcui=None,
        criticality="high",
        reaction="hives",
        recorded=at,
    )
    return sign_entry(PATIENT, kind="allergy", patient=PATIENT.public_id, body=body, created=at)


def reaction(
    drug: str, *, author: Identity = PATIENT, at: datetime = NOW, grant: str | None = None
) -> SignedEntry:
    body = fhir.reaction_intolerance(
        resource_id=fhir.new_resource_id(),
        patient=PATIENT.public_id,
        flagged_by=author.public_id,
        drug=drug,
        rxcui=None,
        reaction="swollen lips",
        severity="severe",
        observed=at,
        recorded=at,
    )
    return sign_entry(author, kind="reaction", patient=PATIENT.public_id, body=body, created=at, grant=grant)


def grant_to(
    grantee: Identity,
    *,
    scope: tuple[str, ...] = ("medications", "reactions"),
    write: tuple[str, ...] = (),
    at: datetime = NOW,
    hours: float = 24,
) -> SignedEntry:
    return grants.new_grant(
        PATIENT, grantee=grantee.public_id, scope=scope, write_scope=write, not_before=at, hours=hours, now=at
    )


def add(ledger: Ledger, *entries: SignedEntry, at: datetime = NOW) -> None:
    ledger.append(list(entries), patient=PATIENT, now=at)


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m alertsvc`` in a real subprocess using this worktree's code."""
    return subprocess.run(
        [sys.executable, "-m", "alertsvc", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def sql(path: Path, statement: str, *params: object) -> None:
    """Edit a ledger file behind the ledger's back (tests of tamper detection)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(statement, params)
    finally:
        conn.close()


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "patient.ledger"


@pytest.fixture
def ledger(ledger_path: Path) -> Iterator[Ledger]:
    with Ledger.init(ledger_path, PATIENT, now=NOW - timedelta(days=1)) as opened:
        yield opened


@pytest.fixture
def filled(ledger: Ledger) -> tuple[Ledger, SignedEntry]:
    """Warfarin, aspirin, ibuprofen (RxCUI 5640); a penicillin allergy; a flagged codeine reaction; and
    the hospital's read grant over medications and reactions. Returns the ledger and the grant entry."""
    for drug in ("warfarin", "aspirin", "5640"):
        add(ledger, medication(drug))
    add(ledger, allergy("penicillin"))
    add(ledger, reaction("codeine"))
    grant = grant_to(HOSPITAL)
    add(ledger, grant)
    return ledger, grant
