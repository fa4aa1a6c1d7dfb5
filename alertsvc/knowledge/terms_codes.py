"""Product codes the RxNorm product file lacks: clinical drug components (SCDC) and value-set products.

- SCDC ("warfarin sodium 10 MG", the code the HL7 PDDI-CDS scenarios use): its rows link it to an
  ingredient (IN) and often to its salt (PIN). An IN and its own PIN are one ingredient; when the links
  disagree (or name an ingredient the knowledge lacks) the component's own name is read instead
  ("Warfarin Sodium 10 MG" -> warfarin). An SCDC becomes a product of ``tty`` SCDC with no dose form and
  the route an ingredient gets (oral: systemic).
- Value-set products (VSAC, PDDI-CDS): product codes absent from the RxNorm files (products of the
  missing "A" ingredients, or retired since) are read from their display names.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping

from alertsvc.knowledge.model import Product
from alertsvc.knowledge.terminology import ParsedName, normalise, parse_product_name, route_of

RXNORM_SYSTEM_URI = "http://www.nlm.nih.gov/research/umls/rxnorm"
Lookup = Callable[[str], str | None]


def product(rxcui: str, name: str, tty: str, ingredients: set[str], parsed: ParsedName) -> Product:
    """A product with its ingredients in RxCUI order and the route its dose form implies."""
    return Product(
        rxcui, name, tty, tuple(sorted(ingredients, key=int)), route_of(parsed.dose_form), parsed.dose_form
    )


def scdc_products(
    rows: Iterable[Mapping[str, str]],
    ingredients: Mapping[str, object],
    salts: Mapping[str, str],
    lookup: Lookup,
    known: Mapping[str, Product],
) -> tuple[dict[str, Product], list[str]]:
    """Every SCDC of ``rows`` (scdc_rxcui, scdc_name, ingredient_rxcui) that resolves, and a note."""
    links: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for row in rows:
        links[row["scdc_rxcui"]].add(row["ingredient_rxcui"])
        names[row["scdc_rxcui"]] = row["scdc_name"]
    added: dict[str, Product] = {}
    by_links, by_name, dropped = 0, 0, Counter[str]()
    for rxcui, linked in links.items():
        if rxcui in known:
            continue
        mapped = {r if r in ingredients else salts.get(r) for r in linked}
        if len(mapped) == 1 and None not in mapped:
            found = {r for r in mapped if r}
            by_links += 1
        else:  # the links disagree or name an ingredient the knowledge lacks: read the name
            parts = parse_product_name(names[rxcui]).parts
            read = [lookup(part) for part in parts]
            if not parts or None in read:
                dropped.update(normalise(p) for p, r in zip(parts, read, strict=True) if r is None)
                continue
            found = {r for r in read if r}
            by_name += 1
        added[rxcui] = Product(rxcui, names[rxcui], "SCDC", tuple(sorted(found, key=int)), "oral", "")
    top = ", ".join(f"{name} x{n}" for name, n in dropped.most_common(8)) or "none"
    note = (
        f"clinical drug components (SCDC): {len(added):,} taken as products of tty SCDC (route as for an "
        f"ingredient); {by_links:,} by their IN/PIN links, {by_name:,} whose links disagree or include a "
        "code that is no known ingredient or salt (often a multi-ingredient row) read by their own name; "
        f"{sum(dropped.values()):,} dropped because their name names an ingredient with no RxCUI in any "
        f"source ({top})"
    )
    return added, [note]


def value_set_products(
    sources: Iterable[tuple[str, str, list[dict[str, str]]]],
    lookup: Lookup,
    known: Mapping[str, Product],
) -> tuple[dict[str, Product], dict[str, list[str]]]:
    """Product codes of the value sets (source key, code column, rows) that ``known`` lacks, read from
    their display names; notes per source say how many were taken and why the others were not."""
    added: dict[str, Product] = {}
    notes: dict[str, list[str]] = {}
    for key, code, rows in sources:
        taken, not_product, unknown = 0, 0, Counter[str]()
        missing_codes: set[str] = set()
        for row in rows:
            rxcui, name = row[code], row["display"]
            if rxcui in known or rxcui in added or row.get("system", RXNORM_SYSTEM_URI) != RXNORM_SYSTEM_URI:
                continue
            parsed = parse_product_name(name)
            if not parsed.strengths or not parsed.dose_form or not parsed.parts:
                not_product += 1  # an ingredient, component, dose-form group or brand: not a product
                continue
            found = [lookup(p) for p in parsed.parts]
            if None in found:
                missing_codes.add(rxcui)
                unknown.update(normalise(p) for p, r in zip(parsed.parts, found, strict=True) if r is None)
                continue
            pack = name.lstrip().startswith("{")
            tty = ("BPCK" if pack else "SBD") if parsed.brand else ("GPCK" if pack else "SCD")
            added[rxcui] = product(rxcui, name, tty, {r for r in found if r}, parsed)
            taken += 1
        top = ", ".join(f"{name} x{n}" for name, n in unknown.most_common(8)) or "none"
        notes[key] = [
            f"{taken} product codes absent from the RxNorm files (products of the missing 'A' ingredients, "
            "or retired since) taken with ingredients and route read from their names",
            f"{len(missing_codes)} product codes absent from the RxNorm files not taken because their name "
            f"names an ingredient with no RxCUI in any source (most often {top}); {not_product} other "
            "codes are not products (ingredient, component, dose-form group or brand level)",
        ]
    return added, notes
