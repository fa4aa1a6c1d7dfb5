"""How findings read: one sentence of summary under 140 characters, management as numbered steps.

Pure helpers shared by the knowledge build (which writes each rule's words) and the graph (which fills
in the drugs of each pair). A summary is never cut in the middle of a word: when the drugs' names make
the sentence too long, a shorter form is used (the part before the colon, then the bare pair).

>>> sentence("{right} raises {left} levels: risk of bleeding", "major", left="warfarin", right="fluconazole")
'Fluconazole raises warfarin levels: risk of bleeding (major).'
>>> steps(["Hold the dose.", "Tell the prescriber."])
'1. Hold the dose. 2. Tell the prescriber.'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_SUMMARY = 139
"""CDS Hooks cards want a summary under 140 characters."""

_STEP = re.compile(r"^1\. \S")


def sentence(template: str, severity: str, **names: str) -> str:
    """``template`` with the drugs' names filled in (``{left}``, ``{right}``, ``{also}``), capitalised,
    ending " (severity)."; always under 140 characters, never cut inside a word.

    Too long, it falls back to the template's part before its first ": ", then (with drugs named) to
    "Left + right interact" and the first word of each name, or (without) to whole words and "…".
    """
    tail = f" ({severity})."
    room = MAX_SUMMARY - len(tail)
    forms = [template, template.partition(": ")[0]]  # "10:00" is not a colon to cut at
    if names:
        forms.append(" + ".join("{" + key + "}" for key in names) + " interact")
    for form in forms:
        text = fill(form, **names)
        if len(text) <= room:
            return _capitalise(text) + tail
    if names:
        short = {key: value.split(" ")[0] for key, value in names.items()}
        text = fill(forms[-1], **short)
        if len(text) > room:  # single words longer than any drug name: the only cut inside a word
            each = (room - len(fill(forms[-1], **dict.fromkeys(names, "")))) // len(names)
            text = fill(forms[-1], **{key: value[:each] for key, value in short.items()})
        return _capitalise(text) + tail
    cut = fill(forms[1], **names)[: room - 1].rsplit(" ", 1)[0]
    return _capitalise(cut.rstrip(" ,;:")) + "…" + tail


def fill(text: str, **names: str) -> str:
    """``text`` with ``{key}`` replaced by ``names[key]`` (other braces are kept)."""
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def steps(items: Sequence[str]) -> str:
    """Numbered steps on one line: "1. First. 2. Second."; empty items are left out."""
    kept = [item.strip() for item in items if item.strip()]
    return " ".join(f"{number}. {item}" for number, item in enumerate(kept, start=1))


def has_steps(management: str) -> bool:
    """True when ``management`` is written as numbered steps (see :func:`steps`)."""
    return bool(_STEP.match(management))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
