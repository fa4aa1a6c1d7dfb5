"""Specific drug pairs from US labelling that no class rule catches, each with the label section it restates.

Data only. Every entry is one fact of public labelling (a US prescribing information section, or an FDA or
MHRA safety communication), written in our own words; every ``left`` x ``right`` combination is meant.
The pairs are grouped by body system in the modules of this package; ``LABELLED_PAIRS`` holds them all.

Severity, as the label words it:

- ``critical``: the label contraindicates the combination (section 4 Contraindications, or a boxed warning
  saying do not use). The source then names that section.
- ``major``: the label says avoid, not recommended, or change therapy now (a dose cut before the next dose,
  or a dose cap at or near the lowest dose).
- ``moderate``: the label says monitor, or adjust the dose as needed.

``summary`` is one sentence without the severity, with ``{left}`` and ``{right}`` standing for the
ingredient names; the rules machinery fills them in and appends `` (severity).``. ``management`` lists the
steps a nurse can follow at night, in order: for critical pairs the first step says what not to give, for
major pairs what to hold or check with the prescriber first, for moderate pairs how to give and what to
monitor. Ingredient names are RxNorm's (lower case). No pair of ingredients appears in two entries.
"""

from __future__ import annotations

from alertsvc.knowledge.curated_pairs import (
    anticoagulation,
    cardiovascular,
    cyp3a,
    nervous_system,
    other_systems,
)
from alertsvc.knowledge.curated_pairs.labelled_pair import LabelledPair

__all__ = ["LABELLED_PAIRS", "LabelledPair"]

LABELLED_PAIRS: tuple[LabelledPair, ...] = (
    *cardiovascular.PAIRS,
    *anticoagulation.PAIRS,
    *cyp3a.PAIRS,
    *nervous_system.PAIRS,
    *other_systems.PAIRS,
)
