"""The shape of a curated labelled pair, and the ingredient groups and steps several pairs share."""

from __future__ import annotations

from dataclasses import dataclass

from alertsvc.knowledge.model import Severity


@dataclass(frozen=True)
class LabelledPair:
    """A labelled interaction between every ingredient of ``left`` and every ingredient of ``right``.

    ``summary`` is one sentence without the severity and without a final full stop, with ``{left}`` and
    ``{right}`` standing for the ingredient names; ``management`` lists 2-4 steps in the order a nurse
    follows them; ``source`` names the label section (or safety communication) the fact restates.
    """

    id: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    severity: Severity
    summary: str
    mechanism: str
    management: tuple[str, ...]
    source: str


# Ingredient groups used by several pairs (RxNorm ingredient names).
PDE5 = ("sildenafil", "tadalafil", "vardenafil")
NITRATES = ("nitroglycerin", "isosorbide", "isosorbide dinitrate")
"""RxNorm's ingredient for isosorbide mononitrate is "isosorbide"."""
ACE_INHIBITORS = (
    "lisinopril",
    "enalapril",
    "ramipril",
    "captopril",
    "benazepril",
    "perindopril",
    "quinapril",
    "fosinopril",
)
ARBS = ("losartan", "valsartan", "candesartan", "irbesartan", "olmesartan", "telmisartan")
NSAIDS = ("ibuprofen", "naproxen", "diclofenac", "indomethacin", "celecoxib", "meloxicam", "ketorolac")
THIAZIDES = ("hydrochlorothiazide", "chlorthalidone", "indapamide", "metolazone")
SSRI_SNRI = (
    "sertraline",
    "fluoxetine",
    "paroxetine",
    "citalopram",
    "escitalopram",
    "fluvoxamine",
    "venlafaxine",
    "desvenlafaxine",
    "duloxetine",
    "clomipramine",
)
MAOI_PSYCHIATRIC = ("phenelzine", "tranylcypromine", "isocarboxazid")
STRONG_CYP2D6 = ("paroxetine", "fluoxetine", "bupropion", "quinidine")
"""Strong CYP2D6 inhibitors (FDA table of inhibitors)."""
STRONG_CYP3A_INDUCERS = ("rifampin", "carbamazepine", "phenytoin", "st. john's wort")
SULFONYLUREAS = ("glyburide", "glipizide", "glimepiride")
FLUOROQUINOLONES = ("ciprofloxacin", "levofloxacin", "moxifloxacin")

TELL_NOW = "Tell the prescriber now."
TELL_BEFORE_NEXT = "Tell the prescriber before the next dose is due."
