"""Therapeutic classes (for duplicate-therapy checks) and the statin allergen group from VSAC eCQM value
sets (cqframework/ecqm-content-r4-2021, CC0).

The value sets list product-level RxNorm codes (clinical and branded drugs, some retired) and a few
ingredient codes. A code is mapped to its ingredients through RxNorm's product table when that covers
every ingredient the display names, else by the display's ingredient names ("2 ML midazolam 5 MG/ML
Prefilled Syringe" -> midazolam) looked up in the terminology. A class takes the ingredients of the set's
single-ingredient codes: a combination product alone does not make each of its ingredients a member
(amlodipine / atorvastatin does not make amlodipine a statin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from alertsvc.knowledge.model import DrugClass, Source
from alertsvc.knowledge.rules_common import NameLookup, Part, read_tsv

FILE = "rxnorm_valueset_members.tsv"
COLUMNS = ("valueset_title", "valueset_oid", "rxcui", "display")
PRODUCT_COLUMNS = ("product_rxcui", "ingredient_rxcui")

THERAPEUTIC_SETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # (class name, value set OIDs whose union is the class); the class id is vsac:<first OID>
    ("Statins", ("2.16.840.1.113762.1.4.1110.19",)),
    ("Beta blockers", ("2.16.840.1.113883.3.526.3.1174", "2.16.840.1.113883.3.526.3.1493")),
    ("ACE inhibitors, ARBs and ARNI", ("2.16.840.1.113883.3.526.3.1139", "2.16.840.1.113883.3.526.3.1489")),
    ("Benzodiazepines", ("2.16.840.1.113883.3.464.1003.196.12.1522", "2.16.840.1.113762.1.4.1125.1")),
    ("Opioids (schedule II and III)", ("2.16.840.1.113762.1.4.1111.165",)),
    ("Antipsychotics", ("2.16.840.1.113883.3.464.1003.196.12.1523",)),
    ("Anticoagulants", ("2.16.840.1.113883.3.117.1.7.1.200", "2.16.840.1.113883.3.117.1.7.1.201")),
    ("Antidepressants", ("2.16.840.1.113883.3.464.1003.196.12.1213",)),
    ("Nonbenzodiazepine hypnotics", ("2.16.840.1.113883.3.464.1003.196.12.1480",)),
    ("Oral glucocorticoids", ("2.16.840.1.113883.3.464.1003.196.12.1266",)),
)
STATIN_ALLERGEN_OID = "2.16.840.1.113762.1.4.1110.42"

SOURCE = Source(
    key="vsac",
    title="VSAC eCQM value sets (RxNorm members), via cqframework/ecqm-content-r4-2021",
    version="eCQM 2021 value set expansions (2017-2021)",
    licence="CC0 1.0",
    attribution="Value Set Authority Center, U.S. National Library of Medicine; packaged by the "
    "cqframework ecqm-content-r4-2021 repository.",
    url="https://github.com/cqframework/ecqm-content-r4-2021",
)

_DOSE_WORDS = frozenset(
    (
        "oral",
        "injectable",
        "injection",
        "topical",
        "ophthalmic",
        "otic",
        "nasal",
        "rectal",
        "vaginal",
        "transdermal",
        "extended",
        "delayed",
        "prefilled",
        "cartridge",
        "auto-injector",
        "tablet",
        "capsule",
        "solution",
        "suspension",
        "pack",
        "product",
        "chewable",
        "disintegrating",
        "sublingual",
        "buccal",
        "inhalant",
        "inhalation",
        "metered",
        "powder",
        "granules",
        "syrup",
        "elixir",
        "drug",
        "implant",
        "pen",
    )
)
_QUANTITY = re.compile(r"^\d+(\.\d+)?\s+(ML|HR|MG|G|ACTUAT|DAY|UNT|L)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class ValueSet:
    """A value set: title, OID and its RxNorm codes with their displays."""

    title: str
    oid: str
    codes: tuple[tuple[str, str], ...]


def read_value_sets(path: Path) -> dict[str, ValueSet]:
    """Value sets by OID."""
    codes: dict[str, list[tuple[str, str]]] = {}
    titles: dict[str, str] = {}
    for row in read_tsv(path, COLUMNS):
        oid = row["valueset_oid"].strip()
        titles.setdefault(oid, row["valueset_title"].strip())
        codes.setdefault(oid, []).append((row["rxcui"].strip(), row["display"].strip()))
    return {oid: ValueSet(titles[oid], oid, tuple(items)) for oid, items in codes.items()}


def read_products(path: Path) -> dict[str, frozenset[str]]:
    """RxNorm product RxCUI -> ingredient RxCUIs."""
    products: dict[str, set[str]] = {}
    for row in read_tsv(path, PRODUCT_COLUMNS):
        products.setdefault(row["product_rxcui"].strip(), set()).add(row["ingredient_rxcui"].strip())
    return {product: frozenset(ingredients) for product, ingredients in products.items()}


def display_ingredients(display: str) -> list[str]:
    """The ingredient names a product display starts each component with; [] for a pack.

    >>> display_ingredients("2 ML midazolam 5 MG/ML Prefilled Syringe")
    ['midazolam']
    >>> display_ingredients("ezetimibe 10 MG / simvastatin 20 MG Oral Tablet [Vytorin]")
    ['ezetimibe', 'simvastatin']
    """
    text = re.sub(r"\[[^\]]*\]", "", display).strip()
    if not text or text.startswith("{"):
        return []
    text = _QUANTITY.sub("", text)
    names: list[str] = []
    for component in text.split(" / "):
        words: list[str] = []
        for word in component.split():
            if re.match(r"^[\d.]", word) or word.lower() in _DOSE_WORDS:
                break
            words.append(word)
        if words:
            names.append(" ".join(words))
    return names


def code_ingredients(
    code: str, display: str, lookup: NameLookup, products: dict[str, frozenset[str]]
) -> frozenset[str] | None:
    """The ingredient RxCUIs of one value-set code, or None when it cannot be told."""
    if lookup.is_ingredient(code):
        return frozenset({code})
    names = display_ingredients(display)
    from_products = products.get(code, frozenset())
    if from_products and len(from_products) >= len(names):
        return from_products
    found = [lookup.find(name) for name in names]
    if names and all(found):
        return frozenset(rxcui for rxcui in found if rxcui)
    return None


def single_ingredients(
    value_set: ValueSet, lookup: NameLookup, products: dict[str, frozenset[str]]
) -> tuple[frozenset[str], int]:
    """Ingredients of the set's single-ingredient codes, and how many codes could not be mapped."""
    members: set[str] = set()
    unmapped = 0
    for code, display in value_set.codes:
        ingredients = code_ingredients(code, display, lookup, products)
        if ingredients is None:
            unmapped += 1
        elif len(ingredients) == 1:
            members |= ingredients
    return frozenset(members), unmapped


