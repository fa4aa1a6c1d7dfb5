"""The hospital service: the one module that joins the pure core to its adapters.

    intake:  verify grant and slice -> store -> normalise -> check -> alerts (sign) -> outbox -> publish
    update:  verify new entries against the accepted head -> store -> re-check (or end, on revocation)
    tick:    purge ended grants, present alerts to an incoming shift, raise alerts for doses due soon

The database is the truth: every change and the events announcing it commit together, then go to the
hub. Timers are only wake-ups, rebuilt from the database at start-up and after every change.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import sqlite_utils

from alertsvc import admissions as adm
from alertsvc import audit, failpoints, ledger_reader, storage, timers
from alertsvc.admissions import Admission
from alertsvc.alerts import jws
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.build import AdmissionRef
from alertsvc.alerts.hub import Event, Hub
from alertsvc.alerts.reconcile import plan
from alertsvc.clock import Clock, iso, utc_now
from alertsvc.config import Settings
from alertsvc.errors import ConfigError, Conflict, Forbidden, GrantRevoked, InputError, NotFound, Unauthorized
from alertsvc.knowledge.display import LOCALES, US, display_table, localise_all, normalised_items, with_notes
from alertsvc.knowledge.graph import build_graph
from alertsvc.knowledge.kb import load as load_knowledge
from alertsvc.knowledge.model import Finding
from alertsvc.knowledge.rxnorm import client_from_settings
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger.canonical import canonical
from alertsvc.ledger.identity import Identity, jwk
from alertsvc.ledger.slices import VerifiedSlice, verify_slice, verify_update
from alertsvc.patient_data import ClinicalInputs, admission_findings, clinical_inputs
from alertsvc.schedule.runner import TimerRunner
from alertsvc.schedule.shifts import Ward
from alertsvc.service_identity import load_or_create
from alertsvc.web.auth import Role, Staff, read_signed_request, read_staff_token, require

ALERT_TYPE = "alertsvc-alert+jwt"
REVOKED = "grant revoked"
log = logging.getLogger("alertsvc.service")


@dataclass(frozen=True)
class Patient:
    """What the service holds of one admitted patient: the verified slice and its normalised drugs."""

    verified: VerifiedSlice
    inputs: ClinicalInputs


class Service:
    """Admissions, alerts and timers over one SQLite file; see the module docstring."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.identity: Identity = load_or_create(settings.service_key)
        if settings.ward_locale not in LOCALES:
            raise ConfigError(f"ward_locale {settings.ward_locale!r} is not one of {', '.join(LOCALES)}")
        self.knowledge = load_knowledge(settings.data_dir)
        self.graph = build_graph(self.knowledge)
        self.rxnav = client_from_settings(settings)
        self.normalizer = Normalizer(self.knowledge, online=self.rxnav)
        self.hub = Hub()
        self._db: sqlite_utils.Database | None = None
        self.runner = TimerRunner()
        self.lead = timedelta(minutes=settings.lead_time_minutes)
        self._patients: dict[str, Patient] = {}
        self.checkpoint_owed = False
        """A purge whose WAL checkpoint was blocked: the deleted bytes may still be in the -wal file."""
        self.next_polls: dict[str, datetime] = {}
        """When each admission admitted by grant link reads its patient's ledger next."""

    # -- life cycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the database on the serving thread, carry out what fell due while down, rebuild timers."""
        self._db = storage.open_db(self.settings.db_path)
        with storage.write(self._db):
            for ward in adm.configured_wards(
                self.settings.wards,
                default_zone=self.settings.ward_timezone,
                default_locale=self.settings.ward_locale,
            ):
                adm.save_ward(self._db, ward)
        self.runner.start()
        await self.tick()

    async def stop(self) -> None:
        self.runner.shutdown()
        self.hub.close_all()
        if self.rxnav is not None:
            self.rxnav.close()
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite_utils.Database:
        """The service database; opened by ``start()`` on the thread that serves requests."""
        if self._db is None:
            raise RuntimeError("the service has not been started")
        return self._db

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "service": self.identity.public_id, "knowledge": self.knowledge.version}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk(self.identity.public_id)]}

    # -- who is asking -----------------------------------------------------------------------------

    def staff(self, token: str) -> Staff:
        return read_staff_token(token, self.identity.public_key, now=self.clock())

    def require_nurse(self, staff: Staff, ward: str) -> None:
        require(staff, ward=ward, roles=("nurse",))

    # -- intake ------------------------------------------------------------------------------------

    async def admit(self, body: dict[str, Any], staff: Staff) -> dict[str, Any]:
        """Verify a grant and slice for this service; store it; check it; alert. Nothing stored on failure."""
        ward_id, bed = _text(body, "ward"), _text(body, "bed")
        require(staff, ward=ward_id, roles=("admission",))
        slice_value, link = body.get("slice"), body.get("grant_link")
        ledger_url, patient_id = "", None
        if isinstance(slice_value, dict):
            slice_bytes = canonical(slice_value)
        elif isinstance(link, str):
            slice_bytes, grant_link = await ledger_reader.first_slice(self, link)
            ledger_url, patient_id = grant_link.url, grant_link.patient
        else:
            raise InputError(
                "admission: give 'slice' (the JSON object written by `alertsvc ledger slice`) or "
                "'grant_link' (the alertsvc-grant: link of the patient's QR code)"
            )
        now = self.clock()
        verified = verify_slice(slice_bytes, patient=patient_id, now=now, grantee=self.identity.public_id)
        _check_grant_matches(body.get("grant"), verified)
        if adm.active_for_grant(self.db, verified.grant.id) is not None:
            raise Conflict(f"grant {verified.grant.id} is already admitted")
        if adm.end_reason_for_grant(self.db, verified.grant.id) == REVOKED:  # a slice from before it
            raise GrantRevoked(f"grant {verified.grant.id} was revoked; its admission has ended")
        patient = Patient(verified, await self._normalise(verified))
        admission = Admission(
            id="adm-" + uuid.uuid4().hex[:16],
            ward=ward_id,
            bed=bed,
            label=str(body.get("label") or f"Bed {bed}"),
            patient=verified.patient,
            grant_id=verified.grant.id,
            not_before=verified.grant.not_before,
            expires_at=verified.grant.expires_at,
            admitted_at=now,
            status="active",
            ledger_url=ledger_url,
        )
        with storage.write(self.db):
            self._ensure_ward(ward_id)
            adm.insert_admission(self.db, admission, slice_bytes, verified.head.seq)
            audit.record(
                self.db,
                now=now,
                actor=staff.name,
                action="admit",
                admission=admission.id,
                ward=ward_id,
                patient_hash=adm.patient_hash(admission.patient),
                detail={
                    "bed": bed,
                    "scope": sorted(verified.grant.scope),
                    "unresolved": len(patient.inputs.unresolved),
                },
            )
            events = self.reconcile(admission, patient, now)
        self._patients[admission.id] = patient
        self.publish(events)
        self.rebuild_timers()
        return {
            "admission": admission.id,
            "expires_at": iso(admission.expires_at),
            "head": verified.head.seq,
            "alerts": len(alert_store.active_alerts(self.db, admission=admission.id)),
            "unresolved": [
                {"what": u.what, "term": u.term, "reason": u.reason} for u in patient.inputs.unresolved
            ],
            "normalised": normalised_items(
                [*patient.inputs.medications, *patient.inputs.flagged],
                self.display_names(adm.get_ward(self.db, ward_id)),
            ),
        }

    async def add_entries(
        self, admission_id: str, body: dict[str, Any], authorization: str, *, path: str
    ) -> dict[str, Any]:
        """New signed entries with a consistency proof from the accepted head; re-check at once."""
        admission = self.active_admission(admission_id)
        actor = self._entry_author(admission, authorization, path)
        now = self.clock()
        return await self.apply_update(admission, canonical(body), actor=actor, now=now)

    async def apply_update(
        self, admission: Admission, update_bytes: bytes, *, actor: str, now: datetime
    ) -> dict[str, Any]:
        """Verify an update against the accepted head; store it and re-check, or end on revocation."""
        previous = await self._patient(admission, now)
        updated = verify_update(previous.verified, update_bytes, now=now)
        if updated.revoked:
            await self.end_admission(admission, reason=REVOKED, now=now)
            return {"admission": admission.id, "status": "ended", "reason": REVOKED}
        patient = Patient(updated, await self._normalise(updated))
        with storage.write(self.db):
            adm.add_slice_update(self.db, admission.id, update_bytes, updated.head.seq)
            audit.record(
                self.db,
                now=now,
                actor=actor,
                action="update-slice",
                admission=admission.id,
                ward=admission.ward,
                detail={"head": updated.head.seq},
            )
            events = self.reconcile(admission, patient, now)
        self._patients[admission.id] = patient
        self.publish(events)
        self.rebuild_timers()
        return {"admission": admission.id, "status": "active", "head": updated.head.seq}

    # -- ending ------------------------------------------------------------------------------------

    async def end_admission(self, admission: Admission, *, reason: str, now: datetime) -> None:
        """Withdraw the admission's alerts from every view and purge everything derived from its slice."""
        with storage.write(self.db):
            withdrawn = adm.purge(self.db, admission.id, now=now, reason=reason)
            event = alert_store.append_event(
                self.db,
                ward=admission.ward,
                type="withdrawn",
                data={"admission": admission.id, "alerts": withdrawn, "reason": reason},
                admission=None,
                now=now,
            )
            audit.record(
                self.db,
                now=now,
                actor="alertsvc",
                action="purge",
                admission=admission.id,
                ward=admission.ward,
                patient_hash=adm.patient_hash(admission.patient),
                detail={"reason": reason, "alerts_withdrawn": len(withdrawn)},
            )
        self.purge_checkpoint()
        self._patients.pop(admission.id, None)
        self.next_polls.pop(admission.id, None)
        self.publish([event])
        self.rebuild_timers()  # its expiry, dose and reminder timers go with it
        log.info("admission %s ended (%s); slice purged", admission.id, reason)

    def purge_checkpoint(self) -> None:
        """Checkpoint the WAL after a purge; if a reader blocks it, it is owed and the next tick retries."""
        self.checkpoint_owed = not storage.checkpoint_truncate(self.db)
        if self.checkpoint_owed:
            log.warning("purge: the WAL checkpoint is blocked by a reader; retrying at the next tick")

    # -- timers ------------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Everything due by now: expiries, shift changes, doses coming due. Safe to call at any time."""
        now = self.clock()
        for admission in adm.active_admissions(self.db):
            if admission.expires_at <= now:
                await self.end_admission(admission, reason="grant expired", now=now)
        if self.checkpoint_owed:
            self.purge_checkpoint()
        active = adm.active_admissions(self.db)
        patients = await self.patients_of([a.id for a in active], now)
        events: list[Event] = []
        with storage.write(self.db):
            for ward in adm.all_wards(self.db):
                events.extend(timers.present_shift(self.db, ward, now))
            for admission in active:
                events.extend(self.reconcile(admission, patients[admission.id], now))
        self.publish(events)
        self.rebuild_timers()

    def rebuild_timers(self) -> None:
        """Arm one timer per wake-up the database calls for (see ``timers.wanted``); cancel the rest."""
        ticks, polls = timers.wanted(self, self.clock())
        for job_id, _ in self.runner.jobs():
            if job_id not in ticks and job_id not in polls:
                self.runner.cancel(job_id)
        for job_id, when in ticks.items():
            self.runner.at(job_id, when, self.tick)
        for job_id, when in polls.items():
            self.runner.at(job_id, when, self.poll_ledgers)

    async def poll_ledgers(self) -> None:
        """Read new entries from the ledgers of admissions admitted by grant link (see ledger_reader)."""
        await ledger_reader.poll(self)
        self.rebuild_timers()

    # -- the check ---------------------------------------------------------------------------------

    def findings_for(self, admission: Admission, patient: Patient, now: datetime) -> list[Finding]:
        """The pure check over the slice and the ward's schedule for this admission, in the ward's drug
        names, each finding saying how a drug it involves was read when that needs saying."""
        ward = adm.get_ward(self.db, admission.ward)
        if ward is None:
            raise NotFound(f"admission {admission.id} is on ward {admission.ward}, which does not exist")
        doses = adm.doses(self.db, admission=admission.id)
        findings = admission_findings(patient.inputs, doses, ward, self.graph, now=now)
        findings = with_notes(findings, [*patient.inputs.medications, *patient.inputs.flagged])
        return localise_all(findings, self.display_names(ward))

    def display_names(self, ward: Ward | None) -> Mapping[str, str]:
        """IN RxCUI -> the drug name the ward reads (empty for en-US: RxNorm's names)."""
        return display_table(self.knowledge.display_names, ward.locale if ward else US)

    def reconcile(self, admission: Admission, patient: Patient, now: datetime) -> list[Event]:
        """Bring the admission's alerts in line with a fresh check; sign and outbox what changed."""
        changes = plan(
            AdmissionRef(admission.id, admission.ward, admission.bed, admission.label, admission.expires_at),
            self.findings_for(admission, patient, now),
            adm.doses(self.db, admission=admission.id),
            [a for a in alert_store.active_alerts(self.db, admission=admission.id)],
            flagged_by=patient.inputs.flagged_by,
            now=now,
            lead=self.lead,
            new_id=lambda: "alert-" + uuid.uuid4().hex[:16],
        )
        events = []
        acks = alert_store.acknowledgements(self.db, [a.id for a, _ in changes.upserts])
        for alert, reminded in changes.upserts:
            token = jws.sign(alert.claims(), self.identity, typ=ALERT_TYPE)
            alert_store.save_alert(self.db, alert, token, reminded_dose=reminded)
            data = {
                "id": alert.id,
                "jws": token,
                "acknowledgements": [a.as_json() for a in acks.get(alert.id, [])],
            }
            events.append(
                alert_store.append_event(
                    self.db, ward=admission.ward, type="alert", data=data, admission=admission.id, now=now
                )
            )
        if changes.withdrawals:
            self.db.execute(
                f"UPDATE alerts SET status = 'withdrawn', updated = ? WHERE id IN "
                f"({','.join('?' * len(changes.withdrawals))})",
                [iso(now), *changes.withdrawals],
            )
            data = {
                "admission": admission.id,
                "alerts": list(changes.withdrawals),
                "reason": "no longer found",
            }
            events.append(
                alert_store.append_event(
                    self.db, ward=admission.ward, type="withdrawn", data=data, admission=admission.id, now=now
                )
            )
        return events

    # -- helpers -----------------------------------------------------------------------------------

    async def _normalise(self, verified: VerifiedSlice) -> ClinicalInputs:
        """Normalise the slice's drugs in a worker thread (online look-ups, if configured, may block)."""
        return await anyio.to_thread.run_sync(clinical_inputs, verified, self.normalizer)

    async def _patient(self, admission: Admission, now: datetime) -> Patient:
        """The admission's verified slice (first slice plus updates, replayed) and its normalised inputs."""
        cached = self._patients.get(admission.id)
        if cached is not None:
            return cached
        stored = adm.slice_of(self.db, admission.id)
        if stored is None:
            raise NotFound(f"admission {admission.id} has no slice")
        first, updates = stored
        verified = verify_slice(first, patient=admission.patient, now=now, grantee=self.identity.public_id)
        for update in updates:
            verified = verify_update(verified, update, now=now)
        patient = Patient(verified, await self._normalise(verified))
        self._patients[admission.id] = patient
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

    def _entry_author(self, admission: Admission, authorization: str, path: str) -> str:
        """Staff of the admission's ward, or the patient themself (a request signed with their key)."""
        try:
            staff = self.staff(authorization)
        except Unauthorized:  # not a staff token; perhaps a request signed by the patient
            signer = read_signed_request(
                authorization, method="POST", path=path, audience=self.identity.public_id, now=self.clock()
            )
            if signer != admission.patient:
                raise Forbidden("only the patient or the ward's staff may add entries") from None
            return "patient"
        roles: tuple[Role, ...] = ("admission", "nurse")
        require(staff, ward=admission.ward, roles=roles)
        return staff.name

    def _ensure_ward(self, ward_id: str) -> None:
        if adm.get_ward(self.db, ward_id) is None:
            ward = Ward(
                id=ward_id,
                name=ward_id,
                timezone=self.settings.ward_timezone,
                locale=self.settings.ward_locale,
            )
            adm.save_ward(self.db, ward)

    def publish(self, events: list[Event]) -> None:
        """Push committed events to the ward streams (they are already durable in the outbox)."""
        if any(event.type == "alert" for event in events):
            failpoints.hit(failpoints.AFTER_COMMIT_BEFORE_PUBLISH, self.settings.failpoints)
        for event in events:
            self.hub.publish(event)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"'{name}' is required and must be a non-empty string")
    return value.strip()


def _check_grant_matches(grant: Any, verified: VerifiedSlice) -> None:
    if grant is None:
        return
    grant_id = grant.get("grant") or grant.get("id") if isinstance(grant, dict) else grant
    if grant_id != verified.grant.id:
        raise InputError(
            f"the grant presented ({grant_id}) is not the grant of the slice ({verified.grant.id})"
        )
