"""alertsvc's own words for findings: the steps each tier starts with, and the text of each category the
build sorts a source's rule into when the source gives no usable words (the ANSM thesaurus in machine
translation, VA NDF-RT with none at all).

A category is recognised in the source's description by its keywords (``pattern``; the first category that
matches wins, so the most specific come first) or, for a rule without a description, by the curated
classes its two drugs belong to (``curated_effects``, ``curated_mechanisms``). The words are written here,
by hand; the facts behind each category are those of the rule's own source, which the finding names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from alertsvc.knowledge.model import Severity

TIER_STEPS: Final[dict[Severity, tuple[str, ...]]] = {
    "critical": (
        "Do not give this dose: the combination is contraindicated.",
        "Tell the prescriber now and ask for an alternative.",
    ),
    "major": (
        "Hold the dose unless the prescriber has already reviewed this combination.",
        "Tell the prescriber before the dose is due.",
    ),
    "moderate": ("Give as prescribed.",),
    "minor": ("Give as prescribed.",),
}
"""The first steps of every finding's management, by tier (docs/design.md: critical = contraindicated, major =
avoid or change therapy, moderate = monitor or adjust, minor = take into account)."""

WATCH_PREFIX: Final[dict[Severity, str]] = {
    "critical": "If it was given already: ",
    "major": "If it is given: ",
    "moderate": "",
    "minor": "",
}


def management(severity: Severity, watch: tuple[str, ...]) -> tuple[str, ...]:
    """The ordered steps of a finding: the tier's first steps, then what to watch (prefixed by tier).

    >>> management("major", ("Check INR within 3 days.",))
    ('Hold the dose unless the prescriber has already reviewed this combination.', \
'Tell the prescriber before the dose is due.', 'If it is given: check INR within 3 days.')
    """
    prefix = WATCH_PREFIX[severity]
    checks = tuple(prefix + (w[:1].lower() + w[1:] if prefix else w) for w in watch)
    return (*TIER_STEPS[severity], *checks)


def retier(steps_text: str, old: Severity, new: Severity) -> str:
    """Numbered steps written for tier ``old`` rewritten for tier ``new`` (same number of first steps).

    Used when a rule's severity is capped after its words were written (an ONC non-interruptive pair).

    >>> retier("1. Do not give this dose: the combination is contraindicated. 2. Tell the prescriber now "
    ...        "and ask for an alternative. 3. If it was given already: check INR.", "critical", "major")[:52]
    '1. Hold the dose unless the prescriber has already r'
    """
    for before, after in zip(TIER_STEPS[old], TIER_STEPS[new], strict=False):
        steps_text = steps_text.replace(before, after)
    return steps_text.replace(WATCH_PREFIX[old], WATCH_PREFIX[new]) if WATCH_PREFIX[old] else steps_text


@dataclass(frozen=True)
class Category:
    """A kind of interaction, in alertsvc's words. ``summary`` uses {left} and {right}."""

    key: str
    pattern: str  # keywords in the source's description (lower case); r"$^" for none
    summary: str
    mechanism: str
    watch: tuple[str, ...]


