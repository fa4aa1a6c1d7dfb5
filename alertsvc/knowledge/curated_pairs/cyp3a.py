"""Drugs whose labels forbid or restrict strong CYP3A inhibitors or inducers.

See :mod:`alertsvc.knowledge.curated_pairs` for what each field and severity means."""

from __future__ import annotations

from alertsvc.knowledge.curated_pairs.labelled_pair import (
    STRONG_CYP3A_INDUCERS,
    TELL_BEFORE_NEXT,
    TELL_NOW,
    LabelledPair,
)

PAIRS: tuple[LabelledPair, ...] = (
    LabelledPair(
        id="pimozide-cyp3a-inhibitor",
        left=("pimozide",),
        right=(
            "clarithromycin",
            "erythromycin",
            "azithromycin",
            "ketoconazole",
            "itraconazole",
            "ritonavir",
            "nelfinavir",
            "nefazodone",
        ),
        severity="critical",
        summary="{right} raises {left} levels or adds QT prolongation: risk of sudden death",
        mechanism="Pimozide is cleared by CYP3A4 and prolongs the QT interval; macrolides, azoles, protease "
        "inhibitors and nefazodone raise its levels, and macrolides add QT prolongation.",
        management=(
            "Do not give pimozide with the interacting drug.",
            TELL_NOW,
            "If both were given, ask for an ECG.",
        ),
        source="Orap (pimozide) US PI, Contraindications (macrolide antibiotics, azole antifungals, protease "
        "inhibitors, nefazodone)",
    ),
    LabelledPair(
        id="ranolazine-strong-cyp3a-inhibitor",
        left=("ranolazine",),
        right=("ketoconazole", "itraconazole", "clarithromycin", "nefazodone", "nelfinavir", "ritonavir"),
        severity="critical",
        summary="{right} raises {left} levels about 3-fold: QT prolongation",
        mechanism="Ranolazine is cleared by CYP3A; strong inhibitors raise its exposure about 3-fold and it "
        "prolongs QT in proportion to its level.",
        management=(
            "Do not give ranolazine with the interacting drug.",
            TELL_BEFORE_NEXT,
            "If both were given, ask for an ECG.",
        ),
        source="Ranexa (ranolazine) US PI, 4 Contraindications (strong CYP3A inhibitors)",
    ),
    LabelledPair(
        id="ranolazine-cyp3a-inducer",
        left=("ranolazine",),
        right=(
            "rifampin",
            "rifabutin",
            "rifapentine",
            "phenobarbital",
            "phenytoin",
            "carbamazepine",
            "st. john's wort",
        ),
        severity="critical",
        summary="{right} lowers {left} levels by about 95%: angina is no longer controlled",
        mechanism="These drugs induce CYP3A; rifampin cut ranolazine exposure by about 95%.",
        management=(
            "Do not give ranolazine with the inducer.",
            TELL_BEFORE_NEXT,
            "Report any chest pain at once.",
        ),
        source="Ranexa (ranolazine) US PI, 4 Contraindications (CYP3A inducers)",
    ),
    LabelledPair(
        id="eplerenone-strong-cyp3a-inhibitor",
        left=("eplerenone",),
        right=("ketoconazole", "itraconazole", "nefazodone", "clarithromycin", "ritonavir", "nelfinavir"),
        severity="critical",
        summary="{right} raises {left} levels about 5-fold: risk of dangerous hyperkalaemia",
        mechanism="Eplerenone is cleared by CYP3A4; ketoconazole raised its exposure about 5-fold, and high "
        "levels retain potassium.",
        management=(
            "Do not give eplerenone with the interacting drug.",
            TELL_BEFORE_NEXT,
            "Ask for a potassium level if both were given.",
        ),
        source="Inspra (eplerenone) US PI, 4 Contraindications (strong CYP3A inhibitors)",
    ),
    LabelledPair(
        id="ivabradine-strong-cyp3a-inhibitor",
        left=("ivabradine",),
        right=("ketoconazole", "itraconazole", "clarithromycin", "nelfinavir", "nefazodone", "ritonavir"),
        severity="critical",
        summary="{right} raises {left} levels 7- to 8-fold: risk of severe bradycardia",
        mechanism="Ivabradine is cleared by CYP3A4; strong inhibitors raise its levels 7- to 8-fold and slow "
        "the heart rate too far.",
        management=(
            "Do not give ivabradine with the interacting drug.",
            TELL_BEFORE_NEXT,
            "Check pulse; report a rate below 50 a minute or dizziness at once.",
        ),
        source="Corlanor (ivabradine) US PI, 4 Contraindications (strong CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="ivabradine-diltiazem-verapamil",
        left=("ivabradine",),
        right=("diltiazem", "verapamil"),
        severity="major",
        summary="{right} raises {left} levels and slows the heart too: risk of severe bradycardia",
        mechanism="Diltiazem and verapamil inhibit CYP3A4 (raising ivabradine levels about 2- to 3-fold) and "
        "lower heart rate themselves.",
        management=(
            "Hold ivabradine and check with the prescriber before giving it.",
            "Check pulse; report a rate below 50 a minute or dizziness at once.",
        ),
        source="Corlanor (ivabradine) US PI, 7 Drug Interactions (avoid moderate CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="lurasidone-strong-cyp3a-inhibitor",
        left=("lurasidone",),
        right=("ketoconazole", "clarithromycin", "ritonavir", "voriconazole"),
        severity="critical",
        summary="{right} raises {left} levels about 9-fold: severe side effects",
        mechanism="Lurasidone is cleared by CYP3A4; ketoconazole raised its exposure about 9-fold.",
        management=(
            "Do not give lurasidone with the interacting drug.",
            TELL_BEFORE_NEXT,
            "Report stiffness, abnormal movements, fainting or drowsiness.",
        ),
        source="Latuda (lurasidone) US PI, 4 Contraindications (strong CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="lurasidone-strong-cyp3a-inducer",
        left=("lurasidone",),
        right=STRONG_CYP3A_INDUCERS,
        severity="critical",
        summary="{right} lowers {left} levels by about 80%: loss of effect",
        mechanism="Lurasidone is cleared by CYP3A4; rifampin cut its exposure about 5-fold.",
        management=(
            "Do not give lurasidone with the inducer.",
            TELL_BEFORE_NEXT,
            "Report worsening mood, agitation or psychosis.",
        ),
        source="Latuda (lurasidone) US PI, 4 Contraindications (strong CYP3A4 inducers)",
    ),
    LabelledPair(
        id="lomitapide-cyp3a-inhibitor",
        left=("lomitapide",),
        right=(
            "ketoconazole",
            "itraconazole",
            "clarithromycin",
            "ritonavir",
            "fluconazole",
            "diltiazem",
            "verapamil",
            "erythromycin",
        ),
        severity="critical",
        summary="{right} raises {left} levels many times over: risk of liver injury",
        mechanism="Lomitapide is cleared by CYP3A4; ketoconazole raised its exposure about 27-fold and "
        "moderate inhibitors also raise it. Lomitapide is hepatotoxic.",
        management=(
            "Do not give lomitapide with the interacting drug.",
            TELL_BEFORE_NEXT,
            "Report nausea, vomiting, abdominal pain or jaundice.",
        ),
        source="Juxtapid (lomitapide) US PI, boxed warning (hepatotoxicity) and 4 Contraindications (strong "
        "or moderate CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="flibanserin-cyp3a-inhibitor",
        left=("flibanserin",),
        right=(
            "ketoconazole",
            "itraconazole",
            "clarithromycin",
            "ritonavir",
            "fluconazole",
            "diltiazem",
            "verapamil",
            "erythromycin",
            "ciprofloxacin",
        ),
        severity="critical",
        summary="{right} raises {left} levels: severe low blood pressure and fainting",
        mechanism="Flibanserin is cleared by CYP3A4; moderate and strong inhibitors raise its levels several "
        "fold, causing severe hypotension and syncope.",
        management=(
            "Do not give flibanserin with the interacting drug.",
            TELL_BEFORE_NEXT,
            "Check blood pressure if both were given; keep the patient lying down if dizzy.",
        ),
        source="Addyi (flibanserin) US PI, boxed warning and 4 Contraindications (moderate or strong CYP3A4 "
        "inhibitors)",
    ),
    LabelledPair(
        id="triazolam-strong-cyp3a-inhibitor",
        left=("triazolam",),
        right=("ketoconazole", "itraconazole", "nefazodone", "ritonavir", "lopinavir", "nelfinavir"),
        severity="critical",
        summary="{right} raises {left} levels many times over: deep, prolonged sedation",
        mechanism="Triazolam is cleared by CYP3A; strong inhibitors raise its exposure many fold, causing "
        "profound sedation and breathing depression.",
        management=(
            "Do not give triazolam with the interacting drug.",
            "Tell the prescriber before bedtime so another hypnotic can be chosen.",
            "If both were given, check breathing and level of consciousness hourly overnight.",
        ),
        source="Halcion (triazolam) US PI, 4 Contraindications (strong CYP3A inhibitors)",
    ),
    LabelledPair(
        id="midazolam-strong-cyp3a-inhibitor",
        left=("midazolam",),
        right=("ketoconazole", "itraconazole", "ritonavir", "lopinavir", "nelfinavir", "clarithromycin"),
        severity="major",
        summary="{right} raises {left} levels: prolonged sedation; oral {left} is contraindicated",
        mechanism="Midazolam is cleared by CYP3A4; strong inhibitors raise oral midazolam exposure up to "
        "about 15-fold (contraindicated) and prolong the effect of intravenous doses.",
        management=(
            "Hold midazolam and check with the prescriber first: oral midazolam must not be given.",
            "If intravenous midazolam is given, use the reduced dose prescribed and monitor breathing and "
            "oxygen saturation continuously.",
        ),
        source="Sporanox (itraconazole) and Norvir (ritonavir) US PI, 4 Contraindications (oral midazolam); "
        "midazolam injection US PI, Drug Interactions (CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="tolvaptan-strong-cyp3a-inhibitor",
        left=("tolvaptan",),
        right=("ketoconazole", "itraconazole", "clarithromycin", "ritonavir"),
        severity="critical",
        summary="{right} raises {left} levels about 5-fold: too-rapid sodium rise",
        mechanism="Tolvaptan is cleared by CYP3A; ketoconazole raised its exposure about 5-fold, risking an "
        "overly rapid correction of sodium (osmotic demyelination).",
        management=(
            "Do not give tolvaptan with the interacting drug.",
            TELL_BEFORE_NEXT,
            "Ask for a sodium level if both were given.",
        ),
        source="Samsca (tolvaptan) US PI, 4 Contraindications (strong CYP3A inhibitors)",
    ),
    LabelledPair(
        id="naloxegol-strong-cyp3a-inhibitor",
        left=("naloxegol",),
        right=("ketoconazole", "itraconazole", "clarithromycin", "ritonavir"),
        severity="critical",
        summary="{right} raises {left} levels about 13-fold: opioid withdrawal and abdominal pain",
        mechanism="Naloxegol is cleared by CYP3A4; ketoconazole raised its exposure about 13-fold, enough to "
        "reverse opioid effects.",
        management=(
            "Do not give naloxegol with the interacting drug.",
            TELL_BEFORE_NEXT,
            "Report abdominal pain, sweating or other signs of opioid withdrawal.",
        ),
        source="Movantik (naloxegol) US PI, 4 Contraindications (strong CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="azole-methadone",
        left=("ketoconazole", "itraconazole"),
        right=("methadone",),
        severity="critical",
        summary="{left} raises {right} levels: QT prolongation and breathing depression",
        mechanism="Methadone is cleared by CYP3A4 among others; azole inhibition raises its levels, which "
        "prolongs QT and depresses breathing.",
        management=(
            "Do not give the azole with methadone.",
            TELL_NOW,
            "If both were given, check breathing and sedation and ask for an ECG.",
        ),
        source="Sporanox (itraconazole) US PI, 4 Contraindications; ketoconazole tablets US PI, 4 "
        "Contraindications (methadone)",
    ),
    LabelledPair(
        id="voriconazole-contraindicated",
        left=("voriconazole",),
        right=("sirolimus", "pimozide", "quinidine"),
        severity="critical",
        summary="{left} raises {right} levels: toxicity (QT prolongation for pimozide and quinidine)",
        mechanism="Voriconazole strongly inhibits CYP3A4; sirolimus exposure rose about 11-fold, and "
        "pimozide and quinidine levels rise enough to cause torsades de pointes.",
        management=(
            "Do not give the interacting drug with voriconazole.",
            TELL_NOW,
            "If both were given, ask for an ECG (and a sirolimus level).",
        ),
        source="Vfend (voriconazole) US PI, 4 Contraindications (sirolimus, pimozide, quinidine)",
    ),
    LabelledPair(
        id="voriconazole-inducer",
        left=("voriconazole",),
        right=("rifampin", "rifabutin", "carbamazepine", "phenobarbital", "st. john's wort"),
        severity="critical",
        summary="{right} lowers {left} levels sharply: the fungal infection may not respond",
        mechanism="These drugs induce the enzymes that clear voriconazole; rifampin cut its exposure by "
        "about 96%.",
        management=(
            "Do not give voriconazole with the inducer without the prescriber's review.",
            TELL_NOW,
            "Ask whether another antifungal is needed.",
        ),
        source="Vfend (voriconazole) US PI, 4 Contraindications (rifampin, rifabutin, carbamazepine, "
        "long-acting barbiturates, St John's wort)",
    ),
    LabelledPair(
        id="opioid-strong-cyp3a-inhibitor",
        left=("fentanyl", "oxycodone", "hydrocodone"),
        right=("ketoconazole", "itraconazole", "voriconazole", "posaconazole", "clarithromycin", "ritonavir"),
        severity="major",
        summary="{right} raises {left} levels: risk of fatal breathing depression",
        mechanism="These opioids are cleared by CYP3A4; strong inhibitors raise their levels and prolong "
        "their effect.",
        management=(
            "Check with the prescriber before the next opioid dose: it may need lowering.",
            "Check breathing rate and sedation every 2 hours overnight.",
            "Keep naloxone at hand; report a breathing rate under 10 a minute at once.",
        ),
        source="Duragesic (fentanyl), OxyContin (oxycodone), hydrocodone bitartrate ER US PI, boxed warning "
        "(cytochrome P450 3A4 interaction)",
    ),
)
