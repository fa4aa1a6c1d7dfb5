"""`python -m alertsvc.patient_server.walkthrough`: the patient's ledger, step by step, with the real
command line.

The patient makes a key and a ledger, records medications and an allergy, flags a bad reaction, grants
the hospital 72 hours of access, and hands over a slice that the hospital verifies.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import click

from alertsvc import __version__
from alertsvc.cli import main as cli
from alertsvc.ledger.identity import Identity


def _run(*args: str) -> None:
    print(f"\n$ alertsvc {' '.join(repr(a) if ' ' in a else a for a in args)}", flush=True)
    cli.main(list(args), prog_name="alertsvc", standalone_mode=False)


def _public_id(key_file: str) -> str:
    return Identity.load(Path(key_file)).public_id


def _tamper_and_verify() -> None:
    """Copy the ledger, change one letter of one signed entry behind its back, and let verify catch it."""
    shutil.copyfile("patient.ledger", "tampered.ledger")
    with contextlib.closing(sqlite3.connect("tampered.ledger")) as conn, conn:
        (payload,) = conn.execute(
            "SELECT payload FROM entries WHERE tree = 'medications' AND idx = 0"
        ).fetchone()
        altered = bytes(payload).replace(b"5 mg", b"50 mg")
        conn.execute("UPDATE entries SET payload = ? WHERE tree = 'medications' AND idx = 0", (altered,))
    print("\n(someone edits the warfarin dose in a copy of the ledger file: 5 mg -> 50 mg)")
    try:
        _run("ledger", "verify", "tampered.ledger")
    except click.ClickException as exc:  # the command line's form of every AlertsvcError
        print(f"refused, exit status {exc.exit_code}: {exc.message}")


def main() -> int:
    print(f"alertsvc {__version__}: the patient's signed health ledger, end to end.")
    with tempfile.TemporaryDirectory(prefix="alertsvc-demo-") as folder:
        print(f"(working in {folder}; it is removed afterwards)")
        with contextlib.chdir(folder):
            _run("keys", "new", "patient.key")
            _run("keys", "new", "hospital.key")
            hospital = _public_id("hospital.key")
            _run("ledger", "init", "patient.ledger", "--key", "patient.key")
            _run("ledger", "add-medication", "patient.ledger", "--key", "patient.key", "warfarin",
                 "--rxcui", "11289", "--dose", "5 mg once daily")  # fmt: skip
            _run(
                "ledger",
                "add-medication",
                "patient.ledger",
                "--key",
                "patient.key",
                "5640",
                "--dose",
                "400 mg",
            )
            _run("ledger", "add-allergy", "patient.ledger", "--key", "patient.key", "penicillin",
                 "--reaction", "hives", "--criticality", "high")  # fmt: skip
            _run("ledger", "flag-reaction", "patient.ledger", "--key", "patient.key", "codeine",
                 "--reaction", "swollen lips", "--severity", "severe")  # fmt: skip
            scope = "medications,allergies,reactions"
            _run("ledger", "grant", "patient.ledger", "--key", "patient.key", "--to", hospital,
                 "--scope", scope, "--hours", "72", "--out", "grant.json")  # fmt: skip
            _run("ledger", "slice", "patient.ledger", "--grant", "grant.json", "--out", "slice.json")
            _run("ledger", "verify-slice", "slice.json", "--grantee", hospital)
            _run("ledger", "verify", "patient.ledger")
            _run("ledger", "show", "patient.ledger")
            _tamper_and_verify()
            print(f"\nledger file: {os.path.getsize('patient.ledger')} bytes; slice: "
                  f"{os.path.getsize('slice.json')} bytes")  # fmt: skip
    print("\nNext: the hospital service checks the slice for interactions and alerts every shift.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
