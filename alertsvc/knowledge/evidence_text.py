"""A finding's evidence in plain words, for the screen: no node ids, no rule ids.

A finding's ``evidence`` is its path through the graph as node ids (``in:21212``,
``class:fda:cyp3a-inhibitors-strong``, ``class:labelled:...``). ``evidence_sentence`` turns it into what a
nurse reads: "clarithromycin is a strong CYP3A inhibitor; simvastatin is a sensitive CYP3A substrate".
When one of the rules behind the finding is a mechanism rule from the FDA table, its two sides say why
(the enzyme or transporter, inhibitor or inducer, and the substrate); otherwise each ingredient is named
with the class the path went through, when that class has a readable name. A label's own list of drugs
("simvastatin / lovastatin") is not a name, and is left out. ``source_names`` names the sources by title.

Pure: the knowledge comes in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from alertsvc.knowledge.model import DrugClass, Finding, KnowledgeBase, Rule

INGREDIENT = "in:"
CLASS = "class:"
_rules_by_version: dict[str, Mapping[str, Rule]] = {}
"""Rules by id, per knowledge version (a memo: the knowledge never changes while the service runs)."""


def evidence_sentence(finding: Finding, kb: KnowledgeBase) -> str:
    """The finding's evidence as one readable sentence (empty when there is nothing to say but the
    drugs' names, which the alert already shows).

    Ingredient names are the finding's own (already in the ward's names)."""
    names = {i.rxcui: i.name for i in finding.ingredients}
    mechanism = _mechanism_clauses(finding, kb, names)
    if mechanism:
        return "; ".join(mechanism)
    return "; ".join(_path_clauses(finding.evidence, kb.classes, names))


def source_names(finding: Finding, kb: KnowledgeBase) -> list[str]:
    """The finding's sources by their titles (a source the knowledge does not list keeps its key)."""
    return [kb.sources[key].title if key in kb.sources else key for key in finding.sources]


def class_phrase(drug_class: DrugClass) -> str:
    """What an ingredient "is" for a class, or "" when the class has no readable name.

    >>> def named(id, name): return DrugClass(id, name, "interaction", "", frozenset())
    >>> class_phrase(named("fda:x", "strong CYP3A inhibitors (FDA table)"))
    'a strong CYP3A inhibitor'
    >>> class_phrase(named("effect:x", "NSAIDs"))
    'an NSAID'
    >>> class_phrase(named("ansm:x", "MACROLIDES (EXCEPT SPIRAMYCIN)"))
    'in the group macrolides (except spiramycin)'
    >>> class_phrase(named("labelled:x", "simvastatin / lovastatin"))
    ''
    """
    name = drug_class.name.strip()
    if not name or "/" in name or "," in name or drug_class.id.startswith("labelled:"):
        return ""
    if name.isupper():  # ANSM's group names are in capitals: keep only the tokens with digits so
        name = " ".join(w if any(c.isdigit() for c in w) else w.lower() for w in name.split())
        return f"in the group {name}"
    name = re.sub(r"\s*\((FDA table|PDDI-CDS)\)$", "", name)
    if "(" in name:
        return f"in the group {name[0].lower() + name[1:] if not name[:2].isupper() else name}"
    if re.search(r"\b(and|with|that|or)\b", name):  # "opioids with serotonergic action": no singular
        return f"one of the {name[0].lower() + name[1:] if not name[:2].isupper() else name}"
    words = name.split()
    words[-1] = _singular(words[-1])
    text = " ".join(words)
    text = text if text[:2].isupper() else text[0].lower() + text[1:]
    return f"{_article(text)} {text}"


def _mechanism_clauses(finding: Finding, kb: KnowledgeBase, names: Mapping[str, str]) -> list[str]:
    rules = _rules(kb)
    for rating in finding.ratings:
        rule = rules.get(rating.rule)
        if rule is None or "fda-ddi" not in rule.sources or " + " not in rule.rating:
            continue
        perpetrator, victim = (p.strip() for p in re.sub(r"\s*\([^()]*\)$", "", rule.rating).split(" + ", 1))
        enzyme = next(iter(re.findall(r"\b(CYP\w+|P-gp|OATP\w+|BCRP|UGT\w+)\b", perpetrator)), "")
        if enzyme and enzyme not in victim:
            victim = re.sub(r"\bsubstrate\b", f"{enzyme} substrate", victim)
        left = _members(rule.left, kb.classes).intersection(names)
        right = _members(rule.right, kb.classes).intersection(names)
        if not left or not right:
            continue
        first, second = names[sorted(left)[0]], names[sorted(right)[0]]
        return [
            f"{first} is {_article(perpetrator)} {perpetrator}",
            f"{second} is {_article(victim)} {victim}",
        ]
    return []


def _path_clauses(
    evidence: tuple[str, ...], classes: Mapping[str, DrugClass], names: Mapping[str, str]
) -> list[str]:
    """Each ingredient of the path with the readable class next to it on the path."""
    clauses: list[str] = []
    nodes = list(evidence)
    for i, node in enumerate(nodes):
        if not node.startswith(INGREDIENT) or node[len(INGREDIENT) :] not in names:
            continue
        name = names[node[len(INGREDIENT) :]]
        neighbours = [nodes[j] for j in (i + 1, i - 1) if 0 <= j < len(nodes) and nodes[j].startswith(CLASS)]
        for neighbour in neighbours:
            drug_class = classes.get(neighbour[len(CLASS) :])
            phrase = class_phrase(drug_class) if drug_class is not None else ""
            if phrase and drug_class is not None and node[len(INGREDIENT) :] in drug_class.members:
                clause = f"{name} is {phrase}"
                if clause not in clauses:
                    clauses.append(clause)
                break
    return clauses


def _members(node: str, classes: Mapping[str, DrugClass]) -> frozenset[str]:
    if node.startswith(INGREDIENT):
        return frozenset({node[len(INGREDIENT) :]})
    drug_class = classes.get(node[len(CLASS) :])
    return drug_class.members if drug_class is not None else frozenset()


def _rules(kb: KnowledgeBase) -> Mapping[str, Rule]:
    found = _rules_by_version.get(kb.version)
    if found is None:
        found = _rules_by_version[kb.version] = {rule.id: rule for rule in kb.rules}
    return found


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _article(text: str) -> str:
    if text.startswith(("in the group", "one of the")):
        return ""
    first = text.split()[0] if text.split() else ""
    if first[:1].isupper() and first.isupper():  # an acronym: read by its letters
        return "an" if first[0] in "AEFHILMNORSX" else "a"
    return "an" if first[:1].lower() in "aeiou" else "a"
