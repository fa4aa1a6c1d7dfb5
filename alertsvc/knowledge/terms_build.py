"""Read the public RxNorm, CPIC, ANSM, VSAC, PDDI-CDS and FDA Orange Book files into the offline terminology.

The flattened RxNorm files have known gaps (data README): every ingredient whose name starts with "A" is
missing, and with it every row that named one; salt (PIN) rows have no link to their ingredient. This
module fills the gaps from the other sources and says what it did in ``Terminology.notes``:

1. A ingredients: RxCUIs from CPIC, ANSM class members and ingredient-level value-set codes, accepted when
   the name (after INN -> USAN synonyms) is one RxNorm product names use; ``curated_terms.A_INGREDIENTS``
   and ``OTHER_INGREDIENTS`` (outside the prescribable subset) must each be confirmed this way.
2. Salts: PIN -> IN from SCDC rows naming both, else by stripping salt words from the PIN name.
3. Products: ingredients a product name names but its rows lack are put back; products whose ingredients
   cannot all be found are dropped; clinical drug components (SCDC) and products of the value sets that
   RxNorm rows lack are added (``terms_codes``).
4. Brands: ingredients completed from their branded products; brand names in brackets become names.
5. Names and display names (``terms_names``): curated synonyms, brands, Orange Book trade names.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge import curated_terms
from alertsvc.knowledge.model import Brand, Ingredient, Product
from alertsvc.knowledge.orange_book import ORANGE_BOOK_COLUMNS, ORANGE_BOOK_FILE
from alertsvc.knowledge.terminology import (
    fix_misspellings,
    normalise,
    parse_product_name,
    strip_salt,
)
from alertsvc.knowledge.terms_codes import RXNORM_SYSTEM_URI, product, scdc_products, value_set_products
from alertsvc.knowledge.terms_names import build_names, drug_names_written, unknown_drugs

SOURCE_FILES: dict[str, tuple[str, ...]] = {
    "rxnorm/ingredients.tsv": ("rxcui", "name", "tty"),
    "rxnorm/product_to_IN_only.tsv": ("product_rxcui", "product_name", "product_tty", "ingredient_rxcui"),
    "rxnorm/brandname_to_IN_only.tsv": ("bn_rxcui", "bn_name", "ingredient_rxcui"),
    "rxnorm/scdc_to_ingredient.tsv": ("scdc_rxcui", "scdc_name", "ingredient_rxcui"),
    "cpic/cpic_drug_ids.tsv": ("name", "rxnormId"),
    "ansm/eng_groups2016_xml-v3.tsv": ("Drug Name", "RxNorm"),
    "ansm/eng_tables2016-xml-v3.tsv": ("Drug 1 Name", "Drug 1 RxCUI", "Drug 2 Name", "Drug 2 RxCUI"),
    "vsac/rxnorm_valueset_members.tsv": ("rxcui", "display"),
    "pddi_cds/_valueset_codes_flat.tsv": ("system", "code", "display"),
    "ndfrt/combined_conservative_NDF-RT.tsv": ("object", "precipitant"),
    "onc/ONC_high_priority_class_table_phansalkar2012.tsv": ("object_drug", "precipitant_drug"),
    "onc/ONC_non_interruptive_class_table_phansalkar2013.tsv": ("Object_Drug", "Precipitant_Drug"),
    ORANGE_BOOK_FILE: ORANGE_BOOK_COLUMNS,
}
NAME_COLUMNS: dict[str, tuple[str, ...]] = {
    # English drug names in the rule sources: they confirm that an ANSM name is also the US spelling.
    "ndfrt/combined_conservative_NDF-RT.tsv": ("object", "precipitant"),
    "onc/ONC_high_priority_class_table_phansalkar2012.tsv": ("object_drug", "precipitant_drug"),
    "onc/ONC_non_interruptive_class_table_phansalkar2013.tsv": ("Object_Drug", "Precipitant_Drug"),
}


@dataclass(frozen=True)
class Terminology:
    """The terminology half of the knowledge base, with notes for data/SOURCES.md."""

    ingredients: dict[str, Ingredient]
    salts: dict[str, str]
    products: dict[str, Product]
    brands: dict[str, Brand]
    names: dict[str, tuple[str, ...]]
    ndc: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)  # source key -> lines for SOURCES.md
    display_names: dict[str, dict[str, str]] = field(default_factory=dict)  # locale -> IN RxCUI -> name
    unknown_drugs: dict[str, str] = field(default_factory=dict)  # drug name no ingredient maps -> source

    def rule_names(self) -> dict[str, str]:
        """Lower-case name -> IN RxCUI for every name that means one ingredient (for the rules build)."""
        return {name: rxcuis[0] for name, rxcuis in self.names.items() if len(rxcuis) == 1}


def read_tsv(sources: Path, relative: str) -> list[dict[str, str]]:
    """Rows of one source TSV as dicts; KnowledgeBuildError naming the file if missing or malformed."""
    path = sources / relative
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = [c for c in SOURCE_FILES.get(relative, ()) if c not in (reader.fieldnames or ())]
            if missing:
                raise KnowledgeBuildError(f"{path}: missing column(s) {', '.join(missing)}")
            return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except OSError as exc:
        raise KnowledgeBuildError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise KnowledgeBuildError(f"{path}: malformed TSV ({exc})") from exc


def build_terminology(sources: Path) -> Terminology:
    """Read every terminology source under ``sources`` (the layout of the shared data folder)."""
    return _Builder({name: read_tsv(sources, name) for name in SOURCE_FILES}).build()


def _canonical(name: str) -> str:
    key = fix_misspellings(normalise(name))
    return normalise(curated_terms.INN_SYNONYMS.get(key, key))


def _looks_like_ingredient(display: str) -> bool:
    parsed = parse_product_name(display)
    return (
        not any(c.isdigit() for c in display)
        and "/" not in display
        and not parsed.brand
        and (not parsed.dose_form and len(parsed.parts) == 1)
    )


class _Builder:
    """One build: the source rows in, a Terminology out. Kept as a class so each step is one method."""

    def __init__(self, rows: dict[str, list[dict[str, str]]]) -> None:
        self.rows = rows
        self.notes: dict[str, list[str]] = defaultdict(list)
        self.ingredients: dict[str, Ingredient] = {}
        self.pins: dict[str, str] = {}
        self.by_name: dict[str, str] = {}  # ingredient name key -> IN RxCUI
        self.salts: dict[str, str] = {}
        self.pin_by_name: dict[str, str] = {}  # salt name key -> IN RxCUI
        self.part_to_in: dict[str, str] = {}  # SCDC ingredient part key -> IN RxCUI
        self.added_a: set[str] = set()
        self.incomplete_brands: set[str] = set()  # brands of products dropped for an unknown ingredient
        self.bracket_names: dict[str, set[str]] = {}

    def build(self) -> Terminology:
        self._rxnorm_ingredients()
        self._missing_ingredients()
        self._salts()
        products = self._products()
        scdc, scdc_notes = scdc_products(
            self.rows["rxnorm/scdc_to_ingredient.tsv"], self.ingredients, self.salts, self.lookup, products
        )
        products.update(scdc)
        self.notes["rxnorm"].extend(scdc_notes)
        value_sets, notes = value_set_products(
            [
                ("vsac", "rxcui", self.rows["vsac/rxnorm_valueset_members.tsv"]),
                ("pddi-cds", "code", self.rows["pddi_cds/_valueset_codes_flat.tsv"]),
            ],
            self.lookup,
            products,
        )
        products.update(value_sets)
        for key, lines in notes.items():
            self.notes[key].extend(lines)
        brands = self._brands(products)
        table = build_names(
            self.ingredients,
            self.pin_by_name,
            brands,
            self.bracket_names,
            self.lookup,
            self.rows[ORANGE_BOOK_FILE],
        )
        for key, lines in table.notes.items():
            self.notes[key].extend(lines)
        unknown = unknown_drugs(drug_names_written(self.rows), self.lookup, table.names)
        by_source = Counter(unknown.values())
        self.notes["curated-terms"].append(
            f"{len(unknown):,} drug names the sources write that map to no ingredient kept in "
            "unknown_drugs.tsv (a term naming one is reported as a drug the knowledge lacks, and is never "
            f"read as a neighbouring drug): {', '.join(f'{k} {n}' for k, n in sorted(by_source.items()))}"
        )
        return Terminology(
            self.ingredients,
            self.salts,
            products,
            brands,
            table.names,
            {},
            dict(self.notes),
            table.display_names,
            unknown,
        )

    # 1. ingredients -------------------------------------------------------------------------------------
    def _rxnorm_ingredients(self) -> None:
        ttys: Counter[str] = Counter()
        for row in self.rows["rxnorm/ingredients.tsv"]:
            ttys[row["tty"]] += 1
            if row["tty"] == "IN":
                self.ingredients[row["rxcui"]] = Ingredient(row["rxcui"], row["name"])
                self.by_name[normalise(row["name"])] = row["rxcui"]
            elif row["tty"] == "PIN":
                self.pins[row["rxcui"]] = row["name"]
        self.notes["rxnorm"].append(
            f"ingredients.tsv: {ttys['IN']} ingredients (IN) and {ttys['PIN']} salts (PIN) taken; "
            f"{ttys['MIN']} multi-ingredient (MIN) rows dropped (the flattening had them wrong; products "
            "carry their ingredients instead)"
        )

    def _part_names_seen(self) -> set[str]:
        """Ingredient names written in any product name: proof that a name is RxNorm's spelling."""
        seen: set[str] = set()
        for relative, column in (
            ("rxnorm/product_to_IN_only.tsv", "product_name"),
            ("vsac/rxnorm_valueset_members.tsv", "display"),
            ("pddi_cds/_valueset_codes_flat.tsv", "display"),
        ):
            for row in self.rows[relative]:
                parsed = parse_product_name(row[column])
                if parsed.strengths and parsed.dose_form:
                    keys = [normalise(part) for part in parsed.parts]
                    seen.update(keys)
                    seen.update(strip_salt(key) for key in keys)  # "amiloride hydrochloride" -> amiloride
        return seen

    def _evidence(self) -> list[tuple[str, str, str]]:
        """(canonical name, RxCUI, source key) of every ingredient-level code the other sources give."""
        found: list[tuple[str, str, str]] = []
        for row in self.rows["cpic/cpic_drug_ids.tsv"]:
            if row["rxnormId"].isdigit():
                found.append((_canonical(row["name"]), row["rxnormId"], "cpic"))
        for row in self.rows["ansm/eng_groups2016_xml-v3.tsv"]:
            if row["RxNorm"].isdigit():
                found.append((_canonical(row["Drug Name"]), row["RxNorm"], "ansm"))
        for row in self.rows["ansm/eng_tables2016-xml-v3.tsv"]:
            for side in ("1", "2"):
                if row[f"Drug {side} RxCUI"].isdigit():
                    found.append((_canonical(row[f"Drug {side} Name"]), row[f"Drug {side} RxCUI"], "ansm"))
        for relative, code, key in (
            ("vsac/rxnorm_valueset_members.tsv", "rxcui", "vsac"),
            ("pddi_cds/_valueset_codes_flat.tsv", "code", "pddi-cds"),
        ):
            for row in self.rows[relative]:
                if row.get("system", RXNORM_SYSTEM_URI) == RXNORM_SYSTEM_URI and _looks_like_ingredient(
                    row["display"]
                ):
                    found.append((_canonical(row["display"]), row[code], key))
        return found

    def _english_names(self) -> set[str]:
        names: set[str] = set()
        for relative, columns in NAME_COLUMNS.items():
            for row in self.rows[relative]:
                names.update(normalise(row[c]) for c in columns if row.get(c))
        return names

    def _missing_ingredients(self) -> None:
        seen = self._part_names_seen()
        english = self._english_names()
        claims: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for name, rxcui, source in self._evidence():
            if rxcui in self.ingredients or rxcui in self.pins or name in self.by_name:
                continue
            claims[name][rxcui].add(source)
        curated = {**curated_terms.A_INGREDIENTS, **curated_terms.OTHER_INGREDIENTS}
        for name, rxcui in sorted(curated.items()):
            sources = claims.get(name, {}).get(rxcui)
            if name in self.by_name:
                continue
            if not sources:
                self.notes["curated-terms"].append(
                    f"{name} {rxcui}: not confirmed by any source file: dropped"
                )
                continue
            self._add_ingredient(name, rxcui, sources, "curated and confirmed by")
        taken: set[str] = set(self.ingredients)
        for name, by_rxcui in sorted(claims.items()):
            if name in self.by_name or not name.startswith("a"):
                continue
            if name not in seen and name not in english and "cpic" not in set().union(*by_rxcui.values()):
                continue  # maybe an INN or brand spelling: take names RxNorm products, CPIC or US lists use
            if strip_salt(name) != name:
                self.notes["curated-terms"].append(f"{name}: a salt, not an ingredient; not added")
                continue
            ranked = sorted(by_rxcui.items(), key=lambda kv: (-len(kv[1]), "cpic" not in kv[1], kv[0]))
            rxcui, sources = ranked[0]
            if rxcui in taken:
                continue
            if len(ranked) > 1:
                others = ", ".join(f"{r} ({'/'.join(sorted(s))})" for r, s in ranked[1:])
                self.notes["curated-terms"].append(f"{name}: RxCUI {rxcui} chosen over {others}")
            self._add_ingredient(name, rxcui, sources, "from")
            taken.add(rxcui)
        self.notes["rxnorm"].append(
            f"{len(self.added_a)} ingredients missing from the RxNorm files (names starting with 'A', plus "
            f"{len(curated_terms.OTHER_INGREDIENTS)} named by rules) added with the RxCUIs CPIC, ANSM and "
            "value-set codes give, when RxNorm product names, CPIC or the ONC / NDF-RT tables use the name"
        )

    def _add_ingredient(self, name: str, rxcui: str, sources: Iterable[str], how: str) -> None:
        self.ingredients[rxcui] = Ingredient(rxcui, name)
        self.by_name[name] = rxcui
        self.added_a.add(rxcui)
        self.notes["curated-terms"].append(f"{name} {rxcui}: {how} {', '.join(sorted(sources))}")

    # 2. salts -------------------------------------------------------------------------------------------
    def _salts(self) -> None:
        by_scdc: dict[str, set[str]] = defaultdict(set)
        scdc_name: dict[str, str] = {}
        for row in self.rows["rxnorm/scdc_to_ingredient.tsv"]:
            by_scdc[row["scdc_rxcui"]].add(row["ingredient_rxcui"])
            scdc_name[row["scdc_rxcui"]] = row["scdc_name"]
        from_scdc = 0
        for scdc, rxcuis in by_scdc.items():
            ins = [r for r in rxcuis if r in self.ingredients]
            pins = [r for r in rxcuis if r in self.pins]
            if len(ins) == 1:
                for part in parse_product_name(scdc_name[scdc]).parts:
                    self.part_to_in.setdefault(normalise(part), ins[0])
                if len(pins) == 1 and pins[0] not in self.salts:
                    self.salts[pins[0]] = ins[0]
                    from_scdc += 1
        by_words, dropped = 0, []
        for pin, name in sorted(self.pins.items()):
            if pin not in self.salts:
                base = self.by_name.get(strip_salt(fix_misspellings(normalise(name))))
                if base is None:
                    dropped.append(name)
                    continue
                self.salts[pin] = base
                by_words += 1
            self.pin_by_name[normalise(name)] = self.salts[pin]
        self.notes["rxnorm"].append(
            f"salts: {from_scdc} PIN -> IN links taken from SCDC rows naming both, {by_words} derived by "
            f"stripping salt words; {len(dropped)} PIN rows dropped (no base ingredient found"
            + (f": {', '.join(dropped[:12])}{', ...' if len(dropped) > 12 else ''})" if dropped else ")")
        )

    def lookup(self, part: str) -> str | None:
        """The IN RxCUI an ingredient part of a product name means, or None."""
        key = normalise(part)
        for candidate in (key, fix_misspellings(key)):
            for table in (self.by_name, self.pin_by_name, self.part_to_in):
                if candidate in table:
                    return table[candidate]
            stripped = strip_salt(candidate)
            for name in (curated_terms.INN_SYNONYMS.get(candidate), stripped,
                         curated_terms.INN_SYNONYMS.get(stripped)):  # fmt: skip
                if name and normalise(name) in self.by_name:
                    return self.by_name[normalise(name)]
        return None

    # 3. products ----------------------------------------------------------------------------------------
    def _products(self) -> dict[str, Product]:
        rows: dict[str, tuple[str, str, set[str]]] = {}
        for row in self.rows["rxnorm/product_to_IN_only.tsv"]:
            entry = rows.setdefault(row["product_rxcui"], (row["product_name"], row["product_tty"], set()))
            if row["ingredient_rxcui"] in self.ingredients:
                entry[2].add(row["ingredient_rxcui"])
        products: dict[str, Product] = {}
        recovered, dropped = 0, Counter[str]()
        for rxcui, (name, tty, listed) in rows.items():
            parsed = parse_product_name(name)
            found = {r for r in map(self.lookup, parsed.parts) if r}
            unknown = [p for p in parsed.parts if self.lookup(p) is None]
            extra = found - listed
            complete = listed | extra
            if unknown and len(complete) < len(set(map(normalise, parsed.parts))):
                dropped.update(normalise(p) for p in unknown)
                if parsed.brand:
                    self.incomplete_brands.add(normalise(parsed.brand))
                continue
            recovered += bool(extra & self.added_a)
            products[rxcui] = product(rxcui, name, tty, complete, parsed)
        self.notes["rxnorm"].append(
            f"products: {len(products)} products and packs (SCD, SBD, GPCK, BPCK) taken from "
            f"product_to_IN_only.tsv; {recovered} had a missing 'A' ingredient put back from the product "
            f"name; {len(rows) - len(products)} dropped because an ingredient their name names has no "
            f"RxCUI in any source ({_top(dropped)})"
        )
        return products

    # 4. brands and names --------------------------------------------------------------------------------
    def _brands(self, products: dict[str, Product]) -> dict[str, Brand]:
        by_bracket: dict[str, set[str]] = defaultdict(set)
        for item in products.values():
            brand = parse_product_name(item.name).brand
            if brand:
                by_bracket[normalise(brand)].update(item.ingredients)
        rows: dict[str, tuple[str, set[str]]] = {}
        for row in self.rows["rxnorm/brandname_to_IN_only.tsv"]:
            entry = rows.setdefault(row["bn_rxcui"], (row["bn_name"], set()))
            if row["ingredient_rxcui"] in self.ingredients:
                entry[1].add(row["ingredient_rxcui"])
        brands: dict[str, Brand] = {}
        completed, incomplete = 0, []
        for rxcui, (name, listed) in rows.items():
            complete = listed | by_bracket.get(normalise(name), set())
            if normalise(name) in self.incomplete_brands:
                incomplete.append(name)
            elif complete:
                completed += complete != listed
                brands[rxcui] = Brand(rxcui, name, tuple(sorted(complete, key=int)))
        self.notes["rxnorm"].append(
            f"brands: {len(brands)} brand names (BN) taken; {completed} completed with ingredients of their "
            f"branded products (the missing 'A' ingredients); {len(incomplete)} dropped because one of their "
            f"products names an ingredient with no RxCUI in any source ({', '.join(sorted(incomplete)[:10])}"
            f"{', ...' if len(incomplete) > 10 else ''}); {len(rows) - len(brands) - len(incomplete)} "
            "without any known ingredient dropped"
        )
        self.bracket_names = {k: v for k, v in by_bracket.items() if k not in self.incomplete_brands}
        return brands


def _top(counter: Counter[str], n: int = 8) -> str:
    return ", ".join(f"{name} x{count}" for name, count in counter.most_common(n)) or "none"
