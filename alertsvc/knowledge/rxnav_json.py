"""RxNav's JSON answers, read into frozen dataclasses.

Shapes as documented at https://lhncbc.nlm.nih.gov/RxNav/APIs/ (RxNorm and RxClass APIs): "fields that
would be empty might be null or left out", so None and absence both read as empty; anything else that is
not the documented shape raises ``TerminologyUnavailable`` naming the endpoint and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alertsvc.errors import TerminologyUnavailable

RXCUI_PATTERN = re.compile(r"^\d{1,10}$")
_RXCUI = RXCUI_PATTERN


@dataclass(frozen=True)
class Concept:
    """An RxNorm concept as RxNav lists it: RxCUI, name as RxNorm writes it, term type (IN, PIN, SCD, ...)."""

    rxcui: str
    name: str
    tty: str


@dataclass(frozen=True)
class Candidate:
    """An approximate match; rank 1 is best. ``name`` is absent from answers of restricted sources."""

    rxcui: str
    rank: int
    score: float
    name: str = ""


@dataclass(frozen=True)
class ClassMembership:
    """A class directly containing a drug (RxClass getClassByRxNormDrugId)."""

    drug: Concept
    class_id: str
    class_name: str
    class_type: str
    rela_source: str
    rela: str = ""


@dataclass(frozen=True)
class ClassMember:
    """A drug member of a class (RxClass getClassMembers); ``relation`` is DIRECT or INDIRECT."""

    drug: Concept
    source_id: str = ""
    relation: str = ""


def _shape(what: str, detail: str) -> TerminologyUnavailable:
    return TerminologyUnavailable(f"RxNav answered {what} in an unexpected shape ({detail})")


def _obj(value: Any, what: str, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _shape(what, f"{key} is a {type(value).__name__}, not an object")
    return value


def _items(value: Any, what: str, key: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _shape(what, f"{key} is not a list of objects")
    return value


def _text(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _shape(what, f"{key} is a {type(value).__name__}")
    return str(value)


def _concept(obj: Mapping[str, Any], what: str) -> Concept:
    concept = Concept(_text(obj, "rxcui", what), _text(obj, "name", what), _text(obj, "tty", what))
    if not _RXCUI.match(concept.rxcui):
        raise _shape(what, f"rxcui {concept.rxcui!r} is not digits")
    return concept


def parse_id_group(data: Any, what: str) -> tuple[str, ...]:
    """RxCUIs of an ``idGroup`` answer (findRxcuiByString, findRxcuiById)."""
    top = _obj(data, what, "the answer")
    if "idGroup" not in top:
        raise _shape(what, "no idGroup")
    ids = _obj(top["idGroup"], what, "idGroup").get("rxnormId")
    if ids is None:
        return ()
    if not isinstance(ids, list) or not all(isinstance(i, str) and _RXCUI.match(i) for i in ids):
        raise _shape(what, "rxnormId is not a list of RxCUIs")
    return tuple(ids)


def parse_approximate(data: Any) -> tuple[Candidate, ...]:
    """Candidates of an ``approximateGroup`` answer, best rank first (stable within a rank)."""
    what = "approximateTerm.json"
    group = _obj(_obj(data, what, "the answer").get("approximateGroup"), what, "approximateGroup")
    candidates = []
    for item in _items(group.get("candidate"), what, "candidate"):
        try:
            rank, score = int(_text(item, "rank", what) or 0), float(_text(item, "score", what) or 0)
        except ValueError as exc:
            raise _shape(what, f"rank or score is not a number ({exc})") from exc
        concept = _concept(item, what)
        candidates.append(Candidate(concept.rxcui, rank, score, concept.name))
    return tuple(sorted(candidates, key=lambda c: c.rank))


def parse_concept_groups(data: Any, group_key: str, what: str) -> tuple[Concept, ...]:
    """Concepts of a ``relatedGroup`` or ``allRelatedGroup`` answer, in RxNav's order, without repeats."""
    group = _obj(_obj(data, what, "the answer").get(group_key), what, group_key)
    seen: dict[tuple[str, str], Concept] = {}
    for concept_group in _items(group.get("conceptGroup"), what, "conceptGroup"):
        for item in _items(concept_group.get("conceptProperties"), what, "conceptProperties"):
            concept = _concept(item, what)
            seen.setdefault((concept.rxcui, concept.tty), concept)
    return tuple(seen.values())


def parse_properties(data: Any, what: str) -> Concept | None:
    """The concept of a ``properties`` answer; None when RxNav has no such active concept."""
    properties = _obj(_obj(data, what, "the answer").get("properties"), what, "properties")
    return _concept(properties, what) if properties else None


def parse_classes(data: Any) -> tuple[ClassMembership, ...]:
    """Classes of an ``rxclassDrugInfoList`` answer (``{}`` when the drug is in no class)."""
    what = "rxclass/class/byRxcui.json"
    info = _obj(_obj(data, what, "the answer").get("rxclassDrugInfoList"), what, "rxclassDrugInfoList")
    found = []
    for item in _items(info.get("rxclassDrugInfo"), what, "rxclassDrugInfo"):
        drug = _concept(_obj(item.get("minConcept"), what, "minConcept"), what)
        cls = _obj(item.get("rxclassMinConceptItem"), what, "rxclassMinConceptItem")
        found.append(
            ClassMembership(
                drug,
                _text(cls, "classId", what),
                _text(cls, "className", what),
                _text(cls, "classType", what),
                _text(item, "relaSource", what),
                _text(item, "rela", what),
            )
        )
    return tuple(dict.fromkeys(found))


def parse_class_members(data: Any) -> tuple[ClassMember, ...]:
    """Members of a ``drugMemberGroup`` answer (``{}`` when the class has none)."""
    what = "rxclass/classMembers.json"
    group = _obj(_obj(data, what, "the answer").get("drugMemberGroup"), what, "drugMemberGroup")
    members = []
    for item in _items(group.get("drugMember"), what, "drugMember"):
        drug = _concept(_obj(item.get("minConcept"), what, "minConcept"), what)
        attrs = {
            _text(a, "attrName", what): _text(a, "attrValue", what)
            for a in _items(item.get("nodeAttr"), what, "nodeAttr")
        }
        members.append(ClassMember(drug, attrs.get("SourceId", ""), attrs.get("Relation", "")))
    return tuple(members)
