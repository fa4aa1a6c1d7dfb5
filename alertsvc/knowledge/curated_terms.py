"""Facts about drug names that the public sources lack, each with where it comes from.

Nothing here is an RxCUI taken on trust: every A ingredient listed in ``A_INGREDIENTS`` must be confirmed
by a public source file during ``knowledge build`` (CPIC's ingredient RxCUIs, the ANSM class members'
RxCUIs, or an ingredient-level code in the VSAC / PDDI-CDS value sets), and the build fails if one is not.
Synonyms and misspellings map a name to another *name*; its RxCUI comes from the sources.
"""

from __future__ import annotations

from typing import Final

from alertsvc.knowledge.model import Route

A_INGREDIENTS: Final[dict[str, str]] = {
    # RxNorm ingredient name -> IN RxCUI. The flattened RxNorm files lack every ingredient whose name
    # starts with "A" (data README). Each pair below is checked against cpic/, ansm/, vsac/ or pddi_cds/
    # at build time; the build also takes further A ingredients from those files without being told.
    "acetaminophen": "161",  # ANSM "PARACETAMOL" 161
    "albuterol": "435",  # ANSM "SALBUTAMOL" 435
    "allopurinol": "519",  # CPIC
    "alprazolam": "596",  # ANSM
    "amiodarone": "703",  # ANSM
    "amitriptyline": "704",  # CPIC
    "amlodipine": "17767",  # ANSM
    "amoxicillin": "723",  # ANSM
    "apixaban": "1364430",  # ANSM
    "aspirin": "1191",  # CPIC; ANSM "ACETYLSALICYLIC ACID" 1191
    "atorvastatin": "83367",  # CPIC
    "azathioprine": "1256",  # CPIC; ANSM
}

OTHER_INGREDIENTS: Final[dict[str, str]] = {
    # Ingredients outside RxNorm's current prescribable content that interaction rules name; confirmed
    # against a source at build time like the A ingredients.
    "st. john's wort": "258326",  # ANSM "ST JOHNS WORT" 258326; ONC high-priority list member
}

A_BRAND_NAMES: Final[dict[str, str]] = {
    # Brand name -> RxNorm ingredient name, for single-ingredient brands of the missing A ingredients: the
    # flattened brand file lost them with their ingredient. Public labelling facts (DailyMed / FDA labels);
    # names only, no brand RxCUIs are invented. The ingredient's RxCUI comes from the sources.
    "tylenol": "acetaminophen",
    "panadol": "acetaminophen",
    "norvasc": "amlodipine",
    "lipitor": "atorvastatin",
    "eliquis": "apixaban",
    "zyloprim": "allopurinol",
    "xanax": "alprazolam",
    "ventolin": "albuterol",
    "proventil": "albuterol",
    "proair": "albuterol",
    "cordarone": "amiodarone",
    "pacerone": "amiodarone",
    "elavil": "amitriptyline",
    "amoxil": "amoxicillin",
    "imuran": "azathioprine",
    "zithromax": "azithromycin",
    "tenormin": "atenolol",
    "abilify": "aripiprazole",
    "zovirax": "acyclovir",
    "strattera": "atomoxetine",
    "reyataz": "atazanavir",
}

