"""``alertsvc ledger add-observation``: record a lab or ECG value (INR, potassium, creatinine, eGFR, QTc).

The patient's own devices sign as the patient (``--key`` is her key). The value is checked against the
LOINC table of ``alertsvc.ledger.observations`` before anything is signed: an unknown code, a missing or
wrong unit, or a value out of any plausible range is refused with the reason and nothing is appended.
"""

from __future__ import annotations

from pathlib import Path

import click

from alertsvc.ledger import cli_files as files
from alertsvc.ledger import observations
from alertsvc.ledger.entries import format_time


@click.command("add-observation")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
@click.option(
    "--code",
    required=True,
    metavar="LOINC",
    help="LOINC code (6301-6 INR, 2823-3 potassium, 2160-0 or 14682-9 creatinine, 33914-3, 62238-1 or "
    "98979-8 eGFR, 8636-3 QTc) or one of the names INR, potassium, creatinine, eGFR, QTc.",
)
@click.option("--value", required=True, type=float, metavar="V", help="The measured value, e.g. 4.2.")
@click.option(
    "--unit",
    metavar="U",
    help="Its unit (UCUM or as a lab writes it): mmol/L, mg/dL, umol/L, mL/min/1.73m2, ms; none for INR.",
)
@click.option("--at", "at", metavar="ISO", help="When it was measured (default: now).")
def add_observation(
    path: Path, key_path: Path, code: str, value: float, unit: str | None, at: str | None
) -> None:
    """Record a measured value (a FHIR Observation coded in LOINC) in LEDGER."""
    now = files.now()
    quantity = observations.resolve(code, value, unit)  # refused here: nothing is opened or signed
    effective = now if at is None else files.parse_iso(at, what="--at")
    with files.patient_ledger(path, key_path) as (ledger_, key):
        entry = observations.observation(key, quantity, effective=effective, now=now)
        head = ledger_.append([entry], patient=key, now=now)
    click.echo(
        f"added observation {entry.id} ({quantity.code.code} {quantity.text}, measured "
        f"{format_time(effective)}) to observations[{head.trees['observations'].size - 1}]; head {head.seq}"
    )
