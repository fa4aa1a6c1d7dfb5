"""Allergen groups and cross-sensitivity rules, from published allergy literature and VSAC.

A cross-sensitivity rule between a group and itself means: a patient allergic to one member should not
get another member (major, naming the group); a rule between two groups links them at the stated
severity. Same-ingredient allergy is critical and needs no rule here (the check sees it directly).

Beta-lactams: cross-reactivity between penicillins and cephalosporins follows the R1 side chain, not the
beta-lactam ring, so cephalosporins are grouped with the penicillin whose R1 side chain they share or
closely resemble, rather than the whole class (Zagursky & Pichichero 2018; the 2022 practice parameter).
Carbapenems cross-react with penicillins in under 1% of penicillin-allergic patients: moderate.
Sulfonamides: allergy to a sulfonamide antibiotic does not extend to non-antibiotic sulfonamides as a
group (Strom et al. 2003): at most minor.
"""

from __future__ import annotations

from dataclasses import dataclass

from alertsvc.knowledge.model import DrugClass, Rule, Severity, Source
from alertsvc.knowledge.rules_common import NameLookup, Part

PRACTICE_PARAMETER = (
    "Khan DA, Banerji A, Blumenthal KG, et al. Drug allergy: a 2022 practice parameter update. "
    "J Allergy Clin Immunol 2022;150(6):1333-1393"
)
ZAGURSKY = (
    "Zagursky RJ, Pichichero ME. Cross-reactivity in beta-lactam allergy. "
    "J Allergy Clin Immunol Pract 2018;6(1):72-81 (R1 side-chain groups)"
)
ROMANO = (
    "Romano A, Viola M, Gueant-Rodriguez RM, et al. Brief communication: tolerability of meropenem in "
    "patients with IgE-mediated hypersensitivity to penicillins. Ann Intern Med 2007;146(4):266-269"
)
STROM = (
    "Strom BL, Schinnar R, Apter AJ, et al. Absence of cross-reactivity between sulfonamide antibiotics "
    "and sulfonamide nonantibiotics. N Engl J Med 2003;349(17):1628-1635"
)
KOWALSKI = (
    "Kowalski ML, Asero R, Bavbek S, et al. Classification and practical approach to the diagnosis and "
    "management of hypersensitivity to nonsteroidal anti-inflammatory drugs. Allergy 2013;68(10):1219-1232"
)

SOURCE = Source(
    key="curated",
    title="alertsvc curated facts: allergen groups, QT-prolonging additions, ONC list corrections",
    version="2025",
    licence="Facts restated from public labelling and literature (cited per entry in curated_rules.py "
    "and sources_allergy.py)",
    attribution="US prescribing information (DailyMed) and FDA Drug Safety Communications for QT "
    f"additions; {PRACTICE_PARAMETER}; {ZAGURSKY}; {ROMANO}; {STROM}; {KOWALSKI}.",
)


@dataclass(frozen=True)
class AllergenGroup:
    """An allergen group as curated: id (without the ``allergen:`` prefix), name, members, source."""

    id: str
    name: str
    members: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class CrossSensitivity:
    """A cross-sensitivity rule between two allergen groups (the same group: within the group)."""

    id: str
    left: str
    right: str
    severity: Severity
    mechanism: str
    management: str
    source: str


