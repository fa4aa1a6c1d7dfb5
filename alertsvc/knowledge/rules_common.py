"""Helpers shared by the source parsers of the rules build: reading a TSV, finding an ingredient RxCUI for a
drug name as a public source spells it, and the part of the knowledge each source contributes.

Names are looked up in the terminology's ``names`` mapping (lower-case ingredient or salt name -> IN RxCUI),
after normalising the spelling (curly quotes, hyphens, spacing, a trailing colon), then through curated
aliases (INN vs USAN names, misspellings in the sources), then without a salt word ("warfarin sodium"), and
last through a few ingredients the sources need that the Prescribable subset lacks (each with where its
RxCUI comes from). Every miss is kept so the build can report it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge.curated_rules import KNOWN_INGREDIENTS, NAME_ALIASES
from alertsvc.knowledge.model import DrugClass, Rule, Source

SALT_WORDS = frozenset(
    {
        "acetate",
        "besylate",
        "bitartrate",
        "bromide",
        "calcium",
        "citrate",
        "dihydrochloride",
        "disodium",
        "fumarate",
        "hcl",
        "hydrobromide",
        "hydrochloride",
        "hyclate",
        "lactate",
        "maleate",
        "mesylate",
        "monohydrate",
        "phosphate",
        "potassium",
        "sodium",
        "succinate",
        "sulfate",
        "tartrate",
        "tromethamine",
    }
)


def normalise_name(text: str) -> str:
    """Lower-case a drug name and tidy its spelling: quotes, spacing, a trailing colon or asterisk."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\ufeff", "")
    text = re.sub(r"[\s_]+", " ", text.strip().lower())
    return text.strip(" :;,.*")


def slug(text: str) -> str:
    """A stable id fragment: lower-case words joined by hyphens.

    >>> slug("VITAMIN K ANTAGONISTS")
    'vitamin-k-antagonists'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def read_tsv(path: Path, required: Iterable[str], delimiter: str = "\t") -> list[dict[str, str]]:
    """Read a delimited file with a header row; raise KnowledgeBuildError naming the file when it is
    missing or lacks a required column."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            header = reader.fieldnames or []
            missing = [column for column in required if column not in header]
            if missing:
                raise KnowledgeBuildError(f"{path}: missing column(s) {', '.join(missing)}")
            return [{key: (value or "") for key, value in row.items() if key is not None} for row in reader]
    except FileNotFoundError as exc:
        raise KnowledgeBuildError(f"{path}: source file is missing") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise KnowledgeBuildError(f"{path}: cannot be read: {exc}") from exc


class NameLookup:
    """Ingredient RxCUIs for drug names as the public sources spell them; remembers what did not map."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = {normalise_name(name): rxcui for name, rxcui in names.items()}
        self._ingredients = frozenset(names.values())
        self._asked: dict[str, str] = {}  # RxCUI -> the name a source first found it by
        self._by_rxcui: dict[str, str] = {}
        for name, rxcui in sorted(self._names.items(), key=lambda item: (len(item[0]), item[0])):
            self._by_rxcui.setdefault(rxcui, name)
        self.fallbacks: dict[str, str] = {}  # name -> RxCUI taken from KNOWN_INGREDIENTS
        self.misses: dict[str, set[str]] = {}  # source key -> names that did not map

    def is_ingredient(self, rxcui: str) -> bool:
        """True when the terminology knows ``rxcui`` as an ingredient."""
        return rxcui in self._ingredients or rxcui in self.fallbacks.values()

    def name_of(self, rxcui: str) -> str:
        """A name for ``rxcui`` to show in notes: the terminology name a source first found it by, else its
        shortest, else the RxCUI."""
        if rxcui in self._asked:
            return self._asked[rxcui]
        fallback = next((name for name, known in self.fallbacks.items() if known == rxcui), rxcui)
        return self._by_rxcui.get(rxcui, fallback)

    def find(self, name: str) -> str | None:
        """The IN RxCUI for ``name``, or None."""
        key = normalise_name(name)
        if not key:
            return None
        for candidate in self._candidates(key):
            if candidate in self._names:
                self._asked.setdefault(self._names[candidate], candidate)
                return self._names[candidate]
        for candidate in self._candidates(key):
            known = KNOWN_INGREDIENTS.get(candidate)
            if known is not None:
                self.fallbacks[candidate] = known[0]
                return known[0]
        return None

    def rxcui(self, name: str, source: str) -> str | None:
        """Like :meth:`find`, recording a miss against ``source``."""
        found = self.find(name)
        if found is None and normalise_name(name):
            self.misses.setdefault(source, set()).add(normalise_name(name))
        return found

    def members(self, names: Iterable[str], source: str) -> frozenset[str]:
        """The RxCUIs of every name that maps; misses are recorded against ``source``."""
        found = (self.rxcui(name, source) for name in names)
        return frozenset(rxcui for rxcui in found if rxcui is not None)

    @staticmethod
    def _candidates(key: str) -> Iterator[str]:
        seen: set[str] = set()
        forms = [key, key.replace("-", " "), key.replace(" ", "-")]
        bare = re.sub(r"\s*\([^)]*\)", "", key).strip()
        if bare and bare != key:
            forms.append(bare)
        for form in list(forms):
            alias = NAME_ALIASES.get(form)
            if alias:
                forms.append(alias)
            words = form.split(" ")
            if len(words) > 1 and words[-1] in SALT_WORDS:
                forms.append(" ".join(words[:-1]))
            if len(words) > 1 and words[0] in SALT_WORDS:
                forms.append(" ".join(words[1:]))
        for form in forms:
            alias = NAME_ALIASES.get(form)
            for candidate in (form, alias):
                if candidate and candidate not in seen:
                    seen.add(candidate)
                    yield candidate


@dataclass
class Part:
    """What one source contributes: classes, rules, sources credited and notes for data/SOURCES.md."""

    classes: dict[str, DrugClass] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_class(self, drug_class: DrugClass) -> str:
        """Add ``drug_class`` (replacing one with the same id) and return its node id."""
        self.classes[drug_class.id] = drug_class
        return f"class:{drug_class.id}"


def node_for(members: frozenset[str], class_id: str) -> str:
    """The graph node for a side of a rule: ``in:<RxCUI>`` for a single ingredient, else the class."""
    if len(members) == 1:
        return f"in:{next(iter(members))}"
    return f"class:{class_id}"


def unordered(left: str, right: str) -> tuple[str, str]:
    """A pair of node ids in a fixed order, so the same pair from two directions merges."""
    return (left, right) if left <= right else (right, left)
