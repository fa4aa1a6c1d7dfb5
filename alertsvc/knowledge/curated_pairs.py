"""Specific pairs from US labelling that no class rule catches (filled in by the labelled-pairs work)."""

from __future__ import annotations

from dataclasses import dataclass

from alertsvc.knowledge.model import Severity


@dataclass(frozen=True)
class LabelledPair:
    id: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    severity: Severity
    summary: str
    mechanism: str
    management: tuple[str, ...]
    source: str


LABELLED_PAIRS: tuple[LabelledPair, ...] = ()
