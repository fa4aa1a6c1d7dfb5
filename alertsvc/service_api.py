"""What the service's desks may use of it: the ``Service`` as the modules it calls see it.

``alertsvc.service.Service`` joins everything (intake, update, act, tick). The desks it hands work to
(``bedside``, ``schedule_desk``, ``alert_actions``, ``scope_requests``, ``updates``, ...) need some of
its state and a few of its steps back: publish events, re-arm the timers, re-check an admission. They name
that through ``ServiceApi``, a protocol that ``Service`` satisfies (mypy checks it wherever the service
passes itself), so they import this page and never ``alertsvc.service``: the service sits above its desks,
not beside them in a circle.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from alertsvc.access import ReplayCache
from alertsvc.admissions import Admission
from alertsvc.alerts.hub import Event, Hub
from alertsvc.clock import Clock
from alertsvc.config import Settings
from alertsvc.failpoints import Failpoints
from alertsvc.knowledge.rxnorm import RxNormClient
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.slices import VerifiedSlice
from alertsvc.locks import KeyedLocks
from alertsvc.lookups import Lookups
from alertsvc.patient_data import ClinicalInputs, Patient
from alertsvc.reconciling import Prepared
from alertsvc.store import Database


class ServiceApi(Protocol):
    """The service's state and steps that its desks use (each is documented on ``Service``)."""

    # -- state -------------------------------------------------------------------------------------

    @property
    def db(self) -> Database: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def identity(self) -> Identity: ...

    @property
    def lead(self) -> timedelta: ...

    @property
    def locks(self) -> KeyedLocks: ...

    @property
    def hub(self) -> Hub: ...

    @property
    def replays(self) -> ReplayCache: ...

    @property
    def normalizer(self) -> Normalizer: ...

    @property
    def failpoints(self) -> Failpoints: ...

    @property
    def lookups(self) -> Lookups | None: ...

    @property
    def rxnav(self) -> RxNormClient | None: ...

    @property
    def patient_cache(self) -> dict[str, Patient]: ...

    @property
    def next_polls(self) -> dict[str, datetime]: ...

    def patient_changed(self, admission_id: str, patient: Patient | None) -> None: ...

    # -- steps -------------------------------------------------------------------------------------

    def publish(self, events: list[Event]) -> None: ...

    def rebuild_timers(self) -> None: ...

    def deliver_soon(self) -> None: ...

    def active_admission(self, admission_id: str) -> Admission: ...

    async def patient_of(self, admission_id: str) -> Patient: ...

    async def patients_of(self, admission_ids: list[str], now: datetime) -> dict[str, Patient]: ...

    async def normalise(self, verified: VerifiedSlice) -> ClinicalInputs: ...

    async def prepare_reconcile(self, admission: Admission, patient: Patient, now: datetime) -> Prepared: ...

    def reconcile(
        self, admission: Admission, patient: Patient, now: datetime, ready: Prepared | None = None
    ) -> list[Event]: ...

    async def apply_update(
        self, admission: Admission, update_bytes: bytes, *, actor: str, now: datetime
    ) -> dict[str, Any]: ...
