"""Finding ingredient RxCUIs for names as the public sources spell them."""

from __future__ import annotations

import pytest

from alertsvc.knowledge.rules_common import NameLookup, normalise_name

NAMES = {
    "aspirin": "1191",
    "warfarin": "11289",
    "warfarin sodium": "11289",
    "methylergonovine": "6883",
    "thyroid (usp)": "10572",
}


@pytest.mark.parametrize(
    ("written", "rxcui"),
    [
        pytest.param("WARFARIN", "11289", id="case"),
        pytest.param("Warfarin Potassium", "11289", id="unknown-salt-word"),
        pytest.param("Acetylsalicylic_acid", "1191", id="drugbank-inn"),
        pytest.param("ACETYLSALICYLIC ACID", "1191", id="ansm-inn"),
        pytest.param("Methylergometrine", "6883", id="inn-to-usan"),
        pytest.param("Thyroid USP", "10572", id="onc-spelling"),
        pytest.param("  aspirin:  ", "1191", id="punctuation"),
        pytest.param("Aspirin (oral)", "1191", id="parenthetical"),
    ],
)
def test_source_spellings_find_the_ingredient(written: str, rxcui: str) -> None:
    assert NameLookup(NAMES).find(written) == rxcui


def test_known_ingredient_fallback_is_recorded() -> None:
    lookup = NameLookup(NAMES)
    assert lookup.find("St John\u2019s wort") == "258326"
    assert lookup.fallbacks == {"st. john's wort": "258326"}
    assert lookup.is_ingredient("258326")


def test_terminology_wins_over_the_fallback() -> None:
    lookup = NameLookup({**NAMES, "st. john's wort": "999"})
    assert lookup.find("st john's wort") == "999"
    assert lookup.fallbacks == {}


def test_misses_are_kept_per_source() -> None:
    lookup = NameLookup(NAMES)
    assert lookup.members(["aspirin", "Nonexistium", ""], "ansm") == {"1191"}
    assert lookup.misses == {"ansm": {"nonexistium"}}


def test_normalise_name() -> None:
    assert normalise_name("\ufeffSt John\u2019s   Wort ") == "st john's wort"
