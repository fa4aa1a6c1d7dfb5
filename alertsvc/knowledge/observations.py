"""Observations as modifiers of the check: the latest INR, potassium, creatinine, eGFR and QTc, each with
its date, change what the check found. Pure: ``now`` comes in; no clock, file or network.

``modify(findings, medications, values, graph, now=...)`` returns the findings changed and added:

- an interaction that raises bleeding risk, with an INR above 3.0 -> critical (at or below: unchanged);
- a combination that raises potassium (two hyperkalaemia-class drugs), potassium above 5.0 -> critical;
- an interaction of QT-prolonging drugs, QTc above 500 ms -> critical; a QT-prolonging drug (the ONC QT
  class) with no such interaction gets a finding of its own, kind ``long-qt``, critical;
- a renally cleared drug whose US label limits it below an eGFR (or creatinine) threshold -> a finding
  of its own, kind ``renal-dose`` (``observation_rules.RENAL_LIMITS``).

Each changed or new finding shows the value, unit and date ("INR 4.2 on 03 Dec"), names the modifier
rule and its source, and keeps the rule it changed among its ``ratings``. A value older than its useful
life (``observation_rules.USEFUL_LIFE``) is stale: it is shown in the findings it would have changed,
and not used; where it alone would have made a ``renal-dose`` or ``long-qt`` finding, a minor finding of
that kind says the latest value is too old to use (rule ``<rule>:stale``). The thresholds and sources
are in ``alertsvc.knowledge.observation_rules``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alertsvc.knowledge.findings import ingredient
from alertsvc.knowledge.graph import InteractionGraph
from alertsvc.knowledge.model import (
    LOCAL_ROUTES,
    Finding,
    FindingKind,
    Medication,
    Rating,
    Severity,
)
from alertsvc.knowledge.observation_rules import (
    CREATININE_UMOL_PER_MG_DL,
    INR_ABOVE_RANGE,
    POTASSIUM_ABOVE_5,
    POTASSIUM_RAISING_CLASSES,
    QT_CLASS,
    QTC_ABOVE_500,
    RENAL_LIMITS,
    USEFUL_LIFE,
    VITAMIN_K_ANTAGONISTS,
    Analyte,
    Modifier,
    RenalLimit,
)
from alertsvc.knowledge.wording import MAX_SUMMARY, sentence, steps

_STEP_SPLIT = re.compile(r"(?:^|\s)\d+\.\s")
_QT_WORDS = re.compile(r"\bqtc?\b|torsade")  # searched in lower-case text
_BLEEDING_WORDS = ("bleed", "haemorrhag", "hemorrhag")
_INR_WORD = re.compile(r"\binr\b")
_SUPERSEDED = ("Tell the prescriber", "Give ", "Hold the dose", "Do not give this dose")
"""Steps of the finding's own management that a critical modifier's first steps replace."""


@dataclass(frozen=True)
class LabValue:
    """One measured value: ``unit`` as a ward reads it (``""`` for the INR, a ratio)."""

    analyte: Analyte
    value: float
    unit: str
    measured: datetime
    code: str = ""  # the LOINC code
    ref: str = ""  # where it came from: "entry:<id>" (the ledger) or "observation:<id>" (the ward)
    name: str = ""  # "INR", "potassium", "eGFR" ... (default: from the analyte)

    @property
    def text(self) -> str:
        """ "INR 4.2", "eGFR 25 mL/min/1.73m2"."""
        name = self.name or _NAMES[self.analyte]
        return f"{name} {self.value:g}" + (f" {self.unit}" if self.unit else "")

    def label(self, now: datetime) -> str:
        """ "INR 4.2 on 03 Dec" (with the year when it is not ``now``'s)."""
        day = self.measured.strftime("%d %b" if self.measured.year == now.year else "%d %b %Y")
        return f"{self.text} on {day}"

    def comparable(self) -> float:
        """The value in the unit the rules use (creatinine in mg/dL)."""
        if self.analyte == "creatinine" and self.unit.replace("µ", "u").lower() == "umol/l":
            return self.value / CREATININE_UMOL_PER_MG_DL
        return self.value


_NAMES: Mapping[str, str] = {
    "inr": "INR",
    "potassium": "potassium",
    "creatinine": "creatinine",
    "egfr": "eGFR",
    "qtc": "QTc",
}


@dataclass(frozen=True)
class Latest:
    """The latest value per analyte at ``now``: those still usable, and those too old to use."""

    current: Mapping[str, LabValue]
    stale: Mapping[str, LabValue]


def latest(values: Iterable[LabValue], *, now: datetime) -> Latest:
    """The most recently measured value of each analyte (ties: the later ref), sorted into current and
    stale by its useful life. A value dated after ``now`` counts as measured now."""
    newest: dict[str, LabValue] = {}
    for value in values:
        known = newest.get(value.analyte)
        if known is None or (value.measured, value.ref) > (known.measured, known.ref):
            newest[value.analyte] = value
    current = {a: v for a, v in newest.items() if now - v.measured <= USEFUL_LIFE[a]}
    stale = {a: v for a, v in newest.items() if a not in current}
    return Latest(current, stale)


def modify(
    findings: Sequence[Finding],
    medications: Sequence[Medication],
    values: Iterable[LabValue],
    graph: InteractionGraph,
    *,
    now: datetime,
) -> list[Finding]:
    """The findings with the observation modifiers applied (see the module docstring), new ones last."""
    found = latest(values, now=now)
    if not found.current and not found.stale:
        return list(findings)
    potassium_raising = _members(graph, POTASSIUM_RAISING_CLASSES)
    qt_drugs = _members(graph, (QT_CLASS,))
    changed: list[Finding] = []
    qt_escalated: set[str] = set()
    for finding in findings:
        if finding.kind == "interaction":
            rxcuis = {i.rxcui for i in finding.ingredients}
            words = f"{finding.summary} {finding.mechanism}".lower()
            if _raises_bleeding(finding, rxcuis, words):
                finding = _modified(finding, INR_ABOVE_RANGE, found, now)
            if _raises_potassium(finding, rxcuis, potassium_raising, words):
                finding = _modified(finding, POTASSIUM_ABOVE_5, found, now)
            if _prolongs_qt(finding, words):
                finding = _modified(finding, QTC_ABOVE_500, found, now)
                if finding.rule == QTC_ABOVE_500.id:
                    qt_escalated |= rxcuis
        changed.append(finding)
    systemic = [m for m in medications if m.active and m.route not in LOCAL_ROUTES]
    changed += _long_qt(systemic, qt_drugs - qt_escalated, found, graph, now)
    changed += _renal(systemic, found, graph, now)
    return changed


# --- which findings a modifier applies to -------------------------------------------------------------


def _members(graph: InteractionGraph, class_ids: Iterable[str]) -> frozenset[str]:
    return frozenset(m for c in class_ids if (k := graph.classes.get(c)) is not None for m in k.members)


def _raises_bleeding(finding: Finding, rxcuis: set[str], words: str) -> bool:
    """A bleeding rule (the bleeding classes of ``curated_effects``), or words of bleeding (``words``: the
    summary and mechanism in lower case); a warfarin interaction about the INR counts, one that lowers
    warfarin's effect ("risk of clots") does not."""
    if finding.rule.startswith(("bleeding-", "effect-bleeding-")):
        return True
    if any(word in words for word in _BLEEDING_WORDS):
        return True
    if "clot" in words:
        return False
    return bool(rxcuis & VITAMIN_K_ANTAGONISTS) and (
        "raises warfarin" in words or ("inr" in words and bool(_INR_WORD.search(words)))
    )


def _raises_potassium(finding: Finding, rxcuis: set[str], raising: frozenset[str], words: str) -> bool:
    """Two drugs of the hyperkalaemia classes, a potassium rule, or words of hyperkalaemia."""
    return (
        finding.rule.startswith(("potassium-", "effect-potassium-"))
        or len(rxcuis & raising) >= 2
        or "hyperkal" in words
    )


def _prolongs_qt(finding: Finding, words: str) -> bool:
    return f"class:{QT_CLASS}" in finding.evidence or (
        ("qt" in words or "torsade" in words) and bool(_QT_WORDS.search(words))
    )


# --- changing a finding -------------------------------------------------------------------------------


def _modified(finding: Finding, modifier: Modifier, found: Latest, now: datetime) -> Finding:
    """``finding`` raised to critical when the current value is above the modifier's threshold; with the
    value noted when it is not; with a stale value shown as stale."""
    value = found.current.get(modifier.analyte)
    if value is None:
        old = found.stale.get(modifier.analyte)
        if old is None:
            return finding
        note = (
            f"{old.label(now)} is older than its useful life ({_days(USEFUL_LIFE[old.analyte])}): not used; "
            f"a current {_NAMES[old.analyte]} is needed to judge this combination."
        )
        return dataclasses.replace(finding, mechanism=f"{finding.mechanism} {note}")
    if value.comparable() <= modifier.above:
        note = f"{value.label(now)}: not above {modifier.limit}, severity unchanged."
        return dataclasses.replace(finding, mechanism=f"{finding.mechanism} {note}")
    label = value.label(now)
    ratings = finding.ratings or (
        Rating(finding.sources[0] if finding.sources else "", finding.rule, finding.severity),
    )
    return dataclasses.replace(
        finding,
        severity="critical",
        summary=_summary(finding.summary, label),
        mechanism=f"{finding.mechanism} {label} is {modifier.why} (modifier {modifier.id}; "
        f"source: {modifier.source}).",
        management=steps(
            (
                f"Do not give this dose until the prescriber has seen the {label}.",
                "Tell the prescriber now.",
                *modifier.steps,
                *(s for s in _step_items(finding.management) if not s.startswith(_SUPERSEDED)),
            )
        ),
        rule=modifier.id,
        sources=(modifier.source, *(s for s in finding.sources if s != modifier.source)),
        evidence=(*finding.evidence, f"loinc:{value.code}" if value.code else f"obs:{value.analyte}"),
        refs=tuple(sorted({*finding.refs, value.ref} - {""})),
        ratings=(
            *ratings,
            Rating(modifier.source, modifier.id, "critical", f"{label}, above {modifier.limit}"),
        ),
    )


def _summary(summary: str, label: str) -> str:
    """The finding's sentence with the value named, as critical, under 140 characters."""
    base = re.sub(r"\s*\((critical|major|moderate|minor)\)\.$", "", summary)
    head = base.partition(": ")[0]
    for form in (f"{base}, with {label}", f"{head}: with {label}", f"{head} with {label}"):
        if len(form) + len(" (critical).") <= MAX_SUMMARY:
            return form + " (critical)."
    return sentence(f"{head} with {label}", "critical")


def _step_items(management: str) -> list[str]:
    return [item.strip() for item in _STEP_SPLIT.split(management) if item.strip()]


def _days(span: timedelta) -> str:
    return f"{span.days} days"


# --- findings of their own ----------------------------------------------------------------------------


def _long_qt(
    medications: Sequence[Medication],
    qt_drugs: frozenset[str],
    found: Latest,
    graph: InteractionGraph,
    now: datetime,
) -> list[Finding]:
    """A critical finding for each QT-prolonging drug given while the current QTc is above 500 ms (a minor
    one saying so when the latest QTc above 500 ms is stale)."""
    value = found.current.get("qtc")
    old = found.stale.get("qtc")
    if value is None and old is not None and old.comparable() > QTC_ABOVE_500.above:
        return [
            _stale(
                "long-qt", med, rxcui, old, graph, now, what="QT-prolonging drug",
                above=QTC_ABOVE_500.limit, rule=QTC_ABOVE_500.id, source=QTC_ABOVE_500.source,
            )
            for rxcui, med in _given(medications, qt_drugs).items()
        ]  # fmt: skip
    if value is None or value.comparable() <= QTC_ABOVE_500.above:
        return []
    label = value.label(now)
    out: dict[str, Finding] = {}
    for med in medications:
        for item in med.ingredients:
            if item.rxcui not in qt_drugs:
                continue
            known = out.get(item.rxcui)
            if known is not None:
                out[item.rxcui] = dataclasses.replace(
                    known, refs=tuple(sorted({*known.refs, med.ref} - {""}))
                )
                continue
            name = graph.name(item.rxcui)
            out[item.rxcui] = Finding(
                kind="long-qt",
                severity="critical",
                ingredients=(ingredient(item.rxcui, graph.ingredients, item.name),),
                summary=sentence(f"{name}, a QT-prolonging drug, with {label}", "critical"),
                mechanism=f"{name.capitalize()} prolongs the QT interval; {label} is {QTC_ABOVE_500.why} "
                f"(modifier {QTC_ABOVE_500.id}; source: {QTC_ABOVE_500.source}).",
                management=steps(
                    (
                        f"Do not give this dose until the prescriber has seen the {label}.",
                        "Tell the prescriber now.",
                        *QTC_ABOVE_500.steps,
                    )
                ),
                rule=QTC_ABOVE_500.id,
                sources=(QTC_ABOVE_500.source,),
                evidence=(f"in:{item.rxcui}", f"class:{QT_CLASS}", f"loinc:{value.code}"),
                knowledge_version=graph.version,
                refs=tuple(sorted({med.ref, value.ref} - {""})),
            )
    return list(out.values())


def _renal(
    medications: Sequence[Medication], found: Latest, graph: InteractionGraph, now: datetime
) -> list[Finding]:
    """A ``renal-dose`` finding for each drug whose label limits it at the current kidney function; a
    minor one when only a stale value is under the limit (shown, not used: a current value is needed)."""
    out: dict[str, Finding] = {}
    given = {item.rxcui: med for med in medications for item in med.ingredients}
    for limit in RENAL_LIMITS:
        med = given.get(limit.rxcui)
        if med is None or limit.rxcui in out:
            continue
        value, old = found.current.get(limit.analyte), found.stale.get(limit.analyte)
        if value is not None and limit.applies(value.comparable()):
            out[limit.rxcui] = _renal_finding(limit, med, value, graph, now)
        elif value is None and old is not None and limit.applies(old.comparable()):
            out[limit.rxcui] = _stale(
                "renal-dose", med, limit.rxcui, old, graph, now, what=f"drug whose label says: {limit.says}",
                above="", rule=limit.id, source=limit.source,
            )  # fmt: skip
    return list(out.values())


def _given(medications: Sequence[Medication], rxcuis: frozenset[str]) -> dict[str, Medication]:
    """Each of ``rxcuis`` the patient is given, with the first medication that contains it."""
    found: dict[str, Medication] = {}
    for med in medications:
        for item in med.ingredients:
            if item.rxcui in rxcuis:
                found.setdefault(item.rxcui, med)
    return found


def _stale(
    kind: FindingKind,
    med: Medication,
    rxcui: str,
    old: LabValue,
    graph: InteractionGraph,
    now: datetime,
    *,
    what: str,
    above: str,
    rule: str,
    source: str,
) -> Finding:
    """A minor finding: the latest value would matter for this drug, and it is too old to be used."""
    label, name = old.label(now), graph.name(rxcui)
    life = _days(USEFUL_LIFE[old.analyte])
    return Finding(
        kind=kind,
        severity="minor",
        ingredients=(ingredient(rxcui, graph.ingredients, name),),
        summary=sentence(f"{name}: the latest {_NAMES[old.analyte]} ({label}) is too old to use", "minor"),
        mechanism=f"{name.capitalize()} is a {what}. The latest {_NAMES[old.analyte]}, {label}"
        + (f" (above {above})" if above else "")
        + f", is older than its useful life ({life}): it is shown, not used (rule {rule}; source: {source}).",
        management=steps(
            (
                f"Ask for a current {_NAMES[old.analyte]}.",
                "Check the dose with the prescriber once it is back.",
            )
        ),
        rule=f"{rule}:stale",
        sources=(source,),
        evidence=(f"in:{rxcui}", f"loinc:{old.code}" if old.code else f"obs:{old.analyte}"),
        knowledge_version=graph.version,
        refs=tuple(sorted({med.ref, old.ref} - {""})),
    )


def _renal_finding(
    limit: RenalLimit, med: Medication, value: LabValue, graph: InteractionGraph, now: datetime
) -> Finding:
    label = value.label(now)
    name = graph.name(limit.rxcui)
    stands_in = (
        " The label's threshold is a creatinine clearance (Cockcroft-Gault); the eGFR stands in for it: "
        "near the threshold, ask for a CrCl."
        if limit.crcl and limit.analyte == "egfr"
        else ""
    )
    severity: Severity = limit.severity
    return Finding(
        kind="renal-dose",
        severity=severity,
        ingredients=(ingredient(limit.rxcui, graph.ingredients, limit.drug),),
        summary=sentence(f"{name} with {label}: {limit.says}", severity),
        mechanism=f"{name.capitalize()} is cleared by the kidneys; with {label} its label says: "
        f"{limit.says}.{stands_in} (rule {limit.id}; source: {limit.source}).",
        management=steps(limit.steps),
        rule=limit.id,
        sources=(limit.source,),
        evidence=(f"in:{limit.rxcui}", f"loinc:{value.code}" if value.code else f"obs:{value.analyte}"),
        knowledge_version=graph.version,
        refs=tuple(sorted({med.ref, value.ref} - {""})),
    )
