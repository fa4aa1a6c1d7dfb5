"""A knowledge update re-checks every active admission: rules withdrawn withdraw their alerts on every
ward, restored they revive them (same alert, next version), and a ward's stream is told each time.

A real service on a real SQLite file; patients with real signed ledgers and slices.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alertsvc import knowledge_recheck, schedule_desk, sealing
from alertsvc.access import issue_staff_token
from alertsvc.config import Settings
from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge import kb
from alertsvc.knowledge.kb import load as load_knowledge
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
WARDS = ("north", "south")


def slice_of(folder: Path, drugs: list[str], service_id: str) -> dict[str, Any]:
    patient = Identity.generate()
    with Ledger.init(folder / "p.ledger", patient, now=NOW) as ledger:
        grant = grants.new_grant(
            patient,
            grantee=service_id,
            scope=("medications", "allergies", "reactions"),
            not_before=NOW - timedelta(minutes=5),
            hours=24,
            now=NOW,
        )
        entries = [actions.medication(patient, drug, now=NOW) for drug in drugs]
        ledger.append([*entries, grant], patient=patient, now=NOW)
        body: dict[str, Any] = loads(make_slice(ledger.read(), grant.id, now=NOW), what="slice")
    return body


async def admit(service: Service, folder: Path, drugs: list[str], ward: str, bed: str) -> str:
    """A patient on ``drugs`` (her ledger in ``folder``, made here) admitted by the ward's desk; the
    admission's id."""
    folder.mkdir()
    body = slice_of(folder, drugs, service.identity.public_id)
    desk = issue_staff_token(service.identity, ward=ward, name="a", role="admission", now=NOW, hours=1)
    admitted = await service.admit({"slice": body, "ward": ward, "bed": bed}, service.staff(desk))
    return str(admitted["admission"])


def interaction_alerts(service: Service) -> dict[str, tuple[str, int, str]]:
    """Interaction alerts by id: (status, version, rule)."""
    rows = service.db.execute("SELECT id, status, version, admission, body FROM alerts").fetchall()
    bodies = {row[0]: json.loads(sealing.unseal_text(service.db, row[3], row[4])) for row in rows}
    return {
        row[0]: (row[1], row[2], bodies[row[0]]["rule"])
        for row in rows
        if bodies[row[0]]["kind"] == "interaction"
    }


def test_rules_withdrawn_then_restored_withdraw_then_revive_their_alerts(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "s.db", service_key=tmp_path / "s.key", wards=";".join(WARDS))

    async def scenario() -> None:
        service = Service(settings, clock=lambda: NOW)
        await service.start()
        try:
            for n, ward in enumerate(WARDS):
                await admit(service, tmp_path / ward, ["simvastatin", "clarithromycin"], ward, str(n))
            # a third patient, on one of the two drugs only
            await admit(service, tmp_path / "alone", ["simvastatin"], "north", "9")
            before = interaction_alerts(service)
            assert len(before) == 2 and {s for s, _, _ in before.values()} == {"active"}
            original = service.knowledge
            without = (
                dataclasses.replace(  # every interaction rule withdrawn (several sources rate this pair)
                    original,
                    version="test-update",
                    rules=tuple(r for r in original.rules if r.kind != "interaction"),
                )
            )
            north = service.hub.subscribe("north")

            # A new version with the same rules and classes touches no check: nothing to do.
            touched = knowledge_recheck.use_knowledge(service, dataclasses.replace(original, version="same"))
            assert touched == knowledge_recheck.Touched()
            done = await knowledge_recheck.recheck_all(service, touched)
            assert (done.admissions, done.skipped, done.events) == (0, 3, 0)

            touched = knowledge_recheck.use_knowledge(service, without)
            assert (
                touched is not None and {"in:36567", "in:21212"} <= touched.nodes
            )  # simvastatin, clarithromycin
            done = await knowledge_recheck.recheck_all(service, touched)
            assert (done.admissions, done.skipped) == (2, 1)  # simvastatin alone: no rule it meets changed
            withdrawn = interaction_alerts(service)
            assert set(withdrawn) == set(before)
            assert {s for s, _, _ in withdrawn.values()} == {"withdrawn"}
            told = await asyncio.wait_for(north.next(), 5)
            assert told is not None and told.type == "withdrawn" and told.ward == "north"

            done = await knowledge_recheck.recheck_all(
                service, knowledge_recheck.use_knowledge(service, original)
            )
            revived = interaction_alerts(service)
            assert set(revived) == set(before)  # the same alerts, not new ones colliding with the old
            for alert_id, (status, version, _) in revived.items():
                assert status == "active"
                assert version > before[alert_id][1]
            told = await asyncio.wait_for(north.next(), 5)
            assert told is not None and told.type == "alert"
            north.close()
        finally:
            await service.stop()

    asyncio.run(scenario())