AVOID = "Avoid unless an allergist has cleared it; if essential, give by graded challenge under supervision."
GROUPS: tuple[AllergenGroup, ...] = (
    AllergenGroup(
        "penicillins",
        "Penicillins",
        (
            "penicillin g",
            "penicillin v",
            "amoxicillin",
            "ampicillin",
            "dicloxacillin",
            "nafcillin",
            "oxacillin",
            "piperacillin",
            "ticarcillin",
            "carbenicillin",
            "cloxacillin",
            "methicillin",
            "mezlocillin",
        ),
        PRACTICE_PARAMETER,
    ),
    AllergenGroup(
        "r1-aminobenzyl",
        "Aminopenicillins and cephalosporins with the same R1 side chain",
        (
            "ampicillin",
            "amoxicillin",
            "cephalexin",
            "cefaclor",
            "cefadroxil",
            "cefprozil",
            "cephradine",
            "loracarbef",
        ),
        ZAGURSKY,
    ),
    AllergenGroup(
        "r1-benzyl",
        "Penicillin G and cephalosporins with a similar R1 side chain",
        ("penicillin g", "cephalothin", "cefoxitin", "cephaloridine"),
        ZAGURSKY,
    ),
    AllergenGroup(
        "r1-methoxyimino",
        "Cephalosporins with a methoxyimino R1 side chain",
        ("cefotaxime", "ceftriaxone", "cefepime", "cefpodoxime", "cefditoren", "ceftizoxime", "cefuroxime"),
        ZAGURSKY,
    ),
    AllergenGroup(
        "r1-ceftazidime-aztreonam",
        "Ceftazidime and aztreonam (identical R1 side chain)",
        ("ceftazidime", "aztreonam"),
        ZAGURSKY,
    ),
    AllergenGroup("carbapenems", "Carbapenems", ("imipenem", "meropenem", "ertapenem", "doripenem"), ROMANO),
    AllergenGroup(
        "sulfonamide-antibiotics",
        "Sulfonamide antibiotics (arylamine sulfonamides)",
        (
            "sulfamethoxazole",
            "sulfadiazine",
            "sulfisoxazole",
            "sulfacetamide",
            "sulfadoxine",
            "sulfasalazine",
        ),
        STROM,
    ),
    AllergenGroup(
        "sulfonamide-nonantibiotics",
        "Non-antibiotic sulfonamides",
        (
            "furosemide",
            "bumetanide",
            "torsemide",
            "hydrochlorothiazide",
            "chlorthalidone",
            "indapamide",
            "metolazone",
            "acetazolamide",
            "celecoxib",
            "glipizide",
            "glyburide",
            "glimepiride",
            "sumatriptan",
            "zonisamide",
        ),
        STROM,
    ),
    AllergenGroup(
        "nsaids",
        "NSAIDs that inhibit COX-1 (cross-reactive NSAID hypersensitivity)",
        (
            "aspirin",
            "ibuprofen",
            "naproxen",
            "diclofenac",
            "indomethacin",
            "ketorolac",
            "ketoprofen",
            "flurbiprofen",
            "fenoprofen",
            "piroxicam",
            "meloxicam",
            "sulindac",
            "etodolac",
            "nabumetone",
            "oxaprozin",
            "tolmetin",
            "diflunisal",
            "mefenamic acid",
            "meclofenamate",
        ),
        KOWALSKI,
    ),
)

