"""``alertsvc keys ...`` and ``alertsvc ledger ...``: the patient's command line.

Thin: each command reads the clock once (UTC), loads keys and files, calls the ledger core and prints
what it did. Every failure is an ``AlertsvcError`` (the top-level group prints it as one line on stderr
and exits 1); file-system errors are translated here. Output files are written whole or not at all and
never replace an existing file.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from alertsvc.errors import InputError
from alertsvc.ledger import actions, allergy_status, fhir, grants, observation_commands
from alertsvc.ledger import cli_files as files
from alertsvc.ledger.entries import SignedEntry, format_time, sign_entry
from alertsvc.ledger.handover import import_entries
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice, make_update, verify_slice
from alertsvc.patient_server import view_commands
from alertsvc.patient_server.serve_command import serve


def _rxcui(drug: str, given: str | None) -> str | None:
    """The RxNorm code to record for ``drug``: as given, an all-digit DRUG, else none (text only)."""
    if given:
        return given
    return drug if drug.isdigit() else None


def _append_one(ledger: Ledger, key: Identity, entry: SignedEntry, now: datetime) -> None:
    head = ledger.append([entry], patient=key, now=now)
    click.echo(
        f"added {entry.kind} {entry.id} to {entry.tree}[{head.trees[entry.tree].size - 1}]; head {head.seq}"
    )


@click.group()
def keys() -> None:
    """Make and show Ed25519 identity key files (patients, practitioners, hospitals)."""


@keys.command("new")
@click.argument("file", type=files.PathArg)
def keys_new(file: Path) -> None:
    """Create a new key file FILE (mode 0600, never overwritten) and print its public id."""
    identity = Identity.generate()
    identity.save(file)
    click.echo(identity.public_id)


@keys.command("show")
@click.argument("file", type=files.PathArg)
def keys_show(file: Path) -> None:
    """Print the public id of key file FILE (never the secret)."""
    click.echo(files.load_key(file).public_id)


@click.group()
def ledger() -> None:
    """The patient's signed health ledger: entries, grants, slices, verification."""


@ledger.command("init")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
def init(path: Path, key_path: Path) -> None:
    """Create a new, empty ledger file LEDGER owned by the patient whose key is --key."""
    key = files.load_key(key_path)
    Ledger.init(path, key, now=files.now()).close()
    click.echo(f"created ledger {path} for patient {key.public_id}")


@ledger.command("add-medication")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.argument("drug")
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
@click.option("--dose", help="Dose as text, e.g. '5 mg once daily'.")
@click.option(
    "--rxcui", help="RxNorm concept id of the drug, when known (an all-digit DRUG is taken as one)."
)
def add_medication(path: Path, drug: str, key_path: Path, dose: str | None, rxcui: str | None) -> None:
    """Record that the patient takes DRUG."""
    now = files.now()
    with files.patient_ledger(path, key_path) as (ledger_, key):
        entry = actions.medication(key, drug, dose=dose, rxcui=_rxcui(drug, rxcui), now=now)
        _append_one(ledger_, key, entry, now)


@ledger.command("stop-medication")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.argument("target", metavar="ENTRY_OR_RESOURCE_ID")
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
def stop_medication(path: Path, target: str, key_path: Path) -> None:
    """Record that an active medication (by entry id or MedicationStatement id) was stopped."""
    now = files.now()
    with files.patient_ledger(path, key_path) as (ledger_, key):
        snapshot = ledger_.read()
        active = fhir.current_medications(snapshot.trees["medications"])
        match = [m for m in active if target in (m.entry_id, m.resource_id)]
        if not match:
            raise InputError(f"no active medication with entry or resource id {target!r}")
        _, _, entry = snapshot.locate(match[0].entry_id)
        body = fhir.stopped_statement(entry.body, now=now)
        stop = sign_entry(key, kind="medication", patient=key.public_id, body=body, created=now)
        _append_one(ledger_, key, stop, now)


