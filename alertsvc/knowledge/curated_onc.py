"""The words for each ONC class pair: a summary sentence, the mechanism and what to check.

Facts from Phansalkar et al. (JAMIA 2012;19:735 high-priority list; JAMIA 2013;20:489 non-interruptive
list) and the drugs' US labelling; the words are alertsvc's. In every ONC pair the left side is the
table's object drug class and the right side its precipitant. Management is the tier's first steps
(``curated_texts.TIER_STEPS``) followed by ``watch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class PairText:
    summary: str  # {left} = object, {right} = precipitant
    mechanism: str
    watch: tuple[str, ...]


_MAOI_WASHOUT = "Allow 14 days between stopping an MAO inhibitor and starting the other drug."
_SEROTONIN = "Watch for agitation, sweating, tremor, fever or fast heart rate; call the doctor at once."

ONC_HP_TEXT: Final[dict[int, PairText]] = {
    3: PairText(
        "{right} with {left} can cause a hypertensive crisis",
        "MAO inhibition prevents breakdown of the catecholamines these drugs release: hypertensive crisis.",
        (
            "Check blood pressure every 15 minutes for an hour; report a severe headache at once.",
            _MAOI_WASHOUT,
        ),
    ),
    4: PairText(
        "{right} lowers {left} absorption: risk of HIV treatment failure",
        "Proton pump inhibitors raise gastric pH and sharply lower atazanavir absorption: loss of viral "
        "suppression and resistance.",
        ("Tell the HIV team: the atazanavir label limits acid suppression even with ritonavir boosting.",),
    ),
    6: PairText(
        "{left} blocks the breakdown of {right}: risk of bone-marrow suppression",
        "Xanthine oxidase inhibition blocks thiopurine breakdown: raised azathioprine or mercaptopurine "
        "levels and bone-marrow suppression.",
        ("Check the full blood count; report fever, sore throat or bruising.",),
    ),
    8: PairText(
        "{left} with {right} can cause serotonin syndrome",
        "Serotonin reuptake inhibition with MAO inhibition: serotonin syndrome, which can be fatal.",
        (_SEROTONIN, "Allow 14 days after an MAO inhibitor (5 weeks after fluoxetine before one)."),
    ),
    11: PairText(
        "{right} raises {left} levels: risk of severe neutropenia and diarrhoea",
        "CYP3A4 inhibition raises irinotecan and SN-38 exposure: severe neutropenia and diarrhoea.",
        (
            "Check the full blood count; report diarrhoea or fever at once.",
            "Strong CYP3A4 inhibitors should stop at least 1 week before irinotecan.",
        ),
    ),
    16: PairText(
        "{left} with {right} can cause serotonin syndrome or opioid toxicity",
        "Serotonin syndrome or opioid toxicity with MAO inhibition (meperidine, methadone, tapentadol, "
        "fentanyl, tramadol, dextromethorphan).",
        (_SEROTONIN, _MAOI_WASHOUT),
    ),
    20: PairText(
        "{left} with {right} can cause serotonin syndrome and hypertensive crisis",
        "Serotonin syndrome and hypertensive reactions: tricyclic antidepressant with MAO inhibition.",
        (_SEROTONIN, _MAOI_WASHOUT),
    ),
    21: PairText(
        "{left} with {right} adds to QT prolongation: risk of torsade de pointes",
        "Additive QT prolongation: risk of torsade de pointes and sudden death.",
        (
            "Check the latest ECG (QTc), potassium and magnesium; keep them normal.",
            "Report palpitations, fainting or dizziness at once.",
        ),
    ),
    22: PairText(
        "{right} raises {left} levels: risk of excessive sedation",
        "CYP1A2 inhibition raises ramelteon exposure (about 190-fold with fluvoxamine): excessive sedation.",
        ("Check sedation and breathing rate.",),
    ),
    23: PairText(
        "{right} lowers {left} levels: risk of HIV treatment failure",
        "Strong CYP3A4 induction lowers protease-inhibitor levels: loss of viral suppression and resistance.",
        ("Tell the HIV team before the next dose.",),
    ),
    25: PairText(
        "{right} raises {left} levels: risk of muscle damage (rhabdomyolysis)",
        "CYP3A4 inhibition raises simvastatin or lovastatin levels: myopathy and rhabdomyolysis.",
        (
            "Ask about muscle pain or weakness and dark urine; report them at once.",
            "A statin not cleared by CYP3A4, or holding the statin, avoids the problem.",
        ),
    ),
    27: PairText(
        "{right} raises {left} levels: risk of ergotism",
        "CYP3A4 inhibition raises ergot alkaloid levels: ergotism, vasospasm and ischaemia.",
        ("Check hands and feet for coldness, pain or pallor; report chest pain at once.",),
    ),
    28: PairText(
        "{right} raises {left} levels: risk of very low blood pressure and sedation",
        "CYP1A2 inhibition raises tizanidine exposure (about 10-fold with ciprofloxacin, 33-fold with "
        "fluvoxamine): hypotension and excessive sedation.",
        ("Check blood pressure and sedation; help the patient to stand.",),
    ),
    30: PairText(
        "{left} with {right}: two MAO inhibitors can cause a hypertensive crisis",
        "Additive MAO inhibition: hypertensive crisis.",
        ("Check blood pressure; report a severe headache at once.", _MAOI_WASHOUT),
    ),
    31: PairText(
        "{right} raises {left} levels: risk of serotonin toxicity",
        "MAO-A metabolises sumatriptan, zolmitriptan and rizatriptan: raised triptan levels and serotonin "
        "toxicity.",
        (_SEROTONIN, _MAOI_WASHOUT),
    ),
}

ONC_NI_MANAGEMENT = "Listed by ONC as non-interruptive: show as information; monitor as usual."
ONC_NI_TEXT: Final[dict[int, str]] = {
    # pair -> mechanism; summaries of Phansalkar et al. 2013 and the drugs' US labelling
    1: "Salicylates may blunt the antihypertensive effect of ACE inhibitors (prostaglandin inhibition).",
    2: "Niacin with a statin adds a small risk of myopathy.",
    3: "Some SSRIs inhibit CYP2D6 and raise metoprolol or propranolol levels: bradycardia.",
    4: "Raised gastric pH lowers the absorption of oral iron.",
    5: "Additive blood-pressure lowering, mainly after the first dose.",
    6: "Calcium binds levothyroxine in the gut: separate the doses by about 4 hours.",
    7: "Statins may slightly change thyroid hormone requirements.",
    8: "NSAIDs blunt the diuretic and antihypertensive effect of thiazides.",
    9: "Restoring the euthyroid state increases the clearance of some beta blockers (propranolol).",
    10: "Corticosteroids may change tacrolimus, sirolimus or everolimus levels (CYP3A4).",
    11: "Antacids may lower the absorption of oral corticosteroids: separate the doses.",
    12: "Calcium binds oral bisphosphonates: give the bisphosphonate first, well apart.",
    13: "Long-term acid suppression lowers vitamin B12 absorption from food.",
    14: "Folic acid is usually given with low-dose methotrexate to reduce its toxicity.",
    15: "ACE inhibitors may increase insulin sensitivity: hypoglycaemia with sulfonylureas.",
    16: "Oral iron binds thyroid hormones in the gut: separate the doses by about 4 hours.",
    17: "Corticosteroids may raise the INR and add gastrointestinal bleeding risk.",
    18: "Regular acetaminophen (over 2 g a day for several days) can raise the INR.",
    19: "Antacids lower the absorption of oral iron: separate the doses.",
    20: "Some proton pump inhibitors may slightly raise warfarin levels; they also protect against GI "
    "bleeding.",
    21: "Raised gastric pH lowers absorption of oral ketoconazole or itraconazole.",
    22: "Calcium may lower the absorption of some beta blockers (atenolol).",
    23: "Dual renin-angiotensin blockade: hyperkalaemia, renal impairment and hypotension.",
    24: "Some statins slightly raise the INR with warfarin.",
    25: "CYP2C19 inhibition by omeprazole raises diazepam levels: more sedation.",
    26: "High-dose vitamin E may add to bleeding risk.",
    27: "Zinc chelates quinolones in the gut and lowers their absorption: separate the doses.",
    28: "NSAIDs blunt the antihypertensive effect of beta blockers.",
    29: "Additive antiplatelet effect and bleeding risk (often intended as dual antiplatelet therapy).",
    30: "Estrogens reduce corticosteroid clearance.",
    31: "Additive blood-pressure lowering; usually an intended combination.",
    32: "Corticosteroids may worsen weakness in myasthenia gravis treated with anticholinesterases.",
    33: "NSAIDs blunt ACE-inhibitor effect; renal impairment and hyperkalaemia in patients at risk.",
}
