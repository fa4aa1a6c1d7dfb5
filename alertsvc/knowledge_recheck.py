"""A knowledge update, and the full re-check of every active admission it calls for.

The service loads the knowledge files once, at start-up; an admission is re-checked when something of its
own changes (an update, a schedule, an outcome, a tick). New knowledge (a rule added or withdrawn, a drug
name that now resolves) may change what any admission's check finds, so ``use_knowledge`` swaps in the new
knowledge, graph and normaliser, and says which of the knowledge's nodes the update touched
(``changed_nodes``), and ``recheck_all`` brings the alerts of every active admission whose last check
read one of them in line with it:

    re-normalise  each admission's verified slice (already verified: its signatures are not checked again),
                  in one worker thread; the terms the previous knowledge read are carried over when the
                  update reads terms the same way (``terminology.same_terms``)
    prepare       check, plan and sign every admission (``reconciling.prepare``), in one worker thread
    write         each admission's alerts and their events (``reconciling.reconcile``, which prepares
                  again, there and then, any admission changed while this ran), RECHECK_CHUNK admissions
                  per transaction, published as each commits

Only rules and classes are diffed node by node: an update that changes anything else (names, products,
brands, display names, sources) may change any check, and re-checks every admission. So does one on a
cluster, where another process may have checked an admission since this one last did, and an admission
this process has not checked since it started. A re-check finding an alert again word for word leaves it
as it is (``alerts.reconcile``): an update re-signs and re-sends only the alerts it changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from alertsvc import admissions as adm
from alertsvc import lookups, reconciling, ticking
from alertsvc.knowledge.graph import build_graph
from alertsvc.knowledge.model import KnowledgeBase
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.patient_data import Patient, clinical_inputs

if TYPE_CHECKING:
    from alertsvc.service import Service


Touched = frozenset[str] | None
"""The knowledge's nodes an update touched (``in:<RxCUI>``, ``class:<id>``); None: it may touch any check."""

SAME_OR_DIFFED = frozenset({"version", "built", "rules", "classes"})


@dataclass(frozen=True)
class Rechecked:
    """What a re-check did: the admissions checked, those left alone (their checks read nothing the update
    touched) and the events it published (alerts raised, changed or withdrawn)."""

    admissions: int
    events: int
    skipped: int = 0


def use_knowledge(service: Service, knowledge: KnowledgeBase) -> Touched:
    """Check with ``knowledge`` from now on (its graph built, its normaliser with the same RxNav look-ups);
    what the update touched. Call ``recheck_all`` with it next: until then, stored alerts are those of
    the previous knowledge."""
    touched = changed_nodes(service.knowledge, knowledge)
    graph = build_graph(knowledge)
    normalizer = Normalizer(knowledge, online=service.lookups, previous=service.normalizer)
    service.knowledge, service.graph, service.normalizer = knowledge, graph, normalizer
    return touched


def changed_nodes(old: KnowledgeBase, new: KnowledgeBase) -> Touched:
    """The nodes of the rules and classes that differ between ``old`` and ``new`` (a class with its members,
    old and new), or None when anything else differs."""
    for f in dataclasses.fields(KnowledgeBase):
        if f.name not in SAME_OR_DIFFED and getattr(old, f.name) != getattr(new, f.name):
            return None
    rules = set(old.rules) ^ set(new.rules)
    nodes = {r.left for r in rules} | {r.right for r in rules}
    nodes |= {
        f"class:{c}"
        for c in old.classes.keys() | new.classes.keys()
        if old.classes.get(c) != new.classes.get(c)
    }
    touched = set(nodes)
    for node in nodes:
        kind, _, key = node.partition(":")
        if kind == "class":
            for kb in (old, new):
                members = kb.classes[key].members if key in kb.classes else frozenset()
                touched.update(f"in:{rxcui}" for rxcui in members)
        elif kind != "in":
            return None  # a node this diff does not know: any check may read it
    return frozenset(touched)


async def recheck_all(service: Service, touched: Touched = None) -> Rechecked:
    """Re-normalise and re-check every active admission whose last check read a node ``touched`` (all of
    them when None) against the service's current knowledge."""
    now = service.clock()
    everyone = adm.active_admissions(service.db)
    active = [a for a in everyone if _may_change(service, a.id, touched)]
    earlier = await service.patients_of([a.id for a in active], now)
    normalizer = service.normalizer

    def renormalise() -> list[Patient]:
        return [
            Patient(earlier[a.id].verified, clinical_inputs(earlier[a.id].verified, normalizer))
            for a in active
        ]

    patients = await lookups.in_thread(service.lookups, renormalise)
    inputs = [reconciling.read(service, a) for a in active]

    def prepare_all() -> list[reconciling.Prepared]:
        return [
            reconciling.prepare(service, a, p, i, now)
            for a, p, i in zip(active, patients, inputs, strict=True)
        ]

    ready = await anyio.to_thread.run_sync(prepare_all)
    published = 0
    checked = list(zip(active, patients, ready, strict=True))
    for start in range(0, len(checked), ticking.RECHECK_CHUNK):  # the loop serves others between chunks
        published += ticking.commit_checks(service, checked[start : start + ticking.RECHECK_CHUNK], now)[1]
        await anyio.sleep(0)
    service.rebuild_timers()
    return Rechecked(admissions=len(active), events=published, skipped=len(everyone) - len(active))


def _may_change(service: Service, admission: str, touched: Touched) -> bool:
    if touched is None or service.cluster is not None:
        return True
    nodes = service.checked_nodes.get(admission)
    return nodes is None or not nodes.isdisjoint(touched)