CATEGORIES: Final[tuple[Category, ...]] = (
    Category("serotonin", r"serotonin", "{left} with {right} can cause serotonin syndrome",
             "Both raise serotonin activity; together they can cause serotonin syndrome.",
             ("Watch for agitation, sweating, tremor, fast heart rate or fever; call the doctor if seen.",)),
    Category("qt", r"torsade|\bqt\b",
             "{left} with {right} adds to QT prolongation: risk of torsade de pointes",
             "Both prolong the QT interval; together they raise the risk of torsade de pointes, a dangerous "
             "heart rhythm.",
             ("Check the latest ECG (QTc), potassium and magnesium.",
              "Report palpitations, fainting or dizziness at once.")),
    Category("hypertensive-crisis",
             r"hypertensive (crisis|crises|reaction|attack|episode)|paroxysmal hypert|elevation of "
              "blood pressure|"
             r"arterial hypertension|constriction of (blood vessels|coronary)",
             "{left} with {right} can cause a dangerous rise in blood pressure",
             "The combination can cause a sudden, severe rise in blood pressure (hypertensive crisis).",
             ("Check blood pressure; report a severe headache, palpitations or chest pain at once.",)),
    Category("hyperkalaemia", r"hyperkal", "{left} with {right} can raise potassium to dangerous levels",
             "Both raise potassium; together potassium can rise high enough to disturb the heart rhythm.",
             ("Check potassium and creatinine before the next dose.",)),
    Category("bleeding", r"h(a)?emorrhag|bleed",
             "{left} with {right} raises the risk of bleeding",
             "The combination adds to the risk of bleeding.",
             ("Look for bleeding: gums, urine, black stools, bruising.",
              "Check that INR or clotting tests are up to date.")),
    Category("myopathy", r"rhabdomyoly|myopath|muscular",
    "{left} with {right} raises the risk of muscle damage",
             "The combination raises the risk of muscle damage (myopathy, rhabdomyolysis).",
             ("Ask about muscle pain or weakness and dark urine; report them at once.",)),
    Category("heart-failure", r"inotrop|decompensat|heart failure|cardiac failure",
             "{left} with {right} can weaken the heart and slow it",
             "Both depress the heart's pumping or its conduction: heart failure can worsen, the pulse can "
             "slow.",
             ("Check pulse and blood pressure before giving; report breathlessness or swelling.",)),
    Category("arrhythmia", r"arrhythmi|arythmi|fibrillation",
             "{left} with {right} can cause dangerous heart rhythms",
             "The combination can disturb the heart rhythm.",
             ("Check the pulse and the latest ECG; report palpitations or fainting at once.",)),
    Category("bradycardia", r"bradycard|atrioventricular|conduction|sinus arrest|heart rate",
             "{left} with {right} can slow the heart too much",
             "Both slow the heart rate or its conduction; together they can cause bradycardia or heart "
             "block.",
             ("Check pulse and blood pressure before giving; hold if the pulse is under 50 and tell the "
              "prescriber.",)),
    Category("sedation", r"sedat|respiratory depression|central depress|drowsiness|vigilance|somnolence",
             "{left} with {right} deepens sedation",
             "Both depress the central nervous system: drowsiness, falls and slowed breathing.",
             ("Check sedation and breathing rate before and after the dose.",)),
    Category("hypoglycaemia", r"hypoglyc", "{left} with {right} raises the risk of low blood sugar",
             "The combination can lower blood sugar too far.",
             ("Check blood glucose before meals and at night.",)),
    Category("hypotension", r"hypotensi|drop in blood pressure|fall in blood pressure",
             "{left} with {right} can drop blood pressure too far",
             "Both lower blood pressure; together they can cause dizziness, falls and fainting.",
             ("Check lying and standing blood pressure; help the patient to stand.",)),
    Category("kidney", r"nephrotox|renal (failure|insufficiency|toxicity|function)|kidney",
             "{left} with {right} can harm the kidneys",
             "The combination adds to the risk of kidney injury.",
             ("Check creatinine and urine output.",)),
    Category("vaccine", r"vaccin", "{left} with {right}: risk of infection from a live vaccine",
             "Live vaccines can cause serious infection in patients whose immunity is suppressed.",
             ("Check with the prescriber before any live vaccine is given.",)),
    Category("blood-count",
    r"h(a)?ematolog|medullar|bone marrow|myelo|neutrop|agranulocyt|pancytop|leukop|an(a)?emi",
             "{left} with {right} raises the risk of low blood counts",
             "Both can suppress the bone marrow; together the risk of low blood counts rises.",
             ("Check that a recent full blood count is on file; report fever or sore throat.",)),
    Category("lactic-acidosis", r"lactic acidosis", "{left} with {right} raises the risk of lactic acidosis",
             "The combination raises the risk of lactic acidosis.",
             ("Check kidney function; report vomiting, fast breathing or drowsiness.",)),
    Category("seizures", r"(?<!anti)convuls|seizure|epileptogen|epileptic threshold",
             "{left} with {right} can lower the seizure threshold",
             "The combination makes seizures more likely.",
             ("Watch for seizures; report twitching or confusion.",)),
    Category("ergotism", r"ergotism|vasoconstrict|isch(a)?emi",
    "{left} with {right} can cause severe narrowing of blood vessels",
             "The combination can cause ergotism or vasospasm: pain, pallor or coldness of hands and feet, "
             "chest pain.",
             ("Check hands and feet for coldness, pain or pallor; report chest pain at once.",)),
    Category("lithium", r"lithemi|lithium", "{left} with {right} can raise lithium levels",
             "The combination reduces lithium clearance: lithium toxicity (tremor, confusion, vomiting).",
             ("Check the lithium level; report tremor, confusion or vomiting.",)),
    Category("digoxin", r"digoxin|digitalis", "{left} with {right} can cause digoxin toxicity",
             "The combination raises digoxin levels or sensitivity: nausea, slow or irregular pulse.",
             ("Check the pulse before giving; ask for a digoxin level.",)),
    Category("hearing", r"ototox", "{left} with {right} can damage hearing and the kidneys",
             "Both can damage the inner ear and the kidneys.",
             ("Report ringing in the ears or hearing loss; check creatinine.",)),
    Category("liver", r"hepatotox|hepatitis|hepatic (toxicity|injury)",
    "{left} with {right} can harm the liver",
             "The combination adds to the risk of liver injury.",
             ("Report jaundice, dark urine or abdominal pain.",)),
    Category("anticholinergic", r"atropinic|anticholinergic",
             "{left} with {right} adds to anticholinergic load",
             "Both have anticholinergic effects: confusion, urine retention, constipation, blurred vision.",
             ("Watch for confusion, urine retention and constipation; report new confusion.",)),
    Category("low-sodium", r"hyponatr", "{left} with {right} can lower sodium",
             "Both can lower blood sodium: confusion, falls, seizures.",
             ("Check sodium; report new confusion or drowsiness.",)),
    Category("methaemoglobin", r"methemoglobin|methaemoglobin",
             "{left} with {right} raises the risk of methaemoglobinaemia",
             "Both can oxidise haemoglobin so that it carries less oxygen.",
             ("Watch for blue lips, breathlessness or low oxygen saturation; report at once.",)),
    Category("low-potassium", r"hypokal|potassium lowering", "{left} with {right} can lower potassium",
             "The combination lowers potassium, which can disturb the heart rhythm.",
             ("Check potassium before the next dose.",)),
    Category("antagonism", r"antagonis|withdrawal|antalgic|opposite effect",
             "{left} and {right} work against each other",
             "One drug opposes the other's effect: loss of effect or withdrawal symptoms.",
             ("Tell the prescriber if the treatment seems not to work.",)),
)  # fmt: skip

