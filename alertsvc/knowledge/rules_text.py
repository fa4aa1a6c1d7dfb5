"""Give every interaction rule alertsvc's own words: a summary sentence and, where it is major or
critical, the mechanism and the steps to follow.

Curated rules (labelled pairs, mechanism rules, ONC high-priority, PDDI-CDS) bring their words. The rest
come from sources whose words a nurse cannot act on: the ANSM thesaurus in machine translation, VA NDF-RT
with no words at all. Each is sorted into a category of ``curated_texts``:

1. by the drugs themselves when the curated tables know them: a pharmacodynamic rule joining their classes
   (``curated_effects``), or one drug inhibiting or inducing an enzyme the other depends on
   (``curated_mechanisms``), which also tells which drug's level changes;
2. else by keywords in the source's description (ANSM), the object of a changed level found by its name;
3. else by a class both drugs belong to that is named for an effect ("SEDATIVE MEDICATIONS"), or a class of
   one named for inhibiting or inducing the other's clearance;
4. else the "listed interaction" text, naming the source's rating.

A major or critical rule then gets the category's mechanism and the tier's steps; a moderate or minor one
keeps the source's own mechanism and advice when it has them (its summary is still alertsvc's).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from alertsvc.knowledge import curated_mechanisms as pk
from alertsvc.knowledge.curated_effect_rules import EffectRule
from alertsvc.knowledge.curated_texts import LISTED, TIER_STEPS, Category, category_of, management
from alertsvc.knowledge.model import DrugClass, Rule
from alertsvc.knowledge.rules_common import NameLookup
from alertsvc.knowledge.sources_mechanisms import Roles
from alertsvc.knowledge.wording import steps

_LEVEL_CATEGORIES = ("raised-level", "lowered-level")


@dataclass(frozen=True)
class Words:
    """The words chosen for one rule."""

    summary: str
    mechanism: str
    watch: tuple[str, ...]
    how: str  # for the build notes: "effect", "enzyme", "keywords", "listed"


class Wordsmith:
    """Words for source rules, from the curated tables and the source's own description."""

    def __init__(
        self,
        classes: Mapping[str, DrugClass],
        roles: Roles,
        effect_rules: Iterable[EffectRule],
        lookup: NameLookup,
    ) -> None:
        self.classes = classes
        self.roles = roles
        self.effect_rules = [r for r in effect_rules if not r.also]
        self.lookup = lookup
        self.counts: Counter[str] = Counter()
        self.classes_of: dict[str, set[str]] = defaultdict(set)
        for class_id, drug_class in classes.items():
            for member in drug_class.members:
                self.classes_of[member].add(class_id)

    def word(self, rules: Iterable[Rule]) -> list[Rule]:
        """Every rule, those without curated words given alertsvc's."""
        return [self._worded(r) if r.kind == "interaction" and not r.wording else r for r in rules]

    def notes(self) -> list[str]:
        made = ", ".join(f"{how} {n}" for how, n in sorted(self.counts.items()))
        return [
            "Source rules given alertsvc's words (summary always; mechanism and numbered steps when major or "
            f"critical), by how the category was found: {made}."
        ]

    def _worded(self, rule: Rule) -> Rule:
        ndfrt = "ndfrt" in rule.sources  # NDF-RT's description is only the two drug names
        description = "" if ndfrt else rule.mechanism
        left, right = self._members(rule.left), self._members(rule.right)
        words = (
            self._by_drugs(left, right)
            or self._by_keywords(description, rule, left, right)
            or self._by_classes(left, right)
            or Words(LISTED.summary, LISTED.mechanism, LISTED.watch, "listed")
        )
        self.counts[words.how] += 1
        severe = rule.severity in ("critical", "major")
        keep_source = not severe and not ndfrt and bool(rule.mechanism)
        mechanism = rule.mechanism if keep_source else words.mechanism
        items = list(management(rule.severity, words.watch))
        _, when, condition = rule.rating.partition(", when: ")
        if when:  # a contraindication limited to doses, routes or patients (sources_ansm.conditional)
            check = f"The source contraindicates this {condition}: ask the prescriber whether that applies."
            items.insert(len(TIER_STEPS[rule.severity]), check)
        advice = rule.management if keep_source and rule.management else steps(items)
        return replace(
            rule,
            summary=words.summary,
            mechanism=mechanism,
            management=advice,
            wording="source" if keep_source else "category",
        )

    # 1. by the drugs ------------------------------------------------------------------------------------
    def _by_drugs(self, left: frozenset[str], right: frozenset[str]) -> Words | None:
        if not left or not right:
            return None
        for effect in self.effect_rules:
            for a, b, flipped in ((left, right, False), (right, left, True)):
                if self._all_in(a, effect.left) and self._all_in(b, effect.right):
                    summary = _swap(effect.summary) if flipped else effect.summary
                    return Words(summary, effect.mechanism, effect.watch, "effect")
        for raised, table in ((True, self.roles.inhibits), (False, self.roles.induces)):
            for perpetrator, victim, victim_side in ((left, right, "right"), (right, left, "left")):
                shared = _common(table, perpetrator) & _common(self.roles.substrate_of, victim)
                if shared:
                    return self._level_words(victim, victim_side, raised, "enzyme")
        return None

    def _all_in(self, members: frozenset[str], effect_class: str) -> bool:
        return all(effect_class in self.roles.effect_classes.get(x, ()) for x in members)

    # 3. by the classes both drugs belong to ----------------------------------------------------------------
    def _by_classes(self, left: frozenset[str], right: frozenset[str]) -> Words | None:
        """A class of both drugs named for an effect ("SEDATIVE MEDICATIONS"), or a class of one named for
        blocking or speeding the other's clearance ("STRONG INHIBITORS OF CYP3A4", "ENZYME INDUCERS")."""
        if not left or not right:
            return None
        of_left, of_right = _common(self.classes_of, left), _common(self.classes_of, right)
        for class_id in sorted(of_left & of_right):
            category = category_of(self.classes[class_id].name)
            if category is not None and category.key not in _LEVEL_CATEGORIES:
                return _words(category, "shared class")
        for perpetrator, victim, side in ((of_left, right, "right"), (of_right, left, "left")):
            names = [self.classes[c].name.lower() for c in sorted(perpetrator)]
            if any("inhibitor" in n and "cyp" in n for n in names):
                return self._level_words(victim, side, True, "class")
            if any("inducer" in n for n in names):
                return self._level_words(victim, side, False, "class")
        return None

    # 2. by the source's words ---------------------------------------------------------------------------
    def _by_keywords(
        self, text: str, rule: Rule, left: frozenset[str], right: frozenset[str]
    ) -> Words | None:
        category = category_of(text) if text else None
        if category is None:
            return None
        if category.key in _LEVEL_CATEGORIES:
            side = self._object_named(text, rule, left, right)
            if side is not None:
                victim = left if side == "left" else right
                return self._level_words(victim, side, category.key == "raised-level", "keywords")
        return _words(category, "keywords")

    def _object_named(self, text: str, rule: Rule, left: frozenset[str], right: frozenset[str]) -> str | None:
        """Which side's level changes, when the description names exactly one side's drug or class."""
        lowered = text.lower()
        named = [
            side
            for side, node, members in (("left", rule.left, left), ("right", rule.right, right))
            if self._named_in(lowered, node, members)
        ]
        return named[0] if len(named) == 1 else None

    def _named_in(self, text: str, node: str, members: frozenset[str]) -> bool:
        if node.startswith("in:"):
            return any(self.lookup.name_of(x).split(" ")[0] in text for x in members)
        drug_class = self.classes.get(node.removeprefix("class:"))
        if drug_class is None:
            return False
        name = drug_class.name.lower()
        return "inhibitor" not in name and "inducer" not in name and name.rstrip("s") in text

    # helpers --------------------------------------------------------------------------------------------
    def _level_words(self, victim: frozenset[str], side: str, raised: bool, how: str) -> Words:
        """ "{perpetrator} raises {victim} levels: risk of ..." with the victim's own consequence if known."""
        other = "right" if side == "left" else "left"
        name = self.lookup.name_of(next(iter(victim))) if len(victim) == 1 else ""
        what = pk.CONSEQUENCES.get(name, pk.DEFAULT_CONSEQUENCE)
        if raised:
            summary = f"{{{other}}} raises {{{side}}} levels: risk of {what.raised}"
            mechanism = f"{{{other}}} slows the clearance of {{{side}}}: higher levels, more side effects."
            watch = (what.check_raised,)
        else:
            summary = f"{{{other}}} lowers {{{side}}} levels: risk of {what.lowered}"
            mechanism = f"{{{other}}} speeds the clearance of {{{side}}}: lower levels, less effect."
            watch = (what.check_lowered,)
        return Words(summary, mechanism, watch, how)

    def _members(self, node: str) -> frozenset[str]:
        if node.startswith("in:"):
            return frozenset({node[3:]})
        drug_class = self.classes.get(node.removeprefix("class:"))
        return drug_class.members if drug_class is not None else frozenset()


def _words(category: Category, how: str) -> Words:
    return Words(category.summary, category.mechanism, category.watch, how)


def _common(table: Mapping[str, set[str]], members: frozenset[str]) -> set[str]:
    """What every member shares in ``table`` (e.g. the enzymes every member inhibits)."""
    found: set[str] | None = None
    for member in members:
        values = table.get(member, set())
        found = set(values) if found is None else found & values
        if not found:
            return set()
    return found or set()


def _swap(template: str) -> str:
    return template.replace("{left}", "\0").replace("{right}", "{left}").replace("\0", "{right}")
