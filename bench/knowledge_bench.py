"""Knowledge benchmark: graph build from data/, the check of a 20-medication patient, graph memory.

The indexed check (set intersections over indexes precomputed at build) is timed against the naive
approach (``nx.all_simple_edge_paths`` between every pair of the patient's ingredients, cutoff 3) in the
same run, and the two are compared on which pairs they find. Targets: build (kb.load + build_graph)
under 2 s; the check of a 20-medication patient under 0.2 ms (median).
"""

from __future__ import annotations

import gc
import itertools
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import networkx as nx

from alertsvc.config import Settings
from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import KnowledgeBase, Medication
from alertsvc.knowledge.terminology import Normalizer

PATIENT = (
    "warfarin",
    "ibuprofen",
    "simvastatin",
    "clarithromycin",
    "sertraline",
    "metoprolol",
    "lisinopril",
    "furosemide",
    "omeprazole",
    "metformin",
    "atorvastatin",
    "amlodipine",
    "aspirin",
    "acetaminophen",
    "levothyroxine",
    "digoxin",
    "spironolactone",
    "tramadol",
    "ciprofloxacin",
    "prednisone",
)
"""A 20-medication patient (a heavy but real-looking list, with several known interactions)."""

COMMON = (
    "metformin", "lisinopril", "amlodipine", "atorvastatin", "levothyroxine", "omeprazole", "metoprolol",
    "hydrochlorothiazide", "gabapentin", "sertraline", "acetaminophen", "aspirin", "furosemide",
    "tamsulosin", "donepezil", "cholecalciferol", "albuterol", "insulin glargine", "montelukast",
    "allopurinol",
)  # fmt: skip
"""A common 20-medication list of an older inpatient (fewer interactions than PATIENT)."""

T = TypeVar("T")
RUNS = 2000
NAIVE_RUNS = 3
NAIVE_SHAPES = {
    ("interaction",),
    ("member", "interaction"),
    ("interaction", "member"),
    ("member", "interaction", "member"),
}


def run() -> list[str]:
    data_dir = Settings.from_env(os.environ).data_dir
    builds = [_timed(lambda: build_graph(knowledge_files.load(data_dir)))[0] for _ in range(3)]
    kb = knowledge_files.load(data_dir)
    load_s = _timed(lambda: knowledge_files.load(data_dir))[0]
    graph_s, graph = _timed(lambda: build_graph(kb))
    current, peak = _memory(data_dir)
    meds = patient(kb)

    indexed = _times(lambda: check(meds, [], [], graph), RUNS)
    common = patient(kb, COMMON)
    common_times = _times(lambda: check(common, [], [], graph), RUNS)
    common_findings = check(common, [], [], graph)
    quiet = quiet_patient(kb, graph)
    base = statistics.median(_times(lambda: check(quiet, [], [], graph), RUNS))
    naive_pairs: set[frozenset[str]] = set()
    naive = _times(
        lambda: naive_pairs.update(naive_interacting_pairs(meds, graph)), NAIVE_RUNS, warm_up=False
    )
    findings = check(meds, [], [], graph)
    indexed_pairs = {frozenset(i.rxcui for i in f.ingredients) for f in findings if f.kind == "interaction"}
    median = statistics.median(indexed)
    p99 = statistics.quantiles(indexed, n=100)[98]
    g = graph.graph
    return [
        f"knowledge {kb.version}: {len(kb.ingredients)} ingredients, {len(kb.classes)} classes, "
        f"{len(kb.rules)} rules; graph {g.number_of_nodes()} nodes, {g.number_of_edges()} edges",
        f"build from data/ (kb.load + build_graph): median {statistics.median(builds):.3f} s "
        f"(load {load_s:.3f} s + graph {graph_s:.3f} s; target < 2 s)",
        f"graph memory (tracemalloc, load + build): current {current / 2**20:.1f} MiB, "
        f"peak {peak / 2**20:.1f} MiB",
        f"check, {len(meds)}-medication patient ({len(findings)} findings): median {median * 1e3:.3f} ms, "
        f"p99 {p99 * 1e3:.3f} ms over {RUNS} runs (target median < 0.2 ms)",
        f"check, {len(common)}-medication common list ({len(common_findings)} findings): median "
        f"{statistics.median(common_times) * 1e3:.3f} ms, p99 "
        f"{statistics.quantiles(common_times, n=100)[98] * 1e3:.3f} ms (target median < 0.2 ms)",
        f"check, {len(quiet)} medications with no known interaction: median {base * 1e3:.3f} ms; so about "
        f"{(median - base) / max(len(findings), 1) * 1e6:.1f} µs per finding on top",
        f"naive all_simple_edge_paths(cutoff=3) over every ingredient pair: median "
        f"{statistics.median(naive) * 1e3:.1f} ms over {NAIVE_RUNS} runs; "
        f"indexed is {statistics.median(naive) / median:,.0f}x faster",
        f"interacting pairs: indexed {len(indexed_pairs)}, naive {len(naive_pairs)}; "
        f"indexed only {len(indexed_pairs - naive_pairs)} (class-with-itself rules: loops no simple path "
        f"walks), naive only {len(naive_pairs - indexed_pairs)} (rules limited to other routes)",
        *normalise_lines(kb),
    ]