RAISED, LOWERED = (
    Category(
        "raised-level",
        r"$^",
        "{left} with {right}: one drug raises the level of the other",
        "One drug slows the other's clearance: higher levels and more side effects.",
        (
            "Watch for side effects of both drugs and report them.",
            "Ask the pharmacist whether a dose change or a level check is needed.",
        ),
    ),
    Category(
        "lowered-level",
        r"$^",
        "{left} with {right}: one drug lowers the level or effect of the other",
        "One drug speeds the other's clearance or blocks its effect: it may stop working.",
        ("Tell the prescriber if the treatment seems not to work.",),
    ),
)
"""A change in one drug's level, when the description names no specific effect (see :func:`category_of`)."""
_UP = re.compile(r"increase|overdose|\braise|higher|decrease of (its|the) (hepatic |renal |intestinal )?"
                 r"(metabolism|clearance|elimination|excretion)")  # fmt: skip
_DOWN = re.compile(r"decrease|reduction|loss of|failure|lower|ineffective")

LISTED = Category(
    "listed",
    r"$^",
    "{left} with {right}: a listed interaction",
    "The source lists this combination as an interaction without stating the mechanism.",
    ("Ask the pharmacist what to monitor for this combination.",),
)
"""For a rule that names no mechanism and whose drugs share no curated class (e.g. some VA NDF-RT pairs)."""

_COMPILED = tuple((category, re.compile(category.pattern)) for category in CATEGORIES)


def category_of(description: str) -> Category | None:
    """The first category whose keywords appear in ``description`` (lower-cased); else a raised or lowered
    level, whichever the description states first; else None.

    >>> category_of("Increase of the risk of hemorrhage").key
    'bleeding'
    >>> category_of("Decrease of the plasma concentrations of X due to increase of its metabolism").key
    'lowered-level'
    >>> category_of("Increase of the concentrations of X (decrease of its hepatic metabolism)").key
    'raised-level'
    """
    text = description.lower()
    for category, pattern in _COMPILED:
        if pattern.search(text):
            return category
    up, down = _UP.search(text), _DOWN.search(text)
    if down is not None and up is not None and down.start() == up.start():  # "decrease of its metabolism"
        down = _DOWN.search(text, up.end())
    if up is not None and (down is None or up.start() < down.start()):
        return RAISED
    return LOWERED if down is not None else None


BY_KEY: Final[dict[str, Category]] = {c.key: c for c in (*CATEGORIES, RAISED, LOWERED, LISTED)}
