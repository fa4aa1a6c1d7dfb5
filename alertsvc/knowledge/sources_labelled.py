"""Specific pairs from US labelling (``curated_pairs``): each a rule with its label section as its rating.

A side naming one ingredient is that ingredient's node; a side naming several becomes a class of its own
(``labelled:<id>-left`` / ``-right``). Names that do not map are reported, and a pair with an empty side
is dropped with a note.
"""

from __future__ import annotations

from alertsvc.knowledge.curated_pairs import LABELLED_PAIRS, LabelledPair
from alertsvc.knowledge.model import DrugClass, Rule
from alertsvc.knowledge.rules_common import NameLookup, Part, node_for
from alertsvc.knowledge.sources_mechanisms import SOURCES
from alertsvc.knowledge.wording import steps

SOURCE_KEY = "us-labelling"


def build(lookup: NameLookup, pairs: tuple[LabelledPair, ...] = LABELLED_PAIRS) -> Part:
    """One rule per labelled pair."""
    part = Part(sources={SOURCE_KEY: SOURCES[SOURCE_KEY]})
    dropped: list[str] = []
    for pair in pairs:
        nodes = []
        for side, names in (("left", pair.left), ("right", pair.right)):
            members = lookup.members(names, "labelled")
            class_id = f"labelled:{pair.id}-{side}"
            if len(members) > 1:
                part.add_class(DrugClass(class_id, " / ".join(names), "interaction", SOURCE_KEY, members))
            nodes.append(node_for(members, class_id) if members else "")
        if not all(nodes):
            dropped.append(pair.id)
            continue
        part.rules.append(
            Rule(
                id=f"label-{pair.id}",
                kind="interaction",
                left=nodes[0],
                right=nodes[1],
                severity=pair.severity,
                mechanism=pair.mechanism,
                management=steps(pair.management),
                sources=(SOURCE_KEY,),
                rating=pair.source,
                summary=pair.summary,
                wording="labelled",
            )
        )
    part.notes.append(
        f"US labelling: {len(part.rules)} specific pairs (curated_pairs, each citing its label section)"
        + (f"; dropped for a side that maps to no ingredient: {', '.join(dropped)}." if dropped else ".")
    )
    return part
