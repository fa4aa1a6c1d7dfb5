"""Curated facts the public sources lack or get wrong, each with the public source it comes from.

Nothing here is invented: every entry names the labelling, paper or table it restates. The rules build
(``rules_build``) applies these facts; ``sources_allergy`` holds the allergen groups.

- ``NAME_ALIASES``: how the sources spell a drug -> RxNorm's ingredient name (INN vs USAN names, typos).
- ``KNOWN_INGREDIENTS``: ingredients some source needs that the RxNorm Prescribable subset lacks, with the
  RxCUI the public source itself gives.
- ``QT_ADDITIONS``: drugs with QT prolongation / torsade de pointes in US labelling that the four ANSM
  torsades classes miss; they complete ONC high-priority pair 21 (QT-prolonging + QT-prolonging).
- ``ANSM_CLASS_ADDITIONS``: US members of ANSM classes whose French member list has none.
- ``ONC_CORRECTIONS``: member-list corrections to the ONC class tables.
- ``ONC_HP_TEXT`` / ``ONC_NI_TEXT``: mechanism and management for each ONC class pair.
- ``ONC_NI_ORAL_ONLY``: ONC non-interruptive pairs that only concern oral forms (absorption interactions).
"""

from __future__ import annotations

from dataclasses import dataclass

NAME_ALIASES: dict[str, str] = {
    # ONC class-table spellings
    "lisdexamefetamine": "lisdexamfetamine",
    "esmoprazole": "esomeprazole",
    "voreconazole": "voriconazole",
    "moclobamide": "moclobemide",
    "st john's wort": "st. john's wort",
    "st johns wort": "st. john's wort",
    "st. johns wort": "st. john's wort",
    "thyroid usp": "thyroid (usp)",
    "thyroid": "thyroid (usp)",
    "iron dextran": "iron-dextran complex",
    "iron sucrose complex": "iron sucrose",
    "cobalamin": "vitamin b12",
    "zoledronate": "zoledronic acid",
    "demecariuim": "demecarium",
    "tricalcium phosphate": "calcium phosphate",
    "mefenamate": "mefenamic acid",
    "ethacrynate": "ethacrynic acid",
    "meclofenamic acid": "meclofenamate",
    "aminosalicylate": "aminosalicylic acid",
    # DrugBank (NDF-RT) and ANSM names -> RxNorm names
    "l-dopa": "levodopa",
    "l-tryptophan": "tryptophan",
    "torasemide": "torsemide",
    "phylloquinone": "phytonadione",
    "vitamin c": "ascorbic acid",
    "salicylate-sodium": "sodium salicylate",
    "tak-390mr": "dexlansoprazole",
    "benzatropine": "benztropine",
    "nicotinamide": "niacinamide",
    "nicotinic acid": "niacin",
    "glycerol": "glycerin",
    "lidocaine patch": "lidocaine",
    "conjugated estrogens": "estrogens, conjugated (usp)",
    "thyroxines": "levothyroxine",
    "mycophenolate sodium": "mycophenolic acid",
    "unfractionated heparin": "heparin",
    "pamidronic acid": "pamidronate",
    "risedronic acid": "risedronate",
    "alendronic acid": "alendronate",
    "etidronic acid": "etidronate",
    "ibandronic acid": "ibandronate",
    "clodronic acid": "clodronate",
    "tiludronic acid": "tiludronate",
    "perindopril tert-butylamine": "perindopril",
    "trastuzumab emtansine": "ado-trastuzumab emtansine",
    "alteplase recombinant": "alteplase",
    "interferon alfa": "interferon alfa-2b",
    "alcohol": "ethanol",
    "enoxacine": "enoxacin",
    # INN (ANSM, DrugBank) -> USAN (RxNorm); WHO INN lists vs USP dictionary
    "acetylsalicylic acid": "aspirin",
    "lysine acetylsalicylate": "aspirin",
    "paracetamol": "acetaminophen",
    "salbutamol": "albuterol",
    "ciclosporin": "cyclosporine",
    "ciclosporine": "cyclosporine",
    "glibenclamide": "glyburide",
    "adrenaline": "epinephrine",
    "noradrenaline": "norepinephrine",
    "indometacin": "indomethacin",
    "methylergometrine": "methylergonovine",
    "ergometrine": "ergonovine",
    "rifampicin": "rifampin",
    "colecalciferol": "cholecalciferol",
    "frusemide": "furosemide",
    "lignocaine": "lidocaine",
    "phenobarbitone": "phenobarbital",
    "amoxycillin": "amoxicillin",
    "benzylpenicillin": "penicillin g",
    "phenoxymethylpenicillin": "penicillin v",
    "cefalexin": "cephalexin",
    "cefalotin": "cephalothin",
    "cefradine": "cephradine",
    "chlorphenamine": "chlorpheniramine",
    "dexchlorphenamine": "dexchlorpheniramine",
    "clomifene": "clomiphene",
    "pethidine": "meperidine",
    "dextropropoxyphene": "propoxyphene",
    "tetracosactide": "cosyntropin",
    "thiamazole": "methimazole",
    "valproate": "valproic acid",
    "sodium valproate": "valproic acid",
    "hydroxycarbamide": "hydroxyurea",
    "isoprenaline": "isoproterenol",
    "orciprenaline": "metaproterenol",
    "glyceryl trinitrate": "nitroglycerin",
    "trinitrine": "nitroglycerin",
    "aciclovir": "acyclovir",
    "valaciclovir": "valacyclovir",
    "amfetamine": "amphetamine",
    "dexamfetamine": "dextroamphetamine",
    "beclometasone": "beclomethasone",
    "flumetasone": "flumethasone",
    "chlormethine": "mechlorethamine",
    "ethinylestradiol": "ethinyl estradiol",
    "norethisterone": "norethindrone",
    "chlortalidone": "chlorthalidone",
    "colestyramine": "cholestyramine",
    "ferrous sulphate": "ferrous sulfate",
    "aluminium hydroxide": "aluminum hydroxide",
    "sodium cromoglicate": "cromolyn",
    "hyoscine": "scopolamine",
    "glycopyrronium": "glycopyrrolate",
    "alimemazine": "trimeprazine",
    "tioguanine": "thioguanine",
    "mercaptamine": "cysteamine",
    "metamizole": "dipyrone",
    "chloroquin": "chloroquine",
    "moxifloxacine": "moxifloxacin",
    "sulphasalazine": "sulfasalazine",
    "bromocriptin": "bromocriptine",
    "promethazin": "promethazine",
}

