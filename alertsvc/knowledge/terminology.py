"""Offline terminology: any way of writing a drug -> RxNorm ingredients, from the knowledge base alone.

``Normalizer.resolve`` tries, in order: an RxCUI (ingredient, salt, product, pack or clinical drug
component, brand), an NDC, a known name (ingredient, salt, brand, synonym), a product name, then the text
read as a product name ("Amlodipine 5 MG Oral Tablet", "Clonazepam [Klonopin]") with misspellings fixed and
salt words stripped, then a misspelling of a known name (``spelling``: only when one drug is clearly
closest). Only when all of that fails is the online terminology (RxNav) asked, if one was given.

A term read through a misspelling, and a FHIR coding whose code is unknown but whose display names a drug,
resolve with a ``note`` saying so ("read 'ibuprophen' as ibuprofen"): the ward must be able to see it.

The name helpers at the top (``normalise``, ``strip_salt``, ``route_of``, and ``parse_product_name`` from
``product_names``) are shared with the knowledge build, so the build and the service read names the same
way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from functools import cached_property

from alertsvc.errors import UnknownDrug
from alertsvc.knowledge.curated_terms import (
    ALLERGY_SYNONYMS,
    BRITISH_SPELLINGS,
    FORMULATION_WORDS,
    MISSPELLINGS,
    ROUTE_KEYWORDS,
    SALT_WORDS,
)
from alertsvc.knowledge.model import (
    RXNORM_SYSTEM,
    Allergy,
    Ingredient,
    KnowledgeBase,
    Medication,
    OnlineTerminology,
    Product,
    Resolution,
    Route,
)
from alertsvc.knowledge.product_names import QUOTES, SPACES
from alertsvc.knowledge.product_names import ParsedName as ParsedName  # re-exported for the build
from alertsvc.knowledge.product_names import parse_product_name as parse_product_name
from alertsvc.knowledge.spelling import SpellingIndex

NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"

_SPACES, _QUOTES = SPACES, QUOTES
_NDC_DASHED = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")
RESOLVED_REMEMBERED = 8192
"""Offline resolutions a normaliser keeps, by term (each a pure function of its knowledge and the term)."""
TERM_FIELDS = ("ingredients", "salts", "products", "brands", "names", "ndc", "unknown_drugs")
"""What reading a term offline reads of the knowledge (besides its version, which some reasons name)."""


def normalise(text: str) -> str:
    """The lookup key of a name: lower case, one space between words, typographic quotes made plain."""
    return _SPACES.sub(" ", text.translate(_QUOTES)).strip().lower()


def loose(key: str) -> str:
    """A looser key that also ignores punctuation: "St Johns Wort" and "st. john's wort" meet here."""
    return _SPACES.sub(" ", re.sub(r"[.,'()\-]", " ", key)).strip()


def fix_misspellings(key: str) -> str:
    """``key`` with each known misspelt or British-spelt word replaced ("simvistatin" -> "simvastatin")."""
    return " ".join(MISSPELLINGS.get(word, BRITISH_SPELLINGS.get(word, word)) for word in key.split(" "))


def misspelt(key: str) -> bool:
    """True when ``key`` holds a known misspelt word (not merely a British spelling)."""
    return any(word in MISSPELLINGS for word in key.split(" "))


def strip_salt(key: str) -> str:
    """``key`` without salt, hydrate and release words ("warfarin sodium" -> "warfarin"); "" if none left."""
    words = [w for w in key.replace(",", " ").split() if w not in SALT_WORDS and w not in FORMULATION_WORDS]
    return " ".join(words)


def route_of(dose_form: str) -> Route:
    """The route a dose form implies ("Topical Gel" -> topical); "other" when no keyword matches."""
    text = dose_form.lower()
    for keyword, route in ROUTE_KEYWORDS:
        if keyword in text:
            return route
    return "other"


def ndc11(text: str) -> str | None:
    """An NDC written with dashes (4-4-2, 5-3-2, 5-4-1) or as 11 digits, as 11 digits; None otherwise."""
    match = _NDC_DASHED.match(text)
    if match and sum(len(group) for group in match.groups()) == 10:
        labeler, product, package = match.groups()
        return labeler.zfill(5) + product.zfill(4) + package.zfill(2)
    return text if len(text) == 11 and text.isdigit() else None


class Normalizer:
    """Resolves drug terms against one loaded knowledge base; asks ``online`` only when offline fails.

    Each term is read offline once (``RESOLVED_REMEMBERED`` at most). A normaliser made for new knowledge
    that reads terms the same way (``same_terms``: an update of rules or classes) starts from what its
    ``previous`` one had read, so re-normalising every admission after the update costs look-ups only.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        online: OnlineTerminology | None = None,
        *,
        previous: Normalizer | None = None,
    ) -> None:
        self.kb = kb
        self.online = online
        self._resolved: dict[str, Resolution] = {}
        if previous is not None and same_terms(previous.kb, kb):
            self._carry_over(previous)
        self._allergens: dict[str, str] = {}
        for class_id, drug_class in sorted(kb.classes.items()):
            if drug_class.kind == "allergen":
                self._allergens.setdefault(normalise(drug_class.name), class_id)
                plain = re.sub(r"\s*\([^)]*\)", "", drug_class.name)  # "Statins (VSAC Statin Allergen)"
                self._allergens.setdefault(normalise(plain), class_id)
                self._allergens.setdefault(normalise(class_id.partition(":")[2].replace("-", " ")), class_id)

    def _carry_over(self, previous: Normalizer) -> None:
        """Take what ``previous`` worked out from the same terms: its indexes, built on first use, and the
        terms it resolved (not those it could not: a reason may name its knowledge version)."""
        for name in ("spelling", "_unknown", "_loose_names", "_product_names"):
            if name in previous.__dict__:  # a cached_property already built
                self.__dict__[name] = previous.__dict__[name]
        self._resolved = {t: r for t, r in list(previous._resolved.items()) if r.unresolved is None}

    @cached_property
    def _product_names(self) -> dict[str, str]:
        """Product name key -> product RxCUI; built on first use so start-up stays fast."""
        return {p.name.lower(): p.rxcui for p in self.kb.products.values()}

    @cached_property
    def _loose_names(self) -> dict[str, tuple[str, ...]]:
        """Names without punctuation ("st johns wort"); built on first use."""
        table: dict[str, tuple[str, ...]] = {}
        for key, rxcuis in self.kb.names.items():
            table.setdefault(loose(key), rxcuis)
        return table

    # public ---------------------------------------------------------------------------------------------
    def resolve(self, term: str) -> Resolution:
        """Ingredients of ``term`` (RxCUI, NDC, name, brand, product name); unresolved says why not."""
        offline = self._offline(term)
        if offline.unresolved is None or self.online is None:
            return offline
        online = self.online.resolve(term)
        if online.unresolved is None:
            return online
        return replace(offline, unresolved=f"{offline.unresolved}; RxNav: {online.unresolved}")

    def resolve_coding(self, system: str, code: str, display: str = "") -> Resolution:
        """A FHIR coding: the RxNorm or NDC code first, then its display text if the code does not resolve."""
        by_code: Resolution | None = None
        if system in (RXNORM_SYSTEM, NDC_SYSTEM):
            by_code = self.resolve(code)
            if by_code.unresolved is None or not display.strip():
                return by_code
        if display.strip():
            by_display = self.resolve(display)
            if by_display.unresolved is None:
                note = (
                    f"code {code} is not known here; read by its display {display.strip()!r}"
                    if code.strip()
                    else ""
                )
                note = "; ".join(n for n in (note, by_display.note) if n)
                return replace(by_display, term=code or display, via=f"display:{by_display.via}", note=note)
            if by_code is not None:
                why = f"{by_code.unresolved}; display {display.strip()!r}: {by_display.unresolved}"
                return replace(by_code, unresolved=why)
            return by_display
        return Resolution(code, (), unresolved=f"code system {system!r} is neither RxNorm nor NDC")

    def medication(
        self, term: str, *, ref: str = "", code: str = "", system: str = RXNORM_SYSTEM
    ) -> Medication:
        """A normalised Medication; UnknownDrug naming the term and the reason when it does not resolve.

        With ``code`` (an RxCUI, or an NDC with the NDC ``system``), ``term`` is the coding's display:
        the code is tried first and the text is read, with a note, only when the code is unknown.
        """
        res = self.resolve_coding(system, code, term) if code.strip() else self.resolve(term)
        if res.unresolved is not None:
            raise UnknownDrug(f"drug {term or code!r} does not resolve: {res.unresolved}")
        label = res.product.name if res.product else (term.strip() or code.strip())
        rxcui = res.product.rxcui if res.product else ""
        return Medication(label, res.ingredients, res.route, product_rxcui=rxcui, ref=ref, note=res.note)

    def resolve_allergy(self, term: str) -> Allergy:
        """An allergen group named by ``term`` ("penicillins", "sulfa drugs", "NSAIDs") or its ingredients."""
        for key in _allergy_keys(normalise(term)):
            if key in self._allergens:
                return Allergy(term.strip(), class_ids=(self._allergens[key],))
        res = self.resolve(term)
        if res.unresolved is not None:
            raise UnknownDrug(f"allergy {term!r} is neither an allergen group nor a drug: {res.unresolved}")
        return Allergy(term.strip(), ingredients=res.ingredients)

    # offline steps --------------------------------------------------------------------------------------
    def _offline(self, term: str) -> Resolution:
        """The offline reading of ``term``, worked out once (reading a misspelling costs ~0.1 s)."""
        found = self._resolved.get(term)
        if found is None:
            found = self._read_offline(term)
            if len(self._resolved) >= RESOLVED_REMEMBERED:
                self._resolved.clear()
            self._resolved[term] = found
        return found

    def _read_offline(self, term: str) -> Resolution:
        text = _SPACES.sub(" ", term.translate(_QUOTES)).strip()
        key = text.lower()
        if not key:
            return Resolution(term, (), unresolved="empty drug term")
        if key.isdigit():
            return self._by_code(term, key)
        ndc = ndc11(key)
        if ndc is not None:
            return self._by_ndc(term, text, ndc)
        fixed = fix_misspellings(key)
        for candidate in dict.fromkeys((fixed, key) if misspelt(key) else (key, fixed)):
            found = self._by_name(term, candidate)
            if found is not None:
                return self._read_as(found, text) if candidate != key and misspelt(key) else found
        found = self._by_product_text(term, text)
        if found is not None:
            return self._read_as(found, text) if misspelt(key) else found
        bare = strip_salt(fixed) or fixed
        source = self._unknown.get(fixed) or self._unknown.get(bare)
        if source is not None:
            return Resolution(
                term,
                (),
                unresolved=f"{text!r} is a drug (named in the {source} source, see data/SOURCES.md) that "
                "maps to no RxNorm ingredient in the offline knowledge",
            )
        reading = self.spelling.read(bare) if len(key) <= 60 else None
        if reading is not None and reading.name is not None:
            found = Resolution(term, self._ingredients(reading.rxcuis), via="spelling")
            return self._read_as(found, text)
        hint = ""
        if reading is not None and reading.suggestions:
            hint = " (did you mean " + " or ".join(repr(s) for s in reading.suggestions) + "?)"
        return Resolution(
            term,
            (),
            unresolved=f"no ingredient, salt, brand or product called {text!r} in the offline RxNorm "
            "knowledge" + hint,
        )

    @cached_property
    def spelling(self) -> SpellingIndex:
        """The misspelling index over every known name; built on first use."""
        return SpellingIndex(self.kb.names, self._unknown)

    @cached_property
    def _unknown(self) -> dict[str, str]:
        """Drug names no ingredient maps -> source, with the salt-free form of a salt's name when that form
        is itself no known name ("aclidinium bromide" and "aclidinium")."""
        unknown = dict(self.kb.unknown_drugs)
        for name, source in self.kb.unknown_drugs.items():
            bare = strip_salt(name)
            if len(bare) >= 7 and bare != name and bare not in self.kb.names:
                unknown.setdefault(bare, source)
        return unknown

    @staticmethod
    def _read_as(found: Resolution, text: str) -> Resolution:
        names = ", ".join(i.name for i in found.ingredients)
        return replace(found, note=f"read {text!r} as {names}")

    def _ingredients(self, rxcuis: Iterable[str]) -> tuple[Ingredient, ...]:
        found = {self.kb.ingredients[r] for r in rxcuis if r in self.kb.ingredients}
        return tuple(sorted(found, key=lambda i: (i.name.lower(), i.rxcui)))

    def _product(self, term: str, product: Product, via: str) -> Resolution:
        return Resolution(term, self._ingredients(product.ingredients), product, product.route, via=via)

    def _by_code(self, term: str, code: str) -> Resolution:
        kb = self.kb
        if code in kb.ingredients:
            return Resolution(term, (kb.ingredients[code],), via="ingredient")
        if code in kb.salts:
            return Resolution(term, self._ingredients([kb.salts[code]]), via="salt")
        if code in kb.products:
            return self._product(term, kb.products[code], "product")
        if code in kb.brands:
            return Resolution(term, self._ingredients(kb.brands[code].ingredients), via="brand")
        if len(code) == 11 and code in kb.ndc and kb.ndc[code] in kb.products:
            return self._product(term, kb.products[kb.ndc[code]], "ndc")
        return Resolution(
            term,
            (),
            unresolved=f"RxCUI {code} is not a current ingredient, salt, brand or product in the offline "
            f"knowledge {kb.version}",
        )

    def _by_ndc(self, term: str, text: str, ndc: str) -> Resolution:
        rxcui = self.kb.ndc.get(ndc)
        if rxcui is not None and rxcui in self.kb.products:
            return self._product(term, self.kb.products[rxcui], "ndc")
        why = "it holds no NDC data" if not self.kb.ndc else "not in its NDC table"
        return Resolution(term, (), unresolved=f"NDC {text} is not in the offline knowledge ({why})")

    def _name_rxcuis(self, key: str) -> tuple[str, ...] | None:
        """IN RxCUIs of a name key: as written, without punctuation, then without salt words."""
        for candidate in (key, fix_misspellings(key)):
            found = self.kb.names.get(candidate) or self._loose_names.get(loose(candidate))
            if found:
                return found
            stripped = strip_salt(candidate)
            if stripped and stripped != candidate:
                found = self.kb.names.get(stripped) or self._loose_names.get(loose(stripped))
                if found:
                    return found
        return None

    def _by_name(self, term: str, key: str) -> Resolution | None:
        rxcui = self._product_names.get(key)
        if rxcui is not None:
            return self._product(term, self.kb.products[rxcui], "product")
        rxcuis = self._name_rxcuis(key)
        if rxcuis:
            return Resolution(term, self._ingredients(rxcuis), via="name")
        return None

    def _by_product_text(self, term: str, text: str) -> Resolution | None:
        """Read ``text`` as a product name: its ingredient parts, else its brand; route from its dose form."""
        parsed = parse_product_name(text)
        found: list[str] = []
        for part in parsed.parts:
            rxcuis = self._name_rxcuis(normalise(part)) or self._name_rxcuis(
                " ".join(w for w in normalise(part).split() if not any(c.isdigit() for c in w))
            )
            if not rxcuis:
                found = []
                break
            found.extend(rxcuis)
        if not found and parsed.brand:
            found.extend(self._name_rxcuis(normalise(parsed.brand)) or ())
        if not found:
            return None
        route: Route = route_of(parsed.dose_form) if parsed.dose_form else "oral"
        return Resolution(term, self._ingredients(found), route=route, via="text")


def same_terms(old: KnowledgeBase, new: KnowledgeBase) -> bool:
    """Whether ``old`` and ``new`` read every term the same way offline (``TERM_FIELDS`` alike)."""
    return all(getattr(old, f) is getattr(new, f) or getattr(old, f) == getattr(new, f) for f in TERM_FIELDS)


def _allergy_keys(key: str) -> list[str]:
    keys = [key]
    for suffix in (" allergy", " allergies", " class", " group"):
        if key.endswith(suffix):
            keys.append(key[: -len(suffix)])
    for base in list(keys):
        keys.extend([ALLERGY_SYNONYMS.get(base, ""), base + "s", base.removesuffix("s")])
    return [k for k in dict.fromkeys(keys) if k]
