"""The nine test scenarios of the HL7 PDDI-CDS implementation guide (STU1, "Test data": warfarin + NSAID
scenarios 1-5, digoxin + cyclosporine scenarios 1-4), by the RxNorm codes their CDS Hooks requests carry
(HL7/PDDI-CDS, input/pagecontent/testdata.md and the request files it links).

Each scenario's drugs must resolve BY CODE to the right ingredients and route (855295 is an SCDC,
"Warfarin Sodium 10 MG"), and the pure check must raise the interaction, except where the guide says "no
special precautions" (topical diclofenac). The guide's contextual factors (age, a history of upper GI
bleeding, a proton pump inhibitor, a systemic corticosteroid or aldosterone antagonist, digoxin level,
potassium, renal function) are listed with each case: the check has no observations or conditions, so
they are not asserted here; ``guide`` says what the guide's logic recommends.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest

from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import SEVERITY_ORDER, Medication
from alertsvc.knowledge.terminology import Normalizer

WARFARIN, IBUPROFEN, DICLOFENAC = "11289", "5640", "3355"
DIGOXIN, CYCLOSPORINE = "3407", "3008"


@dataclass(frozen=True)
class Drug:
    code: str  # RxNorm code as the scenario's request writes it
    display: str
    ingredient: str  # expected IN RxCUI
    route: str


@dataclass(frozen=True)
class Scenario:
    drugs: tuple[Drug, ...]
    pair: tuple[str, str]
    alert: bool  # must the check raise the interaction (at least major)?
    context: str
    guide: str


W_SCD = Drug("855332", "Warfarin Sodium 5 MG Oral Tablet", WARFARIN, "oral")
W_SCDC = Drug("855295", "Warfarin Sodium 10 MG", WARFARIN, "oral")
IBU = Drug("197805", "Ibuprofen 400 MG Oral Tablet", IBUPROFEN, "oral")
DIGOXIN_125 = Drug("197604", "Digoxin 0.125 MG Oral Tablet", DIGOXIN, "oral")
DIGOXIN_250 = Drug("197606", "Digoxin 0.25 MG Oral Tablet", DIGOXIN, "oral")
CYCLO_50 = Drug("835925", "cyclosporine, modified 50 MG Oral Capsule", CYCLOSPORINE, "oral")
CYCLO_25 = Drug("835894", "cyclosporine, modified 25 MG Oral Capsule", CYCLOSPORINE, "oral")

SCENARIOS = [
    pytest.param(
        Scenario(
            (
                Drug("855635", "Diclofenac Sodium 0.01 MG/MG Topical Gel [Voltaren]", DICLOFENAC, "topical"),
                W_SCDC,
            ),
            (WARFARIN, DICLOFENAC),
            False,
            "topical diclofenac",
            "no special precautions (little systemic absorption)",
        ),
        id="warfarin-nsaid-1-topical-diclofenac",
    ),
    pytest.param(
        Scenario(
            (
                IBU,
                W_SCDC,
                Drug("854868", "Rabeprazole sodium 20 MG Delayed Release Oral Tablet", "114979", "oral"),
            ),
            (WARFARIN, IBUPROFEN),
            True,
            "proton pump inhibitor (rabeprazole)",
            "assess risk and take action if necessary (a PPI may reduce the risk of GI bleeding)",
        ),
        id="warfarin-nsaid-2-with-ppi",
    ),
    pytest.param(
        Scenario(
            (IBU, W_SCD, Drug("197579", "Dexamethasone 1 MG Oral Tablet", "3264", "oral")),
            (WARFARIN, IBUPROFEN),
            True,
            "over 65; systemic corticosteroid (dexamethasone); warfarin as a MedicationDispense",
            "use only if benefit outweighs risk",
        ),
        id="warfarin-nsaid-3-corticosteroid-over-65",
    ),
    pytest.param(
        Scenario(
            (IBU, W_SCDC, IBU),
            (WARFARIN, IBUPROFEN),
            True,
            "under 65; history of upper GI bleeding; a second NSAID order; warfarin administered",
            "use only if benefit outweighs risk",
        ),
        id="warfarin-nsaid-4-history-of-gi-bleed",
    ),
    pytest.param(
        Scenario(
            (IBU, W_SCDC, Drug("198223", "Spironolactone 50 MG Oral Tablet", "9997", "oral")),
            (WARFARIN, IBUPROFEN),
            True,
            "under 65; aldosterone antagonist (spironolactone); warfarin as a MedicationStatement",
            "use only if benefit outweighs risk",
        ),
        id="warfarin-nsaid-5-aldosterone-antagonist",
    ),
    pytest.param(
        Scenario(
            (CYCLO_50, DIGOXIN_125, Drug("313988", "Furosemide 40 MG Oral Tablet", "4603", "oral")),
            (DIGOXIN, CYCLOSPORINE),
            True,
            "digoxin level 2.3 ng/mL (above 0.8-2.0); furosemide",
            "assess risk and take action if necessary",
        ),
        id="digoxin-cyclosporine-1-high-digoxin-level",
    ),
    pytest.param(
        Scenario(
            (CYCLO_50, DIGOXIN_125, CYCLO_50),
            (DIGOXIN, CYCLOSPORINE),
            True,
            "potassium 0.9 mmol/L (below 3.5-5.0); cyclosporine already ordered",
            "assess risk and take action if necessary (electrolyte abnormality)",
        ),
        id="digoxin-cyclosporine-2-low-potassium",
    ),
    pytest.param(
        Scenario(
            (DIGOXIN_250, CYCLO_25),
            (DIGOXIN, CYCLOSPORINE),
            True,
            "eGFR 60 mL/min/1.73m2 (renal function)",
            "assess risk and take action if necessary",
        ),
        id="digoxin-cyclosporine-3-renal-function",
    ),
    pytest.param(
        Scenario(
            (DIGOXIN_250, DIGOXIN_125, CYCLO_50),
            (DIGOXIN, CYCLOSPORINE),
            True,
            "digoxin level 2.3 ng/mL; digoxin already dispensed",
            "assess risk and take action if necessary",
        ),
        id="digoxin-cyclosporine-4-digoxin-level",
    ),
]


@functools.cache
def knowledge() -> tuple[Normalizer, InteractionGraph]:
    kb = kb_files.load(kb_files.DEFAULT_DATA_DIR)
    return Normalizer(kb), build_graph(kb)


def test_there_are_nine_scenarios() -> None:
    assert len(SCENARIOS) == 9


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_drugs_resolve_by_rxnorm_code(scenario: Scenario) -> None:
    normalizer, _ = knowledge()
    for drug in scenario.drugs:
        res = normalizer.resolve(drug.code)
        assert res.unresolved is None, f"{drug.code} {drug.display}: {res.unresolved}"
        assert [i.rxcui for i in res.ingredients] == [drug.ingredient], drug.display
        assert res.route == drug.route and res.via == "product" and not res.note, drug.display


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_check_raises_the_interaction(scenario: Scenario) -> None:
    normalizer, graph = knowledge()
    medications = [
        normalizer.medication(drug.code, ref=f"order-{n}:{drug.code}")
        for n, drug in enumerate(scenario.drugs)
    ]
    assert all(isinstance(m, Medication) and m.ingredients for m in medications)
    found = [
        f
        for f in check(medications, [], [], graph)
        if f.kind == "interaction" and set(scenario.pair) <= {i.rxcui for i in f.ingredients}
    ]
    worst = min((SEVERITY_ORDER[f.severity] for f in found), default=len(SEVERITY_ORDER))
    if scenario.alert:
        assert worst <= SEVERITY_ORDER["major"], f"expected at least major ({scenario.guide}); got {found}"
        assert all(f.rule and f.sources for f in found)
    else:
        assert worst > SEVERITY_ORDER["major"], f"{scenario.guide}: nothing major expected; got {found}"
