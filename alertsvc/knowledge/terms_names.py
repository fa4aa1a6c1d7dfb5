"""The names table of the knowledge: every way of writing a drug the offline terminology knows, and the
display names a ward's locale picks.

Names are added in order of trust, and a name keeps its first meaning: RxNorm ingredient names, curated
synonyms (British approved names, INNs, co-names, ward abbreviations, UK brands: ``curated_names``), salt
names, RxNorm brand names and the brands in product names' brackets, curated brand names of the missing
"A" ingredients, FDA Orange Book trade names (``orange_book``), and last the curated misspellings (kept so
the rules build can read the sources' own typing errors; the normaliser reads them with a note).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from alertsvc.knowledge import curated_terms
from alertsvc.knowledge.curated_names import SYNONYMS
from alertsvc.knowledge.curated_rules import NAME_ALIASES
from alertsvc.knowledge.model import Brand, Ingredient
from alertsvc.knowledge.orange_book import ORANGE_BOOK_FILE, ingredient_names, map_brands
from alertsvc.knowledge.spelling import SpellingIndex
from alertsvc.knowledge.terminology import fix_misspellings, normalise, parse_product_name, strip_salt

EN_GB = "en-GB"


@dataclass
class NamesTable:
    """The names table, the display names per locale, and notes for data/SOURCES.md per source key."""

    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    display_names: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, rxcuis: Iterable[str]) -> bool:
        """Add ``key`` unless it is already a name; True when added."""
        value = tuple(sorted(set(rxcuis), key=int))
        if not key or not value or key in self.names:
            return False
        self.names[key] = value
        return True


def build_names(
    ingredients: Mapping[str, Ingredient],
    salt_names: Mapping[str, str],
    brands: Mapping[str, Brand],
    bracket_names: Mapping[str, set[str]],
    lookup: Callable[[str], str | None],
    orange_book_rows: Iterable[Mapping[str, str]],
) -> NamesTable:
    """Every name, in the order of trust the module docstring gives."""
    table = NamesTable()
    for rxcui, ingredient in ingredients.items():
        table.add(normalise(ingredient.name), [rxcui])
    _synonyms(table, lookup)
    for key, rxcui in salt_names.items():
        table.add(key, [rxcui])
    for brand in brands.values():
        table.add(normalise(brand.name), brand.ingredients)
    for key, members in sorted(bracket_names.items()):
        table.add(key, members)
    for brand_name, target in curated_terms.A_BRAND_NAMES.items():
        found = lookup(target)
        if found:
            table.add(brand_name, [found])
    orange = map_brands(
        orange_book_rows, lookup, table.names, (normalise(i.name) for i in ingredients.values())
    )
    for key, rxcuis in orange.taken.items():
        table.add(key, rxcuis)
    table.notes["fda-orange-book"] = orange.notes()
    misspelt = 0
    for wrong, right in curated_terms.MISSPELLINGS.items():
        misspelt += right in table.names and table.add(wrong, table.names[right])
    table.notes["curated-terms"] = [
        f"names: {len(table.names):,} lookup names (ingredients, salts, brands, names in product brackets, "
        f"{len(SYNONYMS)} curated synonyms, {len(curated_terms.A_BRAND_NAMES)} brand names of A ingredients, "
        f"{len(orange.taken):,} FDA Orange Book trade names, {misspelt} misspellings)"
    ]
    return table


def _synonyms(table: NamesTable, lookup: Callable[[str], str | None]) -> None:
    """Curated synonyms whose ingredients are all in the knowledge, and the en-GB display names."""
    taken, skipped, known = 0, [], 0
    display: dict[str, str] = {}
    for synonym in SYNONYMS:
        found = [lookup(name) for name in synonym.means]
        if None in found:
            missing = [name for name, rxcui in zip(synonym.means, found, strict=True) if rxcui is None]
            skipped.append(f"{synonym.name} ({', '.join(missing)})")
            continue
        rxcuis = [r for r in found if r]
        if table.add(synonym.name, rxcuis):
            taken += 1
        else:
            known += 1
        if synonym.display and len(rxcuis) == 1:
            display.setdefault(rxcuis[0], synonym.name)
    table.display_names[EN_GB] = display
    table.notes["curated-names"] = [
        f"{taken} synonyms taken (British approved names and INNs, BP co-names, ward abbreviations, UK brand "
        f"names, each with its source in curated_names.py); {known} already known by that name; "
        f"{len(skipped)} skipped because an ingredient they name is not in the knowledge"
        + (f": {', '.join(skipped)}" if skipped else ""),
        f"{len(display)} en-GB display names (the BNF title where it differs from RxNorm's name), "
        "written to display_names.tsv",
    ]


_DRUG_NAME = re.compile(r"^[a-z][a-z' -]{3,38}[a-z]$")
_NOT_A_DRUG_WORDS = frozenset(
    {"and", "or", "other", "others", "with", "except", "class", "drugs", "agents", "nsaid", "nsaids"}
)
TRANSLATED = frozenset({"ansm"})
"""Sources in translation: a name one edit from a known name is its foreign spelling ("doxazosine")."""


def drug_names_written(rows: Mapping[str, list[dict[str, str]]]) -> list[tuple[str, Iterable[str]]]:
    """Per source key, the drug names a source writes: Orange Book ingredients, the NDF-RT, ONC, ANSM and
    CPIC drug names, and the ingredient parts of value-set product names."""

    def column(relative: str, *names: str) -> Iterator[str]:
        return (row[name] for row in rows[relative] for name in names)

    def value_set_parts() -> Iterator[str]:
        for relative in ("vsac/rxnorm_valueset_members.tsv", "pddi_cds/_valueset_codes_flat.tsv"):
            for row in rows[relative]:
                parsed = parse_product_name(row["display"])
                if parsed.strengths and parsed.dose_form:
                    yield from parsed.parts

    orange = (part for row in rows[ORANGE_BOOK_FILE] for part in ingredient_names(row["ingredients"]))
    cpic = (row["name"] for row in rows["cpic/cpic_drug_ids.tsv"] if row["rxnormId"].isdigit())
    return [
        ("fda-orange-book", orange),
        ("ndfrt", column("ndfrt/combined_conservative_NDF-RT.tsv", "object", "precipitant")),
        (
            "onc-hp",
            column("onc/ONC_high_priority_class_table_phansalkar2012.tsv", "object_drug", "precipitant_drug"),
        ),
        (
            "onc-ni",
            column(
                "onc/ONC_non_interruptive_class_table_phansalkar2013.tsv", "Object_Drug", "Precipitant_Drug"
            ),
        ),
        ("ansm", column("ansm/eng_groups2016_xml-v3.tsv", "Drug Name")),
        ("ansm", column("ansm/eng_tables2016-xml-v3.tsv", "Drug 1 Name", "Drug 2 Name")),
        ("cpic", cpic),
        ("vsac", value_set_parts()),
    ]


def unknown_drugs(
    sources: Iterable[tuple[str, Iterable[str]]],
    lookup: Callable[[str], str | None],
    names: Mapping[str, tuple[str, ...]],
) -> dict[str, str]:
    """Drug names the public sources use that map to no ingredient of the knowledge -> the source key.

    ``sources`` gives, per source key, the drug names it writes. A name is kept when it looks like one drug
    (letters, at most three words, no "and"/"other"), is not a name of the knowledge after the sources' own
    spelling fixes, and the terminology's lookup (salts stripped, synonyms) cannot map it: so "acarbose" or
    "aclidinium" (ingredients the flattened RxNorm files lost) are known to be drugs, never read as a
    neighbour ("clidinium") by the misspelling reader. From a translated source (ANSM), a name one edit
    from a known name is taken for its foreign spelling and not kept.
    """
    found: dict[str, str] = {}
    near = SpellingIndex(names)
    for source, written in sources:
        for text in written:
            key = normalise(text).strip(" .,;:*")
            key = fix_misspellings(NAME_ALIASES.get(key, key))
            bare = strip_salt(key) or key
            words = key.split(" ")
            if not _DRUG_NAME.match(key) or len(words) > 3 or _NOT_A_DRUG_WORDS.intersection(words):
                continue
            if bare in names or key in names or key in found or lookup(key) or lookup(bare):
                continue
            if source in TRANSLATED and near.closest_distance(key) <= 1:
                continue
            found[key] = source
    return found