TYPED = (
    "warfarin", "Zocor", "paracetamol", "co-amoxiclav", "GTN", "Keflex", "855295", "197805", "Tazocin",
    "salbutamol", "Amlodipine 5 MG Oral Tablet", "metoprolol succinate ER", "St John's Wort", "Biaxin",
    "ciclosporin", "Vicodin", "co-codamol", "omeprazole", "Oramorph", "adrenaline",
)  # fmt: skip
"""20 ways a nurse writes a drug (names, brands, co-names, codes, product names)."""
MISSPELT = ("ibuprophen", "amoxicilin", "simvastatine", "levetiracetan")
LOOK_ALIKE = ("lonazepam", "novolen", "prednisolne", "Zantax")


def normalise_lines(kb: KnowledgeBase) -> list[str]:
    """Normalising is not part of the check (it runs once per drug at admission), but it must stay quick."""
    normalizer = Normalizer(kb)
    typed = _times(lambda: [normalizer.resolve(term) for term in TYPED], 200)
    index_s = _timed(lambda: normalizer.spelling)[0]  # built once, on the first unknown term
    misspelt = _times(lambda: [normalizer.resolve(term) for term in MISSPELT], 50)
    alike = _times(lambda: [normalizer.resolve(term) for term in LOOK_ALIKE], 50)
    return [
        f"normalise {len(TYPED)} typed names, brands, co-names and codes: median "
        f"{statistics.median(typed) / len(TYPED) * 1e6:.0f} µs per term",
        f"misspellings: index built once in {index_s * 1e3:.0f} ms; a misspelt term read in median "
        f"{statistics.median(misspelt) / len(MISSPELT) * 1e3:.2f} ms, a look-alike left unread (with "
        f"suggestions) in {statistics.median(alike) / len(LOOK_ALIKE) * 1e3:.2f} ms",
    ]


def patient(kb: KnowledgeBase, names: tuple[str, ...] = PATIENT) -> list[Medication]:
    """A benchmark patient: the named ingredients found in the knowledge, oral, one product each."""
    by_name = {i.name: i for i in kb.ingredients.values()}
    meds = [Medication(name, (by_name[name],), ref=name) for name in names if name in by_name]
    if len(meds) < len(names):
        spare = sorted((i for i in kb.ingredients.values() if i.name not in names), key=lambda i: i.rxcui)
        meds += [Medication(i.name, (i,), ref=i.name) for i in spare[: len(names) - len(meds)]]
    return meds


def quiet_patient(kb: KnowledgeBase, graph: InteractionGraph) -> list[Medication]:
    """20 oral medications of ingredients that no interaction rule names: the check's base cost."""
    named = {rxcui for pair in graph.pairs for rxcui in pair}
    quiet = sorted((i for i in kb.ingredients.values() if i.rxcui not in named), key=lambda i: i.rxcui)
    return [Medication(i.name, (i,), ref=i.name) for i in quiet[: len(PATIENT)]]


def naive_interacting_pairs(meds: Sequence[Medication], graph: InteractionGraph) -> set[frozenset[str]]:
    """Pairs of the patient's ingredients joined by a path in:a [member] interaction [member] in:b."""
    g = graph.graph
    found: set[frozenset[str]] = set()
    rxcuis = sorted({i.rxcui for m in meds for i in m.ingredients})
    for a, b in itertools.combinations(rxcuis, 2):
        if f"in:{a}" not in g or f"in:{b}" not in g:
            continue
        for path in nx.all_simple_edge_paths(g, f"in:{a}", f"in:{b}", cutoff=3):
            if tuple(g.edges[e]["kind"] for e in path) in NAIVE_SHAPES:
                found.add(frozenset((a, b)))
                break
    return found


def _timed(action: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _times(action: Callable[[], object], runs: int, warm_up: bool = True) -> list[float]:
    if warm_up:
        action()
    gc.collect()
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        action()
        times.append((time.perf_counter_ns() - start) / 1e9)
    return times


def _memory(data_dir: Path) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    try:
        graph = build_graph(knowledge_files.load(data_dir))
        current, peak = tracemalloc.get_traced_memory()
        del graph
    finally:
        tracemalloc.stop()
    return current, peak
