"""``alertsvc knowledge build``: public-source files in, the project's ``data/`` and ``data/SOURCES.md`` out.

The terminology comes from ``terms_build``; classes, allergen groups and rules from ``rules_build`` (given
every ingredient and salt name, so it can map the rule sources' names to RxCUIs). Nothing is copied from
the sources verbatim: each file in ``data/`` is written by ``kb.save`` in the project's own format, and
SOURCES.md credits every source with its version, licence, attribution, what was taken and what dropped.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.model import DrugClass, KnowledgeBase, Rule, Source
from alertsvc.knowledge.terms_build import Terminology, build_terminology

NLM_ATTRIBUTION = (
    "This product uses publicly available data courtesy of the U.S. National Library of Medicine (NLM)"
)


@dataclass(frozen=True)
class BuildReport:
    """What one build wrote: where, the knowledge version, counts per table, and notes per source."""

    out: Path
    version: str
    counts: dict[str, int]
    notes: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Rules:
    classes: dict[str, DrugClass]
    rules: tuple[Rule, ...]
    sources: dict[str, Source]
    notes: tuple[str, ...]


def terminology_sources(sources: Path) -> dict[str, Source]:
    """The sources the terminology is read from, with the RxNorm release date read from NLM's readme."""
    readmes = sorted((sources / "rxnorm").glob("Readme_Full_Prescribe_*.txt"))
    match = re.search(r"(\d{2})(\d{2})(\d{4})", readmes[0].name) if readmes else None
    release = f"{match.group(3)}-{match.group(1)}-{match.group(2)}" if match else "unknown release"
    return {
        "rxnorm": Source(
            "rxnorm",
            "RxNorm Current Prescribable Content (flattened: ingredients, product, brand and SCDC tables)",
            f"{release} full prescribable release",
            "NLM RxNorm Current Prescribable Content: no UMLS licence required",
            NLM_ATTRIBUTION,
            "https://www.nlm.nih.gov/research/umls/rxnorm/docs/prescribe.html",
        ),
        "cpic": Source(
            "cpic",
            "CPIC drug identifiers (ingredient RxCUI, DrugBank id, ATC codes)",
            "CPIC database export as provided (undated)",
            "CC0 1.0",
            "Clinical Pharmacogenetics Implementation Consortium (CPIC), https://cpicpgx.org",
            "https://cpicpgx.org",
        ),
        "vsac": Source(
            "vsac",
            "VSAC eCQM value sets with RxNorm members",
            "cqframework/ecqm-content-r4-2021",
            "CC0 1.0",
            "Value sets from the NLM Value Set Authority Center (VSAC), published by cqframework",
            "https://github.com/cqframework/ecqm-content-r4-2021",
        ),
        "pddi-cds": Source(
            "pddi-cds",
            "HL7 Potential Drug-Drug Interaction (PDDI) CDS implementation guide value sets",
            "2018 expansions",
            "CC0 1.0",
            "HL7 International Clinical Decision Support Work Group, PDDI CDS implementation guide",
            "https://build.fhir.org/ig/HL7/PDDI-CDS/",
        ),
        "fda-orange-book": Source(
            "fda-orange-book",
            "FDA Orange Book: Approved Drug Products with Therapeutic Equivalence Evaluations (product file)",
            "November 2015 edition",
            "US Government work, public domain",
            "U.S. Food and Drug Administration, Orange Book; file flattened by akatie/simpleknowledgeservice "
            "(Apache-2.0)",
            "https://www.fda.gov/drugs/drug-approvals-and-databases/orange-book-data-files",
        ),
        "ansm": Source(
            "ansm",
            "ANSM Thesaurus des interactions medicamenteuses, English translation by WorldVistA",
            "2016",
            "ANSM public data; the WorldVistA translation's licence is not stated",
            "Agence nationale de securite du medicament et des produits de sante (ANSM); English "
            "translation by WorldVistA (2016).",
            "https://ansm.sante.fr/documents/reference/thesaurus-des-interactions-medicamenteuses-1",
        ),
    }