def test_what_a_knowledge_update_touched() -> None:
    kb = load_knowledge(Settings().data_dir)
    assert knowledge_recheck.what_changed(kb, kb) == knowledge_recheck.Touched()
    rule = next(r for r in kb.rules if r.left.startswith("in:") and r.right.startswith("in:"))
    fewer = dataclasses.replace(kb, rules=tuple(r for r in kb.rules if r != rule))
    touched = knowledge_recheck.what_changed(kb, fewer)
    assert touched == knowledge_recheck.Touched(
        rules=frozenset({(frozenset({rule.left}), frozenset({rule.right}))})
    )
    # A check reading both of the rule's drugs may change; one reading only one of them cannot.
    other = next(f"in:{i}" for i in kb.ingredients if f"in:{i}" not in (rule.left, rule.right))
    assert touched.may_change(frozenset({rule.left, rule.right, other}))
    assert not touched.may_change(frozenset({rule.left, other}))
    assert not touched.may_change(frozenset({rule.right}))

    group = next(c for c in kb.classes.values() if len(c.members) > 1)
    smaller = dataclasses.replace(
        kb,
        classes=kb.classes
        | {group.id: dataclasses.replace(group, members=frozenset(list(group.members)[1:]))},
    )
    changed = knowledge_recheck.what_changed(kb, smaller)
    assert changed is not None and changed.nodes == {f"class:{group.id}"} | {f"in:{m}" for m in group.members}
    assert changed.may_change(frozenset({f"in:{min(group.members)}"}))  # a member, old or new, alone

    renamed = dataclasses.replace(kb, names=kb.names | {"zzq new name": ("36567",)})
    assert knowledge_recheck.what_changed(kb, renamed) is None  # names may change any check


def test_a_rule_between_classes_concerns_the_checks_that_meet_both_classes() -> None:
    kb = load_knowledge(Settings().data_dir)
    rule = next(
        r for r in kb.rules if r.left.startswith("class:") and r.right.startswith("class:") and not r.also
    )
    left, right = (kb.classes[node.removeprefix("class:")].members for node in (rule.left, rule.right))
    only_left = sorted(left - right)
    only_right = sorted(right - left)
    touched = knowledge_recheck.what_changed(kb, dataclasses.replace(kb, rules=tuple(set(kb.rules) - {rule})))
    assert touched is not None
    assert touched.may_change(frozenset({f"in:{only_left[0]}", f"in:{only_right[0]}"}))
    assert not touched.may_change(frozenset({f"in:{m}" for m in only_left}))
    assert touched.may_change(frozenset({rule.left, f"in:{only_right[0]}"}))  # an allergy to the class


