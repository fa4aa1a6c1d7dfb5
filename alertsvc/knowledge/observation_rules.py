"""The observation modifiers' rules: thresholds, how long a value stays usable, and renal dose limits, each
with the public source it is taken from. Used by ``alertsvc.knowledge.observations`` (the pure part).

Useful life: an older value is shown as stale and not used, because it may predate the change that
matters now.

| analyte | useful life | why |
|---|---|---|
| INR | 7 days | warfarin's effect on the INR takes days to settle after a dose change or a new interacting drug (half-life about 40 h; Coumadin label: full effect after several days), so an INR older than a week may predate the change |
| potassium | 3 days | in hospital potassium moves within a day with kidney function, fluids, diuretics and supplements; a value older than 3 days is not today's |
| creatinine, eGFR | 90 days | KDIGO 2012 CKD guideline: kidney function is judged over 3 months; a new acute change in hospital comes with a newer value |
| QTc | 30 days | the QTc changes with each QT-prolonging drug started and with potassium and magnesium; a month-old ECG does not show the drugs started since |
"""  # noqa: E501 (a table)

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

from alertsvc.knowledge.model import Severity

Analyte = Literal["inr", "potassium", "creatinine", "egfr", "qtc"]

USEFUL_LIFE: Final[dict[str, timedelta]] = {
    "inr": timedelta(days=7),
    "potassium": timedelta(days=3),
    "creatinine": timedelta(days=90),
    "egfr": timedelta(days=90),
    "qtc": timedelta(days=30),
}
"""How long a value stays usable (see the module docstring for why)."""


@dataclass(frozen=True)
class Modifier:
    """An observation that raises an interaction finding of one group to ``critical`` above ``above``."""

    id: str
    analyte: Analyte
    above: float
    unit: str
    group: str  # which findings it applies to, for people: "interactions that raise bleeding risk"
    why: str  # what the high value means for those findings
    source: str
    steps: tuple[str, ...]

    @property
    def limit(self) -> str:
        """The threshold as a ward reads it: "3.0", "5.0 mmol/L", "500 ms"."""
        number = f"{self.above:.1f}" if self.above < 10 else f"{self.above:g}"
        return f"{number} {self.unit}" if self.unit else number


INR_ABOVE_RANGE = Modifier(
    "inr-above-range",
    "inr",
    3.0,
    "",
    "interactions that raise bleeding risk",
    "above the usual target range of 2.0-3.0: the blood already clots too slowly, and this combination "
    "adds to the bleeding risk",
    "Coumadin (warfarin) US prescribing information, Dosage and Administration: target INR 2.0-3.0 for "
    "most indications; Warnings: bleeding risk rises with the INR",
    ("Check for bleeding now (gums, urine, stools, bruising) and ask the prescriber about the INR.",),
)
POTASSIUM_ABOVE_5 = Modifier(
    "potassium-above-5",
    "potassium",
    5.0,
    "mmol/L",
    "combinations that raise potassium (hyperkalaemia)",
    "above 5.0 mmol/L: potassium is already high, and this combination raises it further (risk of "
    "dangerous heart rhythms)",
    "2022 AHA/ACC/HFSA heart failure guideline (Heidenreich PA et al., Circulation 2022;145:e895-e1032): "
    "mineralocorticoid antagonists only with potassium below 5.0 mEq/L; ACE inhibitor, ARB, Aldactone "
    "and Inspra US prescribing information, Warnings: hyperkalaemia",
    ("Ask for an ECG and a repeat potassium now.",),
)
QTC_ABOVE_500 = Modifier(
    "qtc-above-500",
    "qtc",
    500.0,
    "ms",
    "QT-prolonging drugs",
    "above 500 ms: the risk of torsade de pointes is high, and QT-prolonging drugs add to it",
    "AHA/ACCF scientific statement on preventing torsade de pointes in hospital (Drew BJ et al., "
    "Circulation 2010;121:1047-60): QTc over 500 ms is high risk; ONC high-priority list of QT-prolonging "
    "drugs (Phansalkar S et al., JAMIA 2012;19:735-43)",
    ("Ask for an ECG and check potassium and magnesium now.",),
)
MODIFIERS: Final[tuple[Modifier, ...]] = (INR_ABOVE_RANGE, POTASSIUM_ABOVE_5, QTC_ABOVE_500)

