"""Facts about drug names that the public sources lack, each with where it comes from.

Nothing here is an RxCUI taken on trust: every A ingredient listed in ``A_INGREDIENTS`` must be confirmed
by a public source file during ``knowledge build`` (CPIC's ingredient RxCUIs, the ANSM class members'
RxCUIs, or an ingredient-level code in the VSAC / PDDI-CDS value sets), and the build fails if one is not.
Synonyms and misspellings map a name to another *name*; its RxCUI comes from the sources.
"""

from __future__ import annotations

from typing import Final

from alertsvc.knowledge.curated_names import single_ingredient_synonyms
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
    # Ingredients outside RxNorm's current prescribable content that interaction rules name (members of
    # the ONC high-priority pairs, many of them in use on UK and European wards, some withdrawn in the US
    # but still in imported histories); confirmed against a source at build time like the A ingredients.
    # The name is the one the source gives (INN, lower case): RxNorm's own name is not in any file here.
    "st. john's wort": "258326",  # ANSM "ST JOHNS WORT" 258326; ONC high-priority list member
    "domperidone": "3626",  # ANSM torsades classes (C01-N05, C01B) RxCUI column
    "sulpiride": "10239",  # ANSM torsades neuroleptics (N05A-002)
    "amisulpride": "46303",  # ANSM torsades neuroleptics (N05A-002)
    "tiapride": "10588",  # ANSM torsades neuroleptics (N05A-002)
    "cyamemazine": "21877",  # ANSM torsades neuroleptics (N05A-002)
    "flupentixol": "4495",  # ANSM torsades neuroleptics (N05A-002)
    "zuclopenthixol": "114176",  # ANSM torsades neuroleptics (N05A-002)
    "pipamperone": "33739",  # ANSM torsades neuroleptics (N05A-002)
    "pipotiazine": "8348",  # ANSM torsades neuroleptics (N05A-002)
    "levomepromazine": "6852",  # ANSM torsades neuroleptics (N05A-002)
    "mequitazine": "29528",  # ANSM torsades class (C01-N05, C01B)
    "hydroquinidine": "27220",  # ANSM torsades class (C01-N05, C01B)
    "spiramycin": "9991",  # ANSM torsades class (C01-N05, C01B)
    "vincamine": "11201",  # ANSM torsades class (C01-N05, C01B)
    "halofantrine": "50749",  # ANSM torsades antiparasitics (P01B-001)
    "piperaquine": "1430959",  # ANSM torsades class (C01-N05, C01B)
    "moclobemide": "30121",  # ANSM class table; ONC high-priority pair 31 ("Moclobamide")
    "indinavir": "114289",  # ANSM class table; ONC high-priority pairs 11, 23, 25, 27
    "saquinavir": "83395",  # ANSM class table; ONC high-priority pairs 11, 23, 25, 27
    "telithromycin": "274786",  # ANSM class table; ONC high-priority pairs 11, 25, 27
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

INN_SYNONYMS: Final[dict[str, str]] = single_ingredient_synonyms()
"""International (INN), British (BAN) or older name, abbreviation or UK brand -> RxNorm's ingredient name;
each with its source in ``curated_names.SYNONYMS``."""

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
    "penicilin": "penicillin",
    "alprazolan": "alprazolam",
    "alrrazolam": "alprazolam",  # ANSM typo
    "allopurinal": "allopurinol",
    "amiodarona": "amiodarone",
    "levothyroxin": "levothyroxine",
}

BRITISH_SPELLINGS: Final[dict[str, str]] = {
    # British spelling -> RxNorm's, applied word by word like a misspelling but read without a note: the
    # name is right, only spelt the British way (BNF spellings before the 2003 harmonisation).
    "sulphate": "sulfate",
    "sulphamethoxazole": "sulfamethoxazole",
    "sulphadiazine": "sulfadiazine",
    "sulphasalazine": "sulfasalazine",
    "aluminium": "aluminum",
    "caesium": "cesium",
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
