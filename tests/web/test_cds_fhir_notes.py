"""CDS Hooks medications read from FHIR: a coding whose RxNorm code is unknown resolves by its display and
says so; a known code needs no note; the card's detail shows the note (via the finding's mechanism)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.check import check
from alertsvc.knowledge.display import with_notes
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import RXNORM_SYSTEM
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.web.cds_fhir import Drafts, FhirReader
from alertsvc.web.cds_hooks import card


@functools.cache
def knowledge() -> tuple[Normalizer, InteractionGraph, dict[str, Any]]:
    kb = kb_files.load(kb_files.DEFAULT_DATA_DIR)
    return Normalizer(kb), build_graph(kb), dict(kb.sources)


def order(code: str, display: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"order-{code}",
        "status": "draft",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM_SYSTEM, "code": code, "display": display}]
        },
    }


@pytest.mark.parametrize(
    ("code", "display", "name", "note"),
    [
        pytest.param("855332", "Warfarin Sodium 5 MG Oral Tablet", "warfarin", "", id="known-code"),
        pytest.param(
            "99999999",
            "Ibuprofen 400 MG Oral Tablet",
            "ibuprofen",
            "code 99999999 is not known here; read by its text 'Ibuprofen 400 MG Oral Tablet'",
            id="unknown-code-read-by-display",
        ),
    ],
)
def test_a_coding_resolves_by_code_else_by_display_with_a_note(
    code: str, display: str, name: str, note: str
) -> None:
    normalizer, _, _ = knowledge()
    reader = FhirReader(normalizer, [])
    medication = reader.medication(order(code, display), ref=f"draft:{code}", what="draft")
    assert medication is not None and reader.unchecked == []
    assert ([i.name for i in medication.ingredients], medication.note) == ([name], note)


def test_the_card_of_a_draft_read_by_its_display_says_so() -> None:
    normalizer, graph, sources = knowledge()
    reader = FhirReader(normalizer, [])
    draft = reader.medication(order("99999999", "Ibuprofen 400 MG Oral Tablet"), ref="draft:1", what="draft")
    current = reader.medication(order("855332", "Warfarin Sodium 5 MG Oral Tablet"), ref="med:1", what="x")
    assert draft is not None and current is not None
    findings = with_notes(check([current, draft], [], [], graph), [current, draft])
    [pair] = [f for f in findings if f.kind == "interaction"]
    drafts = Drafts([draft], {"draft:1"}, {"draft:1": "MedicationRequest/order-1"}, {"draft:1": draft.label})
    shown = card(pair, drafts, sources)
    assert "read by its text 'Ibuprofen 400 MG Oral Tablet'" in shown["detail"]
