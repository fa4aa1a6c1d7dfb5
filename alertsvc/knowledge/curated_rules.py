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
- ``curated_onc``: the words of each ONC class pair (summary, mechanism, what to do).
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
