"""A knowledge update, and the full re-check of every active admission it calls for.

The service loads the knowledge files once, at start-up; an admission is re-checked when something of its
own changes (an update, a schedule, an outcome, a tick). New knowledge (a rule added or withdrawn, a drug
name that now resolves) changes what every admission's check finds, so ``use_knowledge`` swaps in the new
knowledge, graph and normaliser and ``recheck_all`` brings every active admission's alerts in line with it:

    re-normalise  each admission's verified slice (already verified: its signatures are not checked again),
                  in one worker thread
    prepare       check, plan and sign every admission (``reconciling.prepare``), in one worker thread
    write         one transaction: each admission's alerts and their events (``reconciling.reconcile``,
                  which prepares again, there and then, any admission changed while this ran)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from alertsvc import admissions as adm
from alertsvc import lookups, reconciling, store
from alertsvc.alerts.hub import Event
from alertsvc.knowledge.graph import build_graph
from alertsvc.knowledge.model import KnowledgeBase
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.patient_data import Patient, clinical_inputs

if TYPE_CHECKING:
    from alertsvc.service import Service


@dataclass(frozen=True)
class Rechecked:
    """What a full re-check did: the admissions checked and the events it published (alerts raised,
    changed or withdrawn)."""

    admissions: int
    events: int


def use_knowledge(service: Service, knowledge: KnowledgeBase) -> None:
    """Check with ``knowledge`` from now on (its graph built, its normaliser with the same RxNav look-ups).
    Call ``recheck_all`` next: until then, stored alerts are those of the previous knowledge."""
    graph = build_graph(knowledge)
    normalizer = Normalizer(knowledge, online=service.lookups)
    service.knowledge, service.graph, service.normalizer = knowledge, graph, normalizer


async def recheck_all(service: Service) -> Rechecked:
    """Re-normalise and re-check every active admission against the service's current knowledge."""
    now = service.clock()
    active = adm.active_admissions(service.db)
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
    events: list[Event] = []
    with store.write(service.db):
        for admission, patient, prepared in zip(active, patients, ready, strict=True):
            current = adm.get_admission(service.db, admission.id)
            if current is None or not current.active:  # ended while this was prepared
                continue
            events.extend(service.reconcile(admission, patient, now, prepared))
    for admission, patient in zip(active, patients, strict=True):
        service.patient_cache[admission.id] = patient
    service.publish(events)
    service.rebuild_timers()
    return Rechecked(admissions=len(active), events=len(events))
