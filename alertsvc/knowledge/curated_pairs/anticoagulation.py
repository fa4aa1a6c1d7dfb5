"""Anticoagulants and antiplatelets: direct oral anticoagulants, ticagrelor, clopidogrel, warfarin.

See :mod:`alertsvc.knowledge.curated_pairs` for what each field and severity means."""

from __future__ import annotations

from alertsvc.knowledge.curated_pairs.labelled_pair import (
    FLUOROQUINOLONES,
    STRONG_CYP3A_INDUCERS,
    TELL_NOW,
    LabelledPair,
)

PAIRS: tuple[LabelledPair, ...] = (
    LabelledPair(
        id="apixaban-strong-cyp3a-pgp-inhibitor",
        left=("apixaban",),
        right=("ketoconazole", "itraconazole", "ritonavir"),
        severity="major",
        summary="{right} roughly doubles {left} levels: higher bleeding risk",
        mechanism="Apixaban is cleared by CYP3A4 and P-glycoprotein; combined strong inhibitors double its "
        "exposure. The label halves the dose, or avoids the pair at 2.5 mg twice daily.",
        management=(
            "Hold apixaban and check the dose with the prescriber before giving it.",
            "Watch for bleeding: gums, urine, stools, bruising; report any at once.",
        ),
        source="Eliquis (apixaban) US PI, 2 Dosage and Administration and 7.1 (combined P-gp and strong "
        "CYP3A4 inhibitors)",
    ),
    LabelledPair(
        id="rivaroxaban-strong-cyp3a-pgp-inhibitor",
        left=("rivaroxaban",),
        right=("ketoconazole", "itraconazole", "ritonavir", "lopinavir"),
        severity="major",
        summary="{right} raises {left} levels: higher bleeding risk",
        mechanism="Rivaroxaban is cleared by CYP3A4 and P-glycoprotein; ketoconazole and ritonavir raised "
        "its exposure about 2.5-fold. The label says avoid.",
        management=(
            "Hold rivaroxaban and check with the prescriber before giving it.",
            "Watch for bleeding: gums, urine, stools, bruising; report any at once.",
        ),
        source="Xarelto (rivaroxaban) US PI, 7.2 (avoid combined P-gp and strong CYP3A inhibitors)",
    ),
    LabelledPair(
        id="apixaban-rivaroxaban-strong-inducer",
        left=("apixaban", "rivaroxaban"),
        right=STRONG_CYP3A_INDUCERS,
        severity="major",
        summary="{right} lowers {left} levels by about half: risk of stroke or clot",
        mechanism="Combined P-glycoprotein and strong CYP3A4 inducers lower apixaban and rivaroxaban "
        "exposure (rifampin by about 50%); both labels say avoid.",
        management=(
            "Hold the inducer and check with the prescriber before giving it.",
            "Keep giving the anticoagulant unless the prescriber changes it.",
        ),
        source="Eliquis (apixaban) US PI, 7.2; Xarelto (rivaroxaban) US PI, 7.3 (avoid combined P-gp and "
        "strong CYP3A inducers)",
    ),
    LabelledPair(
        id="dabigatran-pgp-inhibitor",
        left=("dabigatran etexilate",),
        right=("dronedarone", "ketoconazole"),
        severity="major",
        summary="{right} raises {left} levels: bleeding risk; the dose depends on kidney function",
        mechanism="Dronedarone and systemic ketoconazole block P-glycoprotein and raise dabigatran exposure "
        "2- to 2.5-fold; the label reduces the dose at moderate renal impairment and avoids the pair "
        "when creatinine clearance is below 30 mL/min.",
        management=(
            "Hold dabigatran and check the dose and kidney function with the prescriber before giving it.",
            "Watch for bleeding: gums, urine, stools, bruising; report any at once.",
        ),
        source="Pradaxa (dabigatran etexilate) US PI, 2 Dosage and Administration and 7 Drug Interactions "
        "(P-gp inhibitors)",
    ),
    LabelledPair(
        id="dabigatran-edoxaban-rifampin",
        left=("dabigatran etexilate", "edoxaban"),
        right=("rifampin",),
        severity="major",
        summary="{right} lowers {left} levels: risk of stroke or clot",
        mechanism="Rifampin induces P-glycoprotein and lowers dabigatran exposure by about two thirds and "
        "edoxaban's by about a third; both labels say avoid.",
        management=(
            "Hold rifampin and check with the prescriber before giving it.",
            "Keep giving the anticoagulant unless the prescriber changes it.",
        ),
        source="Pradaxa (dabigatran etexilate) US PI, 7 Drug Interactions (avoid P-gp inducers such as "
        "rifampin); Savaysa (edoxaban) US PI, 7 Drug Interactions (avoid rifampin)",
    ),
    LabelledPair(
        id="ticagrelor-itraconazole",
        left=("ticagrelor",),
        right=("itraconazole",),
        severity="critical",
        summary="{right} raises {left} levels several fold: serious bleeding risk",
        mechanism="Itraconazole strongly inhibits CYP3A4, which clears ticagrelor (ketoconazole raised its "
        "exposure 7-fold).",
        management=(
            "Do not give itraconazole with ticagrelor.",
            TELL_NOW,
            "Watch for bleeding: gums, urine, stools, bruising; report any at once.",
        ),
        source="Sporanox (itraconazole) US PI, 4 Contraindications (ticagrelor); Brilinta (ticagrelor) US "
        "PI, 7.1 (avoid strong CYP3A inhibitors)",
    ),
    LabelledPair(
        id="ticagrelor-strong-cyp3a-inhibitor",
        left=("ticagrelor",),
        right=(
            "ketoconazole",
            "voriconazole",
            "clarithromycin",
            "nefazodone",
            "ritonavir",
            "nelfinavir",
            "atazanavir",
        ),
        severity="major",
        summary="{right} raises {left} levels several fold: serious bleeding risk",
        mechanism="Ticagrelor is cleared by CYP3A4; ketoconazole raised its exposure 7-fold. The label says "
        "avoid strong CYP3A inhibitors.",
        management=(
            "Hold the interacting drug and check with the prescriber before giving it.",
            "Do not stop ticagrelor without the prescriber: stent thrombosis risk.",
            "Watch for bleeding and report any at once.",
        ),
        source="Brilinta (ticagrelor) US PI, 7.1 (avoid strong CYP3A inhibitors)",
    ),
    LabelledPair(
        id="ticagrelor-strong-inducer",
        left=("ticagrelor",),
        right=("rifampin", "phenytoin", "carbamazepine", "phenobarbital"),
        severity="major",
        summary="{right} lowers {left} levels by about 85%: risk of stent thrombosis or heart attack",
        mechanism="Strong CYP3A inducers lower ticagrelor exposure (rifampin by about 86%); the label says "
        "avoid.",
        management=(
            "Hold the inducer and check with the prescriber before giving it.",
            "Keep giving ticagrelor unless the prescriber changes it.",
        ),
        source="Brilinta (ticagrelor) US PI, 7.2 (avoid strong CYP3A inducers)",
    ),
    LabelledPair(
        id="clopidogrel-omeprazole-esomeprazole",
        left=("clopidogrel",),
        right=("omeprazole", "esomeprazole"),
        severity="major",
        summary="{right} blocks the activation of {left}: weaker protection against heart attack or stroke",
        mechanism="Clopidogrel is a prodrug activated by CYP2C19; omeprazole and esomeprazole inhibit "
        "CYP2C19 and reduce its antiplatelet effect, even when doses are 12 hours apart.",
        management=(
            "Check with the prescriber before giving the proton pump inhibitor.",
            "Ask whether pantoprazole or an H2 blocker can replace it.",
            "Keep giving clopidogrel.",
        ),
        source="Plavix (clopidogrel) US PI, 5.1 and 7 Drug Interactions (avoid omeprazole or esomeprazole)",
    ),
    LabelledPair(
        id="clopidogrel-repaglinide",
        left=("clopidogrel",),
        right=("repaglinide",),
        severity="major",
        summary="{left} raises {right} levels several fold: risk of severe hypoglycaemia",
        mechanism="Clopidogrel's glucuronide metabolite inhibits CYP2C8, which clears repaglinide; exposure "
        "rose about 4- to 5-fold.",
        management=(
            "Hold repaglinide and check with the prescriber before giving it (label: avoid, or at most "
            "4 mg a day).",
            "Check blood glucose before meals and at bedtime.",
        ),
        source="Plavix (clopidogrel) US PI, 7 Drug Interactions; Prandin (repaglinide) US PI, 7 Drug "
        "Interactions (clopidogrel)",
    ),
    LabelledPair(
        id="warfarin-amiodarone",
        left=("warfarin",),
        right=("amiodarone",),
        severity="major",
        summary="{right} raises {left} levels: the INR can double; the {left} dose needs cutting",
        mechanism="Amiodarone inhibits CYP2C9 and CYP3A4, which clear warfarin; the prothrombin time can "
        "rise by about 100%. The label cuts the warfarin dose by a third to a half.",
        management=(
            "Hold warfarin and check the dose with the prescriber before giving it.",
            "Check the INR within 3 days and then at least weekly.",
            "Report bleeding or bruising at once.",
        ),
        source="Cordarone (amiodarone) US PI, Precautions, Drug Interactions (warfarin: reduce dose by "
        "one-third to one-half); Coumadin (warfarin) US PI, 7.1 (CYP2C9 inhibitors)",
    ),
    LabelledPair(
        id="warfarin-cyp2c9-inhibiting-antimicrobial",
        left=("warfarin",),
        right=("fluconazole", "metronidazole", "sulfamethoxazole"),
        severity="major",
        summary="{right} raises {left} levels: the INR can rise sharply within days",
        mechanism="These antimicrobials inhibit CYP2C9, which clears S-warfarin (the more potent "
        "enantiomer); prothrombin time and bleeding risk rise within days.",
        management=(
            "Check with the prescriber before the next warfarin dose: it often needs lowering.",
            "Check the INR within 3 days of starting the antimicrobial.",
            "Report bleeding or bruising at once.",
        ),
        source="Diflucan (fluconazole), Flagyl (metronidazole), Bactrim (sulfamethoxazole/trimethoprim) US "
        "PI, Drug Interactions (oral anticoagulants); Coumadin (warfarin) US PI, 7.1 (CYP2C9 inhibitors)",
    ),
    LabelledPair(
        id="warfarin-miconazole",
        left=("warfarin",),
        right=("miconazole",),
        severity="major",
        summary="{right}, even as oral gel, raises {left} levels: fatal bleeding reported",
        mechanism="Miconazole inhibits CYP2C9; enough is swallowed from oral gel to raise the INR above 10 "
        "in reported cases, some fatal.",
        management=(
            "Hold the miconazole and check with the prescriber before giving it.",
            "Check the INR within 3 days if both are given.",
            "Report bleeding, bruising, nosebleeds or blood in the urine at once.",
        ),
        source="MHRA Drug Safety Update June 2016 and September 2017 (miconazole oral gel and warfarin); "
        "Oravig (miconazole buccal) US PI, 7 Drug Interactions (warfarin)",
    ),
    LabelledPair(
        id="warfarin-fluoroquinolone",
        left=("warfarin",),
        right=FLUOROQUINOLONES,
        severity="moderate",
        summary="{right} can raise the effect of {left}: INR rise and bleeding",
        mechanism="Fluoroquinolones enhance warfarin's effect (reduced clearance and changes in vitamin K "
        "producing gut flora); the labels ask for close INR monitoring.",
        management=(
            "Give both as prescribed.",
            "Check the INR within 3 to 5 days of starting the antibiotic.",
            "Report bleeding or bruising at once.",
        ),
        source="Cipro (ciprofloxacin), levofloxacin and Avelox (moxifloxacin) US PI, 7 Drug Interactions "
        "(warfarin: monitor prothrombin time and INR)",
    ),
)
