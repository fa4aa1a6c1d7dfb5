"""Every member drug of the ONC high-priority pairs resolves by name offline, or is listed with the reason it
cannot (tests/knowledge/fixtures/onc_high_priority_members.tsv, extracted once from the public class table,
the ANSM torsades classes and the curated QT additions; see its header).

A member that resolves must also be on a side of its ONC rule in the committed knowledge: a name the
terminology knows but the rules build could not place would still miss the critical pair.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import pytest

from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.graph import class_id_of
from alertsvc.knowledge.model import KnowledgeBase
from alertsvc.knowledge.terminology import Normalizer

FIXTURE = Path(__file__).parent / "fixtures" / "onc_high_priority_members.tsv"


@functools.cache
def knowledge() -> tuple[KnowledgeBase, Normalizer]:
    kb = kb_files.load(kb_files.DEFAULT_DATA_DIR)
    return kb, Normalizer(kb)


def members() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8") as handle:
        return list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))


def onc_rule_members(kb: KnowledgeBase) -> frozenset[str]:
    found: set[str] = set()
    for rule in kb.rules:
        if rule.id.startswith("onc-hp-"):
            for node in (rule.left, rule.right):
                found |= {node[3:]} if node.startswith("in:") else kb.classes[class_id_of(node)].members
    return frozenset(found)


def test_the_fixture_holds_every_member_once() -> None:
    rows = members()
    assert len(rows) == 152 and len({r["name"] for r in rows}) == len(rows)
    assert sum(1 for r in rows if r["unresolved"]) == 4  # amphetamine, amprenavir, ergonovine, "NSAID"


@pytest.mark.parametrize("row", [pytest.param(r, id=r["name"]) for r in members()])
def test_member_resolves_by_name_or_says_why_not(row: dict[str, str]) -> None:
    kb, normalizer = knowledge()
    res = normalizer.resolve(row["name"])
    if row["unresolved"]:
        assert res.unresolved is not None and res.ingredients == ()
        return
    assert res.unresolved is None and len(res.ingredients) == 1 and not res.note
    assert res.ingredients[0].rxcui in onc_rule_members(kb), f"{row['name']} is on no ONC rule"
    for written in row["written_as"].split("; "):  # the sources' own spellings ("Voreconazole")
        other = normalizer.resolve(written)
        assert other.ingredients in (res.ingredients, ()), f"{written!r} must never read as another drug"