INN_SYNONYMS: Final[dict[str, str]] = {
    # International (INN/BAN) or older name -> RxNorm's US name. ANSM's English translation and European
    # users write these; RxNorm uses USAN. Source: WHO INN vs USAN naming differences (public naming facts).
    "paracetamol": "acetaminophen",
    "salbutamol": "albuterol",
    "acetylsalicylic acid": "aspirin",
    "aciclovir": "acyclovir",
    "valaciclovir": "valacyclovir",
    "adrenaline": "epinephrine",
    "noradrenaline": "norepinephrine",
    "frusemide": "furosemide",
    "glibenclamide": "glyburide",
    "lignocaine": "lidocaine",
    "pethidine": "meperidine",
    "ciclosporin": "cyclosporine",
    "rifampicin": "rifampin",
    "colecalciferol": "cholecalciferol",
    "dexamfetamine": "dextroamphetamine",
    "amfetamine": "amphetamine",
    "isoprenaline": "isoproterenol",
    "methylthioninium chloride": "methylene blue",
    "hypericum": "st. john's wort",
    "st john's wort": "st. john's wort",
    "st johns wort": "st. john's wort",
    "saint john's wort": "st. john's wort",
    "thyroxine": "levothyroxine",
    "oestradiol": "estradiol",
    "ethinyloestradiol": "ethinyl estradiol",
    "mesalazine": "mesalamine",
    "beclometasone": "beclomethasone",
    "clomifene": "clomiphene",
    "cefalexin": "cephalexin",
    "chlorphenamine": "chlorpheniramine",
    "bendrofluazide": "bendroflumethiazide",
    "aluminium hydroxide": "aluminum hydroxide",
    "alimemazine": "trimeprazine",
    "amoxycillin": "amoxicillin",
    "phytomenadione": "vitamin K1",
    "sodium valproate": "valproate",
    "alendronate": "alendronic acid",
}

MISSPELLINGS: Final[dict[str, str]] = {
    # Misspelt word -> correct word, applied word by word. "simvistatin" and "hydrocholoride" are
    # Synthea display misspellings (data README; synthea/ bundles); the rest are common typing errors.
    "simvistatin": "simvastatin",
    "hydrocholoride": "hydrochloride",
    "asprin": "aspirin",
    "aspirine": "aspirin",
    "acetominophen": "acetaminophen",
    "acetaminophin": "acetaminophen",
    "amoxicilin": "amoxicillin",
    "amoxicillan": "amoxicillin",
    "ibuprofin": "ibuprofen",
    "ibuprofine": "ibuprofen",
    "warfarine": "warfarin",
    "lisinipril": "lisinopril",
    "atorvastin": "atorvastatin",
    "atorvastatine": "atorvastatin",
    "omeprazol": "omeprazole",
    "metformine": "metformin",
    "amlodipin": "amlodipine",
    "sulphate": "sulfate",
    "sulphamethoxazole": "sulfamethoxazole",
    "penicilin": "penicillin",
    "alprazolan": "alprazolam",
    "alrrazolam": "alprazolam",  # ANSM typo
    "allopurinal": "allopurinol",
    "amiodarona": "amiodarone",
    "levothyroxin": "levothyroxine",
}

SALT_WORDS: Final[frozenset[str]] = frozenset(
    # Words naming the salt, ester or hydrate of an ingredient (RxNorm PIN names); stripping them from a
    # precise ingredient name gives the base ingredient, e.g. "warfarin sodium" -> "warfarin".
    {
        "sodium", "disodium", "trisodium", "potassium", "dipotassium", "calcium", "magnesium", "zinc",
        "lithium", "aluminum", "hydrochloride", "dihydrochloride", "hcl", "hydrobromide", "hbr", "maleate",
        "dimaleate", "besylate", "besilate", "mesylate", "mesilate", "dimesylate", "succinate", "tartrate",
        "bitartrate", "sulfate", "bisulfate", "sulphate", "citrate", "acetate", "diacetate", "phosphate",
        "fumarate", "hemifumarate", "chloride", "bromide", "iodide", "nitrate", "lactate", "gluconate",
        "malate", "tosylate", "napsylate", "pamoate", "stearate", "propionate", "dipropionate", "valerate",
        "furoate", "butyrate", "acetonide", "hyclate", "monohydrate", "dihydrate", "trihydrate",
        "hemihydrate", "sesquihydrate", "anhydrous", "tromethamine", "meglumine", "embonate", "oxalate",
        "benzoate", "salicylate", "carbonate", "decanoate", "enanthate", "cypionate", "palmitate",
        "hexanoate", "medoxomil", "axetil", "pivoxil", "proxetil", "etabonate", "dimeglumine", "saccharate",
        "erbumine", "lysine", "arginine", "olamine", "methylbromide", "monosodium", "edisylate",
        "teoclate", "xinafoate", "mandelate", "ethylsuccinate", "estolate", "lactobionate",
        "glucoheptonate", "hydroxide", "oxide", "free", "base",
    }
)  # fmt: skip

