"""Names that nurses and patients write for drugs, beyond RxNorm's own: British approved names (BAN) and
WHO INNs where they differ from RxNorm's US names, UK compound "co-" names, ward abbreviations and UK brand
names. Each entry names the RxNorm ingredient(s) it means, by *name*, and the public naming fact it rests on;
the RxCUIs come from the knowledge build (an entry whose ingredients are not all in the knowledge is skipped
and listed in data/SOURCES.md).

``display=True`` marks the name a British ward reads for that one ingredient (the BNF's title): it becomes
the ingredient's ``en-GB`` display name (data/display_names.tsv).

Sources, as cited per entry:
- BNF: the British National Formulary's drug monograph titles (British approved names, harmonised with the
  INN in 2003 except adrenaline and noradrenaline, which the UK kept).
- INN: the WHO list of recommended International Nonproprietary Names (where it differs from USAN).
- BP co-name: the British Pharmacopoeia names of compound preparations ("co-amoxiclav" etc.), as the BNF
  lists them with their ingredients.
- UK brand: the brand's UK Summary of Product Characteristics (eMC) naming its active substance(s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Synonym:
    """A way of writing a drug and the RxNorm ingredient name(s) it means."""

    name: str  # lower case, as written
    means: tuple[str, ...]  # RxNorm ingredient (or salt) names
    source: str
    display: bool = False  # the en-GB display name of its single ingredient


def _one(name: str, means: str, source: str, *, display: bool = False) -> Synonym:
    return Synonym(name, (means,), source, display)


def _co(name: str, *means: str) -> Synonym:
    return Synonym(name, means, f"BP co-name: {name} = {' + '.join(means)} (BNF)")


BAN = "BNF title (British approved name)"
INN = "WHO INN"
OLD_BAN = "former British approved name (changed to the INN in 2003; still written)"
ABBREVIATION = "UK ward abbreviation (BNF, NHS prescribing usage)"
UK_BRAND = "UK brand: SmPC (eMC) active substance"

SYNONYMS: Final[tuple[Synonym, ...]] = (
    # British approved names / INNs -> RxNorm's US names; display=True: the BNF title.
    _one("paracetamol", "acetaminophen", f"{BAN}; {INN}", display=True),
    _one("salbutamol", "albuterol", f"{BAN}; {INN}", display=True),
    _one("adrenaline", "epinephrine", f"{BAN} (kept by the UK); INN epinephrine", display=True),
    _one("noradrenaline", "norepinephrine", f"{BAN} (kept by the UK); INN norepinephrine", display=True),
    _one("ciclosporin", "cyclosporine", f"{BAN}; {INN}", display=True),
    _one("senna", "sennosides, usp", f"{BAN} (BNF title 'Senna': sennosides)", display=True),
    _one("sennosides", "sennosides, usp", f"{INN} (sennosides A and B)"),
    _one("cyclosporin", "cyclosporine", OLD_BAN),
    _one("glyceryl trinitrate", "nitroglycerin", f"{BAN}; INN glyceryl trinitrate", display=True),
    _one("pethidine", "meperidine", f"{BAN}; {INN}", display=True),
    _one("rifampicin", "rifampin", f"{BAN}; {INN}", display=True),
    _one("glibenclamide", "glyburide", f"{BAN}; {INN}", display=True),
    _one("aciclovir", "acyclovir", f"{BAN}; {INN}", display=True),
    _one("valaciclovir", "valacyclovir", f"{BAN}; {INN}", display=True),
    _one("isoprenaline", "isoproterenol", f"{BAN}; {INN}", display=True),
    _one("colecalciferol", "cholecalciferol", f"{BAN}; {INN}", display=True),
    _one("dexamfetamine", "dextroamphetamine", f"{BAN}; {INN}", display=True),
    _one("amfetamine", "amphetamine", f"{BAN}; {INN}", display=True),
    _one("mesalazine", "mesalamine", f"{BAN}; {INN}", display=True),
    _one("beclometasone", "beclomethasone", f"{BAN}; {INN}", display=True),
    _one("clomifene", "clomiphene", f"{BAN}; {INN}", display=True),
    _one("cefalexin", "cephalexin", f"{BAN}; {INN}", display=True),
    _one("chlorphenamine", "chlorpheniramine", f"{BAN}; {INN}", display=True),
    _one("aluminium hydroxide", "aluminum hydroxide", f"{BAN} (British spelling)", display=True),
    _one("phytomenadione", "vitamin K1", f"{BAN}; {INN}", display=True),
    _one("methylthioninium chloride", "methylene blue", f"{BAN}; {INN}", display=True),
    _one("methotrimeprazine", "levomepromazine", "USAN methotrimeprazine; INN and BNF levomepromazine"),
    _one("flupenthixol", "flupentixol", OLD_BAN),
    _one("benzylpenicillin", "penicillin G", f"{BAN}; {INN}", display=True),
    _one("phenoxymethylpenicillin", "penicillin V", f"{BAN}; {INN}", display=True),
    _one("hyoscine", "scopolamine", f"{BAN}", display=True),
    _one("hyoscine hydrobromide", "scopolamine hydrobromide", f"{BAN}"),
    _one("dicycloverine", "dicyclomine", f"{BAN}; {INN}", display=True),
    _one("glycopyrronium bromide", "glycopyrronium", f"{BAN}"),
    _one("glycopyrrolate", "glycopyrronium", "USAN glycopyrrolate; RxNorm names the INN"),
    _one("norethisterone", "norethindrone", f"{BAN}; {INN}", display=True),
    _one("thiamazole", "methimazole", INN),
    _one("torasemide", "torsemide", f"{BAN}; {INN}", display=True),
    _one("chlortalidone", "chlorthalidone", f"{BAN}; {INN}", display=True),
    _one("ergometrine", "ergonovine", f"{BAN}; {INN}", display=True),
    _one("methylergometrine", "methylergonovine", INN),
    _one("tetracosactide", "cosyntropin", f"{BAN}; {INN}", display=True),
    _one("sodium cromoglicate", "cromolyn", f"{BAN}; INN cromoglicic acid", display=True),
    _one("sodium cromoglycate", "cromolyn", OLD_BAN),
    _one("ispaghula husk", "psyllium", BAN, display=True),
    _one("ispaghula", "psyllium", BAN),
    _one("hydroxycarbamide", "hydroxyurea", f"{BAN}; {INN}", display=True),
    _one("colestyramine", "cholestyramine resin", f"{BAN}; {INN}", display=True),
    _one("cholestyramine", "cholestyramine resin", "USAN cholestyramine; RxNorm names the resin"),
    _one("meclozine", "meclizine", f"{BAN}; {INN}", display=True),
    _one("carbocisteine", "carbocysteine", f"{BAN}; {INN}", display=True),
    _one("dimeticone", "dimethicone", f"{BAN}; {INN}", display=True),
    _one("eformoterol", "formoterol", OLD_BAN),
    _one("oxpentifylline", "pentoxifylline", OLD_BAN),
    _one("benzhexol", "trihexyphenidyl", OLD_BAN),
    _one("amylobarbitone", "amobarbital", OLD_BAN),
    _one("phenobarbitone", "phenobarbital", OLD_BAN),
    _one("quinalbarbitone", "secobarbital", OLD_BAN),
    _one("orciprenaline", "metaproterenol", f"{BAN}; {INN}", display=True),
    _one("guaiphenesin", "guaifenesin", OLD_BAN),
    _one("sulphasalazine", "sulfasalazine", OLD_BAN),
    _one("sulphadiazine", "sulfadiazine", OLD_BAN),
    _one("frusemide", "furosemide", OLD_BAN),
    _one("lignocaine", "lidocaine", OLD_BAN),
    _one("amoxycillin", "amoxicillin", OLD_BAN),
    _one("thyroxine", "levothyroxine", OLD_BAN),
    _one("oestradiol", "estradiol", OLD_BAN),
    _one("ethinyloestradiol", "ethinyl estradiol", OLD_BAN),
    _one("ethinylestradiol", "ethinyl estradiol", f"{BAN}; {INN}", display=True),
    _one("bendrofluazide", "bendroflumethiazide", OLD_BAN),
    _one("alimemazine", "trimeprazine", f"{BAN}; {INN}"),
    _one("clavulanic acid", "clavulanate", f"{BAN}; {INN}", display=True),
    _one("sodium valproate", "valproate", BAN, display=True),
    _one("valproic acid", "valproate", f"{INN}; RxNorm's ingredient is valproate"),
    _one(
        "cyanocobalamin",
        "vitamin B12",
        "USAN and INN cyanocobalamin; RxNorm names the ingredient vitamin B12",
    ),
    _one("alendronate", "alendronic acid", "USAN alendronate; the knowledge names the INN"),
    _one("acetylsalicylic acid", "aspirin", f"{INN}; BAN aspirin"),
    _one("hypericum", "st. john's wort", "Hypericum perforatum, St John's wort (BNF)"),
    _one("st john's wort", "st. john's wort", "BNF spelling"),
    _one("st johns wort", "st. john's wort", "BNF spelling"),
    _one("saint john's wort", "st. john's wort", "common spelling"),
    _one("dabigatran", "dabigatran etexilate", "BNF title dabigatran etexilate; RxNorm ingredient name"),
    # UK compound preparations (BP co-names) -> their ingredients
    _co("co-amoxiclav", "amoxicillin", "clavulanate"),
    _co("co-trimoxazole", "sulfamethoxazole", "trimethoprim"),
    _co("co-codamol", "acetaminophen", "codeine"),
    _co("co-dydramol", "acetaminophen", "dihydrocodeine"),
    _co("co-careldopa", "carbidopa", "levodopa"),
    _co("co-beneldopa", "benserazide", "levodopa"),
    _co("co-amilofruse", "amiloride", "furosemide"),
    _co("co-amilozide", "amiloride", "hydrochlorothiazide"),
    _co("co-tenidone", "atenolol", "chlorthalidone"),
    _co("co-triamterzide", "triamterene", "hydrochlorothiazide"),
    _co("co-zidocapt", "captopril", "hydrochlorothiazide"),
    _co("co-phenotrope", "diphenoxylate", "atropine"),
    _co("co-magaldrox", "aluminum hydroxide", "magnesium hydroxide"),
    _co("co-fluampicil", "ampicillin", "flucloxacillin"),
    _co("co-proxamol", "acetaminophen", "propoxyphene"),
    _co("co-cyprindiol", "cyproterone", "ethinyl estradiol"),
    # Ward abbreviations
    _one("gtn", "nitroglycerin", f"{ABBREVIATION}: GTN = glyceryl trinitrate"),
    _one("ismn", "isosorbide mononitrate", f"{ABBREVIATION}: ISMN = isosorbide mononitrate"),
    _one("isdn", "isosorbide dinitrate", f"{ABBREVIATION}: ISDN = isosorbide dinitrate"),
    _one("kcl", "potassium chloride", f"{ABBREVIATION}: KCl = potassium chloride"),
    _one("mmf", "mycophenolate mofetil", f"{ABBREVIATION}: MMF = mycophenolate mofetil"),
    _one("mtx", "methotrexate", f"{ABBREVIATION}: MTX = methotrexate"),
    _one("5-fu", "fluorouracil", f"{ABBREVIATION}: 5-FU = fluorouracil"),
    _one("asa", "aspirin", "abbreviation: ASA = acetylsalicylic acid (aspirin)"),
    _one("apap", "acetaminophen", "US abbreviation: APAP = N-acetyl-p-aminophenol (acetaminophen)"),
    _one("hctz", "hydrochlorothiazide", "abbreviation: HCTZ = hydrochlorothiazide"),
    Synonym(
        "tmp-smx",
        ("sulfamethoxazole", "trimethoprim"),
        "abbreviation: TMP-SMX = trimethoprim + sulfamethoxazole",
    ),
    Synonym(
        "pip-taz",
        ("piperacillin", "tazobactam"),
        f"{ABBREVIATION}: pip-taz = piperacillin with tazobactam",
    ),
    Synonym(
        "piptaz", ("piperacillin", "tazobactam"), f"{ABBREVIATION}: piptaz = piperacillin with tazobactam"
    ),
    # UK brand names that RxNorm (a US terminology) does not carry
    Synonym("tazocin", ("piperacillin", "tazobactam"), f"{UK_BRAND}: Tazocin = piperacillin, tazobactam"),
    _one("mst", "morphine", f"{UK_BRAND}: MST Continus = morphine sulfate (modified release)"),
    _one("mst continus", "morphine", f"{UK_BRAND}: MST Continus = morphine sulfate"),
    _one("oramorph", "morphine", f"{UK_BRAND}: Oramorph = morphine sulfate oral solution"),
    _one("sevredol", "morphine", f"{UK_BRAND}: Sevredol = morphine sulfate tablets"),
    _one("zomorph", "morphine", f"{UK_BRAND}: Zomorph = morphine sulfate capsules"),
    _one("oxynorm", "oxycodone", f"{UK_BRAND}: OxyNorm = oxycodone hydrochloride"),
    _one("calpol", "acetaminophen", f"{UK_BRAND}: Calpol = paracetamol"),
    _one("nurofen", "ibuprofen", f"{UK_BRAND}: Nurofen = ibuprofen"),
    _one("brufen", "ibuprofen", f"{UK_BRAND}: Brufen = ibuprofen"),
    _one("voltarol", "diclofenac", f"{UK_BRAND}: Voltarol = diclofenac sodium"),
    _one("losec", "omeprazole", f"{UK_BRAND}: Losec = omeprazole"),
    _one("epilim", "valproate", f"{UK_BRAND}: Epilim = sodium valproate"),
    _one("clexane", "enoxaparin", f"{UK_BRAND}: Clexane = enoxaparin sodium"),
    _one("fybogel", "psyllium", f"{UK_BRAND}: Fybogel = ispaghula husk"),
    Synonym("septrin", ("sulfamethoxazole", "trimethoprim"), f"{UK_BRAND}: Septrin = co-trimoxazole"),
    Synonym("seretide", ("fluticasone", "salmeterol"), f"{UK_BRAND}: Seretide = fluticasone, salmeterol"),
    _one("priadel", "lithium carbonate", f"{UK_BRAND}: Priadel = lithium carbonate"),
    Synonym("madopar", ("benserazide", "levodopa"), f"{UK_BRAND}: Madopar = co-beneldopa"),
    Synonym("sinemet", ("carbidopa", "levodopa"), "US/UK brand: Sinemet = co-careldopa"),
    _one("motilium", "domperidone", f"{UK_BRAND}: Motilium = domperidone"),
)
"""Every curated name, each written once (a test holds that)."""


def single_ingredient_synonyms() -> dict[str, str]:
    """Name -> the one RxNorm ingredient name it means (for reading source files and product names)."""
    return {s.name: s.means[0] for s in SYNONYMS if len(s.means) == 1}