def build(sources: Path, out: Path, *, today: date) -> BuildReport:
    """Build the knowledge base from ``sources`` into ``out`` (data/) and write ``out/SOURCES.md``."""
    terms = build_terminology(sources)
    rules = _build_rules(sources, terms.rule_names())
    all_sources = {**terminology_sources(sources), **rules.sources}
    kb = KnowledgeBase(
        version="",
        built=today.isoformat(),
        sources=all_sources,
        ingredients=terms.ingredients,
        salts=terms.salts,
        products=terms.products,
        brands=terms.brands,
        names=terms.names,
        ndc=terms.ndc,
        classes=rules.classes,
        rules=rules.rules,
        display_names=terms.display_names,
        unknown_drugs=terms.unknown_drugs,
    )
    kb_files.save(kb, out)
    version = kb_files.load(out).version
    counts = _counts(kb)
    notes = {key: list(lines) for key, lines in terms.notes.items()}
    notes.setdefault("rules", []).extend(rules.notes)
    (out / "SOURCES.md").write_text(sources_markdown(kb, version, counts, notes), encoding="utf-8")
    return BuildReport(out, version, counts, notes)


def _build_rules(sources: Path, names: Mapping[str, str]) -> _Rules:
    """Classes and rules from ``rules_build.build_rules`` when it exists; empty (and said so) otherwise."""
    try:
        module: Any = importlib.import_module("alertsvc.knowledge.rules_build")
    except ModuleNotFoundError as exc:
        if exc.name != "alertsvc.knowledge.rules_build":
            raise
        return _Rules({}, (), {}, ("rules_build is not available: no classes or rules were built",))
    result = module.build_rules(sources, names)
    return _Rules(dict(result.classes), tuple(result.rules), dict(result.sources), tuple(result.notes))


def _counts(kb: KnowledgeBase) -> dict[str, int]:
    kinds = {
        kind: sum(c.kind == kind for c in kb.classes.values())
        for kind in ("interaction", "therapeutic", "allergen")
    }
    return {
        "ingredients": len(kb.ingredients),
        "salts": len(kb.salts),
        "products": len(kb.products),
        "brands": len(kb.brands),
        "names": len(kb.names),
        "ndc": len(kb.ndc),
        **{f"display names ({locale})": len(names) for locale, names in sorted(kb.display_names.items())},
        "drug names known but unmapped": len(kb.unknown_drugs),
        **{f"classes ({kind})": n for kind, n in kinds.items()},
        "rules": len(kb.rules),
    }


def sources_markdown(
    kb: KnowledgeBase, version: str, counts: dict[str, int], notes: dict[str, list[str]]
) -> str:
    """data/SOURCES.md: the knowledge version, then each source's credit, licence and what was taken."""
    lines = [
        "# Sources of the knowledge in data/",
        "",
        f"Knowledge version `{version}`, built {kb.built} by `alertsvc knowledge build` from public-source "
        "files. Every file here is generated by project code in the project's own format; nothing is copied "
        "verbatim. The service and `make run` read only this folder.",
        "",
        NLM_ATTRIBUTION + ".",
        "",
        "## Contents",
        "",
        "| table | rows |",
        "|---|---|",
        *(f"| {name} | {count:,} |" for name, count in counts.items()),
        "",
    ]
    for key in sorted(kb.sources):
        source = kb.sources[key]
        lines += [
            f"## {source.title} (`{key}`)",
            "",
            f"- Version: {source.version}",
            f"- Licence: {source.licence}",
            f"- Attribution: {source.attribution}",
        ]
        if source.url:
            lines.append(f"- URL: {source.url}")
        taken = sum(rule.sources.count(key) for rule in kb.rules)
        if taken:
            lines.append(f"- Rules citing this source: {taken:,}")
        members = [c for c in kb.classes.values() if c.source == key]
        if members:
            lines.append(f"- Classes from this source: {len(members):,}")
        lines += [f"- {note}" for note in notes.get(key, [])]
        lines.append("")
    for key, title in (
        (
            "curated-names",
            "Curated names: British approved names, INNs, BP co-names, ward abbreviations, UK brands "
            "(alertsvc/knowledge/curated_names.py, a public naming source per entry)",
        ),
        (
            "curated-terms",
            "Curated terminology facts (alertsvc/knowledge/curated_terms.py), RxCUIs confirmed by a source",
        ),
        ("rules", "Rules build notes"),
    ):
        if notes.get(key):
            lines += [f"## {title}", "", *(f"- {note}" for note in notes[key]), ""]
    return "\n".join(lines)


def summary(report: BuildReport) -> str:
    """One line per table for the command line."""
    counts = ", ".join(f"{name} {count:,}" for name, count in report.counts.items())
    return f"knowledge {report.version} written to {report.out}: {counts}"


__all__ = ["NLM_ATTRIBUTION", "BuildReport", "Terminology", "build", "sources_markdown", "summary"]
