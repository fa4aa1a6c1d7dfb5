"""A check prepared off the event loop (at a tick, or after a knowledge update) and a ledger update that
lands meanwhile: the update's reaction alert must not be undone by the older check.

A real service on a real SQLite file (or PostgreSQL, with ALERTSVC_TEST_ENGINE=postgres); the patient's
real signed ledger and update. The interleaving is made by hand, step by step, as the event loop may run
it: the check is prepared, the update is applied and committed, then the check is committed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alertsvc import ticking
from alertsvc.access import issue_staff_token
from alertsvc.alerts import store as alert_store
from alertsvc.clock import Clock
from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.entries import SignedEntry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice, make_update
from alertsvc.schedule_desk import add_schedule
from alertsvc.service import Service
from tests.postgres import database_url_for

NOW = datetime(2030, 1, 15, 13, 0, tzinfo=UTC)
WARD = "ward-3"


def active_kinds(service: Service, admission: str) -> dict[str, str]:
    """The admission's active alerts of interaction and reaction kinds: id -> kind."""
    alerts = alert_store.active_alerts(service.db, admission=admission)
    return {a.id: a.claims["kind"] for a in alerts if a.claims["kind"] in ("interaction", "reaction")}


def service_on(tmp_path: Path, *, clock: Clock) -> Service:
    """A service on a SQLite file in ``tmp_path`` (or the test PostgreSQL server), not started."""
    db_path = tmp_path / "s.db"
    settings = Settings(
        db_path=db_path, service_key=tmp_path / "s.key", wards=WARD, database_url=database_url_for(db_path)
    )
    return Service(settings, clock=clock)


def her_grant(service: Service, patient: Identity) -> SignedEntry:
    """Her grant to the service: medications and reactions, for 30 hours from NOW."""
    return grants.new_grant(
        patient, grantee=service.identity.public_id, scope=("medications", "reactions"),
        not_before=NOW, hours=30, now=NOW,
    )  # fmt: skip


def test_a_reaction_flagged_while_a_check_was_prepared_stays_on_the_board(tmp_path: Path) -> None:
    async def scenario() -> None:
        service = service_on(tmp_path, clock=lambda: NOW)
        await service.start()
        try:
            patient = Identity.generate()
            with Ledger.init(tmp_path / "p.ledger", patient, now=NOW) as ledger:
                grant = her_grant(service, patient)
                ledger.append(
                    [actions.medication(patient, "warfarin", now=NOW), grant], patient=patient, now=NOW
                )
                first = loads(make_slice(ledger.read(), grant.id, now=NOW), what="slice")
                desk = service.staff(
                    issue_staff_token(
                        service.identity, ward=WARD, name="a", role="admission", now=NOW, hours=1
                    )
                )
                admitted = await service.admit({"slice": first, "ward": WARD, "bed": "1"}, desk)
                admission = service.active_admission(str(admitted["admission"]))

                # A tick's check of her, prepared from the slice as it was ...
                [before] = (await service.patients_of([admission.id], NOW)).values()
                prepared = await service.prepare_reconcile(admission, before, NOW)

                # ... while she adds ibuprofen and flags a reaction to her warfarin, and the update is
                # applied: an interaction alert and a reaction alert.
                ibuprofen = actions.medication(patient, "ibuprofen", now=NOW)
                flag = actions.flagged_reaction(patient, "warfarin", reaction="nosebleeds", now=NOW)
                ledger.append([ibuprofen, flag], patient=patient, now=NOW)
                update = make_update(ledger.read(), grant.id, int(admitted["head"]))
            await service.apply_update(admission, update, actor="patient", now=NOW)
            raised = active_kinds(service, admission.id)
            assert sorted(raised.values()) == ["interaction", "reaction"], raised

            # The tick's check is committed after the update: it must take neither alert away, and the
            # service must go on checking her slice as it is now.
            committed = ticking.commit_checks(
                service, [ticking.Check(admission, before, before, prepared)], NOW
            )
            assert committed.again == [admission]  # to be checked again, from her slice as it is now
            assert active_kinds(service, admission.id) == raised
            assert await ticking.recheck(service, committed.again, NOW) == [admission.id]
            assert active_kinds(service, admission.id) == raised
            [held] = (await service.patients_of([admission.id], NOW)).values()
            assert len(held.inputs.flagged) == 1 and len(held.inputs.medications) == 2
        finally:
            await service.stop()

    asyncio.run(scenario())


def test_a_check_whose_doses_changed_while_it_was_prepared_is_made_again(tmp_path: Path) -> None:
    """A tick's check that would change her alerts (a dose reminder now owed) is written only as the
    doses now stand: a nurse who planned an earlier dose meanwhile (a write the check did not see) is
    not undone by it. Written, the board reads as a fresh check of her finds it."""
    clock = [NOW]

    async def scenario() -> None:
        service = service_on(tmp_path, clock=lambda: clock[0])
        await service.start()
        try:
            patient = Identity.generate()
            with Ledger.init(tmp_path / "p.ledger", patient, now=NOW) as ledger:
                grant = her_grant(service, patient)
                flag = actions.flagged_reaction(patient, "ibuprofen", reaction="rash", now=NOW)
                ledger.append([flag, grant], patient=patient, now=NOW)
                first = loads(make_slice(ledger.read(), grant.id, now=NOW), what="slice")
            desk, nurse = (
                service.staff(
                    issue_staff_token(service.identity, ward=WARD, name=r, role=r, now=NOW, hours=2)
                )
                for r in ("admission", "nurse")
            )
            admitted = await service.admit({"slice": first, "ward": WARD, "bed": "1"}, desk)
            admission = service.active_admission(str(admitted["admission"]))

            def plan(due: datetime) -> dict[str, object]:
                dose = {"admission": admission.id, "drug": "ibuprofen", "due": due.isoformat()}
                return {"administrations": [dose]}

            await add_schedule(service, WARD, plan(NOW + timedelta(minutes=90)), nurse)
            # Half an hour later that dose's reminder is owed: a tick's check of her changes her alert ...
            clock[0] = NOW + timedelta(minutes=31)
            [held] = (await service.patients_of([admission.id], clock[0])).values()
            prepared = await service.prepare_reconcile(admission, held, clock[0])
            assert prepared.changes
            # ... while a nurse plans an earlier dose of the same drug, and that request checks her too.
            await add_schedule(service, WARD, plan(NOW + timedelta(minutes=40)), nurse)
            planned = board(service, admission.id)

            committed = ticking.commit_checks(
                service, [ticking.Check(admission, held, held, prepared)], clock[0]
            )
            assert committed.done == [admission.id] and committed.again == []
            written = board(service, admission.id)
            assert await ticking.recheck(service, [admission], clock[0]) == [admission.id]
            assert board(service, admission.id) == written  # a fresh check finds it as written
            assert written == planned
        finally:
            await service.stop()

    asyncio.run(scenario())


def board(service: Service, admission: str) -> list[tuple[str, str]]:
    """The admission's active alerts as the ward reads them: id and signed token."""
    return sorted((a.id, a.jws) for a in alert_store.active_alerts(service.db, admission=admission))
