"""Entries handed over at discharge (no write grant): the patient imports the signed file with
``alertsvc ledger import-entries`` (a real subprocess); every signature is checked, each entry must name
her, the import is idempotent, and her endorsement opens nothing to the hospital afterwards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertsvc.errors import GrantExpired
from alertsvc.ledger import grants
from alertsvc.ledger.entries import SignedEntry
from alertsvc.ledger.handover import handover_file
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.practitioners import (
    Clinician,
    Hospital,
    allergy_body,
    practitioner_entry,
    reaction_body,
    recorded_by,
)
from tests.ledger.conftest import HOSPITAL, PATIENT, STRANGER, run_cli

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)  # the CLI reads the real clock
NURSE = Clinician("Nia Brown", "nurse", "ward-5")
ST_ELSEWHERE = Hospital(HOSPITAL.public_id, "St Elsewhere")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    PATIENT.save(tmp_path / "patient.key")
    with Ledger.init(tmp_path / "p.ledger", PATIENT, now=NOW) as ledger:
        read_only = grants.new_grant(
            PATIENT, grantee=HOSPITAL.public_id, scope=("medications", "allergies", "reactions"),
            not_before=NOW, hours=72, now=NOW,
        )  # fmt: skip
        ledger.append([read_only], patient=PATIENT, now=NOW)
    (tmp_path / "grant-id").write_text(read_only.id)
    return tmp_path


def entries(grant_id: str, *, signer: Hospital = ST_ELSEWHERE) -> list[SignedEntry]:
    at = NOW + timedelta(minutes=30)
    rash = reaction_body(
        patient=PATIENT.public_id, clinician=NURSE, hospital=signer, drug="amoxicillin", rxcui="723",
        reaction="rash", severity="moderate", observed=at, recorded=at,
    )  # fmt: skip
    hives = allergy_body(
        patient=PATIENT.public_id, clinician=NURSE, hospital=signer, substance="penicillin",
        rxcui="70618", criticality="high", reaction="hives", recorded=at,
    )  # fmt: skip
    return [
        practitioner_entry(HOSPITAL, kind="reaction", patient=PATIENT.public_id, body=rash, grant_id=grant_id,
                           now=at),
        practitioner_entry(HOSPITAL, kind="allergy", patient=PATIENT.public_id, body=hives, grant_id=grant_id,
                           now=at),
    ]  # fmt: skip


def write(home: Path, document: dict[str, str], name: str = "handover.json") -> Path:
    path = home / name
    path.write_text(json.dumps(document))
    return path


def clinical(home: Path) -> list[SignedEntry]:
    with Ledger.open(home / "p.ledger") as ledger:
        snapshot = ledger.verify()
    return [*snapshot.trees["reactions"], *snapshot.trees["allergies"]]


def test_the_patient_imports_what_was_handed_over_once(home: Path) -> None:
    made = entries((home / "grant-id").read_text())
    document = handover_file(
        HOSPITAL, ST_ELSEWHERE, patient=PATIENT.public_id, admission="adm-1", entries=made,
        now=NOW + timedelta(hours=1),
    )  # fmt: skip
    file = write(home, document)
    first = run_cli("ledger", "import-entries", "p.ledger", "--key", "patient.key", file, cwd=home)
    assert first.returncode == 0, first.stderr
    assert "imported 2 entries (allergy, reaction) signed by St Elsewhere" in first.stdout
    assert {e.id for e in clinical(home)} == {e.id for e in made}
    assert run_cli("ledger", "verify", "p.ledger", cwd=home).returncode == 0
    who = recorded_by(clinical(home)[0])
    assert who is not None and who.hospital.name == "St Elsewhere"
    again = run_cli("ledger", "import-entries", "p.ledger", "--key", "patient.key", file, cwd=home)
    assert again.returncode == 0 and "nothing new" in again.stdout
    assert len(clinical(home)) == 2
    # Her endorsement lasted one second: the hospital cannot write more under it afterwards.
    with Ledger.open(home / "p.ledger") as ledger, pytest.raises(GrantExpired):
        late = entries((home / "grant-id").read_text())[0]
        ledger.append([late], patient=PATIENT, now=datetime.now(UTC) + timedelta(seconds=2))


@pytest.mark.parametrize("fault", ["tampered-file", "signed-by-stranger", "another-patient"])
def test_a_forged_handover_is_refused_and_nothing_is_appended(home: Path, fault: str) -> None:
    made = entries((home / "grant-id").read_text())
    if fault == "another-patient":
        document = handover_file(HOSPITAL, ST_ELSEWHERE, patient=STRANGER.public_id, admission="adm-1",
                                 entries=made, now=NOW)  # fmt: skip
    elif fault == "signed-by-stranger":
        stranger = Hospital(STRANGER.public_id, "St Elsewhere")
        document = handover_file(STRANGER, stranger, patient=PATIENT.public_id, admission="adm-1",
                                 entries=entries((home / "grant-id").read_text(), signer=stranger),
                                 now=NOW)  # fmt: skip
    else:
        document = handover_file(HOSPITAL, ST_ELSEWHERE, patient=PATIENT.public_id, admission="adm-1",
                                 entries=made, now=NOW)  # fmt: skip
        flipped = "AAAA" if document["signature"][-4:] != "AAAA" else "BBBB"
        document["signature"] = document["signature"][:-4] + flipped
    file = write(home, document)
    result = run_cli("ledger", "import-entries", "p.ledger", "--key", "patient.key", file, cwd=home)
    assert result.returncode != 0
    assert result.stderr.strip(), "a clear error naming what was wrong"
    assert clinical(home) == []