RULES: tuple[CrossSensitivity, ...] = (
    CrossSensitivity(
        "allergy-penicillins",
        "penicillins",
        "penicillins",
        "major",
        "Penicillins share the beta-lactam-thiazolidine core: allergy to one is taken as allergy to all.",
        AVOID,
        PRACTICE_PARAMETER,
    ),
    CrossSensitivity(
        "allergy-r1-aminobenzyl",
        "r1-aminobenzyl",
        "r1-aminobenzyl",
        "major",
        "Ampicillin and amoxicillin share their R1 side chain with cephalexin, cefaclor, cefadroxil, "
        "cefprozil, cephradine and loracarbef: side-chain-specific cross-reactivity.",
        f"{AVOID} A cephalosporin with a dissimilar side chain is usually tolerated.",
        ZAGURSKY,
    ),
    CrossSensitivity(
        "allergy-r1-benzyl",
        "r1-benzyl",
        "r1-benzyl",
        "major",
        "Penicillin G's benzyl R1 side chain resembles that of cephalothin, cefoxitin and cephaloridine.",
        f"{AVOID} A cephalosporin with a dissimilar side chain is usually tolerated.",
        ZAGURSKY,
    ),
    CrossSensitivity(
        "allergy-r1-methoxyimino",
        "r1-methoxyimino",
        "r1-methoxyimino",
        "major",
        "Cefotaxime, ceftriaxone, cefepime, cefpodoxime, cefditoren, ceftizoxime and cefuroxime share a "
        "methoxyimino R1 side chain.",
        f"{AVOID} Choose a cephalosporin with a dissimilar side chain.",
        ZAGURSKY,
    ),
    CrossSensitivity(
        "allergy-r1-ceftazidime-aztreonam",
        "r1-ceftazidime-aztreonam",
        "r1-ceftazidime-aztreonam",
        "major",
        "Ceftazidime and aztreonam have identical R1 side chains; aztreonam otherwise does not cross-react "
        "with penicillins or other cephalosporins.",
        AVOID,
        ZAGURSKY,
    ),
    CrossSensitivity(
        "allergy-carbapenems-penicillins",
        "carbapenems",
        "penicillins",
        "moderate",
        "Carbapenems cross-react with penicillins in under 1% of penicillin-allergic patients.",
        "Usually given without testing; observe after the first dose, or test dose if the penicillin "
        "reaction was severe.",
        f"{ROMANO}; {PRACTICE_PARAMETER}",
    ),
    CrossSensitivity(
        "allergy-sulfonamide-antibiotics",
        "sulfonamide-antibiotics",
        "sulfonamide-antibiotics",
        "major",
        "Sulfonamide antibiotics share the N4 arylamine and N1 heterocycle that drive sulfonamide "
        "antibiotic allergy.",
        AVOID,
        STROM,
    ),
    CrossSensitivity(
        "allergy-sulfonamide-nonantibiotics",
        "sulfonamide-antibiotics",
        "sulfonamide-nonantibiotics",
        "minor",
        "No group-wide cross-sensitivity: non-antibiotic sulfonamides lack the arylamine and heterocycle of "
        "the antibiotics; the slightly higher reaction rate reflects a general predisposition to allergy.",
        "Take into account; not a reason to withhold the drug.",
        STROM,
    ),
    CrossSensitivity(
        "allergy-statins",
        "statins",
        "statins",
        "major",
        "VSAC's 'Statin Allergen' value set treats the statins as one allergen class (allergy or "
        "intolerance, e.g. myopathy, is recorded against the class).",
        "Avoid another statin unless the prescriber has re-challenged deliberately.",
        "VSAC Statin Allergen value set (2.16.840.1.113762.1.4.1110.42)",
    ),
    CrossSensitivity(
        "allergy-nsaids",
        "nsaids",
        "nsaids",
        "major",
        "Cross-reactive NSAID hypersensitivity (NSAID-exacerbated respiratory or cutaneous disease, "
        "NSAID-induced urticaria/angioedema) follows COX-1 inhibition, so any COX-1-inhibiting NSAID, "
        "aspirin included, can trigger it. Selective COX-2 inhibitors (celecoxib) are usually tolerated "
        "and are not in this group.",
        f"{AVOID} Acetaminophen up to 1 g or celecoxib are usual alternatives.",
        KOWALSKI,
    ),
)


def build(lookup: NameLookup, statin_allergen: frozenset[str]) -> Part:
    """Allergen groups (VSAC statins included) and the cross-sensitivity rules between them."""
    part = Part(sources={"curated": SOURCE})
    for group in GROUPS:
        members = lookup.members(group.members, "curated")
        part.add_class(DrugClass(f"allergen:{group.id}", group.name, "allergen", "curated", members))
    part.add_class(
        DrugClass("allergen:statins", "Statins (VSAC Statin Allergen)", "allergen", "vsac", statin_allergen)
    )
    for rule in RULES:
        left, right = part.classes[f"allergen:{rule.left}"], part.classes[f"allergen:{rule.right}"]
        if not left.members or not right.members:
            part.notes.append(f"Allergy rule {rule.id} dropped: a group has no member in the terminology.")
            continue
        sources = ("vsac", "curated") if "statins" in (rule.left, rule.right) else ("curated",)
        part.rules.append(
            Rule(
                id=rule.id,
                kind="cross-sensitivity",
                left=f"class:{left.id}",
                right=f"class:{right.id}",
                severity=rule.severity,
                mechanism=rule.mechanism,
                management=f"{rule.management} Source: {rule.source}.",
                sources=sources,
            )
        )
    sizes = ", ".join(f"{c.id} ({len(c.members)})" for c in part.classes.values())
    part.notes.append(f"Allergen groups: {sizes}; {len(part.rules)} cross-sensitivity rules.")
    return part
