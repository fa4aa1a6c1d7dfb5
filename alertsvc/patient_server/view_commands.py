"""``ledger show``, ``ledger export`` and ``ledger import``: reading a ledger out, and a verified copy in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from alertsvc.config import Settings
from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.codings import rxnorm_coder
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger import cli_files as files
from alertsvc.ledger import fhir, grants
from alertsvc.ledger.entries import SignedEntry, format_time
from alertsvc.ledger.exchange import export_fhir, export_json, import_ledger
from alertsvc.ledger.fhir_export import Coder
from alertsvc.ledger.log import Ledger, LedgerSnapshot


def _signer(snapshot: LedgerSnapshot, entry: SignedEntry) -> str:
    return (
        "patient"
        if entry.author == snapshot.patient
        else f"practitioner {entry.author} (grant {entry.grant})"
    )


@click.command("show")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show(path: Path, as_json: bool) -> None:
    """List the verified entries of LEDGER and who signed each."""
    with Ledger.open(path) as ledger_:
        snapshot = ledger_.read()
    rows = [
        {
            "tree": tree,
            "index": index,
            "id": entry.id,
            "kind": entry.kind,
            "created": format_time(entry.created),
            "author": entry.author,
            "signed_by": "patient" if entry.author == snapshot.patient else "practitioner",
            "grant": entry.grant,
            "body": entry.body,
        }
        for tree, entries in snapshot.trees.items()
        for index, entry in enumerate(entries)
    ]
    if as_json:
        document = {"patient": snapshot.patient, "head": snapshot.latest.summary(), "entries": rows}
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(f"ledger {path}: patient {snapshot.patient}, head {snapshot.latest.seq}")
    for tree, entries in snapshot.trees.items():
        for index, entry in enumerate(entries):
            click.echo(f"{tree}[{index}] {format_time(entry.created)} {entry.kind} {_describe(entry)}")
            click.echo(f"    {entry.id} signed by {_signer(snapshot, entry)}")


def _describe(entry: SignedEntry) -> str:
    if entry.kind == "grant":
        g = grants.read_grant(entry)
        return f"to {g.grantee}: {','.join(sorted(g.scope))} until {format_time(g.expires_at)}"
    if entry.kind == "revocation":
        return f"ends grant {grants.read_revocation(entry).grant_id}"
    item = fhir.read_clinical(entry)
    if isinstance(item, fhir.Medication):
        return f"{item.drug} [{item.status}]" + (f" {item.dose}" if item.dose else "")
    if isinstance(item, fhir.Allergy) and item.no_known:
        return "no known drug allergies (SNOMED CT 409137002)"
    if isinstance(item, fhir.Allergy):
        return f"{item.substance} ({item.category}, criticality {item.criticality})"
    if isinstance(item, fhir.Reaction):
        return f"{item.drug}: {item.reaction} ({item.severity or 'severity unknown'})"
    return f"{item.quantity.text} (LOINC {item.code}), measured {format_time(item.effective)}"


@click.command("export")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.option("--out", required=True, type=files.PathArg, help="Export file to write.")
@click.option("--format", "fmt", type=click.Choice(["json", "fhir"]), default="json", show_default=True)
@click.option(
    "--rxnorm/--no-rxnorm",
    default=True,
    show_default=True,
    help="FHIR: add RxNorm codings the offline knowledge (ALERTSVC_DATA_DIR or data/) reads from drug names.",
)
def export(path: Path, out: Path, fmt: str, rxnorm: bool) -> None:
    """Export the verified LEDGER as portable JSON or as a FHIR R4 Bundle."""
    with Ledger.open(path) as ledger_:
        snapshot = ledger_.read()
    data = (
        export_fhir(snapshot, coder=_coder() if rxnorm else None) if fmt == "fhir" else export_json(snapshot)
    )
    with files.new_file(out) as handle:
        handle.write(data)
    click.echo(f"exported {path} ({fmt}, heads 0..{snapshot.latest.seq}) -> {out}")


def _coder() -> Coder:
    """RxNorm codings from the offline knowledge only (no RxNav: an export names no drug to the network)."""
    settings = Settings.from_env(os.environ)
    return rxnorm_coder(Normalizer(kb_files.load(settings.data_dir)))


@click.command("import")
@click.argument("file", type=files.PathArg)
@click.option("--out", required=True, type=files.PathArg, help="New ledger file to create.")
def import_(file: Path, out: Path) -> None:
    """Verify an export FILE (JSON or FHIR) completely, then write it as a new ledger --out."""
    snapshot = import_ledger(files.read_file(file, what="export"), out)
    click.echo(f"imported ledger of patient {snapshot.patient} (heads 0..{snapshot.latest.seq}) -> {out}")
