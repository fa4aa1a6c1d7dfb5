"""Brand (trade) names from the FDA Orange Book, for brands RxNorm's prescribable subset does not carry.

The Orange Book (Approved Drug Products with Therapeutic Equivalence Evaluations, November 2015 edition,
US Government work, public domain) lists every approved product with its trade name and its active
ingredients as written on the application, upper case and with their salts ("WARFARIN SODIUM";
several ingredients separated by "/" or ";"). Discontinued products stay listed, which is why it
still knows Keflex, Zofran, Biaxin and Vicodin.

Each ingredient name is mapped to an RxNorm ingredient with the terminology's own name lookup (salts
stripped, INN synonyms). A trade name is taken as a name of its ingredients when:
- every product of that trade name maps (a name partly unknown could mean the ingredient we lack);
- its products have the same ingredient set, or their sets differ but exactly one
  is a single ingredient found in all the others (then that one is kept: "TYLENOL" is acetaminophen even
  if some "TYLENOL" product adds codeine); other trade names with several sets are ambiguous: dropped;
- it is not an ingredient's own name (generic products are listed under their ingredient name);
- the knowledge does not already have the name (RxNorm's own brands come first);
- it is not a ward abbreviation with another meaning (``NOT_BRANDS``: "TPN").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from alertsvc.knowledge.terminology import normalise, strip_salt

ORANGE_BOOK_FILE = "fda/orange_book_2015-11_products.tsv"
ORANGE_BOOK_COLUMNS = ("trade_name", "ingredients", "category")
_SEPARATORS = re.compile(r"\s*[;/]\s*")
NOT_BRANDS: dict[str, str] = {
    # Trade names that mean something else on a ward: never read as the product's ingredients.
    "tpn": "total parenteral nutrition (a discontinued TPN suspension: tyrosine, niacinamide, pyridoxine)",
}


@dataclass
class OrangeBookBrands:
    """Trade name key -> IN RxCUIs taken, with what was dropped and why (for data/SOURCES.md)."""

    taken: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kept_single: list[str] = field(default_factory=list)  # ambiguous names kept as their one ingredient
    ambiguous: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # NOT_BRANDS found in the file
    generic: int = 0  # trade names that are an ingredient's own name
    known: int = 0  # names the knowledge already had (RxNorm brands, ingredients, synonyms)
    unmapped: Counter[str] = field(default_factory=Counter)  # ingredient names that did not map
    partly_unknown: int = 0  # names with some products that map and some that do not: not used
    trade_names: int = 0
    products: int = 0

    def notes(self) -> list[str]:
        top = ", ".join(f"{name.lower()} x{n}" for name, n in self.unmapped.most_common(8)) or "none"
        shown = ", ".join(sorted(self.ambiguous)[:8]) + (", ..." if len(self.ambiguous) > 8 else "")
        taken = (
            f"{self.products:,} product rows, {self.trade_names:,} trade names: "
            f"{len(self.taken):,} taken as names of their ingredients "
            f"({len(self.kept_single)} of them ambiguous and kept as their single ingredient)"
        )
        skipped = (
            f"{self.known:,} already known (RxNorm brands, ingredients or curated names come first); "
            f"{self.generic:,} are an ingredient's own name (generic listings); {len(self.ambiguous)} "
            "ambiguous (one trade name for different ingredient sets) dropped"
            + (f" ({shown})" if shown else "")
            + "".join(f"; {name!r} not taken: {NOT_BRANDS[name]}" for name in self.excluded)
        )
        unmapped = (
            "trade names any of whose products has an ingredient that maps to no RxNorm ingredient are not "
            f"used ({sum(self.unmapped.values()):,} product rows; {self.partly_unknown} of these names have "
            f"other products that map; most often {top})"
        )
        return [f"{taken}; {skipped}", unmapped]


def ingredient_names(text: str) -> list[str]:
    """The ingredient names of an Orange Book ``ingredients`` cell.

    >>> ingredient_names("ACETAMINOPHEN / HYDROCODONE BITARTRATE")
    ['ACETAMINOPHEN', 'HYDROCODONE BITARTRATE']
    """
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def map_brands(
    rows: Iterable[Mapping[str, str]],
    lookup: Callable[[str], str | None],
    known_names: Mapping[str, object],
    ingredient_keys: Iterable[str],
) -> OrangeBookBrands:
    """Trade names of ``rows`` -> IN RxCUIs, mapping ingredient names with ``lookup``."""
    result = OrangeBookBrands()
    sets: dict[str, set[frozenset[str]]] = defaultdict(set)
    generic_keys = set(ingredient_keys)
    seen: set[str] = set()
    partly_unknown: set[str] = set()  # a product of the name has an ingredient that does not map
    for row in rows:
        result.products += 1
        key = normalise(row["trade_name"])
        if not key:
            continue
        seen.add(key)
        found = [(name, lookup(name)) for name in ingredient_names(row["ingredients"])]
        missing = [name for name, rxcui in found if rxcui is None]
        if missing or not found:
            result.unmapped.update(missing)
            partly_unknown.add(key)
            continue
        sets[key].add(frozenset(rxcui for _, rxcui in found if rxcui))
    result.trade_names = len(seen)
    result.partly_unknown = len(partly_unknown & set(sets))
    for key in sorted(set(sets) - partly_unknown):
        if key in NOT_BRANDS:
            result.excluded.append(key)
            continue
        if key in known_names:
            result.known += 1
            continue
        if key in generic_keys or strip_salt(key) in generic_keys:
            result.generic += 1
            continue
        chosen = _one_set(sets[key])
        if chosen is None:
            result.ambiguous.append(key)
            continue
        if len(sets[key]) > 1:
            result.kept_single.append(key)
        result.taken[key] = tuple(sorted(chosen, key=int))
    return result


def _one_set(found: set[frozenset[str]]) -> frozenset[str] | None:
    """The ingredient set a trade name means: its only set, or the single ingredient all its sets share."""
    if len(found) == 1:
        return next(iter(found))
    singles = [s for s in found if len(s) == 1]
    if len(singles) == 1 and all(singles[0] <= other for other in found):
        return singles[0]
    return None
