"""``alertsvc check``: check drugs against each other, documented allergies and flagged reactions.

A thin adapter: load the knowledge from ``settings.data_dir``, build the graph, normalise each term with
the offline :class:`~alertsvc.knowledge.terminology.Normalizer`, run the pure
:func:`~alertsvc.knowledge.check.check` and print the findings. A term that does not resolve is listed
under ``unresolved`` (never dropped) and makes the exit status 1.

``--observation "INR=4.2"`` (also ``potassium=5.6 mmol/L``, ``eGFR=25 mL/min/1.73m2``, ``QTc=520 ms``,
a LOINC code instead of the name, and ``@TIME`` for when it was measured; default now) adds the
observation modifiers of :mod:`alertsvc.knowledge.observations`. A bad one (unknown name or LOINC code,
missing or wrong unit) is refused with the reason before anything is checked.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import click

from alertsvc.config import Settings
from alertsvc.errors import InputError, TerminologyUnavailable, UnknownDrug
from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.check import check as check_findings
from alertsvc.knowledge.display import LOCALES, US, display_table, localise_all, with_notes
from alertsvc.knowledge.graph import build_graph
from alertsvc.knowledge.model import Allergy, Finding, FlaggedReaction, Medication
from alertsvc.knowledge.observations import LabValue, latest
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.lab_values import lab_value
from alertsvc.ledger import observations as ledger_observations
from alertsvc.ledger.cli_files import parse_iso
from alertsvc.ledger.entries import format_time

UNRESOLVED_EXIT = 1
_OBSERVATION = re.compile(
    r"\s*(?P<name>[^=]+?)\s*=\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+))\s*(?P<unit>[^@]*?)\s*(?:@\s*(?P<at>\S+))?\s*"
)


@dataclass
class _Inputs:
    medications: list[Medication] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)
    flagged: list[FlaggedReaction] = field(default_factory=list)
    unresolved: list[dict[str, str]] = field(default_factory=list)


@click.command("check")
@click.option(
    "--drug",
    "drugs",
    multiple=True,
    required=True,
    metavar="D",
    help="A drug the patient takes: name, brand, product or ingredient RxCUI, or NDC. Repeat.",
)
@click.option(
    "--allergy",
    "allergies",
    multiple=True,
    metavar="A",
    help="A documented allergy: a drug, ingredient or allergen group. Repeat.",
)
@click.option(
    "--flag",
    "flags",
    multiple=True,
    metavar="D",
    help="A drug the patient flagged a bad reaction to. Repeat.",
)
@click.option(
    "--observation",
    "observations",
    multiple=True,
    metavar="NAME=VALUE [UNIT][@TIME]",
    help="A measured value to modify the check: INR=4.2, potassium=5.6 mmol/L, eGFR=25 mL/min/1.73m2, "
    "creatinine=1.8 mg/dL, QTc=520 ms (a LOINC code may stand for the name; @TIME: when measured, default "
    "now). Repeat.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--locale",
    type=click.Choice(LOCALES),
    default=US,
    show_default=True,
    help="Drug names to write findings in: en-US (RxNorm's) or en-GB (the BNF's: paracetamol, ...).",
)
@click.pass_context
def check(
    ctx: click.Context,
    drugs: tuple[str, ...],
    allergies: tuple[str, ...],
    flags: tuple[str, ...],
    observations: tuple[str, ...],
    as_json: bool,
    locale: str,
) -> None:
    """Check drugs against each other, allergies, flagged reactions and observations; exit 1 if a term
    does not resolve."""
    now = datetime.now(UTC)
    values = [parse_observation(text, number=n, now=now) for n, text in enumerate(observations, start=1)]
    settings = Settings.from_env(os.environ)
    kb = knowledge_files.load(settings.data_dir)
    graph = build_graph(kb)
    inputs = _normalise(Normalizer(kb), drugs, allergies, flags)
    findings = check_findings(
        inputs.medications, inputs.allergies, inputs.flagged, graph, observations=values, now=now
    )
    findings = with_notes(findings, [*inputs.medications, *inputs.flagged])  # "read 'x' as y"
    findings = localise_all(findings, display_table(kb.display_names, locale))
    listed = observations_json(values, now=now)
    if as_json:
        document = to_json(findings, inputs.unresolved) | ({"observations": listed} if values else {})
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(to_table(findings, inputs.unresolved, graph.version))
        for item in listed:
            click.echo(f"observation: {item['text']} measured {item['measured']} ({item['status']})")
    if inputs.unresolved:
        ctx.exit(UNRESOLVED_EXIT)


def _normalise(
    normalizer: Normalizer, drugs: Sequence[str], allergies: Sequence[str], flags: Sequence[str]
) -> _Inputs:
    inputs = _Inputs()
    for number, term in enumerate(drugs, start=1):
        try:
            inputs.medications.append(normalizer.medication(term, ref=f"drug {number}: {term}"))
        except (UnknownDrug, TerminologyUnavailable) as exc:
            inputs.unresolved.append({"term": term, "reason": str(exc)})
    for term in allergies:
        try:
            inputs.allergies.append(normalizer.resolve_allergy(term))
        except (UnknownDrug, TerminologyUnavailable) as exc:
            inputs.unresolved.append({"term": term, "reason": str(exc)})
    for number, term in enumerate(flags, start=1):
        resolution = normalizer.resolve(term)
        if resolution.unresolved is not None or not resolution.ingredients:
            reason = resolution.unresolved or "resolves to no ingredient"
            inputs.unresolved.append({"term": term, "reason": reason})
            continue
        inputs.flagged.append(
            FlaggedReaction(
                term, resolution.ingredients, reaction="", ref=f"flag {number}: {term}", note=resolution.note
            )
        )
    return inputs


def parse_observation(text: str, *, number: int, now: datetime) -> LabValue:
    """``"INR=4.2"``, ``"potassium=5.6 mmol/L@2026-12-04T08:00:00Z"`` -> a checked value (InputError naming
    the option and what was wrong otherwise)."""
    what = f"--observation {text!r}"
    match = _OBSERVATION.fullmatch(text)
    if match is None:
        raise InputError(f"{what}: write NAME=VALUE [UNIT][@TIME], e.g. INR=4.2 or potassium=5.6 mmol/L")
    try:
        quantity = ledger_observations.resolve(match["name"], float(match["value"]), match["unit"] or None)
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from exc
    measured = now if match["at"] is None else parse_iso(match["at"], what=what)
    if measured > now:
        raise InputError(f"{what}: measured {format_time(measured)}, after now")
    return lab_value(quantity, measured=measured, ref=f"observation {number}: {text}")


def observations_json(values: Sequence[LabValue], *, now: datetime) -> list[dict[str, Any]]:
    """Each analyte's latest value, and whether it was used (current) or is too old (stale)."""
    found = latest(values, now=now)
    return [
        {
            "code": value.code,
            "name": value.name,
            "value": value.value,
            "unit": value.unit,
            "text": value.text,
            "measured": format_time(value.measured),
            "status": status,
        }
        for status, group in (("current", found.current), ("stale", found.stale))
        for value in group.values()
    ]


