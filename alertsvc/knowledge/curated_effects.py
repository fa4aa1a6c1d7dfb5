"""Pharmacodynamic classes: drugs that add to one another's effect (serotonin, sedation, bleeding, potassium,
heart rate, blood sugar, anticholinergic load, the kidneys). The rules between them: ``curated_effect_rules``.

Members are RxNorm ingredient names (the build maps them and reports any it cannot). Every class and rule
names the public source of the fact; the words are alertsvc's own. Rules between a class and itself apply
to two different members (the same ingredient twice is duplicate therapy, found elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

US_PI = "US prescribing information"


@dataclass(frozen=True)
class EffectClass:
    key: str
    name: str
    members: tuple[str, ...]
    source: str


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
