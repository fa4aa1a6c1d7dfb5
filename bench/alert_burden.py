"""Alert burden on Synthea patients: how many alerts each would raise on the ward, and how many interrupt.

For each Synthea FHIR bundle, the MedicationRequests (the active ones, and separately all of them, stopped
included, as an imported history would bring them) are normalised by their RxNorm coding (the code, then
its display: ``Normalizer.resolve_coding``) against the committed ``data/`` (offline, no RxNav) and
checked as the ward checks an admission whose MAR holds them: each request is one scheduled dose (a day
apart, so that no dose is "too soon" after another), the patient's own ledger is empty. The findings
(``patient_data.admission_findings``: the pure check, plus an ``unchecked`` finding for each drug that did
not resolve) become alerts (``alerts.reconcile.plan``: deduplicated, bound to doses), and the alerts'
claims are counted: ``interruptive`` is what the alert claims (critical, or ``unchecked`` bound to a dose).

A development tool, not part of the service: neither tests nor the service import it, and it reads only
the files named on its command line (and ``data/``).

    .venv/bin/python -m bench.alert_burden --synthea ../shared/data/synthea [--data data] [--details]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alertsvc.alerts.build import AdmissionRef, Alert
from alertsvc.alerts.reconcile import plan
from alertsvc.config import Settings
from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import RXNORM_SYSTEM, Resolution
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.patient_data import ClinicalInputs, admission_findings
from alertsvc.schedule.mar import ScheduledDose
from alertsvc.schedule.shifts import Ward

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
WARD = Ward(id="bench", name="bench", timezone="UTC")
LEAD = timedelta(minutes=60)
COLUMNS = ("medications", "unresolved", "interruptive", "critical", "major", "moderate")


@dataclass(frozen=True)
class Burden:
    """One patient's figures for one set of MedicationRequests."""

    patient: str
    medications: int
    unresolved: tuple[str, ...]
    alerts: tuple[Alert, ...]

    def row(self) -> dict[str, int]:
        severities = Counter(a.finding.severity for a in self.alerts)
        interruptive = sum(bool(a.claims()["interruptive"]) for a in self.alerts)
        return {
            "medications": self.medications,
            "unresolved": len(self.unresolved),
            "interruptive": interruptive,
            "critical": severities["critical"],
            "major": severities["major"],
            "moderate": severities["moderate"],
        }


def requests_of(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    resources = (e.get("resource") for e in entries if isinstance(e, dict))
    return [r for r in resources if isinstance(r, dict) and r.get("resourceType") == "MedicationRequest"]


def resolve(normalizer: Normalizer, request: dict[str, Any]) -> tuple[str, Resolution]:
    """The drug as written (RxNorm display, else text) and its resolution: by RxNorm code, then display."""
    concept = request.get("medicationCodeableConcept") or {}
    text = str(concept.get("text") or "")
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") == RXNORM_SYSTEM and coding.get("code"):
            display = str(coding.get("display") or text)
            return display or str(coding["code"]), normalizer.resolve_coding(
                RXNORM_SYSTEM, str(coding["code"]), display
            )
    return text, normalizer.resolve(text) if text else Resolution("", (), unresolved="names no drug")


def burden(
    patient: str, requests: Sequence[dict[str, Any]], normalizer: Normalizer, graph: InteractionGraph
) -> Burden:
    """The alerts the ward would show if ``requests`` were this patient's scheduled doses."""
    doses, unresolved = [], []
    for i, request in enumerate(requests):
        drug, found = resolve(normalizer, request)
        if found.unresolved is not None:
            unresolved.append(f"{drug} ({found.unresolved})")
        doses.append(
            ScheduledDose(
                id=f"dose-{i}",
                admission="bench",
                ward=WARD.id,
                drug=drug,
                ingredients=found.ingredients if found.unresolved is None else (),
                dose="",
                route=found.route,
                due=NOW + timedelta(days=i + 1),
            )
        )
    findings = admission_findings(ClinicalInputs((), (), ()), doses, WARD, graph, now=NOW)
    ids = (f"alert-{n}" for n in itertools.count(1))
    changes = plan(
        AdmissionRef("bench", WARD.id, "1", patient, NOW + timedelta(days=len(doses) + 2)),
        findings,
        doses,
        [],
        flagged_by={},
        now=NOW,
        lead=LEAD,
        new_id=lambda: next(ids),
    )
    return Burden(patient, len(requests), tuple(unresolved), tuple(a for a, _ in changes.upserts))


def table(title: str, burdens: Sequence[Burden]) -> Iterator[str]:
    width = max([len("patient"), *(len(b.patient) for b in burdens)])
    yield f"{title}"
    yield f"| {'patient':<{width}} | " + " | ".join(COLUMNS) + " |"
    yield f"|{'-' * (width + 2)}|" + "|".join("-" * (len(c) + 2) for c in COLUMNS) + "|"
    totals: Counter[str] = Counter()
    for b in burdens:
        row = b.row()
        totals.update(row)
        yield f"| {b.patient:<{width}} | " + " | ".join(f"{row[c]:>{len(c)}}" for c in COLUMNS) + " |"
    yield f"| {'total':<{width}} | " + " | ".join(f"{totals[c]:>{len(c)}}" for c in COLUMNS) + " |"


def details(burdens: Sequence[Burden]) -> Iterator[str]:
    for b in burdens:
        for term in b.unresolved:
            yield f"  {b.patient}: unresolved {term}"
        for alert in b.alerts:
            claims = alert.claims()
            mark = "interruptive" if claims["interruptive"] else "shown"
            yield f"  {b.patient}: {mark} {claims['severity']} {claims['kind']}: {claims['summary']}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alert_burden", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--synthea", type=Path, required=True, help="folder of Synthea FHIR R4 bundles (*.json)"
    )
    parser.add_argument(
        "--data", type=Path, default=Settings().data_dir, help="knowledge files (default: data/)"
    )
    parser.add_argument("--details", action="store_true", help="also list unresolved drugs and every alert")
    args = parser.parse_args(argv)
    knowledge = knowledge_files.load(args.data)
    graph = build_graph(knowledge)
    normalizer = Normalizer(knowledge)
    bundles = sorted(p for p in args.synthea.glob("*.json") if p.is_file())
    if not bundles:
        parser.error(f"no *.json bundles in {args.synthea}")
    active, everything = [], []
    for path in bundles:
        requests = requests_of(json.loads(path.read_text(encoding="utf-8")))
        patient = "_".join(path.stem.split("_")[:2])  # "Given_Family" without the uuid
        active.append(
            burden(patient, [r for r in requests if r.get("status") == "active"], normalizer, graph)
        )
        everything.append(burden(patient, requests, normalizer, graph))
    print(f"knowledge {knowledge.version}; {len(bundles)} Synthea bundles from {args.synthea}")
    print("each MedicationRequest scheduled as a dose; interruptive = critical, or unchecked bound to a dose")
    for title, burdens in (("active MedicationRequests", active), ("all MedicationRequests", everything)):
        print()
        for line in table(title, burdens):
            print(line)
        if args.details:
            for line in details(burdens):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
