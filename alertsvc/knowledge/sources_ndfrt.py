"""VA NDF-RT drug-drug interactions (2014, conservative set), keyed by DrugBank, mapped to RxCUIs by name.

Severities: NDF-RT "Critical" -> major and "Significant" -> moderate. NDF-RT's "Critical" is broader than a
contraindication (it covers many avoid-or-monitor pairs), so only pairs that are also on the ONC
high-priority list become critical; a pair on the ONC non-interruptive list is never raised above major.
The rule id carries the NDF-RT concept code of the interaction (``ndfrt-N0000176572``); a pair listed
twice keeps its most severe entry.
"""

from __future__ import annotations

from pathlib import Path

from alertsvc.knowledge.model import SEVERITY_ORDER, Rule, Severity, Source
from alertsvc.knowledge.rules_common import NameLookup, Part, read_tsv, unordered

FILE = "combined_conservative_NDF-RT.tsv"
COLUMNS = ("drug1", "object", "drug2", "precipitant", "label", "severity", "uri")
LEVELS: dict[str, Severity] = {"critical": "major", "significant": "moderate"}

SOURCE = Source(
    key="ndfrt",
    title="VA National Drug File - Reference Terminology (NDF-RT) drug-drug interactions",
    version="2014 (conservative set, DrugBank-keyed, from dbmi-pitt/public-PDDI-analysis)",
    licence="US Government work, public domain",
    attribution="U.S. Department of Veterans Affairs, NDF-RT drug interactions.",
    url="https://evs.nci.nih.gov/ftp1/NDF-RT/",
)


def build(
    ndfrt_dir: Path,
    lookup: NameLookup,
    critical_pairs: set[frozenset[str]],
    non_interruptive_pairs: set[frozenset[str]],
) -> Part:
    """Ingredient-pair rules from NDF-RT. ``critical_pairs`` are the ONC high-priority ingredient pairs."""
    part = Part(sources={"ndfrt": SOURCE})
    rows = read_tsv(ndfrt_dir / FILE, COLUMNS)
    chosen: dict[tuple[str, str], tuple[Severity, str, str, str]] = {}
    unmapped_rows = unknown_level = raised = 0
    for row in rows:
        level = LEVELS.get(row["severity"].strip().lower())
        if level is None:
            unknown_level += 1
            continue
        left = lookup.rxcui(row["object"], "ndfrt")
        right = lookup.rxcui(row["precipitant"], "ndfrt")
        if left is None or right is None:
            unmapped_rows += 1
            continue
        if left == right:
            continue
        pair = frozenset({left, right})
        severity: Severity = level
        if pair in critical_pairs and pair not in non_interruptive_pairs:
            severity = "critical"
        code = row["uri"].rstrip("/").rsplit("/", 1)[-1]
        key = unordered(f"in:{left}", f"in:{right}")
        label = row["label"].replace("[VA Drug Interaction]", "").strip()
        previous = chosen.get(key)
        if previous is None or SEVERITY_ORDER[severity] < SEVERITY_ORDER[previous[0]]:
            chosen[key] = (severity, code, label, row["severity"].strip().capitalize())
    for (left_node, right_node), (severity, code, label, words) in sorted(
        chosen.items(), key=lambda i: i[1][1]
    ):
        if severity == "critical":
            raised += 1
        part.rules.append(
            Rule(
                id=f"ndfrt-{code}",
                kind="interaction",
                left=left_node,
                right=right_node,
                severity=severity,
                mechanism=f"VA NDF-RT interaction {label}.",
                management="",
                sources=("ndfrt",),
                rating=f"VA NDF-RT: {words}",
            )
        )
    misses = sorted(lookup.misses.get("ndfrt", set()))
    part.notes.append(
        f"NDF-RT: {len(rows)} pairs read -> {len(part.rules)} rules (Critical -> major, Significant -> "
        f"moderate; {raised} raised to critical as ONC high-priority pairs); {unmapped_rows} pairs dropped "
        f"because a DrugBank name did not map to an RxNorm ingredient ({len(misses)} names: "
        f"{', '.join(misses[:40])}{', ...' if len(misses) > 40 else ''}); {unknown_level} with an unknown "
        "level."
    )
    return part
