"""FHIR AllergyIntolerance.category for an allergen written as text: food, environment, biologic, or
medication (the default: a drug, or anything not on the lists below, so drug checks still see it).

A short curated list of the common non-drug allergens (food: the EU/US major food allergens; environment:
latex, pollen, mites, dander, moulds, venoms; biologic: blood products and vaccines' animal-derived
parts). Pure; matched on whole words, case-insensitively.

>>> category_of("Peanut butter"), category_of("latex gloves"), category_of("amoxicillin")
('food', 'environment', 'medication')
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FOOD = _words(
    "peanut peanuts nut nuts tree-nut almond almonds cashew cashews walnut walnuts hazelnut hazelnuts "
    "pecan pecans pistachio pistachios brazil egg eggs milk dairy lactose cheese wheat gluten soy soya "
    "soybean soybeans sesame fish shellfish shrimp prawn prawns crab lobster mussel mussels oyster "
    "oysters mustard celery lupin strawberry strawberries kiwi banana"
)
ENVIRONMENT = _words(
    "latex rubber pollen pollens grass hay ragweed birch dust mite mites dander cat dog horse mould "
    "mold bee bees wasp wasps hornet venom sting stings nickel cockroach feathers"
)
BIOLOGIC = _words("blood plasma platelets antiserum antivenom gelatin")
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")


def category_of(substance: str) -> str:
    """``food``, ``environment``, ``biologic`` or ``medication`` for an allergen name."""
    words = set(_WORD.findall(substance.lower()))
    for name, known in (("food", FOOD), ("environment", ENVIRONMENT), ("biologic", BIOLOGIC)):
        if words & known:
            return name
    return "medication"