QT_CLASS = "onc:hp-21-qt"
"""The QT class: the ONC high-priority list's QT-prolonging drugs."""
POTASSIUM_RAISING_CLASSES = ("effect:acei-arb", "effect:potassium-sparing", "effect:potassium-salts")
"""The hyperkalaemia classes of ``curated_effects``: two of their members together raise potassium."""
VITAMIN_K_ANTAGONISTS = frozenset({"11289", "154"})
"""Warfarin and acenocoumarol (RxCUIs): an interaction involving one and the INR is about bleeding."""


@dataclass(frozen=True)
class RenalLimit:
    """A renally cleared drug whose US label changes its use below a kidney-function threshold.

    The first limit of a drug that the value falls under applies (the table lists the lowest first).
    ``at_or_below`` makes the threshold inclusive (labels say "CrCl <= 50" or "eGFR < 30"). A creatinine
    limit works the other way: it applies at or above its threshold (higher creatinine, worse kidneys).
    """

    id: str
    rxcui: str
    drug: str  # RxNorm's ingredient name
    analyte: Analyte
    threshold: float
    severity: Severity
    says: str  # what the label says at this level, for the summary: "contraindicated below eGFR 30"
    steps: tuple[str, ...]
    source: str
    at_or_below: bool = False
    crcl: bool = True  # the label's threshold is a creatinine clearance; eGFR stands in for it

    def applies(self, value: float) -> bool:
        if self.analyte == "creatinine":
            return value >= self.threshold
        return value <= self.threshold if self.at_or_below else value < self.threshold