@ledger.command("add-allergy")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.argument("substance")
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
@click.option("--reaction", help="What happens, e.g. 'hives'.")
@click.option(
    "--criticality", type=click.Choice(["high", "low"]), help="FHIR criticality (else unable-to-assess)."
)
@click.option(
    "--category",
    type=click.Choice(fhir.ALLERGY_CATEGORIES),
    help="FHIR category (default: food, environment or biologic when the name says so, else medication).",
)
def add_allergy(
    path: Path,
    substance: str,
    key_path: Path,
    reaction: str | None,
    criticality: str | None,
    category: str | None,
) -> None:
    """Record an allergy to SUBSTANCE."""
    now = files.now()
    with files.patient_ledger(path, key_path) as (ledger_, key):
        entry = actions.allergy(
            key,
            substance,
            reaction=reaction,
            criticality=criticality or "unable-to-assess",
            rxcui=substance if substance.isdigit() else None,
            category=category,
            now=now,
        )
        _append_one(ledger_, key, entry, now)


@ledger.command("assert-no-allergies")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
def assert_no_allergies(path: Path, key_path: Path) -> None:
    """Sign "no known drug allergies" (SNOMED CT 409137002); refused while LEDGER records allergies."""
    now = files.now()
    with files.patient_ledger(path, key_path) as (ledger_, key):
        _append_one(ledger_, key, allergy_status.no_known_allergies(key, now=now), now)


@ledger.command("flag-reaction")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.argument("drug")
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The key file of who flags it.")
@click.option("--reaction", required=True, help="What happened, e.g. 'swollen lips'.")
@click.option("--severity", type=click.Choice(fhir.SEVERITIES), help="How bad it was.")
@click.option("--observed", metavar="ISO", help="When it was observed (default: now).")
def flag_reaction(
    path: Path, drug: str, key_path: Path, reaction: str, severity: str | None, observed: str | None
) -> None:
    """Flag a bad reaction to DRUG, so it is never given again unnoticed."""
    now = files.now()
    with files.patient_ledger(path, key_path) as (ledger_, key):
        entry = actions.flagged_reaction(
            key,
            drug,
            reaction=reaction,
            severity=severity,
            observed=None if observed is None else files.parse_iso(observed, what="--observed"),
            rxcui=_rxcui(drug, None),
            now=now,
        )
        _append_one(ledger_, key, entry, now)


@ledger.command("grant")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
@click.option("--to", "grantee", required=True, metavar="ID", help="Grantee public id (ed25519:...).")
@click.option(
    "--scope", required=True, help="Trees to share: medications,allergies,reactions[,observations]."
)
@click.option("--write", "write_scope", default="", help="Trees the grantee's practitioners may write to.")
@click.option(
    "--hours", required=True, type=click.FloatRange(min=0, min_open=True), help="How long it lasts."
)
@click.option("--not-before", metavar="ISO", help="When it starts (default: now).")
@click.option("--purpose", default=grants.DEFAULT_PURPOSE, show_default=True, help="Why access is granted.")
@click.option("--out", required=True, type=files.PathArg, help="Grant file to write (names the grant id).")
def grant(
    path: Path,
    key_path: Path,
    grantee: str,
    scope: str,
    write_scope: str,
    hours: float,
    not_before: str | None,
    purpose: str,
    out: Path,
) -> None:
    """Grant --to access to --scope of LEDGER for --hours; write the grant file --out."""
    now = files.now()
    start = now if not_before is None else files.parse_iso(not_before, what="--not-before")
    with files.patient_ledger(path, key_path) as (ledger_, key):
        entry = grants.new_grant(
            key,
            grantee=grantee,
            scope=grants.parse_scope(scope, what="--scope"),
            write_scope=grants.parse_scope(write_scope, what="--write"),
            not_before=start,
            hours=hours,
            now=now,
            purpose=purpose,
        )
        terms = grants.read_grant(entry)
        document = {
            "type": files.GRANT_FILE_TYPE,
            "v": 1,
            "grant": terms.id,
            "patient": terms.patient,
            "grantee": terms.grantee,
            "scope": sorted(terms.scope),
            "write": sorted(terms.write_scope),
            "not_before": format_time(terms.not_before),
            "expires_at": format_time(terms.expires_at),
            "purpose": terms.purpose,
            "ledger": str(path.resolve()),
        }
        with files.new_file(out) as handle:
            handle.write((json.dumps(document, indent=2) + "\n").encode())
            _append_one(ledger_, key, entry, now)
    click.echo(f"grant {terms.id} for {terms.grantee} until {format_time(terms.expires_at)} -> {out}")


