"""RxNorm codings for text the patient wrote ("warfarin 5 mg", "amoxicillin"), for the FHIR export.

A coding is given only when the offline normaliser reads the text as exactly one concept with no doubt:
a product it names (SCD/SBD), else a single ingredient; never a misspelling it had to guess, a
multi-ingredient text without a product, or an allergen group (a class has no RxNorm concept).
"""

from __future__ import annotations

from collections.abc import Callable

from alertsvc.errors import UnknownDrug
from alertsvc.knowledge.terminology import Normalizer


def rxnorm_coder(normalizer: Normalizer) -> Callable[[str, str], tuple[str, str] | None]:
    """(role "medication" or "allergen", text) -> (RxCUI, RxNorm name), or None when not certain."""

    def code(role: str, text: str) -> tuple[str, str] | None:
        if not text.strip():
            return None
        if role == "allergen":
            try:
                allergen = normalizer.resolve_allergy(text)
            except UnknownDrug:
                return None
            if allergen.class_ids or len(allergen.ingredients) != 1:
                return None
        found = normalizer.resolve(text)
        if found.unresolved is not None or found.note:
            return None
        if found.product is not None:
            return found.product.rxcui, found.product.name
        if len(found.ingredients) == 1:
            return found.ingredients[0].rxcui, found.ingredients[0].name
        return None

    return code
