"""Reading a misspelt drug name: when exactly one known drug is clearly closest, and never between two
look-alike drugs.

A term is compared with every known name after a light phonetic folding (``fold``: "ph" read as "f", "y"
as "i", doubled letters as one, a final "e" dropped), by Damerau-Levenshtein distance (an insertion,
deletion, substitution or swap of two neighbours is one edit). A term is *read as* a drug when:

- it is at least ``MIN_LENGTH`` letters long and holds no digit (short words and strengths are too easy to
  mistake);
- its closest names are at most one edit away and all mean the same ingredients;
- no name of any *other* drug is within one more edit (the next candidate is clearly further away), drugs
  the knowledge lacks included ("aclidinium" is never read as clidinium);
- it starts with the same letter (after folding): a typing slip rarely changes the first letter.

So "ibuprophen" reads as ibuprofen (the same after folding), "amoxicilin" as amoxicillin (one edit), but
"lonazepam" is left alone: clonazepam and lorazepam are both one edit away, a known look-alike pair.
Otherwise the close names (up to three, within two edits) are offered as a suggestion.

The index (names by folded form, and by letter pairs for finding candidates) is built once per normaliser
and each look-up touches only the names that share enough letter pairs with the term.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MIN_LENGTH = 6
SUGGEST_DISTANCE = 2
_DOUBLE = re.compile(r"(.)\1+")
_LETTERS = re.compile(r"^[a-z][a-z '\-.]*[a-z]$")


def fold(key: str) -> str:
    """A name folded for comparison: "ph" -> "f", "y" -> "i", doubled letters once, final "e" dropped.

    >>> fold("ibuprophen") == fold("ibuprofen")
    True
    >>> fold("amoxycilline")
    'amoxicilin'
    """
    text = key.replace("ph", "f").replace("y", "i")
    text = _DOUBLE.sub(r"\1", text)
    return " ".join(word[:-1] if len(word) > 3 and word.endswith("e") else word for word in text.split(" "))


def distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[len(b)], limit + 1)


def _pairs(text: str) -> set[str]:
    padded = f"^{text}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


@dataclass(frozen=True)
class Reading:
    """What a misspelt term is closest to: ``name`` when it reads as one drug, else ``suggestions``."""

    name: str | None
    rxcuis: tuple[str, ...]
    suggestions: tuple[str, ...]


class SpellingIndex:
    """Known names (name key -> IN RxCUIs), indexed once for reading misspellings. ``unknown`` names drugs
    the knowledge lacks: they are candidates too (so a term near one is never read as another drug), but
    are only ever suggested."""

    def __init__(self, names: Mapping[str, tuple[str, ...]], unknown: Iterable[str] = ()) -> None:
        self._names: dict[str, tuple[str, ...]] = dict(names)
        self._names.update({name: (f"unknown:{name}",) for name in unknown if name not in names})
        self._folded: dict[str, list[str]] = defaultdict(list)
        for key in self._names:
            if _LETTERS.match(key):
                self._folded[fold(key)].append(key)
        self._keys = list(self._folded)
        self._by_pair: dict[str, list[int]] = defaultdict(list)
        for number, folded in enumerate(self._keys):
            for pair in _pairs(folded):
                self._by_pair[pair].append(number)

    def closest_distance(self, key: str) -> int:
        """The folded distance from ``key`` to the closest other name (``SUGGEST_DISTANCE + 1`` if none)."""
        close = self._close(key) if _LETTERS.match(key) else []
        return min((found for found, name in close if name != key), default=SUGGEST_DISTANCE + 1)

    def read(self, key: str) -> Reading | None:
        """The reading of ``key`` (a normalised term that is not a known name); None if nothing is close."""
        if len(key) < 4 or not _LETTERS.match(key):
            return None
        close = self._close(key)
        if not close:
            return None
        best = close[0][0]
        drugs_at = {self._names[name] for found, name in close if found <= best + 1}
        suggestions = tuple(dict.fromkeys(name for _, name in close))[:3]
        name = close[0][1]
        readable = (
            len(key) >= MIN_LENGTH
            and best <= 1
            and len(drugs_at) == 1
            and not self._names[name][0].startswith("unknown:")
            and fold(key)[:1] == fold(name)[:1]  # a slip rarely changes the first letter; look-alikes do
        )
        if not readable:
            return Reading(None, (), suggestions)
        return Reading(name, self._names[name], suggestions)

    def _close(self, key: str) -> list[tuple[int, str]]:
        """(folded distance, name) of every name within ``SUGGEST_DISTANCE``, closest first."""
        folded = fold(key)
        pairs = _pairs(folded)
        shared: Counter[int] = Counter()
        for pair in pairs:
            shared.update(self._by_pair.get(pair, ()))
        need = max(1, len(pairs) - 3 * SUGGEST_DISTANCE)  # a swap changes at most three letter pairs
        close: list[tuple[int, str]] = []
        for number, count in shared.items():
            if count >= need:
                candidate = self._keys[number]
                found = distance(folded, candidate, SUGGEST_DISTANCE)
                if found <= SUGGEST_DISTANCE:
                    close.extend((found, name) for name in self._folded[candidate])
        close.sort(key=lambda item: (item[0], len(item[1]), item[1]))
        return close
