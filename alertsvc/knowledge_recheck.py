"""A knowledge update, and the full re-check of every active admission it calls for.

The service loads the knowledge files at start-up, and again on ``reload`` (SIGHUP to a served process:
``alertsvc.web.hangup``); an admission is re-checked when something of its
own changes (an update, a schedule, an outcome, a tick). New knowledge (a rule added or withdrawn, a drug
name that now resolves) may change what any admission's check finds, so ``use_knowledge`` swaps in the new
knowledge, graph and normaliser, and says what the update touched (``what_changed``), and ``recheck_all``
brings in line with it the alerts of every active admission whose last check may find something else now
(it read a class that changed, or it meets every side of a rule added or withdrawn: a rule between two
drugs concerns only the patients who take both):

    re-normalise  each admission's verified slice (already verified: its signatures are not checked again),
                  in one worker thread; the terms the previous knowledge read are carried over when the
                  update reads terms the same way (``terminology.same_terms``), and a slice whose every
                  item resolved is not read again when only rules changed
    prepare       check, plan and sign every admission (``reconciling.prepare``), in one worker thread
    write         each admission's alerts and their events (``reconciling.reconcile``, which prepares
                  again, there and then, any admission changed while this ran), RECHECK_CHUNK admissions
                  per transaction, published as each commits

Only rules and classes are diffed: an update that changes anything else (names, products,
brands, display names, sources) may change any check, and re-checks every admission. What a check read
is remembered by the process that made it; on a cluster, where another process may have checked an
admission since, and for an admission this process has not checked, it is worked out from the slice and
doses as they are now. A re-check finding an alert again word for word leaves it
as it is (``alerts.reconcile``): an update re-signs and re-sends only the alerts it changes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import anyio

from alertsvc import admissions as adm
from alertsvc import lookups, reconciling, ticking
from alertsvc.admissions import Admission
from alertsvc.errors import KnowledgeError
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.kb import load as load_knowledge
from alertsvc.knowledge.model import KnowledgeBase
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.patient_data import Patient, checked_nodes, clinical_inputs
from alertsvc.schedule.mar import ScheduledDose

if TYPE_CHECKING:
    from alertsvc.service import Service


SAME_OR_DIFFED = frozenset({"version", "built", "rules", "classes"})
log = logging.getLogger("alertsvc.knowledge")

RELOAD = "knowledge-reload"
"""The name ``reload`` holds in ``Service.locks``: one reload at a time."""


@dataclass(frozen=True)
class Touched:
    """What a knowledge update touched, as the nodes a check reads (``in:<RxCUI>``, ``class:<id>``).

    ``rules``: for each rule added or withdrawn, its sides (two; three for a three-drug rule), each the
    nodes that meet it (its own node and, for a class, the members before and after). ``classes``: the
    node of each class that changed, with its members before and after.
    """

    rules: frozenset[tuple[frozenset[str], ...]] = frozenset()
    classes: frozenset[str] = frozenset()

    def may_change(self, read: frozenset[str]) -> bool:
        """Whether a check that read ``read`` may find something else now: it read a changed class or one
        of its members, or it meets every side of a changed rule. A rule between two drugs changes
        nothing for a patient who takes one of them only: its finding needs both."""
        if not read.isdisjoint(self.classes):
            return True
        return any(all(not side.isdisjoint(read) for side in sides) for sides in self.rules)

    @property
    def nodes(self) -> frozenset[str]:
        """Every node the update touched."""
        return self.classes.union(*(side for sides in self.rules for side in sides))


@dataclass(frozen=True)
class Rechecked:
    """What a re-check did: the admissions checked, those left alone (``Touched.may_change``: their checks
    cannot find anything else) and the events it published (alerts raised, changed or withdrawn)."""

    admissions: int
    events: int
    skipped: int = 0


@dataclass(frozen=True)
class Reloaded:
    """What ``reload`` did: the knowledge version in use now, the one before, and the re-check (None
    when the files held the version already in use)."""

    version: str
    previous: str
    rechecked: Rechecked | None = None


def use_knowledge(
    service: Service, knowledge: KnowledgeBase, graph: InteractionGraph | None = None
) -> Touched | None:
    """Check with ``knowledge`` from now on (its ``graph``, built here unless given; its normaliser with
    the same RxNav look-ups); what the update touched. Call ``recheck_all`` with it next: until then,
    stored alerts are those of the previous knowledge."""
    touched = what_changed(service.knowledge, knowledge)
    graph = graph if graph is not None else build_graph(knowledge)
    normalizer = Normalizer(knowledge, online=service.lookups, previous=service.normalizer)
    service.knowledge, service.graph, service.normalizer = knowledge, graph, normalizer
    return touched


def what_changed(old: KnowledgeBase, new: KnowledgeBase) -> Touched | None:
    """The rules and classes that differ between ``old`` and ``new``, or None when anything else differs
    (names, products, brands, display names, sources: any check may read them)."""
    for f in dataclasses.fields(KnowledgeBase):
        if f.name not in SAME_OR_DIFFED and getattr(old, f.name) != getattr(new, f.name):
            return None

    def meeting(node: str) -> frozenset[str]:
        """The nodes that meet ``node``: itself, and a class's members in either knowledge."""
        kind, _, key = node.partition(":")
        if kind == "in":
            return frozenset({node})
        if kind != "class":
            raise LookupError(node)
        members = {m for kb in (old, new) if key in kb.classes for m in kb.classes[key].members}
        return frozenset({node, *(f"in:{m}" for m in members)})

    try:
        rules = frozenset(
            tuple(meeting(node) for node in (r.left, r.right, r.also) if node)
            for r in set(old.rules) ^ set(new.rules)
        )
        classes: frozenset[str] = frozenset().union(
            *(
                meeting(f"class:{c}")
                for c in old.classes.keys() | new.classes.keys()
                if old.classes.get(c) != new.classes.get(c)
            )
        )
    except LookupError:  # a node this diff does not know: any check may read it
        return None
    return Touched(rules, classes)