FORMULATION_WORDS: Final[frozenset[str]] = frozenset(
    # Release and strength words people add to a drug name ("metoprolol succinate ER", "tablets").
    {
        "er", "xr", "xl", "sr", "cr", "la", "dr", "ec", "ir", "odt", "extended", "delayed", "immediate",
        "release", "tab", "tabs", "tablet", "tablets", "cap", "caps", "capsule", "capsules", "oral", "po",
        "iv", "im", "injection", "solution", "suspension", "mg", "mcg", "ml", "g", "units", "unit",
    }
)  # fmt: skip

ROUTE_KEYWORDS: Final[tuple[tuple[str, Route], ...]] = (
    # Dose-form words (RxNorm dose form names, lower case) -> route, first match wins: the specific
    # route words come before generic ones, so "Vaginal Cream" is vaginal and "Ophthalmic Gel" ophthalmic.
    ("ophthalmic", "ophthalmic"),
    ("otic", "otic"),
    ("nasal", "nasal"),
    ("vaginal", "vaginal"),
    ("rectal", "rectal"),
    ("enema", "rectal"),
    ("transdermal", "transdermal"),
    ("inhal", "inhalation"),
    ("injectable", "injectable"),
    ("injection", "injectable"),
    ("syringe", "injectable"),
    ("injector", "injectable"),
    ("cartridge", "injectable"),
    ("intravenous", "injectable"),
    ("intramuscular", "injectable"),
    ("subcutaneous", "injectable"),
    ("topical", "topical"),
    ("cutaneous", "topical"),
    ("cream", "topical"),
    ("ointment", "topical"),
    ("lotion", "topical"),
    ("shampoo", "topical"),
    ("soap", "topical"),
    ("medicated pad", "topical"),
    ("medicated patch", "topical"),
    ("swab", "topical"),
    ("oral", "oral"),
    ("tablet", "oral"),
    ("capsule", "oral"),
    ("sublingual", "oral"),
    ("buccal", "oral"),
    ("lozenge", "oral"),
    ("chewing gum", "oral"),
    ("mouthwash", "oral"),
    ("pill", "oral"),
)

ALLERGY_SYNONYMS: Final[dict[str, str]] = {
    # How people write an allergen group -> the plain name of the allergen group rules_build makes
    # ("Sulfonamide antibiotics (arylamine sulfonamides)" is matched as "sulfonamide antibiotics").
    # "Sulfa allergy" conventionally means the sulfonamide antibiotics; cross-sensitivity to the
    # non-antibiotic sulfonamides is a rule of its own.
    "penicillin": "penicillins",
    "penicillin antibiotics": "penicillins",
    "sulfa": "sulfonamide antibiotics",
    "sulpha": "sulfonamide antibiotics",
    "sulfa drugs": "sulfonamide antibiotics",
    "sulpha drugs": "sulfonamide antibiotics",
    "sulfa antibiotics": "sulfonamide antibiotics",
    "sulfonamide": "sulfonamide antibiotics",
    "sulfonamides": "sulfonamide antibiotics",
    "sulfonamide antibiotic": "sulfonamide antibiotics",
    "nsaid": "nsaids",
    "non-steroidal anti-inflammatory drugs": "nsaids",
    "nonsteroidal anti-inflammatory drugs": "nsaids",
    "statin": "statins",
    "cephalosporin": "cephalosporins",
    "carbapenem": "carbapenems",
}
