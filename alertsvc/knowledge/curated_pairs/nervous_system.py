"""Nervous system: serotonin and MAO inhibition, antipsychotics, opioids and prodrug activation,
antiepileptics, lithium.

See :mod:`alertsvc.knowledge.curated_pairs` for what each field and severity means."""

from __future__ import annotations

from alertsvc.knowledge.curated_pairs.labelled_pair import (
    ACE_INHIBITORS,
    ARBS,
    MAOI_PSYCHIATRIC,
    NSAIDS,
    SSRI_SNRI,
    STRONG_CYP2D6,
    TELL_BEFORE_NEXT,
    TELL_NOW,
    THIAZIDES,
    LabelledPair,
)

PAIRS: tuple[LabelledPair, ...] = (
    LabelledPair(
        id="linezolid-methylene-blue-serotonergic-antidepressant",
        left=("linezolid", "methylene blue"),
        right=SSRI_SNRI,
        severity="critical",
        summary="{left} blocks MAO while {right} raises serotonin: risk of serotonin syndrome",
        mechanism="Linezolid and methylene blue inhibit monoamine oxidase; with a serotonin reuptake "
        "inhibitor serotonin builds up, causing agitation, fever, rigidity and seizures.",
        management=(
            "Do not give linezolid or methylene blue with the antidepressant.",
            TELL_NOW,
            "If both were given, check temperature, pulse and agitation every 4 hours for 24 hours.",
        ),
        source="Zoloft, Prozac, Paxil, Celexa, Lexapro, Luvox, Effexor XR, Pristiq, Cymbalta, Anafranil US "
        "PI, 4 Contraindications (linezolid or intravenous methylene blue); FDA Drug Safety Communications "
        "26 July 2011 and 20 October 2011",
    ),
    LabelledPair(
        id="bupropion-maoi",
        left=("bupropion",),
        right=(*MAOI_PSYCHIATRIC, "selegiline", "linezolid", "methylene blue"),
        severity="critical",
        summary="{left} with {right} can cause a hypertensive crisis",
        mechanism="Bupropion blocks dopamine and noradrenaline reuptake; with MAO inhibition these "
        "transmitters build up and blood pressure can rise dangerously.",
        management=(
            "Do not give bupropion with the MAO inhibitor.",
            TELL_NOW,
            "If both were given, check blood pressure every hour for 4 hours.",
        ),
        source="Wellbutrin (bupropion) US PI, 4 Contraindications (MAOIs, linezolid, intravenous methylene "
        "blue); Emsam (selegiline) US PI, 4 Contraindications (bupropion)",
    ),
    LabelledPair(
        id="carbamazepine-maoi-nefazodone",
        left=("carbamazepine",),
        right=(*MAOI_PSYCHIATRIC, "nefazodone"),
        severity="critical",
        summary="{left} with {right} is contraindicated: serious reactions or loss of effect",
        mechanism="Carbamazepine is a tricyclic-like compound: with MAO inhibitors serious reactions are "
        "reported. It also induces CYP3A4 and cuts nefazodone exposure by about 95%.",
        management=(
            "Do not give carbamazepine with the interacting drug.",
            TELL_NOW,
            "Allow 14 days after stopping an MAO inhibitor before carbamazepine.",
        ),
        source="Tegretol (carbamazepine) US PI, Contraindications (MAO inhibitors; nefazodone)",
    ),
    LabelledPair(
        id="pimozide-ssri",
        left=("pimozide",),
        right=("sertraline", "paroxetine", "fluoxetine", "citalopram", "escitalopram", "fluvoxamine"),
        severity="critical",
        summary="{right} raises {left} levels or adds QT prolongation: risk of sudden death",
        mechanism="These antidepressants inhibit pimozide's metabolism (CYP2D6, CYP3A4, CYP1A2) or prolong "
        "QT themselves (citalopram, escitalopram); pimozide levels and the QT interval rise.",
        management=(
            "Do not give pimozide with the antidepressant.",
            TELL_NOW,
            "If both were given, ask for an ECG.",
        ),
        source="Zoloft, Paxil, Prozac, Celexa, Lexapro, Luvox (fluvoxamine) US PI, 4 Contraindications "
        "(pimozide)",
    ),
    LabelledPair(
        id="thioridazine-cyp2d6-inhibitor",
        left=("thioridazine",),
        right=("fluoxetine", "paroxetine", "fluvoxamine", "propranolol"),
        severity="critical",
        summary="{right} raises {left} levels: dose-related QT prolongation and sudden death",
        mechanism="These drugs reduce thioridazine clearance (CYP2D6 inhibition by fluoxetine and "
        "paroxetine; fluvoxamine and propranolol by other routes); thioridazine prolongs QT in "
        "proportion to its level.",
        management=(
            "Do not give thioridazine with the interacting drug.",
            TELL_NOW,
            "If both were given, ask for an ECG.",
        ),
        source="thioridazine US PI, boxed warning and Contraindications (fluvoxamine, propranolol, pindolol, "
        "CYP2D6 inhibitors such as fluoxetine and paroxetine)",
    ),
    LabelledPair(
        id="citalopram-cyp2c19-inhibitor",
        left=("citalopram",),
        right=("omeprazole", "esomeprazole", "cimetidine"),
        severity="moderate",
        summary="{right} raises {left} levels: the label caps {left} at 20 mg a day (QT prolongation)",
        mechanism="Citalopram is cleared by CYP2C19; inhibitors raise its levels, and citalopram prolongs QT "
        "in proportion to dose.",
        management=(
            "Give citalopram only if the dose is 20 mg a day or less; otherwise ask the prescriber first.",
            "Report palpitations or fainting at once.",
        ),
        source="Celexa (citalopram) US PI, 2 Dosage and Administration (20 mg maximum with CYP2C19 "
        "inhibitors such as cimetidine); FDA Drug Safety Communication, 28 March 2012",
    ),
    LabelledPair(
        id="tramadol-strong-cyp2d6-inhibitor",
        left=("tramadol",),
        right=("fluoxetine", "paroxetine", "bupropion"),
        severity="major",
        summary="{right} adds serotonin and blocks {left} activation: seizures and serotonin syndrome",
        mechanism="These strong CYP2D6 inhibitors stop tramadol turning into its active opioid (less pain "
        "relief) while tramadol itself builds up; seizure and serotonin syndrome risk rise.",
        management=(
            "Check with the prescriber before giving tramadol: another painkiller is often better.",
            "If given, watch for agitation, tremor, fever, twitching or fits and report at once.",
        ),
        source="Ultram (tramadol) US PI, boxed warning (interactions with drugs affecting cytochrome P450) "
        "and 7 Drug Interactions (CYP2D6 inhibitors; serotonergic drugs)",
    ),
    LabelledPair(
        id="codeine-strong-cyp2d6-inhibitor",
        left=("codeine",),
        right=STRONG_CYP2D6,
        severity="moderate",
        summary="{right} blocks the activation of {left} to morphine: poor pain relief",
        mechanism="Codeine works through morphine made by CYP2D6; strong CYP2D6 inhibitors reduce that, and "
        "stopping the inhibitor later can raise morphine levels.",
        management=(
            "Give as prescribed and ask the patient about pain relief an hour after each dose.",
            "Tell the prescriber if pain is not controlled, or if the inhibitor is stopped.",
        ),
        source="codeine sulfate US PI, 7 Drug Interactions (CYP2D6 inhibitors)",
    ),
    LabelledPair(
        id="tizanidine-fluvoxamine-ciprofloxacin",
        left=("tizanidine",),
        right=("fluvoxamine", "ciprofloxacin"),
        severity="critical",
        summary="{right} raises {left} levels 10- to 33-fold: severe low blood pressure and sedation",
        mechanism="Tizanidine is cleared by CYP1A2; fluvoxamine raised its exposure 33-fold and "
        "ciprofloxacin 10-fold.",
        management=(
            "Do not give tizanidine with the interacting drug.",
            TELL_BEFORE_NEXT,
            "If both were given, check blood pressure and alertness every hour for 4 hours.",
        ),
        source="Zanaflex (tizanidine) US PI, 4 Contraindications (fluvoxamine, ciprofloxacin)",
    ),
    LabelledPair(
        id="clozapine-strong-cyp1a2-inhibitor",
        left=("clozapine",),
        right=("fluvoxamine", "ciprofloxacin"),
        severity="major",
        summary="{right} raises {left} levels: the label cuts {left} to a third of its dose",
        mechanism="Clozapine is cleared mainly by CYP1A2; strong inhibitors raise its levels several fold "
        "(seizures, sedation, hypotension).",
        management=(
            "Hold clozapine and check the dose with the prescriber before giving it.",
            "Report drowsiness, fainting, fast pulse or fits at once.",
        ),
        source="Clozaril (clozapine) US PI, 2 Dosage and Administration and 7 Drug Interactions (strong "
        "CYP1A2 inhibitors: one third of the dose)",
    ),
    LabelledPair(
        id="valproate-carbapenem",
        left=("valproate",),
        right=("meropenem", "ertapenem", "imipenem"),
        severity="major",
        summary="{right} lowers {left} levels within a day: risk of seizures",
        mechanism="Carbapenems block the recycling of valproate glucuronide back to valproate; levels fall "
        "below the therapeutic range within 24 hours and raising the dose does not fix it.",
        management=(
            "Check with the prescriber before giving the carbapenem: another antibiotic or an extra "
            "anticonvulsant is usually needed.",
            "Watch for seizures and report any at once.",
        ),
        source="Merrem (meropenem) US PI, 5 Warnings and 7 Drug Interactions (valproic acid: not "
        "recommended); Depakote (divalproex) US PI, 7 Drug Interactions (carbapenem antibiotics)",
    ),
    LabelledPair(
        id="lamotrigine-valproate",
        left=("lamotrigine",),
        right=("valproate",),
        severity="major",
        summary="{right} doubles {left} levels: serious rash (Stevens-Johnson) risk",
        mechanism="Valproate inhibits lamotrigine glucuronidation and about doubles its levels; the boxed "
        "warning names valproate as a risk factor for serious rash.",
        management=(
            "Check with the prescriber that the lamotrigine dose is the reduced valproate dose before "
            "giving it.",
            "Report any rash, fever or mouth sores at once.",
        ),
        source="Lamictal (lamotrigine) US PI, boxed warning (serious skin rashes: coadministration with "
        "valproate) and 2 Dosage and Administration",
    ),
    LabelledPair(
        id="lithium-thiazide",
        left=("lithium",),
        right=THIAZIDES,
        severity="moderate",
        summary="{right} lowers {left} clearance: lithium levels rise by about a quarter or more",
        mechanism="Thiazide-induced sodium loss makes the kidney reabsorb lithium; lithium levels rise, and "
        "lithium toxicity can occur at levels close to the usual range.",
        management=(
            "Give both as prescribed.",
            "Ask for a lithium level within 5 days of starting or changing the diuretic.",
            "Report tremor, confusion, vomiting, diarrhoea or unsteadiness the same day.",
        ),
        source="lithium carbonate US PI, 7 Drug Interactions (diuretics: monitor lithium, adjust the dose); "
        "boxed warning (lithium toxicity)",
    ),
    LabelledPair(
        id="lithium-ace-inhibitor-arb",
        left=("lithium",),
        right=ACE_INHIBITORS + ARBS,
        severity="moderate",
        summary="{right} lowers {left} clearance: lithium levels can rise into the toxic range",
        mechanism="ACE inhibitors and angiotensin receptor blockers reduce sodium and lithium excretion; "
        "lithium levels rise, with reported toxicity.",
        management=(
            "Give both as prescribed.",
            "Ask for a lithium level within a week of starting or changing the dose.",
            "Report tremor, confusion, vomiting, diarrhoea or unsteadiness the same day.",
        ),
        source="lithium carbonate US PI, 7 Drug Interactions (ACE inhibitors, angiotensin receptor "
        "blockers: monitor lithium, adjust the dose)",
    ),
    LabelledPair(
        id="lithium-nsaid",
        left=("lithium",),
        right=NSAIDS,
        severity="moderate",
        summary="{right} lowers {left} clearance: lithium levels can rise by up to 40%",
        mechanism="NSAIDs reduce renal prostaglandins and lithium excretion; lithium levels rise.",
        management=(
            "Give both as prescribed; paracetamol is the safer regular painkiller.",
            "Ask for a lithium level within 5 days if the NSAID continues.",
            "Report tremor, confusion, vomiting, diarrhoea or unsteadiness the same day.",
        ),
        source="lithium carbonate US PI, 7 Drug Interactions (NSAIDs: monitor lithium, adjust the dose)",
    ),
)