async def recheck_all(service: Service, touched: Touched | None = None) -> Rechecked:
    """Re-normalise and re-check, against the service's current knowledge, every active admission whose
    last check may find something else now (``Touched.may_change``; all of them when None)."""
    now = service.clock()
    everyone = adm.active_admissions(service.db)
    active = await _may_change(service, everyone, touched, now)
    earlier = await service.patients_of([a.id for a in active], now)
    normalizer = service.normalizer
    same_reading = touched is not None and not touched.classes  # terms and allergen groups read alike

    def renormalise() -> list[Patient]:
        return [
            earlier[a.id]  # read just as before (an unresolved item's reason names the knowledge)
            if same_reading and not earlier[a.id].inputs.unresolved
            else Patient(earlier[a.id].verified, clinical_inputs(earlier[a.id].verified, normalizer))
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
    checks = [ticking.Check(a, earlier[a.id], p, r) for a, p, r in zip(active, patients, ready, strict=True)]
    again: list[Admission] = []
    read_as = None  # each chunk's mark, while nothing but this re-check writes: its inputs are not read again
    for start in range(0, len(checks), ticking.RECHECK_CHUNK):  # the loop serves others between chunks
        chunk = checks[start : start + ticking.RECHECK_CHUNK]
        committed = ticking.commit_checks(service, chunk, now, read_as=read_as)
        published, again, read_as = published + committed.events, again + committed.again, committed.mark
        await anyio.sleep(0)
    await ticking.recheck(service, again, now)  # slices changed meanwhile: checked as they are now
    service.rebuild_timers()
    return Rechecked(admissions=len(active), events=published, skipped=len(everyone) - len(active))


async def reload(service: Service, *, heard: str | None = None) -> Reloaded:
    """Read the knowledge files (``settings.data_dir``) again; when they hold another version, check with
    it from now on and re-check what it may change. Loading and building its graph run in worker threads,
    and the old knowledge serves until the swap; one reload at a time. Files that do not load (a file
    changed by hand, one half written: ``KnowledgeBuildError``) leave the knowledge in use as it is.

    On a cluster, the other processes are told the new version (unless it is the one ``heard`` from
    them), and read their own files again (``alertsvc.cluster``)."""
    async with service.locks.hold(RELOAD):
        previous = service.knowledge.version
        knowledge = await anyio.to_thread.run_sync(load_knowledge, service.settings.data_dir)
        if knowledge.version == previous:
            return Reloaded(previous, previous)
        graph = await anyio.to_thread.run_sync(build_graph, knowledge)
        touched = use_knowledge(service, knowledge, graph)
        if service.cluster is not None and knowledge.version != heard:
            service.cluster.tell(knowledge=knowledge.version)
        return Reloaded(knowledge.version, previous, await recheck_all(service, touched))


async def reload_logged(service: Service, *, heard: str | None = None) -> None:
    """``reload``, its outcome logged: a reload that fails leaves the service serving (a SIGHUP, another
    process's notice that it checks with the version ``heard``)."""
    log.info("reading the knowledge files in %s again", service.settings.data_dir)
    try:
        done = await reload(service, heard=heard)
    except (KnowledgeError, OSError) as exc:
        log.error("knowledge not reloaded (%s still in use): %s", service.knowledge.version, exc)
        return
    except Exception:  # the knowledge may be swapped already: the next sweep re-checks every admission
        log.exception("knowledge reload failed (%s now in use)", service.knowledge.version)
        return
    if heard is not None and done.version != heard:
        log.error("another process checks with knowledge %s; these files hold %s", heard, done.version)
    if done.rechecked is None:
        log.info("knowledge unchanged: %s", done.version)
        return
    log.info(
        "knowledge %s replaces %s: %d admissions re-checked (%d left alone: nothing they take changed), "
        "%d alert events",
        done.version,
        done.previous,
        done.rechecked.admissions,
        done.rechecked.skipped,
        done.rechecked.events,
    )


async def _may_change(
    service: Service, admissions: list[Admission], touched: Touched | None, now: datetime
) -> list[Admission]:
    """The admissions whose check may find something else now (``Touched.may_change``; all of them when
    None). What each one's last check read is remembered by the process that made it; one this process
    did not check, and every one on a cluster (another process may have checked it since), is worked out
    from what it holds now: her slice and her doses (every change to them was checked when it was made)."""
    if touched is None:
        return admissions
    known = {} if service.cluster is not None else service.checked_nodes
    unknown = [a.id for a in admissions if a.id not in known]
    held = {a: service.patient_cache[a] for a in unknown if a in service.patient_cache}  # active, as read
    held |= await service.patients_of([a for a in unknown if a not in held], now)
    doses = _doses_of(service, unknown)
    nodes = {a: checked_nodes(held[a].inputs, doses.get(a, [])) for a in unknown}
    return [a for a in admissions if touched.may_change(nodes[a.id] if a.id in nodes else known[a.id])]


def _doses_of(service: Service, admissions: list[str]) -> dict[str, list[ScheduledDose]]:
    """The doses of each of ``admissions``, read in one query (on PostgreSQL, one round trip each would
    cost more than reading the doses of every admission)."""
    if not admissions:
        return {}
    wanted, found = set(admissions), defaultdict(list)
    for dose in adm.doses(service.db):
        if dose.admission in wanted:
            found[dose.admission].append(dose)
    return found