KNOWN_INGREDIENTS: dict[str, tuple[str, str]] = {
    # name -> (IN RxCUI, where the RxCUI comes from). Used only when the terminology lacks the name.
    "amiodarone": ("703", "ANSM thesaurus class table (RxCUI column)"),
    "aprepitant": ("358255", "ANSM thesaurus interaction table (RxCUI column)"),
    "indinavir": ("114289", "ANSM thesaurus class table (RxCUI column)"),
    "saquinavir": ("83395", "ANSM thesaurus class table (RxCUI column)"),
    "telithromycin": ("274786", "ANSM thesaurus class table (RxCUI column)"),
    "moclobemide": ("30121", "ANSM thesaurus class table (RxCUI column)"),
    "st. john's wort": ("258326", "ANSM thesaurus class table (RxCUI column)"),
}

US_PI = "US prescribing information (DailyMed)"

QT_ADDITIONS: tuple[tuple[str, str], ...] = (
    # (ingredient, public source stating QT prolongation / torsade de pointes)
    ("dofetilide", f"Tikosyn (dofetilide) {US_PI}: boxed warning, QT prolongation and torsade de pointes"),
    ("ibutilide", f"Corvert (ibutilide) {US_PI}: boxed warning, polymorphic VT / torsade de pointes"),
    ("procainamide", f"procainamide {US_PI}, Warnings: QT prolongation, torsade de pointes"),
    ("flecainide", f"flecainide {US_PI}, Warnings: proarrhythmic effects; prolongs PR, QRS and QT"),
    ("propafenone", f"Rythmol (propafenone) {US_PI}, Warnings: proarrhythmia, QT prolongation"),
    ("clarithromycin", f"Biaxin (clarithromycin) {US_PI}, Warnings: QT prolongation, torsades de pointes"),
    (
        "azithromycin",
        "FDA Drug Safety Communication, 12 March 2013; Zithromax US PI, Warnings: QT prolongation",
    ),
    ("levofloxacin", f"levofloxacin {US_PI}, Warnings: prolongation of the QT interval, torsade de pointes"),
    ("ciprofloxacin", f"Cipro (ciprofloxacin) {US_PI}, Warnings: QT prolongation, torsade de pointes"),
    ("ondansetron", "FDA Drug Safety Communication, 29 June 2012; Zofran US PI, Warnings: QT prolongation"),
    (
        "dolasetron",
        "FDA Drug Safety Communication, 17 December 2010; Anzemet US PI: QT, PR and QRS prolongation",
    ),
    ("thioridazine", f"thioridazine {US_PI}: boxed warning, dose-related QTc prolongation"),
    ("ziprasidone", f"Geodon (ziprasidone) {US_PI}, Contraindications: QT prolongation"),
    ("quetiapine", f"Seroquel (quetiapine) {US_PI}, Warnings: QT prolongation"),
    ("iloperidone", f"Fanapt (iloperidone) {US_PI}, Warnings: QT prolongation"),
    ("paliperidone", f"Invega (paliperidone) {US_PI}, Warnings: QT prolongation"),
    ("nilotinib", f"Tasigna (nilotinib) {US_PI}: boxed warning, QT prolongation and sudden deaths"),
    ("fluconazole", f"Diflucan (fluconazole) {US_PI}, Warnings: QT prolongation and torsade de pointes"),
    ("quinine", f"Qualaquin (quinine) {US_PI}, Warnings: QT prolongation"),
    ("bedaquiline", f"Sirturo (bedaquiline) {US_PI}, Warnings: QT prolongation"),
    (
        "anagrelide",
        f"Agrylin (anagrelide) {US_PI}, Warnings: QT prolongation and ventricular tachycardia; "
        "also in the QT pairs of ONC_High_Priority_Mapped.csv",
    ),
    (
        "sevoflurane",
        f"Ultane (sevoflurane) {US_PI}, Warnings: QT prolongation, rare torsade de pointes; "
        "also in the QT pairs of ONC_High_Priority_Mapped.csv",
    ),
)

