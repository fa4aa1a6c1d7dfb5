"""Pharmacodynamic classes: drugs that add to one another's effect (serotonin, sedation, bleeding, potassium,
heart rate, blood sugar, anticholinergic load, the kidneys), and the rules between them.

Members are RxNorm ingredient names (the build maps them and reports any it cannot). Every class and rule
names the public source of the fact; the words are alertsvc's own. Rules between a class and itself apply
to two different members (the same ingredient twice is duplicate therapy, found elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from alertsvc.knowledge.model import Severity

US_PI = "US prescribing information"


@dataclass(frozen=True)
class EffectClass:
    key: str
    name: str
    members: tuple[str, ...]
    source: str


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


def _names(text: str) -> tuple[str, ...]:
    """RxNorm ingredient names written as one comma-separated list."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


CLASSES: Final[tuple[EffectClass, ...]] = (
    EffectClass(
        "serotonergic-antidepressants",
        "serotonergic antidepressants and lithium",
        _names(
            "citalopram, escitalopram, fluoxetine, fluvoxamine, paroxetine, sertraline, vilazodone, "
            "vortioxetine, duloxetine, venlafaxine, desvenlafaxine, levomilnacipran, milnacipran, "
            "clomipramine, imipramine, amitriptyline, trazodone, nefazodone, mirtazapine, lithium "
            "carbonate, lithium citrate, st. john's wort"
        ),
        "FDA Drug Safety Communication, 22 March 2016 (opioids and serotonin syndrome); SSRI and SNRI US "
        "prescribing information, Warnings: serotonin syndrome",
    ),
    EffectClass(
        "serotonergic-opioids",
        "opioids with serotonergic action",
        _names("tramadol, tapentadol, meperidine, methadone, fentanyl, dextromethorphan"),
        "FDA Drug Safety Communication, 22 March 2016: serotonin syndrome with opioids; tramadol, "
        "tapentadol, meperidine, methadone, fentanyl US prescribing information, Warnings",
    ),
    EffectClass(
        "mao-inhibiting-anti-infectives",
        "linezolid and methylene blue (MAO inhibition)",
        _names("linezolid, methylene blue"),
        "Zyvox (linezolid) US prescribing information, Warnings: serotonin syndrome; FDA Drug Safety "
        "Communication, 26 July 2011 (methylene blue with serotonergic psychiatric drugs)",
    ),
    EffectClass(
        "triptans",
        "triptans",
        _names("sumatriptan, rizatriptan, zolmitriptan, eletriptan, naratriptan, almotriptan, frovatriptan"),
        "FDA Public Health Advisory, 19 July 2006: triptans with SSRIs or SNRIs and serotonin syndrome",
    ),
    EffectClass(
        "opioids",
        "opioids",
        _names(
            "morphine, hydromorphone, oxycodone, hydrocodone, oxymorphone, fentanyl, sufentanil, "
            "remifentanil, alfentanil, methadone, buprenorphine, codeine, dihydrocodeine, tramadol, "
            "tapentadol, meperidine, levorphanol, pentazocine, butorphanol, nalbuphine"
        ),
        "opioid analgesics US prescribing information, boxed warning",
    ),
    EffectClass(
        "benzodiazepines",
        "benzodiazepines",
        _names(
            "alprazolam, chlordiazepoxide, clobazam, clonazepam, clorazepate, diazepam, estazolam, "
            "flurazepam, lorazepam, midazolam, oxazepam, quazepam, temazepam, triazolam, remimazolam"
        ),
        "FDA Drug Safety Communication, 31 August 2016: boxed warning, opioids with benzodiazepines",
    ),
    EffectClass(
        "other-cns-depressants",
        "other CNS depressants (gabapentinoids, Z-drugs, barbiturates, muscle relaxants, sedating "
        "antihistamines and antipsychotics)",
        _names(
            "gabapentin, pregabalin, zolpidem, zaleplon, eszopiclone, phenobarbital, butalbital, "
            "secobarbital, carisoprodol, cyclobenzaprine, methocarbamol, baclofen, metaxalone, "
            "promethazine, hydroxyzine, quetiapine, olanzapine, clozapine, chlorpromazine"
        ),
        "FDA Drug Safety Communication, 31 August 2016 (opioids with other CNS depressants) and 19 December "
        "2019 (gabapentin and pregabalin with opioids: serious breathing problems)",
    ),
    EffectClass(
        "anticoagulants",
        "anticoagulants",
        _names(
            "warfarin, apixaban, rivaroxaban, edoxaban, dabigatran etexilate, heparin, enoxaparin, "
            "dalteparin, tinzaparin, fondaparinux, argatroban, bivalirudin"
        ),
        "anticoagulant US prescribing information (Coumadin, Eliquis, Xarelto, Pradaxa, Lovenox), Warnings: "
        "bleeding risk",
    ),
    EffectClass(
        "antiplatelets",
        "antiplatelet drugs",
        _names(
            "aspirin, clopidogrel, prasugrel, ticagrelor, dipyridamole, cilostazol, ticlopidine, vorapaxar"
        ),
        "antiplatelet US prescribing information, Warnings: bleeding",
    ),
    EffectClass(
        "nsaids",
        "NSAIDs",
        _names(
            "ibuprofen, naproxen, diclofenac, celecoxib, meloxicam, indomethacin, ketorolac, etodolac, "
            "nabumetone, piroxicam, sulindac, flurbiprofen, ketoprofen, mefenamic acid, diflunisal, "
            "oxaprozin, fenoprofen, tolmetin, meclofenamate"
        ),
        "NSAID US prescribing information, Warnings: gastrointestinal bleeding",
    ),
    EffectClass(
        "ssri-snri",
        "SSRIs and SNRIs",
        _names(
            "citalopram, escitalopram, fluoxetine, fluvoxamine, paroxetine, sertraline, vilazodone, "
            "vortioxetine, duloxetine, venlafaxine, desvenlafaxine, levomilnacipran, milnacipran"
        ),
        "SSRI and SNRI US prescribing information, Warnings: abnormal bleeding with NSAIDs, aspirin and "
        "anticoagulants",
    ),
    EffectClass(
        "acei-arb",
        "ACE inhibitors, ARBs and aliskiren",
        _names(
            "benazepril, captopril, enalapril, fosinopril, lisinopril, moexipril, perindopril, quinapril, "
            "ramipril, trandolapril, azilsartan, candesartan, eprosartan, irbesartan, losartan, "
            "olmesartan, telmisartan, valsartan, aliskiren"
        ),
        "ACE inhibitor and ARB US prescribing information, Warnings: hyperkalaemia",
    ),
    EffectClass(
        "potassium-sparing",
        "potassium-sparing diuretics and mineralocorticoid antagonists",
        _names("spironolactone, eplerenone, amiloride, triamterene, finerenone"),
        "Aldactone (spironolactone) and Inspra (eplerenone) US prescribing information, Warnings: "
        "hyperkalaemia",
    ),
    EffectClass(
        "potassium-salts",
        "potassium supplements",
        _names(
            "potassium chloride, potassium citrate, potassium bicarbonate, potassium gluconate, potassium "
            "acetate"
        ),
        "potassium chloride US prescribing information, Warnings: hyperkalaemia with potassium-sparing drugs",
    ),
    EffectClass(
        "beta-blockers",
        "beta blockers",
        _names(
            "atenolol, bisoprolol, carvedilol, labetalol, metoprolol, nadolol, nebivolol, propranolol, "
            "sotalol, acebutolol, betaxolol, pindolol, timolol, esmolol"
        ),
        "beta blocker US prescribing information, Drug Interactions: calcium channel blockers, digitalis",
    ),
    EffectClass(
        "rate-limiting-ccb",
        "verapamil and diltiazem",
        _names("verapamil, diltiazem"),
        "Calan (verapamil) and Cardizem (diltiazem) US prescribing information, Drug Interactions: beta "
        "blockers (AV block, bradycardia)",
    ),
    EffectClass(
        "heart-rate-lowering",
        "other drugs that slow the heart (digoxin, ivabradine, amiodarone, dronedarone, clonidine)",
        _names("digoxin, ivabradine, amiodarone, dronedarone, clonidine"),
        "Lanoxin, Corlanor, Cordarone, Multaq US prescribing information, Drug Interactions: bradycardia",
    ),
    EffectClass(
        "diuretics",
        "diuretics",
        _names(
            "furosemide, bumetanide, torsemide, ethacrynic acid, hydrochlorothiazide, chlorthalidone, "
            "indapamide, metolazone, bendroflumethiazide, chlorothiazide, spironolactone, eplerenone, "
            "amiloride, triamterene"
        ),
        "Lapi F et al., BMJ 2013;346:e8525 (acute kidney injury with a diuretic, an ACE inhibitor or ARB and "
        "an NSAID); NSAID US prescribing information, Warnings: renal toxicity",
    ),
    EffectClass(
        "insulin-secretagogues",
        "sulfonylureas and meglitinides",
        _names(
            "glipizide, glyburide, glimepiride, gliclazide, tolbutamide, chlorpropamide, repaglinide, "
            "nateglinide"
        ),
        "sulfonylurea US prescribing information, Warnings: hypoglycaemia",
    ),
    EffectClass(
        "insulins",
        "insulins",
        _names(
            "insulin, regular, human, insulin isophane, insulin lispro, insulin aspart, human, insulin "
            "glulisine, human, insulin glargine, insulin detemir, insulin degludec"
        ),
        "insulin US prescribing information, Warnings: hypoglycaemia",
    ),
    EffectClass(
        "fluoroquinolones",
        "fluoroquinolones",
        _names("ciprofloxacin, levofloxacin, moxifloxacin, ofloxacin, delafloxacin, gemifloxacin"),
        "FDA Drug Safety Communication, 10 July 2018: fluoroquinolones and hypoglycaemic coma",
    ),
    EffectClass(
        "strong-anticholinergics",
        "strongly anticholinergic drugs (ACB score 3)",
        _names(
            "amitriptyline, amoxapine, atropine, benztropine, chlorpheniramine, chlorpromazine, "
            "clemastine, clomipramine, clozapine, darifenacin, desipramine, dicyclomine, dimenhydrinate, "
            "diphenhydramine, doxepin, doxylamine, fesoterodine, flavoxate, hydroxyzine, hyoscyamine, "
            "imipramine, meclizine, nortriptyline, olanzapine, orphenadrine, oxybutynin, paroxetine, "
            "perphenazine, promethazine, propantheline, quetiapine, scopolamine, solifenacin, "
            "thioridazine, tolterodine, trifluoperazine, trihexyphenidyl, trimipramine, trospium"
        ),
        "Boustani M et al., Aging Health 2008;4:311-20 (Anticholinergic Cognitive Burden scale, score 3); "
        "American Geriatrics Society Beers Criteria 2023 (avoid two or more anticholinergic drugs)",
    ),
)

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
