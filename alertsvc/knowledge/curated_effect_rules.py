"""The rules between the pharmacodynamic classes of ``curated_effects``: which two (or three) classes must
not meet without the action named, at which tier, in alertsvc's words, with the source's own rating.

Management is the tier's first steps (``curated_texts.TIER_STEPS``) followed by ``watch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from alertsvc.knowledge.model import Severity


@dataclass(frozen=True)
class EffectRule:
    """Two classes (or three, with ``also``) whose members must not meet without the action named."""

    id: str
    left: str
    right: str
    severity: Severity
    rating: str  # the source's own words for the level, and where it says so
    summary: str  # a sentence template with {left} and {right}; see wording.sentence
    mechanism: str
    watch: tuple[str, ...]  # what to check, after the steps every tier starts with
    also: str = ""


_SEROTONIN_WATCH = (
    "Watch for agitation, sweating, shivering, tremor, fast heart rate or fever.",
    "If any appear, stop the next dose and call the doctor at once.",
)
_SEDATION_WATCH = (
    "Check sedation and breathing rate before the dose and one hour after.",
    "Keep naloxone at hand; call the doctor if breathing is slow or the patient is hard to wake.",
)
_BLEEDING_WATCH = (
    "Look for bleeding: gums, nose, urine, black stools, bruising.",
    "Check that clotting tests (INR, platelets) are up to date.",
)
_POTASSIUM_WATCH = ("Check potassium and creatinine before the next dose.",)
_PULSE_WATCH = ("Check pulse and blood pressure before giving; hold if the pulse is under 50 and tell the "
                "prescriber.",)  # fmt: skip
_GLUCOSE_WATCH = (
    "Check blood glucose before meals and at night.",
    "Treat a low glucose by the ward protocol.",
)

RULES: Final[tuple[EffectRule, ...]] = (
    EffectRule(
        "serotonin-opioid-antidepressant",
        "serotonergic-opioids",
        "serotonergic-antidepressants",
        "major",
        "Warnings: serotonin syndrome (FDA Drug Safety Communication, 2016)",
        "{left} with {right} can cause serotonin syndrome",
        "Both raise serotonin activity; together they can cause serotonin syndrome (agitation, fever, "
        "tremor, fast heart rate), which can be fatal.",
        _SEROTONIN_WATCH,
    ),
    EffectRule(
        "serotonin-mao-anti-infective",
        "mao-inhibiting-anti-infectives",
        "serotonergic-antidepressants",
        "major",
        "Warnings: serotonin syndrome (Zyvox label; FDA Drug Safety Communication, 2011)",
        "{left} with {right} can cause serotonin syndrome",
        "Linezolid and methylene blue inhibit monoamine oxidase; with a serotonergic drug they can cause "
        "serotonin syndrome.",
        _SEROTONIN_WATCH,
    ),
    EffectRule(
        "serotonin-mao-anti-infective-opioid",
        "mao-inhibiting-anti-infectives",
        "serotonergic-opioids",
        "major",
        "Warnings: serotonin syndrome (Zyvox label)",
        "{left} with {right} can cause serotonin syndrome",
        "Monoamine oxidase inhibition with a serotonergic opioid can cause serotonin syndrome.",
        _SEROTONIN_WATCH,
    ),
    EffectRule(
        "serotonin-triptan-ssri-snri",
        "triptans",
        "ssri-snri",
        "moderate",
        "Public health advisory: possible serotonin syndrome (FDA, 2006)",
        "{left} with {right} may cause serotonin syndrome",
        "A triptan with an SSRI or SNRI can, rarely, cause serotonin syndrome.",
        ("Watch for agitation, sweating, tremor or fast heart rate after the triptan dose.",),
    ),
    EffectRule(
        "serotonin-two-antidepressants",
        "serotonergic-antidepressants",
        "serotonergic-antidepressants",
        "moderate",
        "Warnings: serotonin syndrome with other serotonergic drugs (SSRI/SNRI labels)",
        "{left} with {right} adds to serotonin load",
        "Two serotonergic drugs add to each other's serotonin activity.",
        ("Watch for agitation, sweating, tremor or fast heart rate.",),
    ),
    EffectRule(
        "cns-opioid-benzodiazepine",
        "opioids",
        "benzodiazepines",
        "major",
        "Boxed warning (FDA, 2016): profound sedation, respiratory depression, coma and death",
        "{left} with {right} can slow or stop breathing",
        "Opioids and benzodiazepines both depress the brain's drive to breathe; together they can cause "
        "deep sedation, respiratory depression, coma and death.",
        _SEDATION_WATCH,
    ),
    EffectRule(
        "cns-opioid-depressant",
        "opioids",
        "other-cns-depressants",
        "major",
        "Boxed warning (FDA, 2016; gabapentinoids 2019): respiratory depression",
        "{left} with {right} can slow or stop breathing",
        "Opioids with other central nervous system depressants add sedation and can depress breathing.",
        _SEDATION_WATCH,
    ),
    EffectRule(
        "cns-benzodiazepine-depressant",
        "benzodiazepines",
        "other-cns-depressants",
        "moderate",
        "Warnings: additive CNS depression (benzodiazepine labels)",
        "{left} with {right} adds to sedation and fall risk",
        "Two sedating drugs add to each other: drowsiness, confusion, falls, slowed breathing.",
        ("Check sedation before the dose; help the patient when walking.",),
    ),
    EffectRule(
        "bleeding-anticoagulant-antiplatelet",
        "anticoagulants",
        "antiplatelets",
        "major",
        "Warnings: increased bleeding risk (anticoagulant labels)",
        "{left} with {right} raises the risk of serious bleeding",
        "An anticoagulant with an antiplatelet drug adds two ways of preventing clots: bleeding risk rises.",
        _BLEEDING_WATCH,
    ),
    EffectRule(
        "bleeding-anticoagulant-nsaid",
        "anticoagulants",
        "nsaids",
        "major",
        "Warnings: increased bleeding risk (anticoagulant and NSAID labels)",
        "{left} with {right} raises the risk of serious bleeding",
        "NSAIDs impair platelets and injure the stomach lining; with an anticoagulant, serious "
        "gastrointestinal bleeding is more likely.",
        _BLEEDING_WATCH,
    ),
    EffectRule(
        "bleeding-two-anticoagulants",
        "anticoagulants",
        "anticoagulants",
        "major",
        "Warnings: do not combine anticoagulants except when switching or bridging (anticoagulant labels)",
        "{left} with {right}: two anticoagulants, high bleeding risk",
        "Two anticoagulants together greatly raise bleeding risk; only planned bridging or switching "
        "justifies the overlap.",
        ("Confirm with the prescriber that this is planned bridging or switching.", *_BLEEDING_WATCH),
    ),
    EffectRule(
        "bleeding-anticoagulant-ssri",
        "anticoagulants",
        "ssri-snri",
        "moderate",
        "Warnings: abnormal bleeding (SSRI/SNRI labels)",
        "{left} with {right} raises the risk of bleeding",
        "SSRIs and SNRIs reduce platelet serotonin and impair clotting; with an anticoagulant, bleeding "
        "risk rises.",
        _BLEEDING_WATCH,
    ),
    EffectRule(
        "bleeding-antiplatelet-nsaid",
        "antiplatelets",
        "nsaids",
        "moderate",
        "Warnings: gastrointestinal bleeding (NSAID labels)",
        "{left} with {right} raises the risk of stomach bleeding",
        "An NSAID with an antiplatelet drug adds to the risk of gastrointestinal bleeding.",
        ("Look for black stools, vomiting blood or stomach pain.",),
    ),
    EffectRule(
        "potassium-acei-sparing",
        "acei-arb",
        "potassium-sparing",
        "major",
        "Warnings: hyperkalaemia (Aldactone, Inspra and ACE inhibitor labels)",
        "{left} with {right} can raise potassium to dangerous levels",
        "Both keep potassium in the body; together potassium can rise high enough to stop the heart, "
        "especially with poor kidney function.",
        _POTASSIUM_WATCH,
    ),
    EffectRule(
        "potassium-acei-supplement",
        "acei-arb",
        "potassium-salts",
        "major",
        "Warnings: hyperkalaemia (ACE inhibitor labels)",
        "{left} with {right} can raise potassium to dangerous levels",
        "ACE inhibitors and ARBs keep potassium in the body; supplements add more.",
        _POTASSIUM_WATCH,
    ),
    EffectRule(
        "potassium-sparing-supplement",
        "potassium-sparing",
        "potassium-salts",
        "major",
        "Warnings: hyperkalaemia (Aldactone label); contraindicated with eplerenone (Inspra label)",
        "{left} with {right} can raise potassium to dangerous levels",
        "A potassium-sparing diuretic keeps potassium in the body; supplements add more.",
        _POTASSIUM_WATCH,
    ),
    EffectRule(
        "heart-beta-blocker-ccb",
        "beta-blockers",
        "rate-limiting-ccb",
        "major",
        "Drug Interactions: bradycardia, AV block and heart failure (verapamil and diltiazem labels)",
        "{left} with {right} can slow the heart dangerously (AV block)",
        "Both slow the heart rate and conduction through the AV node; together they can cause severe "
        "bradycardia, heart block and heart failure.",
        _PULSE_WATCH,
    ),
    EffectRule(
        "heart-beta-blocker-rate-lowering",
        "beta-blockers",
        "heart-rate-lowering",
        "moderate",
        "Drug Interactions: additive bradycardia (digoxin, ivabradine, amiodarone labels)",
        "{left} with {right} can slow the heart too much",
        "Both slow the heart; together they can cause bradycardia.",
        _PULSE_WATCH,
    ),
    EffectRule(
        "heart-ccb-rate-lowering",
        "rate-limiting-ccb",
        "heart-rate-lowering",
        "moderate",
        "Drug Interactions: additive bradycardia and AV block (verapamil, diltiazem labels)",
        "{left} with {right} can slow the heart too much",
        "Both slow the heart rate or AV conduction; together they can cause bradycardia or heart block.",
        _PULSE_WATCH,
    ),
    EffectRule(
        "kidney-triple-whammy",
        "acei-arb",
        "diuretics",
        "major",
        "Published cohort (BMJ 2013): 31% more acute kidney injury with all three",
        "{left}, {right} and {also} together can cause acute kidney injury",
        "A diuretic lowers blood volume, an ACE inhibitor or ARB widens the kidney's outflow vessel and an "
        "NSAID narrows its inflow: together they can stop the kidneys filtering ('triple whammy').",
        ("Check creatinine and urine output; tell the prescriber if urine output falls.",),
        also="nsaids",
    ),
    EffectRule(
        "glucose-secretagogue-quinolone",
        "insulin-secretagogues",
        "fluoroquinolones",
        "major",
        "Warnings: severe hypoglycaemia, coma (FDA Drug Safety Communication, 2018)",
        "{left} with {right} can cause severe low blood sugar",
        "Fluoroquinolones disturb blood sugar; with a sulfonylurea or meglitinide severe hypoglycaemia and "
        "coma have occurred.",
        _GLUCOSE_WATCH,
    ),
    EffectRule(
        "glucose-insulin-quinolone",
        "insulins",
        "fluoroquinolones",
        "major",
        "Warnings: severe hypoglycaemia, coma (FDA Drug Safety Communication, 2018)",
        "{left} with {right} can cause severe low blood sugar",
        "Fluoroquinolones disturb blood sugar; with insulin severe hypoglycaemia has occurred.",
        _GLUCOSE_WATCH,
    ),
    EffectRule(
        "glucose-insulin-secretagogue",
        "insulins",
        "insulin-secretagogues",
        "moderate",
        "Warnings: hypoglycaemia with other glucose-lowering drugs (sulfonylurea labels)",
        "{left} with {right} adds to the risk of low blood sugar",
        "Insulin and a sulfonylurea or meglitinide both lower blood sugar.",
        _GLUCOSE_WATCH,
    ),
    EffectRule(
        "anticholinergic-load",
        "strong-anticholinergics",
        "strong-anticholinergics",
        "moderate",
        "Beers Criteria 2023: avoid two or more anticholinergic drugs (older adults)",
        "{left} with {right} adds to anticholinergic load",
        "Two strongly anticholinergic drugs add up: confusion, falls, urinary retention, constipation, "
        "especially in older patients.",
        ("Watch for confusion, urine retention and constipation; report new confusion.",),
    ),
)