@dataclass
class VsacResult:
    """The VSAC part and the statin allergen members (for the allergen groups)."""

    part: Part
    statin_allergen: frozenset[str]


def build(vsac_dir: Path, products_file: Path, lookup: NameLookup) -> VsacResult:
    """Therapeutic classes and the statin allergen members."""
    part = Part(sources={"vsac": SOURCE})
    value_sets = read_value_sets(vsac_dir / FILE)
    products = read_products(products_file)
    for name, oids in THERAPEUTIC_SETS:
        present = [value_sets[oid] for oid in oids if oid in value_sets]
        if not present:
            part.notes.append(f"VSAC: no value set {', '.join(oids)} for {name}; class skipped.")
            continue
        members: set[str] = set()
        unmapped = 0
        for value_set in present:
            found, missed = single_ingredients(value_set, lookup, products)
            members |= found
            unmapped += missed
        part.add_class(DrugClass(f"vsac:{oids[0]}", name, "therapeutic", "vsac", frozenset(members)))
        titles = "; ".join(value_set.title for value_set in present)
        part.notes.append(
            f"VSAC therapeutic class {name!r} ({titles}): {len(members)} ingredients; {unmapped} codes "
            "not mapped (retired or unknown ingredients)."
        )
    statins: frozenset[str] = frozenset()
    if STATIN_ALLERGEN_OID in value_sets:
        statins, _ = single_ingredients(value_sets[STATIN_ALLERGEN_OID], lookup, products)
    part.notes.append(f"VSAC 'Statin Allergen': {len(statins)} ingredients.")
    return VsacResult(part, statins)