def finding_to_json(finding: Finding) -> dict[str, Any]:
    """One finding as docs/design.md ("Severity tiers") shapes ``check --json``, with its evidence path
    and the knowledge version."""
    return {
        "kind": finding.kind,
        "severity": finding.severity,
        "indicator": finding.indicator,
        "interruptive": finding.interruptive,
        "ingredients": [{"rxcui": i.rxcui, "name": i.name} for i in finding.ingredients],
        "summary": finding.summary,
        "mechanism": finding.mechanism,
        "management": finding.management,
        "rule": finding.rule,
        "sources": list(finding.sources),
        "evidence": list(finding.evidence),
        "knowledge_version": finding.knowledge_version,
        "ratings": [asdict(rating) for rating in finding.ratings],  # {"source", "rule", "severity", "rating"}
    }


def to_json(findings: Sequence[Finding], unresolved: Sequence[dict[str, str]]) -> dict[str, Any]:
    """``{"findings": [...], "unresolved": [{"term", "reason"}]}``."""
    return {"findings": [finding_to_json(f) for f in findings], "unresolved": list(unresolved)}


def to_table(findings: Sequence[Finding], unresolved: Sequence[dict[str, str]], version: str) -> str:
    """A readable table: one line per finding, then the terms that did not resolve."""
    rows = [("SEVERITY", "KIND", "SUMMARY", "RULE")]
    rows += [(f.severity, f.kind, f.summary, f.rule) for f in findings]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)), row[3]]) for row in rows]
    if not findings:
        lines = ["No findings."]
    lines += [f"unresolved: {u['term']!r}: {u['reason']}" for u in unresolved]
    lines.append(f"knowledge {version}")
    return "\n".join(lines)
