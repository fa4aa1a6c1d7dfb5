"""Mechanism-based rules: the FDA enzyme and transporter table (``curated_mechanisms``) and the
pharmacodynamic classes (``curated_effects``), as classes and rules with alertsvc's own words.

Pharmacokinetic rules are made per substrate, so each can say what a raised or lowered level of that drug
does and what to check (``curated_mechanisms.CONSEQUENCES``). The :class:`Roles` index (which ingredients
inhibit, induce or depend on which enzyme; which effect classes each belongs to) is kept for the wording of
other sources' rules (``rules_text``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from alertsvc.knowledge import curated_effect_rules as effect_table
from alertsvc.knowledge import curated_effects as effects
from alertsvc.knowledge import curated_mechanisms as pk
from alertsvc.knowledge.curated_texts import management
from alertsvc.knowledge.model import DrugClass, Rule, Severity, Source
from alertsvc.knowledge.rules_common import NameLookup, Part, slug
from alertsvc.knowledge.wording import steps

SOURCES: dict[str, Source] = {
    "fda-ddi": Source(
        key="fda-ddi",
        title="FDA: Examples of Drugs that Interact with CYP Enzymes and Transporter Systems",
        version="Table 1 as published by FDA (inhibitors, inducers, sensitive substrates)",
        licence="US Government work, public domain",
        attribution="U.S. Food and Drug Administration, Drug Development and Drug Interactions.",
        url="https://www.fda.gov/drugs/drug-interactions-labeling/healthcare-professionals-fdas-examples-"
        "drugs-interact-cyp-enzymes-and-transporter-systems",
    ),
    "us-labelling": Source(
        key="us-labelling",
        title="US prescribing information (DailyMed) and FDA Drug Safety Communications",
        version="as cited per class and rule in data/SOURCES.md",
        licence="US Government works (FDA communications); labelling facts",
        attribution="U.S. Food and Drug Administration; DailyMed, U.S. National Library of Medicine.",
        url="https://dailymed.nlm.nih.gov/",
    ),
    "acb-beers": Source(
        key="acb-beers",
        title="Anticholinergic Cognitive Burden scale; AGS Beers Criteria",
        version="Boustani et al. 2008; Beers Criteria 2023",
        licence="published facts (drug lists), restated",
        attribution="Boustani M et al., Aging Health 2008;4:311-20; American Geriatrics Society 2023 "
        "Updated AGS Beers Criteria.",
    ),
    "lapi-bmj-2013": Source(
        key="lapi-bmj-2013",
        title="Concurrent use of diuretics, ACE inhibitors/ARBs and NSAIDs and acute kidney injury",
        version="Lapi F et al., BMJ 2013;346:e8525",
        licence="published facts, restated",
        attribution="Lapi F, Azoulay L, Yin H, Nessim SJ, Suissa S. BMJ 2013;346:e8525.",
    ),
}


@dataclass
class Roles:
    """What the curated tables say each ingredient (RxCUI) does, for wording other sources' rules."""

    inhibits: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # rxcui -> enzymes
    induces: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    substrate_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    effect_classes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # rxcui -> keys
    names: dict[str, str] = field(default_factory=dict)  # rxcui -> curated name


@dataclass
class MechanismResult:
    part: Part
    roles: Roles
    effect_rules: tuple[effect_table.EffectRule, ...]


def build(lookup: NameLookup) -> MechanismResult:
    """Classes and rules from the curated enzyme, transporter and effect tables."""
    part = Part(sources=dict(SOURCES))
    roles = Roles()
    _pharmacokinetic(part, roles, lookup)
    _pharmacodynamic(part, roles, lookup)
    return MechanismResult(part, roles, effect_table.RULES)


def _pharmacokinetic(part: Part, roles: Roles, lookup: NameLookup) -> None:
    made = 0
    for (enzyme, strength), names in pk.INHIBITORS.items():
        members = lookup.members(names, "fda-ddi")
        for rxcui in members:
            roles.inhibits[rxcui].add(enzyme)
        node = _class(part, f"fda:{slug(enzyme)}-inhibitors-{strength}", f"{strength} {enzyme} inhibitors",
                      members)  # fmt: skip
        for substrate, kind in _substrates(enzyme):
            severity = _inhibitor_severity(strength, kind)
            if severity is not None and node:
                made += _rule(
                    part, roles, lookup, node, substrate, enzyme, strength, kind, severity, raised=True
                )
        for prodrug in pk.PRODRUGS.get(enzyme, ()):
            severity = "major" if strength == "strong" else "moderate"
            if node:
                made += _prodrug_rule(part, lookup, node, prodrug, enzyme, strength, severity)
    for (enzyme, strength), names in pk.INDUCERS.items():
        members = lookup.members(names, "fda-ddi")
        for rxcui in members:
            roles.induces[rxcui].add(enzyme)
        node = _class(part, f"fda:{slug(enzyme)}-inducers-{strength}", f"{strength} {enzyme} inducers",
                      members)  # fmt: skip
        for substrate, kind in _substrates(enzyme):
            severity = _inducer_severity(strength, kind)
            if severity is not None and node:
                made += _rule(
                    part, roles, lookup, node, substrate, enzyme, strength, kind, severity, raised=False
                )
    part.notes.append(
        f"FDA enzyme and transporter table: {made} rules (inhibitor or inducer class x substrate) from "
        f"{sum(map(len, pk.INHIBITORS.values()))} inhibitor, {sum(map(len, pk.INDUCERS.values()))} inducer "
        "and substrate listings (curated_mechanisms; strong inhibitor + sensitive or narrow-range substrate "
        "major, moderate inhibitor + narrow-range major, + sensitive moderate; inducer + narrow-range major; "
        "inhibitor of a prodrug's activating enzyme major (strong) or moderate)."
    )


