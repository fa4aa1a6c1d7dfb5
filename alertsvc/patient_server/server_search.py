"""Drug search for the patient's pages: names that start with what the patient typed, from the offline
knowledge base, and the RxCUI to record for the drug they chose.

The index holds every ingredient, brand and product name, and each other known name (synonym, salt,
misspelling) that means exactly one ingredient ("paracetamol" -> acetaminophen). A query matches names
that start with it; ingredients come first, then brands, then other names, then products, shorter names
first; another name is left out when its ingredient is listed itself ("ibuprofin" beside ibuprofen). A
query that matches no name but resolves through the normaliser (an RxCUI, an NDC, a misspelling, a
product written another way) adds what it resolves to. Built once from a ``Normalizer``; pure after that.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Literal

from alertsvc.errors import UnknownDrug
from alertsvc.knowledge.model import Ingredient
from alertsvc.knowledge.terminology import Normalizer, normalise

Kind = Literal["ingredient", "brand", "name", "product"]
_ORDER: dict[str, int] = {"ingredient": 0, "brand": 1, "name": 2, "product": 3}
MIN_QUERY = 2
MAX_QUERY = 200
_SCAN_LIMIT = 5000


@dataclass(frozen=True)
class DrugMatch:
    """One drug the patient can pick: what to show and record (``label``), its RxCUI and ingredients."""

    label: str
    rxcui: str
    kind: Kind
    ingredients: tuple[Ingredient, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "rxcui": self.rxcui,
            "kind": self.kind,
            "ingredients": [{"rxcui": i.rxcui, "name": i.name} for i in self.ingredients],
        }


@dataclass(frozen=True)
class ChosenDrug:
    """What a flagged reaction records: the drug as text, its RxCUI when known, and its ingredients."""

    drug: str
    rxcui: str | None
    ingredients: tuple[Ingredient, ...]
    unresolved: str | None = None


class DrugIndex:
    """Prefix search over the names of one knowledge base."""

    def __init__(self, normalizer: Normalizer) -> None:
        self.normalizer = normalizer
        kb = normalizer.kb
        rows: list[tuple[str, DrugMatch]] = []
        for ingredient in kb.ingredients.values():
            match = DrugMatch(ingredient.name, ingredient.rxcui, "ingredient", (ingredient,))
            rows.append((normalise(ingredient.name), match))
        for brand in kb.brands.values():
            match = DrugMatch(brand.name, brand.rxcui, "brand", self._of(brand.ingredients))
            rows.append((normalise(brand.name), match))
        for product in kb.products.values():
            match = DrugMatch(product.name, product.rxcui, "product", self._of(product.ingredients))
            rows.append((normalise(product.name), match))
        named = {key for key, _ in rows}
        for key, rxcuis in kb.names.items():
            if key not in named and len(rxcuis) == 1 and rxcuis[0] in kb.ingredients:
                rows.append((key, DrugMatch(key, rxcuis[0], "name", self._of(rxcuis))))
        rows.sort(key=lambda row: (row[0], _ORDER[row[1].kind], row[1].rxcui))
        self._keys = [key for key, _ in rows]
        self._matches = [match for _, match in rows]
        self._by_rxcui: dict[str, DrugMatch] = {}
        for match in self._matches:
            if match.kind != "name":
                self._by_rxcui.setdefault(match.rxcui, match)

    def _of(self, rxcuis: tuple[str, ...] | list[str]) -> tuple[Ingredient, ...]:
        ingredients = self.normalizer.kb.ingredients
        found = {ingredients[r] for r in rxcuis if r in ingredients}
        return tuple(sorted(found, key=lambda i: (i.name, i.rxcui)))

    def search(self, query: str, *, limit: int = 10) -> list[DrugMatch]:
        """Up to ``limit`` drugs whose names start with ``query`` (or that ``query`` resolves to)."""
        key = normalise(query)[:MAX_QUERY]
        if len(key) < MIN_QUERY:
            return []
        start = bisect.bisect_left(self._keys, key)
        found: list[tuple[tuple[int, int, int, str], DrugMatch]] = []
        for position in range(start, min(start + _SCAN_LIMIT, len(self._keys))):
            name = self._keys[position]
            if not name.startswith(key):
                break
            match = self._matches[position]
            found.append(((name != key, _ORDER[match.kind], len(name), name), match))
        found.sort(key=lambda item: item[0])
        result = [match for _, match in found]
        if not (start < len(self._keys) and self._keys[start] == key):
            resolved = self._resolved(query)
            result = [*resolved, *(m for m in result if m not in resolved)]
        listed = {m.rxcui for m in result if m.kind != "name"}
        unique: list[DrugMatch] = []
        seen: set[tuple[str, str]] = set()
        for match in result:
            if match.kind == "name" and match.rxcui in listed:
                continue  # "ibuprofin" when ibuprofen itself is listed: a misspelling or a salt, not news
            if (match.label, match.rxcui) not in seen:
                seen.add((match.label, match.rxcui))
                unique.append(match)
        return unique[:limit]

    def _resolved(self, query: str) -> list[DrugMatch]:
        """What the normaliser makes of ``query`` (an RxCUI, NDC, misspelling...), as matches."""
        resolution = self.normalizer.resolve(query)
        if resolution.unresolved is not None:
            return []
        if resolution.product is not None and resolution.product.rxcui in self._by_rxcui:
            return [self._by_rxcui[resolution.product.rxcui]]
        code = query.strip()
        if code.isdigit() and code in self._by_rxcui:
            return [self._by_rxcui[code]]
        return [self._by_rxcui[i.rxcui] for i in resolution.ingredients if i.rxcui in self._by_rxcui]

    def describe(self, rxcui: str) -> DrugMatch:
        """The ingredient, brand or product with this RxCUI; UnknownDrug if the knowledge has none."""
        match = self._by_rxcui.get(rxcui.strip())
        if match is None:
            raise UnknownDrug(f"RxCUI {rxcui[:40]!r} is not an ingredient, brand or product in the drug list")
        return match

    def choose(self, drug: str, rxcui: str | None) -> ChosenDrug:
        """What to record for the drug the patient named (``drug``) and perhaps picked (``rxcui``).

        A picked RxCUI must be known; the patient's text is kept when it means the same ingredients,
        else the knowledge base's name is recorded. Text alone is resolved through the normaliser: a
        product or a single ingredient gives its RxCUI; anything else is recorded as text only, with
        ``unresolved`` saying why.
        """
        text = " ".join(drug.split())
        if rxcui:
            match = self.describe(rxcui)
            same = bool(text) and self._ingredient_set(text) == {i.rxcui for i in match.ingredients}
            return ChosenDrug(text if same else match.label, match.rxcui, match.ingredients)
        if not text:
            raise UnknownDrug("name the drug that caused the reaction")
        exact = [m for m in self.search(text, limit=50) if normalise(m.label) == normalise(text)]
        if exact:
            best = min(exact, key=lambda m: _ORDER[m.kind])
            return ChosenDrug(text, best.rxcui, best.ingredients)
        resolution = self.normalizer.resolve(text)
        if resolution.unresolved is not None:
            return ChosenDrug(text, None, (), unresolved=resolution.unresolved)
        if resolution.product is not None:
            return ChosenDrug(text, resolution.product.rxcui, resolution.ingredients)
        if len(resolution.ingredients) == 1:
            return ChosenDrug(text, resolution.ingredients[0].rxcui, resolution.ingredients)
        return ChosenDrug(text, None, resolution.ingredients)

    def _ingredient_set(self, text: str) -> set[str]:
        resolution = self.normalizer.resolve(text)
        return set() if resolution.unresolved else {i.rxcui for i in resolution.ingredients}