ANSM_CLASS_ADDITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # ANSM class code -> (US members the French class lacks, public source)
    "N06AF0": (
        ("phenelzine", "tranylcypromine", "isocarboxazid"),
        "irreversible non-selective MAO inhibitors in US use (Nardil, Parnate, Marplan US PI); the ANSM "
        "class lists only iproniazid, not marketed in the US",
    ),
    "A10A": (
        (
            "insulin, regular, human",
            "insulin isophane",
            "insulin lispro",
            "insulin aspart, human",
            "insulin glulisine, human",
            "insulin glargine",
            "insulin detemir",
            "insulin degludec",
        ),
        "the ANSM class 'INSULIN' names insulin generically; RxNorm lists each insulin as its own "
        "ingredient (RxNorm ingredient names)",
    ),
}

ANSM_TORSADES_CODES: tuple[str, ...] = ("C01-N05", "C01B", "N05A-002", "P01B-001")
"""The four ANSM classes of torsades-inducing drugs that seed ONC pair 21."""


@dataclass(frozen=True)
class Correction:
    """A change to one side ("a" object, "b" precipitant) of an ONC class pair's member list."""

    table: str  # "hp" (high-priority, 2012) or "ni" (non-interruptive, 2013)
    pair: int
    side: str
    remove: tuple[str, ...]
    add: tuple[str, ...]
    reason: str


SALICYLATES = ("aspirin", "salsalate", "diflunisal", "magnesium salicylate", "choline salicylate")
_SALICYLATE_REASON = (
    "the table's 'Salicylates' lists aminosalicylate (an antituberculous drug), methacholine (a cholinergic "
    "agonist), morpholine salicylate and niclosamide (an anthelmintic); replaced by the salicylates in "
    "US use (aspirin, salsalate, diflunisal, magnesium and choline salicylate; USP salicylate monographs)"
)
_ANTIPLATELET_REASON = (
    "dipyridamole and anagrelide are antiplatelet agents, not anticoagulants; the listed interactions "
    "(INR rise, additive anticoagulation) concern anticoagulants"
)
_IV_IRON_REASON = (
    "the interaction is reduced absorption of oral iron; intravenous iron (iron dextran, ferric "
    "carboxymaltose, sodium ferric gluconate, iron sucrose) is not absorbed from the gut"
)
ONC_CORRECTIONS: tuple[Correction, ...] = (
    Correction(
        "hp",
        23,
        "a",
        ("nsaid",),
        ("atazanavir",),
        "'NSAID' in the protease-inhibitor list is a slip in the class table: the other protease-inhibitor "
        "lists of the same table carry atazanavir, which this one lacks; Reyataz (atazanavir) US PI "
        "contraindicates rifampin and St John's wort",
    ),
    Correction(
        "ni",
        1,
        "b",
        ("aminosalicylate", "methacholine", "morpholine salicylate", "niclosamide"),
        SALICYLATES,
        _SALICYLATE_REASON,
    ),
    Correction(
        "ni",
        29,
        "b",
        ("aminosalicylate", "methacholine", "morpholine salicylate", "niclosamide"),
        SALICYLATES,
        _SALICYLATE_REASON,
    ),
    Correction("ni", 17, "a", ("dipyridamole", "anagrelide"), (), _ANTIPLATELET_REASON),
    Correction("ni", 18, "a", ("dipyridamole", "anagrelide"), (), _ANTIPLATELET_REASON),
    Correction("ni", 20, "a", ("dipyridamole", "anagrelide"), (), _ANTIPLATELET_REASON),
    Correction("ni", 24, "a", ("dipyridamole", "anagrelide"), (), _ANTIPLATELET_REASON),
    Correction("ni", 26, "a", ("dipyridamole", "anagrelide"), (), _ANTIPLATELET_REASON),
    Correction(
        "ni",
        4,
        "a",
        ("iron-dextran", "ferric carboxymaltose", "sodium ferric gluconate complex", "iron sucrose complex"),
        ("ferrous sulfate", "ferrous gluconate", "ferrous fumarate"),
        _IV_IRON_REASON,
    ),
    Correction(
        "ni",
        16,
        "a",
        ("iron-dextran", "ferric carboxymaltose", "sodium ferric gluconate complex", "iron sucrose complex"),
        (),
        _IV_IRON_REASON,
    ),
)