_ASK = "Tell the prescriber before the dose is due"
RENAL_LIMITS: Final[tuple[RenalLimit, ...]] = (
    RenalLimit(
        "renal-dose:metformin-egfr-below-30", "6809", "metformin", "egfr", 30, "critical",
        "contraindicated below eGFR 30",
        ("Do not give this dose: metformin is contraindicated at this kidney function (lactic acidosis).",
         f"{_ASK}: ask for another glucose-lowering drug."),
        "Glucophage (metformin) US prescribing information, Contraindications (eGFR below 30 mL/min/1.73m2); "
        "FDA Drug Safety Communication, 8 April 2016", crcl=False,
    ),
    RenalLimit(
        "renal-dose:metformin-egfr-below-45", "6809", "metformin", "egfr", 45, "moderate",
        "not to be started at eGFR 30-45",
        (f"{_ASK} if metformin was started recently: starting it at eGFR 30-45 is not recommended.",
         "Otherwise ask for the benefit to be reassessed; check kidney function again."),
        "Glucophage (metformin) US prescribing information, Dosage and Administration: renal impairment; "
        "FDA Drug Safety Communication, 8 April 2016", crcl=False,
    ),
    RenalLimit(
        "renal-dose:dabigatran-crcl-30", "1037042", "dabigatran etexilate", "egfr", 30, "major",
        "dose changes at CrCl 30 or less",
        ("Hold the dose until the prescriber has checked it against kidney function.",
         f"{_ASK}: atrial fibrillation 75 mg twice daily at CrCl 15-30; no dosing advice below 15, or "
         "at 30 or less for venous thromboembolism.", "Look for bleeding."),
        "Pradaxa (dabigatran etexilate) US prescribing information, Dosage and Administration: dosage "
        "adjustments in renal impairment", at_or_below=True,
    ),
    RenalLimit(
        "renal-dose:rivaroxaban-crcl-below-15", "1114195", "rivaroxaban", "egfr", 15, "major",
        "to be avoided below CrCl 15 for most uses",
        ("Hold the dose until the prescriber has checked it against kidney function.",
         f"{_ASK}: the label advises avoiding rivaroxaban below CrCl 15 for most indications.",
         "Look for bleeding."),
        "Xarelto (rivaroxaban) US prescribing information, Dosage and Administration: patients with renal "
        "impairment",
    ),
    RenalLimit(
        "renal-dose:rivaroxaban-crcl-50", "1114195", "rivaroxaban", "egfr", 50, "moderate",
        "dose 15 mg daily at CrCl 50 or less (atrial fibrillation)",
        ("Check the dose: for atrial fibrillation it is 15 mg once daily with the evening meal at CrCl "
         "50 or less.", "Ask the prescriber if the dose is higher."),
        "Xarelto (rivaroxaban) US prescribing information, Dosage and Administration: nonvalvular atrial "
        "fibrillation, CrCl 50 mL/min or less", at_or_below=True,
    ),
    RenalLimit(
        "renal-dose:apixaban-creatinine-1.5", "1364430", "apixaban", "creatinine", 1.5, "moderate",
        "2.5 mg twice daily if also 80 or older or 60 kg or less (atrial fibrillation)",
        ("Check the dose: in atrial fibrillation, creatinine 1.5 mg/dL or more with age 80 or more or "
         "weight 60 kg or less means 2.5 mg twice daily.", "Ask the prescriber if unsure."),
        "Eliquis (apixaban) US prescribing information, Dosage and Administration: dose adjustment in "
        "nonvalvular atrial fibrillation (two of: age >= 80 y, weight <= 60 kg, serum creatinine >= 1.5 "
        "mg/dL)", crcl=False,
    ),
    RenalLimit(
        "renal-dose:nitrofurantoin-crcl-below-30", "7454", "nitrofurantoin", "egfr", 30, "critical",
        "contraindicated (label: below CrCl 60; Beers: avoid below 30)",
        ("Do not give this dose: nitrofurantoin does not work and builds up at this kidney function.",
         f"{_ASK}: ask for another antibiotic."),
        "Macrobid (nitrofurantoin) US prescribing information, Contraindications (creatinine clearance "
        "under 60 mL/min); AGS Beers Criteria 2023: avoid at CrCl below 30",
    ),
    RenalLimit(
        "renal-dose:nitrofurantoin-crcl-below-60", "7454", "nitrofurantoin", "egfr", 60, "major",
        "contraindicated below CrCl 60 by its US label",
        ("Hold the dose until the prescriber has reviewed kidney function.",
         f"{_ASK}: the US label contraindicates it below CrCl 60; Beers 2023 allows short courses down to "
         "CrCl 30."),
        "Macrobid (nitrofurantoin) US prescribing information, Contraindications (creatinine clearance "
        "under 60 mL/min); AGS Beers Criteria 2023",
    ),
    RenalLimit(
        "renal-dose:gabapentin-crcl-below-60", "25480", "gabapentin", "egfr", 60, "moderate",
        "daily dose limited below CrCl 60",
        ("Check the daily dose against kidney function: CrCl 30-59 at most 1,400 mg, 15-29 at most 700 mg, "
         "under 15 at most 300 mg a day.", "Ask the prescriber if the dose is higher; watch for drowsiness."),
        "Neurontin (gabapentin) US prescribing information, Dosage and Administration: patients with renal "
        "impairment (dose by creatinine clearance)",
    ),
    RenalLimit(
        "renal-dose:enoxaparin-crcl-below-30", "67108", "enoxaparin", "egfr", 30, "major",
        "dose to be reduced below CrCl 30",
        ("Hold the dose until the prescriber has checked it against kidney function.",
         f"{_ASK}: below CrCl 30 prophylaxis is 30 mg once daily, treatment 1 mg/kg once daily.",
         "Look for bleeding."),
        "Lovenox (enoxaparin) US prescribing information, Dosage and Administration: renal impairment "
        "(creatinine clearance under 30 mL/min)",
    ),
)  # fmt: skip
"""Renally cleared drugs whose US labelling limits them below a kidney-function threshold."""

CREATININE_UMOL_PER_MG_DL = 88.4
"""Creatinine: 1 mg/dL = 88.4 µmol/L (molar mass 113.12 g/mol)."""
