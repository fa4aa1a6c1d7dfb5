"""Heart and circulation: nitrates and PDE5 inhibitors, statins, colchicine, antiarrhythmics, digoxin,
sacubitril.

See :mod:`alertsvc.knowledge.curated_pairs` for what each field and severity means."""

from __future__ import annotations

from alertsvc.knowledge.curated_pairs.labelled_pair import (
    ACE_INHIBITORS,
    NITRATES,
    PDE5,
    TELL_BEFORE_NEXT,
    TELL_NOW,
    LabelledPair,
)

PAIRS: tuple[LabelledPair, ...] = (
    LabelledPair(
        id="pde5-inhibitor-nitrate",
        left=PDE5,
        right=NITRATES,
        severity="critical",
        summary="{left} with {right} can drop blood pressure to a life-threatening level",
        mechanism="Nitrates release nitric oxide and PDE5 inhibitors stop the breakdown of the cyclic GMP it "
        "makes; together they relax blood vessels so much that blood pressure can collapse.",
        management=(
            "Do not give the nitrate or the PDE5 inhibitor.",
            TELL_NOW,
            "If chest pain needs treatment, call the medical team: no nitrate within 24 hours of "
            "sildenafil or vardenafil, or 48 hours of tadalafil.",
        ),
        source="Viagra (sildenafil), Cialis (tadalafil), Levitra (vardenafil) US PI, 4 Contraindications "
        "(nitrates in any form)",
    ),
    LabelledPair(
        id="pde5-inhibitor-riociguat",
        left=PDE5,
        right=("riociguat",),
        severity="critical",
        summary="{left} with {right} can drop blood pressure to a life-threatening level",
        mechanism="Riociguat stimulates guanylate cyclase and PDE5 inhibitors stop cyclic GMP breakdown: "
        "additive vasodilation and severe hypotension.",
        management=(
            "Do not give either drug until the prescriber has chosen one.",
            TELL_NOW,
            "Check blood pressure if a dose of both was given.",
        ),
        source="Adempas (riociguat) US PI, 4 Contraindications (PDE inhibitors); Viagra, Cialis, Levitra US "
        "PI, 4 Contraindications (guanylate cyclase stimulators)",
    ),
    LabelledPair(
        id="riociguat-nitrate",
        left=("riociguat",),
        right=NITRATES,
        severity="critical",
        summary="{left} with {right} can drop blood pressure to a life-threatening level",
        mechanism="Riociguat and nitric oxide donors both raise cyclic GMP: additive vasodilation and severe "
        "hypotension.",
        management=(
            "Do not give the nitrate or riociguat.",
            TELL_NOW,
            "If chest pain needs treatment, call the medical team for a treatment without nitrates.",
        ),
        source="Adempas (riociguat) US PI, 4 Contraindications (nitrates or nitric oxide donors in any form)",
    ),
    LabelledPair(
        id="simvastatin-lovastatin-strong-cyp3a-inhibitor",
        left=("simvastatin", "lovastatin"),
        right=(
            "itraconazole",
            "ketoconazole",
            "posaconazole",
            "voriconazole",
            "clarithromycin",
            "erythromycin",
            "ritonavir",
            "cobicistat",
            "nelfinavir",
            "atazanavir",
            "darunavir",
            "lopinavir",
            "nefazodone",
        ),
        severity="critical",
        summary="{right} raises {left} levels many times over: risk of muscle breakdown (rhabdomyolysis)",
        mechanism="Simvastatin and lovastatin are cleared almost entirely by CYP3A4; a strong CYP3A4 "
        "inhibitor raises their exposure up to about 10-fold or more, causing myopathy and rhabdomyolysis.",
        management=(
            "Do not give the statin while the interacting drug is prescribed.",
            TELL_BEFORE_NEXT,
            "Ask the patient about muscle pain, weakness or dark urine and report any at once.",
        ),
        source="Zocor (simvastatin) US PI, 4 Contraindications; lovastatin US PI, Contraindications (strong "
        "CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="simvastatin-gemfibrozil-cyclosporine-danazol",
        left=("simvastatin",),
        right=("gemfibrozil", "cyclosporine", "danazol"),
        severity="critical",
        summary="{right} raises {left} levels: risk of muscle breakdown (rhabdomyolysis)",
        mechanism="Gemfibrozil and cyclosporine block simvastatin's uptake and breakdown (OATP1B1, CYP3A4, "
        "glucuronidation); danazol inhibits CYP3A4. Myopathy and rhabdomyolysis follow.",
        management=(
            "Do not give simvastatin while the interacting drug is prescribed.",
            TELL_BEFORE_NEXT,
            "Ask the patient about muscle pain, weakness or dark urine and report any at once.",
        ),
        source="Zocor (simvastatin) US PI, 4 Contraindications (gemfibrozil, cyclosporine, danazol)",
    ),
    LabelledPair(
        id="simvastatin-10mg-cap",
        left=("simvastatin",),
        right=("verapamil", "diltiazem", "dronedarone"),
        severity="major",
        summary="{right} raises {left} levels: the label caps {left} at 10 mg a day (muscle damage)",
        mechanism="Verapamil, diltiazem and dronedarone inhibit CYP3A4 and raise simvastatin exposure "
        "several fold; above 10 mg a day the risk of myopathy rises sharply.",
        management=(
            "Check the simvastatin dose before giving it: more than 10 mg a day must not be given.",
            "If the dose is above 10 mg, hold it and tell the prescriber before the next dose.",
            "Ask the patient about muscle pain or weakness and report any.",
        ),
        source="Zocor (simvastatin) US PI, 2 Dosage and Administration and 7 Drug Interactions (do not "
        "exceed 10 mg with verapamil, diltiazem or dronedarone)",
    ),
    LabelledPair(
        id="simvastatin-20mg-cap",
        left=("simvastatin",),
        right=("amiodarone", "amlodipine", "ranolazine", "lomitapide"),
        severity="moderate",
        summary="{right} raises {left} levels: the label caps {left} at 20 mg a day (muscle damage)",
        mechanism="These drugs raise simvastatin exposure (CYP3A4 inhibition); the myopathy risk grows with "
        "simvastatin doses above 20 mg a day.",
        management=(
            "Give simvastatin only if the dose is 20 mg a day or less; otherwise ask the prescriber first.",
            "Ask the patient daily about muscle pain or weakness and report any.",
        ),
        source="Zocor (simvastatin) US PI, 2 Dosage and Administration and 7 Drug Interactions (do not "
        "exceed 20 mg with amiodarone, amlodipine, ranolazine or lomitapide)",
    ),
    LabelledPair(
        id="lovastatin-20mg-cap",
        left=("lovastatin",),
        right=("danazol", "diltiazem", "dronedarone", "verapamil"),
        severity="major",
        summary="{right} raises {left} levels: the label caps {left} at 20 mg a day (muscle damage)",
        mechanism="These drugs inhibit lovastatin's CYP3A4 clearance; the label starts lovastatin at 10 mg "
        "and allows no more than 20 mg a day with them.",
        management=(
            "Check the lovastatin dose before giving it: more than 20 mg a day must not be given.",
            "If the dose is above 20 mg, hold it and tell the prescriber before the next dose.",
            "Ask the patient about muscle pain or weakness and report any.",
        ),
        source="lovastatin US PI, Dosage and Administration (patients taking danazol, diltiazem, dronedarone "
        "or verapamil)",
    ),
    LabelledPair(
        id="rosuvastatin-cyclosporine",
        left=("rosuvastatin",),
        right=("cyclosporine",),
        severity="major",
        summary="{right} raises {left} levels about 7-fold: the label caps {left} at 5 mg a day",
        mechanism="Cyclosporine blocks the liver uptake transporter OATP1B1 and BCRP, raising rosuvastatin "
        "exposure about 7-fold: myopathy and rhabdomyolysis.",
        management=(
            "Check the rosuvastatin dose before giving it: more than 5 mg a day must not be given.",
            "If the dose is above 5 mg, hold it and tell the prescriber before the next dose.",
            "Ask the patient about muscle pain or weakness and report any.",
        ),
        source="Crestor (rosuvastatin) US PI, 2 Dosage and Administration and 7 Drug Interactions "
        "(cyclosporine: do not exceed 5 mg once daily)",
    ),
    LabelledPair(
        id="rosuvastatin-gemfibrozil",
        left=("rosuvastatin",),
        right=("gemfibrozil",),
        severity="major",
        summary="{right} roughly doubles {left} levels: risk of muscle breakdown (rhabdomyolysis)",
        mechanism="Gemfibrozil inhibits rosuvastatin uptake into the liver and adds its own myopathy risk; "
        "the label says avoid, or keep rosuvastatin at 10 mg a day or less.",
        management=(
            "Hold rosuvastatin and check with the prescriber before giving it.",
            "Ask the patient about muscle pain, weakness or dark urine and report any.",
        ),
        source="Crestor (rosuvastatin) US PI, 7 Drug Interactions (gemfibrozil: avoid; if used, do not "
        "exceed 10 mg)",
    ),
    LabelledPair(
        id="atorvastatin-cyclosporine",
        left=("atorvastatin",),
        right=("cyclosporine",),
        severity="major",
        summary="{right} raises {left} levels several fold: risk of muscle breakdown",
        mechanism="Cyclosporine inhibits CYP3A4 and OATP1B1, raising atorvastatin exposure about 8-fold: "
        "myopathy and rhabdomyolysis.",
        management=(
            "Hold atorvastatin and check with the prescriber before giving it.",
            "Ask the patient about muscle pain, weakness or dark urine and report any.",
        ),
        source="Lipitor (atorvastatin) US PI, 7 Drug Interactions (cyclosporine: avoid)",
    ),
    LabelledPair(
        id="colchicine-strong-cyp3a-or-pgp-inhibitor",
        left=("colchicine",),
        right=(
            "clarithromycin",
            "ketoconazole",
            "itraconazole",
            "ritonavir",
            "atazanavir",
            "darunavir",
            "lopinavir",
            "nelfinavir",
            "cyclosporine",
        ),
        severity="major",
        summary="{right} raises {left} levels: fatal toxicity; contraindicated in kidney or liver disease",
        mechanism="Colchicine is cleared by CYP3A4 and P-glycoprotein; blocking them raises its levels. "
        "Deaths are reported (clarithromycin especially), and the label contraindicates the pair when the "
        "kidneys or liver are impaired.",
        management=(
            "Hold colchicine and check with the prescriber before giving it.",
            "Tell the prescriber at once if the patient has kidney or liver impairment: the pair must not "
            "be given.",
            "Report diarrhoea, vomiting, muscle pain or weakness at once.",
        ),
        source="Colcrys (colchicine) US PI, 4 Contraindications (renal or hepatic impairment), 5.1 and "
        "7 Drug Interactions (dose reduction)",
    ),
    LabelledPair(
        id="colchicine-moderate-cyp3a-inhibitor",
        left=("colchicine",),
        right=("diltiazem", "verapamil", "fluconazole", "erythromycin"),
        severity="moderate",
        summary="{right} raises {left} levels: the {left} dose needs reducing",
        mechanism="Moderate CYP3A4 inhibitors raise colchicine exposure; the label reduces the colchicine "
        "dose and asks for monitoring for toxicity.",
        management=(
            "Give colchicine only at the reduced dose prescribed for this combination.",
            "Report diarrhoea, vomiting, muscle pain or weakness the same day.",
        ),
        source="Colcrys (colchicine) US PI, 2 Dosage and Administration and 7 Drug Interactions (moderate "
        "CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="dofetilide-contraindicated",
        left=("dofetilide",),
        right=(
            "verapamil",
            "cimetidine",
            "trimethoprim",
            "ketoconazole",
            "prochlorperazine",
            "dolutegravir",
            "megestrol",
            "hydrochlorothiazide",
            "bictegravir",
        ),
        severity="critical",
        summary="{right} raises {left} levels or its QT effect: risk of torsades de pointes",
        mechanism="These drugs block dofetilide's renal cation secretion (cimetidine, trimethoprim, "
        "ketoconazole, prochlorperazine, dolutegravir, bictegravir, megestrol), raise its levels "
        "(verapamil) or add "
        "QT prolongation through low potassium (hydrochlorothiazide).",
        management=(
            "Do not give the interacting drug with dofetilide.",
            TELL_NOW,
            "If both were given, ask for an ECG to check the QT interval.",
        ),
        source="Tikosyn (dofetilide) US PI, Contraindications (verapamil, cimetidine, trimethoprim alone or "
        "with sulfamethoxazole, ketoconazole, prochlorperazine, dolutegravir, megestrol, "
        "hydrochlorothiazide); Biktarvy (bictegravir/emtricitabine/tenofovir alafenamide) US PI, 4 "
        "Contraindications (dofetilide)",
    ),
    LabelledPair(
        id="dronedarone-strong-cyp3a-inhibitor",
        left=("dronedarone",),
        right=(
            "ketoconazole",
            "itraconazole",
            "voriconazole",
            "cyclosporine",
            "clarithromycin",
            "nefazodone",
            "ritonavir",
        ),
        severity="critical",
        summary="{right} raises {left} levels many times over: risk of QT prolongation and arrhythmia",
        mechanism="Dronedarone is cleared by CYP3A4; ketoconazole raised its exposure 17-fold. Levels this "
        "high prolong the QT interval.",
        management=(
            "Do not give dronedarone with the interacting drug.",
            TELL_NOW,
            "If both were given, ask for an ECG.",
        ),
        source="Multaq (dronedarone) US PI, 4 Contraindications (strong CYP3A inhibitors)",
    ),
    LabelledPair(
        id="ritonavir-antiarrhythmic",
        left=("ritonavir",),
        right=("amiodarone", "flecainide", "propafenone", "quinidine"),
        severity="critical",
        summary="{left} raises {right} levels: risk of life-threatening arrhythmia",
        mechanism="Ritonavir strongly inhibits CYP3A4 and CYP2D6, which clear these antiarrhythmics; their "
        "levels rise into the range that causes arrhythmias.",
        management=(
            "Do not give the antiarrhythmic with ritonavir.",
            TELL_NOW,
            "If both were given, ask for an ECG.",
        ),
        source="Norvir (ritonavir) US PI, 4 Contraindications (amiodarone, flecainide, propafenone, "
        "quinidine)",
    ),
    LabelledPair(
        id="digoxin-pgp-inhibitor",
        left=("digoxin",),
        right=(
            "amiodarone",
            "dronedarone",
            "clarithromycin",
            "verapamil",
            "propafenone",
            "quinidine",
            "itraconazole",
            "ritonavir",
        ),
        severity="major",
        summary="{right} raises {left} levels by more than half: risk of digoxin toxicity",
        mechanism="These drugs block P-glycoprotein, which removes digoxin through the kidney and gut; "
        "digoxin levels rise by more than 50% and the label cuts the digoxin dose by 30-50%.",
        management=(
            "Hold digoxin and check with the prescriber before giving it: the dose usually needs cutting.",
            "Check pulse before any dose; do not give if below 60 a minute and report it.",
            "Ask for a digoxin level and report nausea, vomiting or visual changes.",
        ),
        source="Lanoxin (digoxin) US PI, 7.1 Drug Interactions table (measure levels, reduce dose by "
        "30-50%); Multaq (dronedarone) US PI, 7 (halve the digoxin dose)",
    ),
    LabelledPair(
        id="sacubitril-ace-inhibitor",
        left=("sacubitril",),
        right=ACE_INHIBITORS,
        severity="critical",
        summary="{left} with {right} greatly raises the risk of angioedema",
        mechanism="Neprilysin inhibition by sacubitril and ACE inhibition both stop bradykinin breakdown; "
        "together they cause angioedema. A 36-hour gap is required.",
        management=(
            "Do not give the ACE inhibitor or sacubitril/valsartan.",
            TELL_NOW,
            "Leave 36 hours between the last ACE inhibitor dose and the first sacubitril dose.",
        ),
        source="Entresto (sacubitril/valsartan) US PI, 4 Contraindications (ACE inhibitors, within 36 hours)",
    ),
)
