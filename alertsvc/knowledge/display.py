"""What a ward reads: findings in the drug names of its locale, and how each of its drugs was read.

Pure functions over findings; the knowledge's ``display_names`` (generated into data/display_names.tsv from
the BNF titles in ``curated_names``) give, per locale, the name a ward reads where it differs from RxNorm's
("en-GB": paracetamol for acetaminophen, ciclosporin for cyclosporine). ``en-US`` is RxNorm's own names.

- ``localise``: a finding with its ingredients' names, and the same names inside its summary, mechanism and
  management (whole words, keeping capitals), in the ward's names. The RxCUIs do not change, so an alert's
  identity (admission, kind, ingredients) does not either. A summary that would grow past the length a
  card allows keeps RxNorm's names rather than being cut.
- ``with_notes``: a finding that involves a medication read with a note (a misspelling read as a drug, a
  code read by its display) says so in its mechanism, which the alert's detail shows.
- ``normalised_items``: the medications as a response shows them, with their notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

from alertsvc.knowledge.graph import MAX_SUMMARY
from alertsvc.knowledge.model import Finding, FlaggedReaction, Ingredient, Medication

US = "en-US"
LOCALES: tuple[str, ...] = ("en-US", "en-GB")
"""The locales a ward may have; en-US shows RxNorm's names unchanged."""


def display_table(display_names: Mapping[str, Mapping[str, str]], locale: str) -> Mapping[str, str]:
    """IN RxCUI -> display name for ``locale`` (empty for en-US or a locale without names)."""
    return {} if locale == US else display_names.get(locale, {})


def localise(finding: Finding, names: Mapping[str, str]) -> Finding:
    """``finding`` in the names of ``names`` (IN RxCUI -> display name); unchanged when none apply.

    >>> f = Finding("interaction", "major", (Ingredient("161", "acetaminophen"),),
    ...             "Acetaminophen with warfarin: INR rises (major)", "", "Check INR.", "r", (), (), "kb")
    >>> localise(f, {"161": "paracetamol"}).summary
    'Paracetamol with warfarin: INR rises (major)'
    """
    changes = tuple(
        (i.name, names[i.rxcui]) for i in finding.ingredients if names.get(i.rxcui, i.name) != i.name
    )
    if not changes:
        return finding
    pattern, table = _pattern(changes)

    def swap(text: str) -> str:
        return (
            pattern.sub(lambda m: _same_case(m.group(0), table[m.group(0).lower()]), text) if text else text
        )

    summary = swap(finding.summary)
    return replace(
        finding,
        ingredients=tuple(Ingredient(i.rxcui, names.get(i.rxcui, i.name)) for i in finding.ingredients),
        summary=summary if len(summary) <= MAX_SUMMARY else finding.summary,
        mechanism=swap(finding.mechanism),
        management=swap(finding.management),
    )


def localise_all(findings: Iterable[Finding], names: Mapping[str, str]) -> list[Finding]:
    return [localise(f, names) for f in findings] if names else list(findings)


def with_notes(
    findings: Iterable[Finding], medications: Iterable[Medication | FlaggedReaction]
) -> list[Finding]:
    """Each finding naming (in ``refs``) a medication or flagged reaction that has a note gets the note in
    its mechanism."""
    notes = {m.ref: m.note for m in medications if m.note and m.ref}
    if not notes:
        return list(findings)
    found = []
    for finding in findings:
        extra = [notes[ref] for ref in finding.refs if ref in notes]
        text = " ".join(f"{note[0].upper()}{note[1:]}." for note in dict.fromkeys(extra))
        base = finding.mechanism.rstrip()
        base += "." if base and base[-1] not in ".!?" else ""
        found.append(replace(finding, mechanism=f"{base} {text}".strip()) if text else finding)
    return found


def normalised_items(
    medications: Iterable[Medication | FlaggedReaction], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Medications (and flagged reactions' drugs) as JSON for a response: ref, label, ingredients (in
    ``names`` where given), note."""
    return [
        {
            "ref": med.ref,
            "label": med.label,
            "ingredients": [{"rxcui": i.rxcui, "name": names.get(i.rxcui, i.name)} for i in med.ingredients],
            "note": med.note,
        }
        for med in medications
    ]


@lru_cache(maxsize=512)
def _pattern(changes: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    table = {old.lower(): new for old, new in changes}
    words = sorted(table, key=len, reverse=True)  # "ethinyl estradiol" before "estradiol"
    alternatives = "|".join(re.escape(word) for word in words)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE), table


def _same_case(written: str, name: str) -> str:
    if written.isupper() and len(written) > 1:
        return name.upper()
    if written[:1].isupper():
        return name[:1].upper() + name[1:]
    return name