@ledger.command("revoke")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.argument("grant_ref", metavar="GRANT_ID")
@click.option("--key", "key_path", required=True, type=files.PathArg, help="The patient's key file.")
def revoke(path: Path, grant_ref: str, key_path: Path) -> None:
    """End grant GRANT_ID (or the grant in a grant file) now."""
    now = files.now()
    grant_id = files.grant_id(grant_ref)
    with files.patient_ledger(path, key_path) as (ledger_, key):
        snapshot = ledger_.read()
        terms = snapshot.grants().get(grant_id)
        if terms is None:
            raise InputError(f"no grant {grant_id} in ledger {path}")
        _append_one(ledger_, key, grants.new_revocation(key, terms, now=now), now)


@ledger.command("slice")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
@click.option("--grant", "grant_ref", required=True, metavar="GRANT", help="Grant file or grant id.")
@click.option(
    "--since",
    type=click.IntRange(min=0),
    metavar="HEAD",
    help="Write an update instead: entries added since head HEAD (the last head the grantee accepted).",
)
@click.option("--out", required=True, type=files.PathArg, help="Slice (or update) file to write.")
def slice_(path: Path, grant_ref: str, since: int | None, out: Path) -> None:
    """Write the slice of LEDGER that grant GRANT covers, with the proofs the grantee needs.

    With --since HEAD, write an update: the new entries and consistency proofs from head HEAD.
    """
    now = files.now()
    grant_id = files.grant_id(grant_ref)
    with Ledger.open(path) as ledger_:
        snapshot = ledger_.read()
        data = (
            make_slice(snapshot, grant_id, now=now)
            if since is None
            else make_update(snapshot, grant_id, since)
        )
    with files.new_file(out) as handle:
        handle.write(data)
    what = "slice" if since is None else f"update since head {since}"
    click.echo(f"{what} for grant {grant_id} -> {out} ({len(data)} bytes)")


@ledger.command("verify-slice")
@click.argument("path", metavar="SLICE", type=files.PathArg)
@click.option("--patient", metavar="ID", help="The patient the slice must belong to.")
@click.option("--grantee", metavar="ID", help="The grantee the grant must name.")
def verify_slice_command(path: Path, patient: str | None, grantee: str | None) -> None:
    """Exit 0 when SLICE is authentic, complete and in scope of a current grant; print what it holds."""
    result = verify_slice(
        files.read_file(path, what="slice"), patient=patient, now=files.now(), grantee=grantee
    )
    counts = ", ".join(f"{tree} {len(entries)}" for tree, entries in result.entries.items())
    click.echo(f"slice OK: patient {result.patient}, head {result.head.seq}, grant {result.grant.id}")
    click.echo(f"grantee {result.grant.grantee} until {format_time(result.grant.expires_at)}; {counts}")
    for m in result.medications:
        click.echo(f"  medication {m.drug}" + (f" ({m.dose})" if m.dose else ""))
    for a in result.allergies:
        click.echo(f"  allergy {a.substance} ({a.criticality})")
    click.echo(f"  {allergy_status.allergy_status(result.entries, result.grant).label}")
    for r in result.reactions:
        click.echo(f"  flagged reaction to {r.drug}: {r.reaction} ({r.severity or 'severity unknown'})")
    for o in result.observations:
        click.echo(f"  observation {o.quantity.text} (LOINC {o.code}), measured {format_time(o.effective)}")


@ledger.command("verify")
@click.argument("path", metavar="LEDGER", type=files.PathArg)
def verify(path: Path) -> None:
    """Exit 0 when LEDGER is intact; otherwise exit 1 naming the first bad entry."""
    with Ledger.open(path) as ledger_:
        snapshot = ledger_.verify()
    total = sum(len(entries) for entries in snapshot.trees.values())
    click.echo(f"ledger OK: patient {snapshot.patient}, {total} entries, heads 0..{snapshot.latest.seq}")


ledger.add_command(view_commands.show)
ledger.add_command(view_commands.export)
ledger.add_command(view_commands.import_)
ledger.add_command(serve)
ledger.add_command(observation_commands.add_observation)
ledger.add_command(import_entries)
