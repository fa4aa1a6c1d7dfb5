"""A ward's locale picks the drug names its alerts are written in; a medication's reading note reaches the
findings that involve it. Pure functions, over hand-made findings and the committed display names."""

from __future__ import annotations

import pytest

from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.display import display_table, localise, localise_all, normalised_items, with_notes
from alertsvc.knowledge.graph import MAX_SUMMARY
from alertsvc.knowledge.model import Finding, Ingredient, Medication

ACETAMINOPHEN = Ingredient("161", "acetaminophen")
WARFARIN = Ingredient("11289", "warfarin")
GB = {"161": "paracetamol", "3008": "ciclosporin", "4917": "glyceryl trinitrate"}


def finding(
    *ingredients: Ingredient, summary: str = "", mechanism: str = "", management: str = ""
) -> Finding:
    return Finding(
        kind="interaction",
        severity="major",
        ingredients=ingredients,
        summary=summary,
        mechanism=mechanism,
        management=management,
        rule="test-rule",
        sources=("test",),
        evidence=tuple(f"in:{i.rxcui}" for i in ingredients),
        knowledge_version="kb-test",
        refs=("entry:a", "entry:b"),
    )


def test_localise_renames_ingredients_and_whole_words_in_the_text_keeping_capitals() -> None:
    before = finding(
        ACETAMINOPHEN,
        WARFARIN,
        summary="Acetaminophen + warfarin: INR may rise (major)",
        mechanism="ACETAMINOPHEN over 2 g a day raises the INR; acetaminophenol is not acetaminophen.",
        management="1. Give acetaminophen-free analgesia? No: give acetaminophen. 2. Check INR.",
    )
    after = localise(before, GB)
    assert [(i.rxcui, i.name) for i in after.ingredients] == [("161", "paracetamol"), ("11289", "warfarin")]
    assert after.summary == "Paracetamol + warfarin: INR may rise (major)"
    assert after.mechanism == "PARACETAMOL over 2 g a day raises the INR; acetaminophenol is not paracetamol."
    assert after.management == (
        "1. Give acetaminophen-free analgesia? No: give paracetamol. 2. Check INR."
    )  # "acetaminophen-free" is another word: left alone
    assert (after.rule, after.refs, after.evidence) == (before.rule, before.refs, before.evidence)


def test_localise_leaves_other_drugs_and_us_wards_alone() -> None:
    before = finding(WARFARIN, summary="acetaminophen is not in this finding")
    assert localise(before, GB) is before
    assert localise_all([finding(ACETAMINOPHEN, summary="acetaminophen")], {})[0].summary == "acetaminophen"


def test_a_summary_that_would_outgrow_a_card_keeps_rxnorms_names() -> None:
    nitro = Ingredient("4917", "nitroglycerin")
    long = "nitroglycerin + sildenafil: " + "x" * (MAX_SUMMARY - 40) + " (critical)"
    assert len(long) <= MAX_SUMMARY
    after = localise(finding(nitro, summary=long, mechanism="nitroglycerin and a PDE5 inhibitor"), GB)
    assert after.summary == long  # "glyceryl trinitrate" is 6 letters longer: it would not fit
    assert after.mechanism == "glyceryl trinitrate and a PDE5 inhibitor"
    assert after.ingredients[0].name == "glyceryl trinitrate"


@pytest.mark.parametrize(
    ("rxnorm", "british"),
    [
        pytest.param("acetaminophen", "paracetamol", id="paracetamol"),
        pytest.param("albuterol", "salbutamol", id="salbutamol"),
        pytest.param("epinephrine", "adrenaline", id="adrenaline"),
        pytest.param("cyclosporine", "ciclosporin", id="ciclosporin"),
        pytest.param("nitroglycerin", "glyceryl trinitrate", id="glyceryl-trinitrate"),
        pytest.param("meperidine", "pethidine", id="pethidine"),
        pytest.param("rifampin", "rifampicin", id="rifampicin"),
        pytest.param("glyburide", "glibenclamide", id="glibenclamide"),
    ],
)
def test_the_committed_en_gb_names(rxnorm: str, british: str) -> None:
    kb = kb_files.load(kb_files.DEFAULT_DATA_DIR)
    rxcui = kb.names[rxnorm][0]
    assert kb.ingredients[rxcui].name == rxnorm
    assert display_table(kb.display_names, "en-GB")[rxcui] == british
    assert display_table(kb.display_names, "en-US") == {}


def test_with_notes_puts_each_medications_note_into_the_findings_that_involve_it() -> None:
    meds = [
        Medication(
            "ibuprophen",
            (Ingredient("5640", "ibuprofen"),),
            ref="entry:a",
            note="read 'ibuprophen' as ibuprofen",
        ),
        Medication("warfarin", (WARFARIN,), ref="entry:b"),
    ]
    involved = finding(WARFARIN, mechanism="Bleeding risk.")
    other = Finding(**{**involved.__dict__, "refs": ("entry:b",)})
    noted, untouched = with_notes([involved, other], meds)
    assert noted.mechanism == "Bleeding risk. Read 'ibuprophen' as ibuprofen."
    assert untouched == other


def test_normalised_items_show_ingredients_in_the_wards_names_and_the_note() -> None:
    med = Medication("paracetamol", (ACETAMINOPHEN,), ref="entry:x", note="")
    assert normalised_items([med], GB) == [
        {
            "ref": "entry:x",
            "label": "paracetamol",
            "ingredients": [{"rxcui": "161", "name": "paracetamol"}],
            "note": "",
        }
    ]


def test_docstring_examples_hold() -> None:
    import doctest

    from alertsvc.knowledge import display, orange_book, spelling

    for module in (display, orange_book, spelling):
        result = doctest.testmod(module)
        assert result.attempted >= 1 and result.failed == 0, module.__name__