def test_a_drug_name_the_new_knowledge_reads_is_checked(tmp_path: Path) -> None:
    """Names changed: every slice is read again, and a drug that did not resolve now does."""
    settings = Settings(db_path=tmp_path / "s.db", service_key=tmp_path / "s.key", wards="north")

    async def scenario() -> None:
        service = Service(settings, clock=lambda: NOW)
        await service.start()
        try:
            await admit(service, tmp_path / "p", ["simvastatin", "zqklaricidzq"], "north", "1")
            assert interaction_alerts(service) == {}  # the second drug is unchecked: it did not resolve

            original = service.knowledge
            named = dataclasses.replace(
                original,
                version="named",
                names=original.names | {"zqklaricidzq": original.names["clarithromycin"]},
            )
            touched = knowledge_recheck.use_knowledge(service, named)
            assert touched is None  # names may change any check
            done = await knowledge_recheck.recheck_all(service, touched)
            assert (done.admissions, done.skipped) == (1, 0)
            assert {status for status, _, _ in interaction_alerts(service).values()} == {"active"}
        finally:
            await service.stop()

    asyncio.run(scenario())


def test_a_reload_reads_the_knowledge_files_again_and_keeps_what_is_in_use_when_they_do_not_load(
    tmp_path: Path, settings: Settings
) -> None:
    data_dir = tmp_path / "data"
    original = load_knowledge(Settings().data_dir)
    kb.save(original, data_dir)
    settings = dataclasses.replace(settings, wards="north", data_dir=data_dir)  # SQLite or PostgreSQL

    async def scenario() -> None:
        service = Service(settings, clock=lambda: NOW)
        await service.start()
        try:
            await admit(service, tmp_path / "p", ["simvastatin", "clarithromycin"], "north", "1")
            # on one of the two drugs only: no rule withdrawn concerns her
            await admit(service, tmp_path / "alone", ["simvastatin"], "north", "2")
            # simvastatin in her slice, clarithromycin on the ward's MAR
            third = await admit(service, tmp_path / "scheduled", ["simvastatin"], "north", "3")
            nurse = issue_staff_token(
                service.identity, ward="north", name="n", role="nurse", now=NOW, hours=1
            )
            dose = {
                "admission": third,
                "drug": "clarithromycin",
                "due": (NOW + timedelta(hours=2)).isoformat(),
            }
            await schedule_desk.add_schedule(
                service, "north", {"administrations": [dose]}, service.staff(nurse)
            )
            before = interaction_alerts(service)
            assert len(before) == 2 and {s for s, _, _ in before.values()} == {"active"}

            same = await knowledge_recheck.reload(service)  # the files hold the knowledge in use
            assert same == knowledge_recheck.Reloaded(original.version, original.version, None)

            kb.save(  # the update: every interaction rule withdrawn
                dataclasses.replace(
                    original, rules=tuple(r for r in original.rules if r.kind != "interaction")
                ),
                data_dir,
            )
            done = await knowledge_recheck.reload(service)
            assert done.previous == original.version and done.version != original.version
            assert service.health()["knowledge"] == done.version == service.knowledge.version
            assert done.rechecked is not None  # on PostgreSQL too (what her check read, worked out anew)
            assert (done.rechecked.admissions, done.rechecked.skipped) == (2, 1)
            assert {s for s, _, _ in interaction_alerts(service).values()} == {"withdrawn"}

            rules = data_dir / "rules.jsonl"  # changed by hand: its hash no longer matches the manifest
            rules.write_text(rules.read_text() + rules.read_text().splitlines()[0] + "\n")
            with pytest.raises(KnowledgeBuildError, match=r"rules\.jsonl: content differs"):
                await knowledge_recheck.reload(service)
            assert service.knowledge.version == done.version  # still the knowledge that loaded

            kb.save(original, data_dir)  # restored; two reloads at once: one swaps, the other finds it done
            service.checked_nodes.clear()  # as after a restart: what each check read is worked out anew
            both = await asyncio.gather(knowledge_recheck.reload(service), knowledge_recheck.reload(service))
            assert [r.rechecked for r in both] == [knowledge_recheck.Rechecked(2, 2, 1), None]
            assert {r.version for r in both} == {original.version} == {service.knowledge.version}
            revived = interaction_alerts(service)
            assert set(revived) == set(before) and {s for s, _, _ in revived.values()} == {"active"}
        finally:
            await service.stop()

    asyncio.run(scenario())
