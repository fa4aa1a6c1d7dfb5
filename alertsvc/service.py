"""The hospital service: the one module that joins the pure core to its adapters.

    intake:  verify grant and slice -> store -> normalise -> check -> alerts (sign) -> outbox -> publish
    update:  verify new entries against the accepted head -> store -> re-check (or end, on revocation)
    tick:    purge ended grants, present alerts to an incoming shift, raise alerts for doses due soon
             and for doses overdue (no outcome recorded by due time + grace)

The database is the truth: every change and the events announcing it commit together, then go to the
hub; so does the answer to a request with an Idempotency-Key (``alertsvc.idempotency``). A grant has one
live admission, which the database enforces. Timers are only wake-ups, rebuilt from the database at
start-up and after every change. Admissions are made in ``alertsvc.admitting``, updates in
``alertsvc.updates``, ended in ``alertsvc.ending``; ticks are in ``alertsvc.ticking``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alertsvc import admissions as adm
from alertsvc import (
    admitting,
    bedside,
    delivery,
    failpoints,
    idempotency,
    intake,
    ledger_watch,
    lookups,
    migrations,
    reconciling,
    sealing,
    store,
    ticking,
    timers,
    updates,
)
from alertsvc.access import ReplayCache, Staff, TokenRules, read_staff_token, require
from alertsvc.admissions import Admission
from alertsvc.alerts.hub import Event, Hub
from alertsvc.clock import Clock, offset_of, utc_now
from alertsvc.config import Settings
from alertsvc.errors import ConfigError, Conflict, NotFound
from alertsvc.knowledge.display import LOCALES, US, display_table, localise_all, with_notes
from alertsvc.knowledge.evidence_text import evidence_sentence, source_names
from alertsvc.knowledge.graph import build_graph
from alertsvc.knowledge.kb import load as load_knowledge
from alertsvc.knowledge.model import Finding
from alertsvc.knowledge.observations import LabValue
from alertsvc.knowledge.rxnorm import client_from_settings
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger.identity import Identity, jwk
from alertsvc.ledger.slices import VerifiedSlice
from alertsvc.locks import KeyedLocks
from alertsvc.patient_data import ClinicalInputs, Patient, admission_findings, clinical_inputs
from alertsvc.schedule.mar import ScheduledDose
from alertsvc.schedule.runner import TimerRunner
from alertsvc.schedule.shifts import Ward
from alertsvc.service_identity import load_or_create
from alertsvc.store import Database

if TYPE_CHECKING:
    from alertsvc.cluster import Cluster

ALERT_TYPE = reconciling.ALERT_TYPE
TICK = "tick"
"""The one timer that runs ``tick``, at the earliest instant anything wants one."""
REVOKED = updates.REVOKED
log = logging.getLogger("alertsvc.service")
__all__ = ["Patient", "Service"]


class Service:
    """Admissions, alerts and timers over one database (SQLite, or PostgreSQL shared by a cluster); see the
    module docstring."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.identity: Identity = load_or_create(settings.service_key)
        self.keyring = sealing.Keyring(
            sealing.load_or_create_kek(
                sealing.kek_path_for(
                    settings.service_key, Path(settings.kek_file) if settings.kek_file else None
                )
            )
        )
        """Every admission's data key (``sealing``): its values are stored sealed with it."""
        if settings.ward_locale not in LOCALES:
            raise ConfigError(f"ward_locale {settings.ward_locale!r} is not one of {', '.join(LOCALES)}")
        if settings.overdue_grace_minutes < 0:
            raise ConfigError(f"overdue_grace_minutes must not be negative: {settings.overdue_grace_minutes}")
        self.knowledge = load_knowledge(settings.data_dir)
        self.graph = build_graph(self.knowledge)
        self.rxnav = client_from_settings(settings)
        self.lookups = lookups.lookups_for(self.rxnav, settings)  # one RxNav deadline per request
        self.normalizer = Normalizer(self.knowledge, online=self.lookups)
        self.hub = Hub()
        self.replays = ReplayCache(started=clock())  # patient-signed requests, each accepted once
        self._db: Database | None = None
        self.runner = TimerRunner(offset=offset_of(clock))  # timers fire by the service's clock
        self.lead = timedelta(minutes=settings.lead_time_minutes)
        self.overdue_grace = timedelta(minutes=settings.overdue_grace_minutes)
        self.patient_cache: dict[str, Patient] = {}
        self.checked_nodes: dict[str, frozenset[str]] = {}
        """Admission id -> the knowledge's nodes its last check read (what a knowledge update may skip)."""
        self.locks = KeyedLocks()
        self.failpoints = failpoints.Failpoints(settings.failpoints)
        self.planned: dict[str, datetime] = {}
        """Every instant the timers were last planned for, by what wants it (``expiry:<admission>``,
        ``due:<dose>``, ``overdue:<dose>``, ``shift:<ward>``, ``poll:<admission>``...)."""
        self.checked_until: datetime | None = None
        """The clock of the last tick: the next re-checks what fell due after it (``alertsvc.ticking``)."""
        self.swept_at: datetime | None = None
        """When a tick last re-checked every active admission (None: the next tick does)."""
        self.last_tick: ticking.Ticked | None = None
        self.next_polls: dict[str, datetime] = {}
        """When each admission admitted by grant link reads its patient's ledger next."""
        self._deliveries: set[asyncio.Task[None]] = set()
        self.watchers = ledger_watch.LedgerWatchers(self)
        """One held watch of the patient's ledger server per admission admitted by grant link."""
        self.cluster: Cluster | None = None
        """On PostgreSQL: this process's part in a cluster (fan-out, timer lease: ``alertsvc.cluster``)."""

    # -- life cycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the database on the serving thread, carry out what fell due while down, rebuild timers."""
        self._db = store.open_database(self.settings.db_path, self.settings.database_url)
        sealing.attach(self._db, self.keyring)
        migrations.upgrade(self._db, self.identity, now=self.clock())
        with store.write(self._db):
            for ward in adm.configured_wards(
                self.settings.wards,
                default_zone=self.settings.ward_timezone,
                default_locale=self.settings.ward_locale,
            ):
                adm.save_ward(self._db, ward)
        self.runner.start()
        if self._db.dialect == "postgres" and self.settings.database_url:
            from alertsvc.cluster import Cluster  # psycopg is imported only when it is used

            self.cluster = Cluster(self, self.settings.database_url, getattr(self._db, "schema", "public"))
            await self.cluster.start()  # and, holding the timer lease, its first tick
        else:
            await self.tick()

    async def stop(self) -> None:
        if self.cluster is not None:
            await self.cluster.stop()  # the lease released first: another process takes over at once
        await self.watchers.close()
        self.runner.shutdown()
        await self.runner.finished()  # no timer's run may touch the database once it is closed
        for task in list(self._deliveries):  # an entry cut short stays pending: sent again at start-up
            task.cancel()
        self.hub.close_all()
        if self.lookups is not None:
            self.lookups.close()  # and the RxNav client
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> Database:
        """The service database; opened by ``start()`` on the thread that serves requests."""
        if self._db is None:
            raise RuntimeError("the service has not been started")
        return self._db

    @property
    def checkpoint_owed(self) -> bool:
        """A purge's WAL checkpoint is owed (a reader blocked it): deleted bytes may be in the -wal."""
        return store.is_owed(self.db, store.CHECKPOINT)

    def health(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "status": "ok",
            "service": self.identity.public_id,
            "knowledge": self.knowledge.version,
        }
        if self.cluster is not None:
            found["cluster"] = self.cluster.status()
        return found

    @property
    def fires_timers(self) -> bool:
        """Whether this process fires timers: always alone on SQLite, in a cluster the lease holder."""
        return self.cluster is None or self.cluster.holds_timers

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk(self.identity.public_id)]}

    # -- who is asking -----------------------------------------------------------------------------

    def staff(self, token: str) -> Staff:
        return read_staff_token(
            token, self.identity.public_key, now=self.clock(), rules=TokenRules.of(self.settings)
        )

    def require_nurse(self, staff: Staff, ward: str) -> None:
        require(staff, ward=ward, roles=("nurse",))

    # -- intake ------------------------------------------------------------------------------------

    async def admit(
        self, body: dict[str, Any], staff: Staff, *, once: idempotency.Pending | None = None
    ) -> dict[str, Any]:
        """Verify a grant and slice for this service; store it; check it; alert (``alertsvc.admitting``)."""
        return await admitting.admit(self, body, staff, once=once)

    async def apply_update(
        self, admission: Admission, update_bytes: bytes, *, actor: str, now: datetime
    ) -> dict[str, Any]:
        """Verify an update against the accepted head; store it and re-check, or end (``updates``)."""
        return await updates.apply_update(self, admission, update_bytes, actor=actor, now=now)

    # -- timers ------------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Everything due by now: expiries, shift changes, doses due or overdue, re-checking only the
        admissions something fell due for, or on a sweep every one (``alertsvc.ticking``). Safe to call at
        any time; in a cluster, only the process holding the timer lease ticks."""
        if self.fires_timers:
            self.last_tick = await ticking.tick(self)

    def rebuild_timers(self) -> None:
        """Arm the timers the database calls for (``timers.wanted``: one tick at the earliest instant that
        wants one, kept in ``planned`` by what wants it; a ledger read per linked admission; the next
        delivery); cancel the rest. In a cluster, a process not holding the timer lease tells the one
        that does to plan again instead."""
        if not self.fires_timers:
            assert self.cluster is not None
            self.cluster.tell(timers=True)
            return
        ticks, polls = timers.wanted(self, self.clock())
        self.planned = {**ticks, **polls}
        wakeup = delivery.next_wakeup(self.db)
        next_tick = timers.earliest(ticks)
        armed = {
            **({} if next_tick is None else {TICK: (next_tick, self.tick)}),
            **({} if wakeup is None else {"delivery": (wakeup, self.deliver)}),
            **{job_id: (when, self.poll_ledgers) for job_id, when in polls.items()},
        }
        for job_id, _ in self.runner.jobs():
            if job_id not in armed:
                self.runner.cancel(job_id)
        for job_id, (when, work) in armed.items():
            self.runner.at(job_id, when, work)
        self.watchers.sync()  # and one watch per linked admission, on its current grant

    async def deliver(self) -> None:
        """Deliver the practitioner entries whose attempt is due to patients' ledgers (``delivery``)."""
        await delivery.deliver_due(self)
        self.rebuild_timers()

    def deliver_soon(self) -> None:
        """Start a delivery now, without waiting for it (the ward's request does not wait for her server)."""
        if not self.fires_timers:  # the lease holder delivers: it plans the delivery due now
            assert self.cluster is not None
            self.cluster.tell(timers=True)
            return
        task = asyncio.get_running_loop().create_task(self.deliver())
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def poll_ledgers(self) -> None:
        """Read new entries from the ledgers of admissions admitted by grant link (see ledger_watch)."""
        await ledger_watch.poll(self)
        self.rebuild_timers()

    # -- the check ---------------------------------------------------------------------------------

    def findings(
        self,
        ward: Ward,
        doses: list[ScheduledDose],
        patient: Patient,
        now: datetime,
        recorded: list[LabValue],
    ) -> list[Finding]:
        """The pure check over the slice, the ward's schedule and the observations ``recorded`` on the
        ward for one admission, in the ward's drug names, each finding saying how a drug it involves was
        read when that needs saying (no database: it may run in a worker thread)."""
        findings = admission_findings(
            patient.inputs,
            doses,
            ward,
            self.graph,
            now=now,
            overdue_grace=self.overdue_grace,
            recorded=recorded,
        )
        findings = with_notes(findings, [*patient.inputs.medications, *patient.inputs.flagged])
        return localise_all(findings, self.display_names(ward))

    def display_names(self, ward: Ward | None) -> Mapping[str, str]:
        """IN RxCUI -> the drug name the ward reads (empty for en-US: RxNorm's names)."""
        return display_table(self.knowledge.display_names, ward.locale if ward else US)

    def reconcile(
        self,
        admission: Admission,
        patient: Patient,
        now: datetime,
        ready: reconciling.Prepared | None = None,
        *,
        unwritten: bool = False,
    ) -> list[Event]:
        """Bring the admission's alerts in line with a fresh check; sign and outbox what changed. With
        ``ready`` (from ``prepare_reconcile``) the check and signatures are those done off the loop, as
        long as nothing they were made from has changed since (see ``alertsvc.reconciling``)."""
        return reconciling.reconcile(self, admission, patient, now, ready, unwritten=unwritten)

    async def prepare_reconcile(
        self, admission: Admission, patient: Patient, now: datetime
    ) -> reconciling.Prepared:
        """The check and signatures of ``reconcile``, done in a worker thread before a transaction."""
        return await reconciling.prepared(self, admission, patient, now)

    def plain_words(self, finding: Finding) -> dict[str, Any]:
        """The finding's evidence as a sentence and its sources by name, for the screen (no ids)."""
        return {
            "evidence_text": evidence_sentence(finding, self.knowledge),
            "source_names": source_names(finding, self.knowledge),
        }

    # -- helpers -----------------------------------------------------------------------------------

    async def normalise(self, verified: VerifiedSlice) -> ClinicalInputs:
        """Normalise the slice's drugs in a worker thread, its RxNav look-ups under one deadline."""
        return await lookups.in_thread(self.lookups, clinical_inputs, verified, self.normalizer)

    async def _patient(self, admission: Admission, now: datetime) -> Patient:
        """The admission's verified slice (first slice plus updates, replayed) and its normalised inputs."""
        cached = self.patient_cache.get(admission.id)
        if cached is not None:
            return cached
        stored = adm.slice_of(self.db, admission.id)
        if stored is None:
            raise NotFound(f"admission {admission.id} has no slice")
        verified = await intake.replayed(
            *stored, patient=admission.patient, now=now, grantee=self.identity.public_id
        )
        verified = bedside.working_copy_of(self.db, admission.id, verified)  # entries recorded on the ward
        patient = Patient(verified, await self.normalise(verified))
        self.patient_cache[admission.id] = patient
        return patient

    async def patient_of(self, admission_id: str) -> Patient:
        """The verified slice and normalised drugs of an active admission (for CDS Hooks)."""
        return await self._patient(self.active_admission(admission_id), self.clock())

    async def patients_of(self, admission_ids: list[str], now: datetime) -> dict[str, Patient]:
        return {a: await self._patient(self.active_admission(a), now) for a in admission_ids}

    def active_admission(self, admission_id: str) -> Admission:
        admission = adm.get_admission(self.db, admission_id)
        if admission is None:
            raise NotFound(f"no admission {admission_id}")
        if not admission.active:
            raise Conflict(f"admission {admission_id} has ended")
        return admission

    def ensure_ward(self, ward_id: str) -> None:
        """Save the ward as ``default_ward`` makes it, unless it is saved already (inside a transaction)."""
        if adm.get_ward(self.db, ward_id) is None:
            adm.save_ward(self.db, self.default_ward(ward_id))

    def default_ward(self, ward_id: str) -> Ward:
        """A ward not configured, as it is saved when first admitted to: the default zone and locale."""
        return Ward(
            id=ward_id, name=ward_id, timezone=self.settings.ward_timezone, locale=self.settings.ward_locale
        )

    def publish(self, events: list[Event]) -> None:
        """Push committed events to the ward streams (they are already durable in the outbox)."""
        if any(event.type == "alert" for event in events):
            self.failpoints.hit(failpoints.AFTER_COMMIT_BEFORE_PUBLISH)
        if self.cluster is not None:  # the hub is fed from the shared outbox, in order, once
            self.cluster.catch_up()
            return
        for event in events:
            self.hub.publish(event)

    def patient_changed(self, admission_id: str, patient: Patient | None) -> None:
        """Keep (or, with None, drop) the admission's verified slice after it changed; in a cluster, tell
        the other processes to drop theirs."""
        if patient is None:
            self.patient_cache.pop(admission_id, None)
            self.checked_nodes.pop(admission_id, None)
        else:
            self.patient_cache[admission_id] = patient
        if self.cluster is not None:
            self.cluster.tell(admission=admission_id)
