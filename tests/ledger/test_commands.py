"""The command line: the whole patient flow, and bad input giving one line on stderr and no change."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from alertsvc.cli import main
from alertsvc.patient_server import walkthrough
from alertsvc.patient_server.commands import keys, ledger
from tests.ledger.conftest import file_hash, run_cli


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def ok(*args: str | Path) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("group", [pytest.param(keys, id="keys"), pytest.param(ledger, id="ledger")])
def test_every_command_has_help_text(group: click.Group) -> None:
    for name, command in group.commands.items():
        assert command.help, f"{group.name} {name} has no help text"
        assert cli(group.name or "", name, "--help").exit_code == 0


@pytest.fixture
def patient_setup(tmp_path: Path) -> dict[str, Path | str]:
    patient_id = ok("keys", "new", tmp_path / "patient.key").strip()
    hospital_id = ok("keys", "new", tmp_path / "hospital.key").strip()
    book = tmp_path / "patient.ledger"
    ok("ledger", "init", book, "--key", tmp_path / "patient.key")
    ok("ledger", "add-medication", book, "--key", tmp_path / "patient.key", "warfarin", "--dose", "5 mg")
    ok("ledger", "add-medication", book, "--key", tmp_path / "patient.key", "5640")
    ok(
        "ledger",
        "add-allergy",
        book,
        "--key",
        tmp_path / "patient.key",
        "penicillin",
        "--criticality",
        "high",
    )
    ok("ledger", "flag-reaction", book, "--key", tmp_path / "patient.key", "codeine", "--reaction", "rash")
    return {
        "dir": tmp_path,
        "key": tmp_path / "patient.key",
        "ledger": book,
        "patient": patient_id,
        "hospital": hospital_id,
    }


def test_the_patient_flow_from_keys_to_a_verified_slice(patient_setup: dict[str, Path | str]) -> None:
    d, key, book = Path(patient_setup["dir"]), patient_setup["key"], patient_setup["ledger"]
    patient, hospital = str(patient_setup["patient"]), str(patient_setup["hospital"])
    assert ok("keys", "show", key).strip() == patient
    ok("ledger", "grant", book, "--key", key, "--to", hospital, "--scope", "medications,reactions",
       "--hours", "48", "--out", d / "grant.json")  # fmt: skip
    grant = json.loads((d / "grant.json").read_text())
    assert (grant["grantee"], grant["scope"], grant["patient"]) == (
        hospital,
        ["medications", "reactions"],
        patient,
    )
    ok("ledger", "slice", book, "--grant", d / "grant.json", "--out", d / "slice.json")
    out = ok("ledger", "verify-slice", d / "slice.json", "--patient", patient, "--grantee", hospital)
    assert "slice OK" in out and "warfarin (5 mg)" in out and "codeine: rash" in out
    assert "penicillin" not in out
    assert "ledger OK" in ok("ledger", "verify", book)
    shown = json.loads(ok("ledger", "show", book, "--json"))
    assert {e["signed_by"] for e in shown["entries"]} == {"patient"}
    assert [e["kind"] for e in shown["entries"]].count("medication") == 2
    ok("ledger", "stop-medication", book, "--key", key, shown["entries"][0]["id"])
    ok("ledger", "slice", book, "--grant", grant["grant"], "--out", d / "slice2.json")
    assert "warfarin" not in ok("ledger", "verify-slice", d / "slice2.json")
    ok("ledger", "revoke", book, "--key", key, grant["grant"])
    refused = cli("ledger", "slice", book, "--grant", d / "grant.json", "--out", d / "slice3.json")
    assert refused.exit_code == 1 and "revoked" in refused.stderr
    assert not (d / "slice3.json").exists()


@pytest.mark.parametrize("fmt", ["json", "fhir"])
def test_export_and_import_through_the_command_line(patient_setup: dict[str, Path | str], fmt: str) -> None:
    d, book = Path(patient_setup["dir"]), patient_setup["ledger"]
    ok("ledger", "export", book, "--out", d / f"export.{fmt}", "--format", fmt)
    ok("ledger", "import", d / f"export.{fmt}", "--out", d / "copy.ledger")
    assert ok("ledger", "show", d / "copy.ledger").replace("copy.ledger", "patient.ledger") == ok(
        "ledger", "show", book
    )


def test_keys_new_never_overwrites(tmp_path: Path) -> None:
    ok("keys", "new", tmp_path / "a.key")
    before = file_hash(tmp_path / "a.key")
    result = cli("keys", "new", tmp_path / "a.key")
    assert result.exit_code == 1 and "refusing to overwrite" in result.stderr
    assert file_hash(tmp_path / "a.key") == before


def _bad_input_cases(d: Path, book: Path, key: Path) -> dict[str, list[str | Path]]:
    (d / "bad-slice.json").write_text('{"type": "alertsvc-slice", "v": 1, "v": 2}')
    (d / "bad-grant.json").write_text("{not json")
    (d / "notes.txt").write_text("shopping list")
    (d / "notes.txt").chmod(0o600)
    grant_args: list[str | Path] = ["ledger", "grant", book, "--key", key, "--to", "ed25519:x", "--scope"]
    return {
        "malformed-slice": ["ledger", "verify-slice", d / "bad-slice.json"],
        "malformed-grant-file": [
            "ledger",
            "slice",
            book,
            "--grant",
            d / "bad-grant.json",
            "--out",
            d / "s.json",
        ],
        "another-patients-key": ["ledger", "add-medication", book, "--key", d / "hospital.key", "x"],
        "not-a-key-file": ["ledger", "add-allergy", book, "--key", d / "notes.txt", "x"],
        "missing-key-file": ["ledger", "add-allergy", book, "--key", d / "nope.key", "x"],
        "missing-ledger": ["ledger", "verify", d / "nope.ledger"],
        "unknown-scope": [*grant_args, "labs", "--hours", "1", "--out", d / "g.json"],
        "bad-grantee": [*grant_args, "medications", "--hours", "1", "--out", d / "g.json"],
        "unknown-grant": ["ledger", "revoke", book, "--key", key, "sha256:" + "0" * 64],
        "stop-unknown-medication": ["ledger", "stop-medication", book, "--key", key, "nothing"],
    }


def test_bad_input_gives_one_line_on_stderr_and_leaves_the_ledger_alone(
    patient_setup: dict[str, Path | str],
) -> None:
    d, book, key = Path(patient_setup["dir"]), Path(patient_setup["ledger"]), Path(patient_setup["key"])
    cases = _bad_input_cases(d, book, key)
    before = file_hash(book)
    subprocess_cases = {"malformed-slice", "another-patients-key", "not-a-key-file", "missing-ledger"}
    for name, args in cases.items():
        if name in subprocess_cases:
            done = run_cli(*args, cwd=d)
            code, stderr = done.returncode, done.stderr
        else:
            result = cli(*args)
            code, stderr = result.exit_code, result.stderr
        assert code != 0, name
        assert len(stderr.strip().splitlines()) == 1, (name, stderr)
        assert stderr.startswith("Error: ") and "Traceback" not in stderr, (name, stderr)
        assert file_hash(book) == before, name
    assert not (d / "g.json").exists() and not (d / "s.json").exists()
    assert not (d / "nope.ledger").exists()


def test_the_demo_walks_through_the_ledger_and_shows_tampering_caught(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert walkthrough.main() == 0
    out = capsys.readouterr().out
    assert "slice OK" in out and "ledger OK" in out
    assert "refused, exit status 1: medications[0]" in out
