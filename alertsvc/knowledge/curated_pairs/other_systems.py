"""Other systems: cancer and immune drugs, blood glucose, theophylline, aminoglycosides, disulfiram,
ketorolac, potassium.

See :mod:`alertsvc.knowledge.curated_pairs` for what each field and severity means."""

from __future__ import annotations

from alertsvc.knowledge.curated_pairs.labelled_pair import (
    ACE_INHIBITORS,
    ARBS,
    FLUOROQUINOLONES,
    STRONG_CYP2D6,
    SULFONYLUREAS,
    TELL_BEFORE_NEXT,
    TELL_NOW,
    LabelledPair,
)

PAIRS: tuple[LabelledPair, ...] = (
    LabelledPair(
        id="methotrexate-cotrimoxazole",
        left=("methotrexate",),
        right=("trimethoprim", "sulfamethoxazole"),
        severity="major",
        summary="{right} raises {left} toxicity: risk of severe bone-marrow suppression",
        mechanism="Trimethoprim adds a second antifolate effect and sulfamethoxazole displaces methotrexate "
        "and cuts its renal secretion; fatal pancytopenia is reported, even with low weekly doses.",
        management=(
            "Hold the antibiotic and check with the prescriber before giving it.",
            "Ask for a full blood count if both were given.",
            "Report sore throat, fever, mouth ulcers or bruising at once.",
        ),
        source="methotrexate US PI, 7 Drug Interactions (trimethoprim/sulfamethoxazole: increased "
        "bone-marrow suppression); Medsafe Prescriber Update 43(1), March 2022",
    ),
    LabelledPair(
        id="allopurinol-thiopurine",
        left=("allopurinol",),
        right=("azathioprine", "mercaptopurine"),
        severity="major",
        summary="{left} blocks {right} breakdown: risk of life-threatening bone-marrow suppression",
        mechanism="Xanthine oxidase breaks down mercaptopurine (and azathioprine's active product); "
        "allopurinol blocks it and the labels cut the thiopurine dose to a third or a quarter.",
        management=(
            "Hold the thiopurine and check the dose with the prescriber before giving it.",
            "Ask for a full blood count.",
            "Report fever, sore throat or bruising at once.",
        ),
        source="Imuran (azathioprine) US PI, 7 Drug Interactions; Purixan (mercaptopurine) US PI, 2 and 7 "
        "(allopurinol: reduce to one third or one quarter)",
    ),
    LabelledPair(
        id="febuxostat-thiopurine",
        left=("febuxostat",),
        right=("azathioprine", "mercaptopurine"),
        severity="critical",
        summary="{left} blocks {right} breakdown: risk of life-threatening bone-marrow suppression",
        mechanism="Febuxostat inhibits xanthine oxidase, which breaks down mercaptopurine; thiopurine levels "
        "rise to toxic values.",
        management=(
            "Do not give febuxostat with the thiopurine.",
            TELL_NOW,
            "Ask for a full blood count if both were given.",
        ),
        source="Uloric (febuxostat) US PI, 4 Contraindications (azathioprine, mercaptopurine)",
    ),
    LabelledPair(
        id="tamoxifen-strong-cyp2d6-inhibitor",
        left=("tamoxifen",),
        right=STRONG_CYP2D6,
        severity="moderate",
        summary="{right} blocks the activation of {left} to endoxifen: weaker cancer protection",
        mechanism="Tamoxifen is activated to endoxifen mainly by CYP2D6; paroxetine lowers endoxifen levels "
        "by about two thirds.",
        management=(
            "Give both as prescribed.",
            "Tell the prescriber during the day so that an antidepressant without CYP2D6 inhibition can "
            "be considered.",
        ),
        source="FDA Drug Development and Drug Interactions: Table of Substrates, Inhibitors and Inducers "
        "(strong CYP2D6 inhibitors); CPIC guideline for CYP2D6 and tamoxifen (Goetz et al., Clin "
        "Pharmacol Ther 2018)",
    ),
    LabelledPair(
        id="fluoroquinolone-sulfonylurea",
        left=FLUOROQUINOLONES,
        right=SULFONYLUREAS,
        severity="major",
        summary="{left} with {right} can cause severe hypoglycaemia, even coma",
        mechanism="Fluoroquinolones disturb blood glucose; with a sulfonylurea severe and sometimes fatal "
        "hypoglycaemia is reported, mostly in older patients.",
        management=(
            "Check with the prescriber before giving the sulfonylurea: the dose may need lowering.",
            "Check blood glucose before meals, at bedtime and at 03:00.",
            "Treat glucose below 4 mmol/L (72 mg/dL) by the ward protocol and report it.",
        ),
        source="FDA Drug Safety Communication, 10 July 2018 (fluoroquinolones: serious low blood sugar); "
        "Cipro (ciprofloxacin) US PI, 5 Warnings (blood glucose disturbances) and 7 (antidiabetic agents)",
    ),
    LabelledPair(
        id="repaglinide-gemfibrozil",
        left=("repaglinide",),
        right=("gemfibrozil",),
        severity="critical",
        summary="{right} raises {left} levels about 8-fold: risk of severe, prolonged hypoglycaemia",
        mechanism="Gemfibrozil inhibits CYP2C8 and OATP1B1, raising repaglinide exposure about 8-fold.",
        management=(
            "Do not give repaglinide with gemfibrozil.",
            TELL_BEFORE_NEXT,
            "Check blood glucose now and before each meal.",
        ),
        source="Prandin (repaglinide) US PI, 4 Contraindications (gemfibrozil)",
    ),
    LabelledPair(
        id="theophylline-cyp1a2-inhibitor",
        left=("theophylline", "aminophylline"),
        right=("ciprofloxacin", "fluvoxamine"),
        severity="major",
        summary="{right} raises {left} levels: risk of seizures and arrhythmias",
        mechanism="Theophylline is cleared by CYP1A2; ciprofloxacin and fluvoxamine block it and "
        "theophylline levels rise into the toxic range (fluvoxamine about 3-fold).",
        management=(
            "Hold the theophylline and check with the prescriber before giving it: the dose usually "
            "needs cutting.",
            "Ask for a theophylline level.",
            "Report nausea, vomiting, palpitations or restlessness at once.",
        ),
        source="Cipro (ciprofloxacin) US PI, 5 Warnings (serious and fatal reactions with theophylline) and "
        "7 (avoid); Luvox (fluvoxamine) US PI, Drug Interactions (theophylline: one third of the dose)",
    ),
    LabelledPair(
        id="aminoglycoside-loop-diuretic",
        left=("gentamicin", "tobramycin", "amikacin"),
        right=("furosemide", "bumetanide", "torsemide", "ethacrynate"),
        severity="major",
        summary="{left} with {right} adds to the risk of permanent hearing loss and kidney injury",
        mechanism="Loop diuretics are themselves ototoxic and raise aminoglycoside levels in the inner ear "
        "and kidney; the boxed warning says to avoid potent diuretics.",
        management=(
            "Check with the prescriber before giving the next dose of either drug.",
            "Make sure aminoglycoside levels and creatinine are being checked.",
            "Report ringing in the ears, hearing loss, dizziness or falling urine output.",
        ),
        source="gentamicin, tobramycin, amikacin injection US PI, boxed warning (avoid potent diuretics such "
        "as ethacrynic acid and furosemide)",
    ),
    LabelledPair(
        id="disulfiram-metronidazole",
        left=("disulfiram",),
        right=("metronidazole",),
        severity="critical",
        summary="{left} with {right} can cause acute psychosis and confusion",
        mechanism="Psychotic reactions are reported when metronidazole is given with disulfiram or within "
        "two weeks of it.",
        management=(
            "Do not give metronidazole.",
            TELL_NOW,
            "Allow 2 weeks after the last disulfiram dose before metronidazole.",
        ),
        source="Flagyl (metronidazole) US PI, Contraindications (disulfiram within the last two weeks)",
    ),
    LabelledPair(
        id="ketorolac-nsaid-or-aspirin",
        left=("ketorolac",),
        right=("aspirin", "ibuprofen", "naproxen", "diclofenac", "indomethacin", "celecoxib", "meloxicam"),
        severity="critical",
        summary="{left} with {right} adds NSAID harm: stomach bleeding and kidney injury",
        mechanism="Ketorolac is a potent NSAID; with aspirin or another NSAID the risks of gastrointestinal "
        "bleeding, ulceration and kidney injury add up.",
        management=(
            "Do not give ketorolac while aspirin or another NSAID is prescribed.",
            TELL_BEFORE_NEXT,
            "Offer paracetamol if it is prescribed for pain.",
        ),
        source="Toradol (ketorolac) US PI, boxed warning and Contraindications (patients receiving aspirin "
        "or NSAIDs)",
    ),
    LabelledPair(
        id="eplerenone-potassium",
        left=("eplerenone",),
        right=("potassium chloride", "amiloride", "spironolactone", "triamterene"),
        severity="critical",
        summary="{left} with {right} can raise potassium to a dangerous level",
        mechanism="Eplerenone retains potassium; adding potassium or another potassium-sparing diuretic can "
        "cause life-threatening hyperkalaemia. The label contraindicates these with eplerenone for "
        "hypertension, and spironolactone's label contraindicates eplerenone.",
        management=(
            "Do not give the potassium or the second potassium-sparing drug.",
            TELL_BEFORE_NEXT,
            "Ask for a potassium level today.",
        ),
        source="Inspra (eplerenone) US PI, 4 Contraindications (potassium supplements, potassium-sparing "
        "diuretics); Aldactone (spironolactone) US PI, 4 Contraindications (eplerenone)",
    ),
    LabelledPair(
        id="amiloride-triamterene-potassium",
        left=("amiloride", "triamterene"),
        right=("potassium chloride", "spironolactone"),
        severity="critical",
        summary="{left} with {right} can raise potassium to a dangerous level",
        mechanism="Amiloride and triamterene retain potassium; with potassium supplements or another "
        "potassium-sparing diuretic, potassium can rise fast enough to stop the heart.",
        management=(
            "Do not give the potassium or the second potassium-sparing drug.",
            TELL_BEFORE_NEXT,
            "Ask for a potassium level today.",
        ),
        source="Midamor (amiloride) US PI, Contraindications (potassium supplementation, other "
        "potassium-conserving agents); Dyrenium (triamterene) US PI, Contraindications",
    ),
    LabelledPair(
        id="spironolactone-potassium",
        left=("spironolactone",),
        right=("potassium chloride",),
        severity="major",
        summary="{left} with {right} can raise potassium to a dangerous level",
        mechanism="Spironolactone retains potassium; potassium supplements should not ordinarily be given "
        "with it, and severe hyperkalaemia is reported.",
        management=(
            "Hold the potassium and check with the prescriber before giving it.",
            "Ask for a potassium level today.",
        ),
        source="Aldactone (spironolactone) US PI, 5.1 Hyperkalemia and 7 Drug Interactions (potassium "
        "supplements)",
    ),
    LabelledPair(
        id="trimethoprim-potassium-retaining",
        left=("trimethoprim",),
        right=("spironolactone", "eplerenone", *ACE_INHIBITORS, *ARBS),
        severity="moderate",
        summary="{left} with {right} can raise potassium, especially in older or kidney patients",
        mechanism="Trimethoprim blocks sodium channels in the distal tubule as amiloride does, so it retains "
        "potassium; with another potassium-retaining drug hyperkalaemia can develop.",
        management=(
            "Give both as prescribed.",
            "Ask for a potassium level within 3 days of starting trimethoprim.",
            "Report weakness, slow pulse or palpitations.",
        ),
        source="Bactrim (sulfamethoxazole/trimethoprim) US PI, Warnings (hyperkalemia) and Precautions",
    ),
)