ONC_NI_ORAL_ONLY: frozenset[int] = frozenset({4, 6, 11, 12, 16, 19, 22, 27})
"""Non-interruptive pairs that are gut-absorption interactions (chelation or gastric pH): oral forms only.
The 2013 table itself marks several of these classes '(oral)'."""

_AVOID = "Contraindicated: do not combine."
ONC_HP_TEXT: dict[int, tuple[str, str]] = {
    # pair -> (mechanism, management); summaries of Phansalkar et al. 2012 and the drugs' US labelling
    3: (
        "MAO inhibition prevents breakdown of the catecholamines these drugs release: hypertensive crisis.",
        f"{_AVOID} Allow 14 days after stopping an MAO inhibitor.",
    ),
    4: (
        "Proton pump inhibitors raise gastric pH and sharply lower atazanavir absorption: loss of viral "
        "suppression and resistance.",
        "Avoid; see the atazanavir label for the limits with ritonavir boosting.",
    ),
    6: (
        "Xanthine oxidase inhibition blocks thiopurine breakdown: raised azathioprine/mercaptopurine "
        "levels and bone-marrow suppression.",
        _AVOID,
    ),
    8: (
        "Serotonin syndrome: serotonin reuptake inhibition with MAO inhibition.",
        f"{_AVOID} Allow 14 days after an MAO inhibitor (5 weeks after fluoxetine before one).",
    ),
    11: (
        "CYP3A4 inhibition raises irinotecan and SN-38 exposure: severe neutropenia and diarrhoea.",
        "Avoid; stop strong CYP3A4 inhibitors at least 1 week before irinotecan.",
    ),
    16: (
        "Serotonin syndrome or opioid toxicity with MAO inhibition (meperidine, methadone, tapentadol, "
        "fentanyl, tramadol, dextromethorphan).",
        f"{_AVOID} Allow 14 days after an MAO inhibitor.",
    ),
    20: (
        "Serotonin syndrome and hypertensive reactions: tricyclic antidepressant with MAO inhibition.",
        f"{_AVOID} Allow 14 days after an MAO inhibitor.",
    ),
    21: (
        "Additive QT prolongation: risk of torsade de pointes and sudden death.",
        "Avoid combining QT-prolonging drugs; if unavoidable, ECG monitoring and keep potassium and "
        "magnesium normal.",
    ),
    22: (
        "CYP1A2 inhibition raises ramelteon exposure (about 190-fold with fluvoxamine): excessive sedation.",
        _AVOID,
    ),
    23: (
        "Strong CYP3A4 induction lowers protease-inhibitor levels: loss of viral suppression and resistance.",
        _AVOID,
    ),
    25: (
        "CYP3A4 inhibition raises simvastatin/lovastatin levels: myopathy and rhabdomyolysis.",
        f"{_AVOID} Use a statin not metabolised by CYP3A4 or hold the statin.",
    ),
    27: ("CYP3A4 inhibition raises ergot alkaloid levels: ergotism, vasospasm and ischaemia.", _AVOID),
    28: (
        "CYP1A2 inhibition raises tizanidine exposure (about 10-fold with ciprofloxacin, 33-fold with "
        "fluvoxamine): hypotension and excessive sedation.",
        _AVOID,
    ),
    30: ("Additive MAO inhibition: hypertensive crisis.", _AVOID),
    31: (
        "MAO-A metabolises sumatriptan, zolmitriptan and rizatriptan: raised triptan levels and "
        "serotonin toxicity.",
        f"{_AVOID} Allow 14 days after an MAO inhibitor.",
    ),
}

_NI_MANAGEMENT = "Listed by ONC as non-interruptive: show as information; monitor as usual."
ONC_NI_TEXT: dict[int, str] = {
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
ONC_NI_MANAGEMENT = _NI_MANAGEMENT