def _substrates(enzyme: pk.Enzyme) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for kind, table in (
        ("narrow-range", pk.NARROW),
        ("sensitive", pk.SENSITIVE),
        ("moderately sensitive", pk.MODERATELY_SENSITIVE),
    ):
        for name in table.get(enzyme, ()):
            found.setdefault(name, kind)
    return sorted(found.items())


def _inhibitor_severity(strength: str, kind: str) -> Severity | None:
    if kind == "narrow-range" or (strength == "strong" and kind == "sensitive"):
        return "major"
    if kind == "sensitive" or strength == "strong":
        return "moderate"
    return None


def _inducer_severity(strength: str, kind: str) -> Severity | None:
    if kind == "narrow-range":
        return "major"
    if strength == "strong" and kind == "sensitive":
        return "moderate"
    return None


def _class(part: Part, class_id: str, name: str, members: frozenset[str]) -> str:
    if not members:
        return ""
    return part.add_class(DrugClass(class_id, f"{name} (FDA table)", "interaction", "fda-ddi", members))


def _rule(
    part: Part,
    roles: Roles,
    lookup: NameLookup,
    node: str,
    substrate: str,
    enzyme: str,
    strength: str,
    kind: str,
    severity: Severity,
    *,
    raised: bool,
) -> int:
    rxcui = lookup.rxcui(substrate, "fda-ddi")
    if rxcui is None:
        return 0
    roles.substrate_of[rxcui].add(enzyme)
    roles.names.setdefault(rxcui, substrate)
    what = pk.CONSEQUENCES.get(substrate, pk.DEFAULT_CONSEQUENCE)
    verb, role = ("inhibitor", "raises") if raised else ("inducer", "lowers")
    risk, check = (what.raised, what.check_raised) if raised else (what.lowered, what.check_lowered)
    action = "slows" if raised else "speeds"
    part.rules.append(
        Rule(
            id=f"fda-{slug(enzyme)}-{verb}-{strength}-{slug(substrate)}",
            kind="interaction",
            left=node,
            right=f"in:{rxcui}",
            severity=severity,
            mechanism=f"{{left}} is a {strength} {enzyme} {verb}; {enzyme} clears {{right}} ({kind} "
            f"substrate), so {{left}} {action} its clearance and {role} its levels.",
            management=steps(management(severity, (check,))),
            sources=("fda-ddi",),
            rating=f"{strength} {enzyme} {verb} + {kind} substrate (FDA table)",
            summary=f"{{left}} {role} {{right}} levels: risk of {risk}",
            wording="mechanism",
        )
    )
    return 1


def _prodrug_rule(
    part: Part, lookup: NameLookup, node: str, prodrug: str, enzyme: str, strength: str, severity: Severity
) -> int:
    rxcui = lookup.rxcui(prodrug, "fda-ddi")
    if rxcui is None:
        return 0
    what = pk.CONSEQUENCES.get(prodrug, pk.DEFAULT_CONSEQUENCE)
    part.rules.append(
        Rule(
            id=f"fda-{slug(enzyme)}-prodrug-{strength}-{slug(prodrug)}",
            kind="interaction",
            left=node,
            right=f"in:{rxcui}",
            severity=severity,
            mechanism=f"{{right}} works only once {enzyme} turns it into its active form; {{left}} "
            f"({strength} {enzyme} inhibitor) blocks that step.",
            management=steps(management(severity, (what.check_lowered,))),
            sources=("fda-ddi",),
            rating=f"{strength} {enzyme} inhibitor + prodrug activated by {enzyme} (FDA table, US labelling)",
            summary=f"{{left}} blocks the activation of {{right}}: risk of {what.lowered}",
            wording="mechanism",
        )
    )
    return 1


def _pharmacodynamic(part: Part, roles: Roles, lookup: NameLookup) -> None:
    nodes: dict[str, str] = {}
    for effect in effects.CLASSES:
        members = lookup.members(effect.members, "effects")
        for rxcui in members:
            roles.effect_classes[rxcui].add(effect.key)
        key = _effect_source(effect.key)
        nodes[effect.key] = part.add_class(
            DrugClass(f"effect:{effect.key}", effect.name, "interaction", key, members)
        )
        part.notes.append(f"Effect class {effect.name} ({len(members)} ingredients): {effect.source}.")
    for rule in effect_table.RULES:
        sources = tuple(dict.fromkeys(_effect_source(k) for k in (rule.left, rule.right, rule.also) if k))
        part.rules.append(
            Rule(
                id=f"effect-{rule.id}",
                kind="interaction",
                left=nodes[rule.left],
                right=nodes[rule.right],
                severity=rule.severity,
                mechanism=rule.mechanism,
                management=steps(management(rule.severity, rule.watch)),
                sources=sources,
                rating=rule.rating,
                summary=rule.summary,
                wording="mechanism",
                also=nodes[rule.also] if rule.also else "",
            )
        )
    part.notes.append(f"Pharmacodynamic rules: {len(effect_table.RULES)} (curated_effect_rules).")


def _effect_source(key: str) -> str:
    if key == "strong-anticholinergics":
        return "acb-beers"
    if key == "diuretics":
        return "lapi-bmj-2013"
    return "us-labelling"
