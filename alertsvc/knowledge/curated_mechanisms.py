"""Pharmacokinetic facts for mechanism-based rules: who inhibits or induces which enzyme or transporter,
whose levels depend on it, and what too much or too little of that drug does.

Source of the enzyme and transporter lists: FDA, "For Healthcare Professionals | FDA's Examples of Drugs
that Interact with CYP Enzymes and Transporter Systems" (Table 1; the definitions of strong and moderate
inhibitors and inducers and of sensitive substrates are FDA's, Tables 2 and 3). Narrow-therapeutic-range
substrates are those the FDA table marks so, completed with drugs whose US labelling requires level or INR
monitoring (named per entry). Transporters are not graded by FDA: the inhibitors it lists are taken as able
to raise a narrow-range substrate. Names are RxNorm ingredient names; the build reports any it cannot map.

The rules these facts make (``sources_mechanisms``):
- strong inhibitor + sensitive or narrow-range substrate: major; moderate inhibitor + narrow-range: major;
  moderate inhibitor + sensitive substrate, strong inhibitor + moderately sensitive substrate: moderate;
- inducer (strong or moderate) + narrow-range substrate: major (loss of effect); strong inducer + sensitive
  substrate: moderate;
- inhibitor of the enzyme that activates a prodrug: major when strong, moderate when moderate.
Labelled contraindications (critical) are specific pairs in ``curated_pairs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

FDA_TABLE = (
    "FDA, Examples of Drugs that Interact with CYP Enzymes and Transporter Systems (Table 1: inhibitors, "
    "inducers, sensitive substrates)"
)

Enzyme = Literal["CYP3A", "CYP2C9", "CYP2C19", "CYP1A2", "CYP2D6", "CYP2C8", "P-gp", "BCRP", "OATP1B"]
Strength = Literal["strong", "moderate"]

INHIBITORS: Final[dict[tuple[Enzyme, Strength], tuple[str, ...]]] = {
    ("CYP3A", "strong"): (
        "atazanavir", "ceritinib", "clarithromycin", "cobicistat", "darunavir", "idelalisib", "indinavir",
        "itraconazole", "ketoconazole", "lopinavir", "mifepristone", "nefazodone", "nelfinavir",
        "posaconazole", "ritonavir", "saquinavir", "telithromycin", "tucatinib", "voriconazole",
        "boceprevir", "telaprevir",
    ),
    ("CYP3A", "moderate"): (
        "aprepitant", "ciprofloxacin", "conivaptan", "crizotinib", "cyclosporine", "diltiazem",
        "dronedarone", "erythromycin", "fluconazole", "fluvoxamine", "imatinib", "verapamil",
        "isavuconazonium", "letermovir", "nilotinib", "ribociclib", "fosamprenavir", "netupitant",
    ),
    ("CYP2C9", "moderate"): ("amiodarone", "felbamate", "fluconazole", "miconazole", "piperine"),
    ("CYP2C19", "strong"): ("fluconazole", "fluoxetine", "fluvoxamine", "ticlopidine"),
    ("CYP2C19", "moderate"): ("esomeprazole", "felbamate", "moclobemide", "omeprazole", "voriconazole"),
    ("CYP1A2", "strong"): ("ciprofloxacin", "enoxacin", "fluvoxamine"),
    ("CYP1A2", "moderate"): ("methoxsalen", "mexiletine", "vemurafenib"),
    ("CYP2D6", "strong"): ("bupropion", "fluoxetine", "paroxetine", "quinidine", "terbinafine"),
    ("CYP2D6", "moderate"): ("abiraterone", "cinacalcet", "duloxetine", "mirabegron"),
    ("CYP2C8", "strong"): ("clopidogrel", "gemfibrozil"),
    ("CYP2C8", "moderate"): ("deferasirox", "teriflunomide"),
    ("P-gp", "strong"): (
        "amiodarone", "carvedilol", "clarithromycin", "cyclosporine", "dronedarone", "erythromycin",
        "itraconazole", "ketoconazole", "lapatinib", "lopinavir", "propafenone", "quinidine",
        "ranolazine", "ritonavir", "saquinavir", "verapamil",
    ),
    ("BCRP", "strong"): ("cyclosporine", "eltrombopag", "curcumin"),
    ("OATP1B", "strong"): ("cyclosporine", "gemfibrozil"),
    ("OATP1B", "moderate"): (
        "atazanavir", "clarithromycin", "erythromycin", "lopinavir", "simeprevir", "tipranavir",
        "letermovir",
    ),
}  # fmt: skip

INDUCERS: Final[dict[tuple[Enzyme, Strength], tuple[str, ...]]] = {
    ("CYP3A", "strong"): (
        "apalutamide", "carbamazepine", "enzalutamide", "ivosidenib", "lumacaftor", "mitotane",
        "phenytoin", "fosphenytoin", "rifampin", "st. john's wort", "phenobarbital", "primidone",
    ),
    ("CYP3A", "moderate"): (
        "bosentan", "efavirenz", "etravirine", "modafinil", "nafcillin", "rifabutin", "rifapentine",
        "dexamethasone",
    ),
    ("CYP2C9", "moderate"): ("apalutamide", "carbamazepine", "enzalutamide", "rifampin"),
    ("CYP2C19", "strong"): ("rifampin",),
    ("CYP2C19", "moderate"): ("apalutamide", "efavirenz", "enzalutamide", "phenytoin"),
    ("CYP1A2", "moderate"): ("phenytoin", "rifampin", "ritonavir", "teriflunomide"),
    ("P-gp", "strong"): ("carbamazepine", "phenytoin", "rifampin", "st. john's wort"),
}  # fmt: skip

SENSITIVE: Final[dict[Enzyme, tuple[str, ...]]] = {
    # FDA "sensitive" substrates whose rise matters to the patient; left out on purpose: drugs with a wide
    # margin (omeprazole, caffeine, melatonin, fexofenadine), where a raised level harms nobody.
    "CYP3A": (
        "alfentanil", "avanafil", "buspirone", "darifenacin", "everolimus", "ibrutinib", "lomitapide",
        "lovastatin", "midazolam", "naloxegol", "nisoldipine", "simvastatin", "sirolimus", "tacrolimus",
        "triazolam", "vardenafil", "budesonide", "dasatinib", "eletriptan", "eplerenone", "felodipine",
        "lurasidone", "maraviroc", "quetiapine", "sildenafil", "ticagrelor", "tolvaptan", "ivabradine",
        "ranolazine", "conivaptan", "dronedarone",
    ),
    "CYP2C9": ("celecoxib",),
    "CYP2C19": (),
    "CYP1A2": ("alosetron", "duloxetine", "ramelteon", "tasimelteon"),
    "CYP2D6": (
        "atomoxetine", "desipramine", "dextromethorphan", "eliglustat", "nebivolol", "nortriptyline",
        "perphenazine", "tolterodine", "venlafaxine",
    ),
    "CYP2C8": ("repaglinide",),
    "P-gp": (),
    "BCRP": ("rosuvastatin",),
    "OATP1B": ("rosuvastatin", "atorvastatin", "simvastatin", "pravastatin", "pitavastatin", "glyburide"),
}  # fmt: skip

MODERATELY_SENSITIVE: Final[dict[Enzyme, tuple[str, ...]]] = {
    # FDA "moderate sensitive" substrates: a strong inhibitor makes a moderate finding
    "CYP3A": ("alprazolam", "atorvastatin", "colchicine", "eliglustat", "rilpivirine", "tadalafil"),
    "CYP2C9": ("glimepiride", "tolbutamide"),
    "CYP2C19": ("diazepam", "clobazam"),
    "CYP1A2": ("clozapine", "pirfenidone"),
    "CYP2D6": ("imipramine", "metoprolol", "propranolol", "propafenone", "trimipramine"),
    "CYP2C8": ("pioglitazone", "montelukast"),
}  # fmt: skip

NARROW: Final[dict[Enzyme, tuple[str, ...]]] = {
    "CYP3A": (
        "alfentanil", "cyclosporine", "dihydroergotamine", "ergotamine", "fentanyl", "pimozide",
        "quinidine", "sirolimus", "tacrolimus", "everolimus", "carbamazepine",
        # boxed warnings on CYP3A4 inhibitors: fatal respiratory depression (opioids' US labelling)
        "oxycodone", "methadone", "hydrocodone",
    ),
    "CYP2C9": ("warfarin", "phenytoin"),
    "CYP2C19": (),
    "CYP1A2": ("theophylline", "tizanidine"),
    "CYP2D6": ("thioridazine", "pimozide"),
    "CYP2C8": (),
    "P-gp": ("digoxin", "dabigatran etexilate", "colchicine"),
    "BCRP": (),
    "OATP1B": (),
}  # fmt: skip

PRODRUGS: Final[dict[Enzyme, tuple[str, ...]]] = {
    # prodrugs the enzyme activates (FDA table footnotes and the drugs' US labelling, Clinical Pharmacology)
    "CYP2C19": ("clopidogrel",),
    "CYP2D6": ("codeine", "tramadol", "tamoxifen"),
}


@dataclass(frozen=True)
class Consequence:
    """What too much and too little of a drug does, and what the nurse checks: words for the summary."""

    raised: str  # after "risk of"
    lowered: str  # after "risk of"
    check_raised: str  # a step: "Check INR within 3 days."
    check_lowered: str
    source: str


_LEVELS_PI = "US prescribing information, Warnings and Drug Interactions"
CONSEQUENCES: Final[dict[str, Consequence]] = {
    "warfarin": Consequence(
        "bleeding", "clots as warfarin stops working", "Check INR within 3 days; look for bleeding.",
        "Check INR within 5 days.", f"Coumadin (warfarin) {_LEVELS_PI}: INR monitoring",
    ),
    "phenytoin": Consequence(
        "phenytoin toxicity (unsteadiness, drowsiness, confusion)", "seizures",
        "Check the phenytoin level; report unsteadiness or confusion.", "Check the phenytoin level.",
        f"Dilantin (phenytoin) {_LEVELS_PI}: serum level monitoring",
    ),
    "theophylline": Consequence(
        "theophylline toxicity (vomiting, fast heart rate, seizures)", "breathlessness as it works less",
        "Check the theophylline level; report vomiting or palpitations.", "Check the theophylline level.",
        f"theophylline {_LEVELS_PI}: serum level monitoring",
    ),
    "tizanidine": Consequence(
        "very low blood pressure and heavy sedation", "muscle spasm returning",
        "Check blood pressure and sedation after the dose.", "Report returning spasticity.",
        f"Zanaflex (tizanidine) {_LEVELS_PI}",
    ),
    "digoxin": Consequence(
        "digoxin toxicity (nausea, slow or irregular pulse, visual changes)", "loss of rate control",
        "Check the pulse before giving; ask for a digoxin level.", "Check heart rate and rhythm.",
        f"Lanoxin (digoxin) {_LEVELS_PI}: serum digoxin monitoring",
    ),
    "dabigatran etexilate": Consequence(
        "bleeding", "clots and stroke as it works less", "Look for bleeding; check kidney function.",
        "Tell the prescriber: another anticoagulant may be needed.", f"Pradaxa (dabigatran) {_LEVELS_PI}",
    ),
    "colchicine": Consequence(
        "colchicine toxicity (diarrhoea, muscle pain, low blood counts)", "gout flare",
        "Report diarrhoea, vomiting or muscle pain at once.", "Report a gout flare.",
        f"Colcrys (colchicine) {_LEVELS_PI}: fatal toxicity with inhibitors",
    ),
    "cyclosporine": Consequence(
        "cyclosporine toxicity (kidney damage, high potassium)", "transplant rejection",
        "Check the cyclosporine trough level within 3 days.", "Check the trough level within 3 days.",
        f"Neoral (cyclosporine) {_LEVELS_PI}: blood level monitoring",
    ),
    "tacrolimus": Consequence(
        "tacrolimus toxicity (kidney damage, tremor, high potassium)", "transplant rejection",
        "Check the tacrolimus trough level within 3 days.", "Check the trough level within 3 days.",
        f"Prograf (tacrolimus) {_LEVELS_PI}: whole-blood trough monitoring",
    ),
    "sirolimus": Consequence(
        "sirolimus toxicity (low blood counts, high lipids)", "transplant rejection",
        "Check the sirolimus trough level within 3 days.", "Check the trough level within 3 days.",
        f"Rapamune (sirolimus) {_LEVELS_PI}: trough monitoring",
    ),
    "everolimus": Consequence(
        "everolimus toxicity (mouth ulcers, infections)", "rejection or loss of effect",
        "Check the everolimus trough level.", "Check the trough level.",
        f"Zortress (everolimus) {_LEVELS_PI}",
    ),
    "carbamazepine": Consequence(
        "carbamazepine toxicity (dizziness, double vision, unsteadiness)", "seizures",
        "Check the carbamazepine level; report dizziness or double vision.",
        "Check the carbamazepine level.", f"Tegretol (carbamazepine) {_LEVELS_PI}",
    ),
    "pimozide": Consequence(
        "QT prolongation and torsade de pointes", "loss of effect", "Check the ECG (QTc) before giving.",
        "Report returning symptoms.", f"Orap (pimozide) {_LEVELS_PI}: contraindicated with inhibitors",
    ),
    "quinidine": Consequence(
        "QT prolongation and torsade de pointes", "loss of rhythm control", "Check the ECG (QTc).",
        "Check heart rhythm.", f"quinidine {_LEVELS_PI}",
    ),
    "thioridazine": Consequence(
        "QT prolongation and torsade de pointes", "loss of effect", "Check the ECG (QTc).",
        "Report returning symptoms.", f"thioridazine {_LEVELS_PI}: boxed warning",
    ),
    "ergotamine": Consequence(
        "ergotism (severe narrowing of blood vessels)", "loss of effect",
        "Check hands and feet for coldness, pain or pallor.", "Report returning migraine.",
        f"Cafergot (ergotamine) {_LEVELS_PI}: boxed warning",
    ),
    "dihydroergotamine": Consequence(
        "ergotism (severe narrowing of blood vessels)", "loss of effect",
        "Check hands and feet for coldness, pain or pallor.", "Report returning migraine.",
        f"D.H.E. 45 (dihydroergotamine) {_LEVELS_PI}: boxed warning",
    ),
    "fentanyl": Consequence(
        "fatal breathing depression", "opioid withdrawal and pain",
        "Check sedation and breathing rate; have naloxone at hand.", "Check pain and withdrawal signs.",
        f"fentanyl {_LEVELS_PI}: boxed warning on CYP3A4 interactions",
    ),
    "alfentanil": Consequence(
        "prolonged breathing depression", "loss of analgesia", "Check sedation and breathing rate.",
        "Check pain.", f"alfentanil {_LEVELS_PI}",
    ),
    "oxycodone": Consequence(
        "fatal breathing depression", "opioid withdrawal and pain",
        "Check sedation and breathing rate; have naloxone at hand.", "Check pain and withdrawal signs.",
        f"OxyContin (oxycodone) {_LEVELS_PI}: boxed warning on CYP3A4 interactions",
    ),
    "methadone": Consequence(
        "fatal breathing depression and QT prolongation", "opioid withdrawal",
        "Check sedation and breathing rate; have naloxone at hand.", "Check for withdrawal signs.",
        f"methadone {_LEVELS_PI}: boxed warning on CYP interactions",
    ),
    "simvastatin": Consequence(
        "muscle damage (rhabdomyolysis)", "less lipid lowering", "Ask about muscle pain and dark urine.",
        "Tell the prescriber at the next review.", f"Zocor (simvastatin) {_LEVELS_PI}: myopathy",
    ),
    "lovastatin": Consequence(
        "muscle damage (rhabdomyolysis)", "less lipid lowering", "Ask about muscle pain and dark urine.",
        "Tell the prescriber at the next review.", f"Mevacor (lovastatin) {_LEVELS_PI}: myopathy",
    ),
    "atorvastatin": Consequence(
        "muscle damage (myopathy)", "less lipid lowering", "Ask about muscle pain and dark urine.",
        "Tell the prescriber at the next review.", f"Lipitor (atorvastatin) {_LEVELS_PI}: myopathy",
    ),
    "rosuvastatin": Consequence(
        "muscle damage (myopathy)", "less lipid lowering", "Ask about muscle pain and dark urine.",
        "Tell the prescriber at the next review.", f"Crestor (rosuvastatin) {_LEVELS_PI}: myopathy",
    ),
    "midazolam": Consequence(
        "prolonged deep sedation", "less sedation", "Check sedation and breathing rate.",
        "Check sedation.", f"midazolam {_LEVELS_PI}",
    ),
    "triazolam": Consequence(
        "prolonged deep sedation", "less effect", "Check sedation and breathing rate.",
        "Tell the prescriber at the next review.", f"Halcion (triazolam) {_LEVELS_PI}",
    ),
    "alprazolam": Consequence(
        "heavy sedation", "less effect", "Check sedation and breathing rate.",
        "Tell the prescriber at the next review.",
        f"Xanax (alprazolam) {_LEVELS_PI}",
    ),
    "apixaban": Consequence(
        "bleeding", "clots and stroke as it works less", "Look for bleeding.",
        "Tell the prescriber: another anticoagulant may be needed.", f"Eliquis (apixaban) {_LEVELS_PI}",
    ),
    "rivaroxaban": Consequence(
        "bleeding", "clots and stroke as it works less", "Look for bleeding.",
        "Tell the prescriber: another anticoagulant may be needed.", f"Xarelto (rivaroxaban) {_LEVELS_PI}",
    ),
    "ticagrelor": Consequence(
        "bleeding", "stent thrombosis or heart attack as it works less", "Look for bleeding.",
        "Tell the prescriber: another antiplatelet may be needed.", f"Brilinta (ticagrelor) {_LEVELS_PI}",
    ),
    "clopidogrel": Consequence(
        "bleeding", "stent thrombosis or heart attack as it works less",
        "Look for bleeding.", "Tell the prescriber: another antiplatelet may be needed.",
        f"Plavix (clopidogrel) {_LEVELS_PI}: boxed warning, CYP2C19",
    ),
    "codeine": Consequence(
        "opioid toxicity", "poor pain relief", "Check sedation and breathing rate.",
        "Check pain scores; another analgesic may be needed.", f"codeine {_LEVELS_PI}: CYP2D6",
    ),
    "tramadol": Consequence(
        "seizures and serotonin toxicity", "poor pain relief", "Check sedation and breathing rate.",
        "Check pain scores; another analgesic may be needed.", f"Ultram (tramadol) {_LEVELS_PI}: CYP2D6",
    ),
    "tamoxifen": Consequence(
        "side effects", "tamoxifen working less well against breast cancer", "Report side effects.",
        "Tell the prescriber: a different antidepressant or hormone therapy may be needed.",
        f"tamoxifen {_LEVELS_PI}: CYP2D6 and endoxifen",
    ),
    "quetiapine": Consequence(
        "heavy sedation, low blood pressure and QT prolongation", "loss of effect",
        "Check sedation and blood pressure.", "Report returning symptoms.", f"Seroquel {_LEVELS_PI}",
    ),
    "lurasidone": Consequence(
        "sedation and movement side effects", "loss of effect", "Check sedation.",
        "Report returning symptoms.", f"Latuda (lurasidone) {_LEVELS_PI}",
    ),
    "sildenafil": Consequence(
        "very low blood pressure", "less effect", "Check blood pressure.",
        "Tell the prescriber at the next review.",
        f"sildenafil {_LEVELS_PI}",
    ),
    "vardenafil": Consequence(
        "very low blood pressure", "less effect", "Check blood pressure.",
        "Tell the prescriber at the next review.",
        f"vardenafil {_LEVELS_PI}",
    ),
    "tadalafil": Consequence(
        "very low blood pressure", "less effect", "Check blood pressure.",
        "Tell the prescriber at the next review.",
        f"tadalafil {_LEVELS_PI}",
    ),
    "eplerenone": Consequence(
        "high potassium", "less effect", "Check potassium before the next dose.",
        "Tell the prescriber at the next review.",
        f"Inspra (eplerenone) {_LEVELS_PI}",
    ),
    "ivabradine": Consequence(
        "very slow heart rate", "less effect", "Check the pulse before giving.", "Check heart rate.",
        f"Corlanor (ivabradine) {_LEVELS_PI}",
    ),
    "ranolazine": Consequence(
        "QT prolongation", "less effect", "Check the ECG (QTc).", "Tell the prescriber at the next review.",
        f"Ranexa (ranolazine) {_LEVELS_PI}",
    ),
    "repaglinide": Consequence(
        "low blood sugar", "high blood sugar", "Check blood glucose before meals and at night.",
        "Check blood glucose.", f"Prandin (repaglinide) {_LEVELS_PI}",
    ),
    "glimepiride": Consequence(
        "low blood sugar", "high blood sugar", "Check blood glucose before meals and at night.",
        "Check blood glucose.", f"Amaryl (glimepiride) {_LEVELS_PI}",
    ),
    "glyburide": Consequence(
        "low blood sugar", "high blood sugar", "Check blood glucose before meals and at night.",
        "Check blood glucose.", f"glyburide {_LEVELS_PI}",
    ),
    "metoprolol": Consequence(
        "slow heart rate and low blood pressure", "less effect", "Check pulse and blood pressure.",
        "Check pulse and blood pressure.", f"Lopressor (metoprolol) {_LEVELS_PI}",
    ),
}  # fmt: skip

DEFAULT_CONSEQUENCE = Consequence(
    raised="side effects from higher levels",
    lowered="it working less well",
    check_raised="Watch for side effects and report them.",
    check_lowered="Tell the prescriber if it seems to stop working.",
    source=FDA_TABLE,
)
