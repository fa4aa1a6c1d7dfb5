"""Observation modifiers benchmark: what the modifiers add to the check of a 20-medication patient.

The same patient is checked without observations and with four abnormal current values (INR 4.2,
potassium 5.6 mmol/L, eGFR 25, QTc 520 ms), median of 200 runs each. Target: the modifiers add under 5 ms.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import build_graph
from alertsvc.knowledge.observations import LabValue
from alertsvc.knowledge.terminology import Normalizer

PATIENT = (
    "warfarin", "ibuprofen", "metformin", "ondansetron", "citalopram", "lisinopril", "spironolactone",
    "potassium chloride", "gabapentin", "apixaban", "aspirin", "amiodarone", "simvastatin", "furosemide",
    "digoxin", "omeprazole", "sertraline", "tramadol", "levofloxacin", "quetiapine",
)  # fmt: skip
NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
VALUES = (
    LabValue("inr", 4.2, "", NOW - timedelta(days=1), "6301-6", "inr"),
    LabValue("potassium", 5.6, "mmol/L", NOW - timedelta(days=1), "2823-3", "k"),
    LabValue("egfr", 25, "mL/min/1.73m2", NOW - timedelta(days=1), "98979-8", "egfr"),
    LabValue("qtc", 520, "ms", NOW - timedelta(days=1), "8636-3", "qtc"),
)


def run() -> Iterator[str]:
    kb = knowledge_files.load(knowledge_files.DEFAULT_DATA_DIR)
    graph, normalizer = build_graph(kb), Normalizer(kb)
    meds = [normalizer.medication(drug, ref=f"drug:{drug}") for drug in PATIENT]
    for label, values in (("no observations", ()), ("four abnormal observations", VALUES)):
        times = []
        for _ in range(200):
            start = time.perf_counter()
            found = check(meds, [], [], graph, observations=values, now=NOW)
            times.append(time.perf_counter() - start)
        critical = sum(f.severity == "critical" for f in found)
        yield (
            f"check of {len(meds)} medications, {label}: median {statistics.median(times) * 1000:.2f} ms, "
            f"{len(found)} findings, {critical} critical"
        )
