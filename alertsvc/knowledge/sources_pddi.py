"""The HL7 PDDI-CDS implementation guide (CC0): warfarin + NSAIDs and digoxin + cyclosporine.

Each PDDI-CDS value set covers one ingredient ("Ibuprofen Medications Value Set"); the guide groups them
into NSAIDs, proton pump inhibitors, systemic corticosteroids, aldosterone antagonists and loop diuretics
(the contextual factors of the two rules). A ``-exclude`` value set lists the topical and ophthalmic forms
that carry no systemic interaction ("the NSAID is topical diclofenac: no special precautions"). Rules
here have empty ``routes``, which means systemic routes only, so a topical or ophthalmic product never
triggers them; the few exclude codes that are systemic forms are reported, not excluded.
"""

from __future__ import annotations

import re
from pathlib import Path

from alertsvc.knowledge.curated_texts import management
from alertsvc.knowledge.model import LOCAL_ROUTES, DrugClass, Rule, Source
from alertsvc.knowledge.rules_common import NameLookup, Part, read_tsv
from alertsvc.knowledge.wording import steps

FILE = "_valueset_codes_flat.tsv"
COLUMNS = ("valueset_id", "title", "system", "code", "display")
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    # class id -> (name, value-set ingredients as the titles name them)
    "pddi:nsaids": (
        "NSAIDs (PDDI-CDS)",
        (
            "bromfenac",
            "celecoxib",
            "diclofenac",
            "diflunisal",
            "etodolac",
            "fenoprofen",
            "flurbiprofen",
            "ibuprofen",
            "indomethacin",
            "ketoprofen",
            "ketorolac",
            "mefenamate",
            "meloxicam",
            "nabumetone",
            "naproxen",
            "nepafenac",
            "oxaprozin",
            "piroxicam",
            "sulindac",
            "tolmetin",
        ),
    ),
    "pddi:ppis": (
        "Proton pump inhibitors (PDDI-CDS)",
        (
            "dexlansoprazole",
            "esomeprazole",
            "lansoprazole",
            "omeprazole",
            "pantoprazole",
            "rabeprazole",
        ),
    ),
    "pddi:systemic-corticosteroids": (
        "Systemic corticosteroids (PDDI-CDS)",
        (
            "betamethasone",
            "cloprednol",
            "cortisone",
            "cortivazol",
            "deflazacort",
            "desoxycorticosterone",
            "dexamethasone",
            "fludrocortisone",
            "fluocortolone",
            "hydrocortisone",
            "meprednisone",
            "methylprednisolone",
            "paramethasone",
            "prednisolone",
            "prednisone",
            "prednylidene",
            "rimexolone",
            "triamcinolone",
        ),
    ),
    "pddi:aldosterone-antagonists": ("Aldosterone antagonists (PDDI-CDS)", ("eplerenone", "spironolactone")),
    "pddi:loop-diuretics": (
        "Loop diuretics (PDDI-CDS)",
        ("bumetanide", "ethacrynate", "furosemide", "torsemide"),
    ),
}

SOURCE = Source(
    key="pddi-cds",
    title="HL7 Potential Drug-Drug Interaction (PDDI) CDS Implementation Guide",
    version="STU1 ballot (2018 value set expansions)",
    licence="CC0 1.0",
    attribution="HL7 International Clinical Decision Support WG; PDDI-CDS IG (warfarin + NSAIDs, "
    "digoxin + cyclosporine).",
    url="http://hl7.org/fhir/uv/pddi/",
)

WARFARIN_NSAID_MECHANISM = (
    "NSAIDs have antiplatelet effects that increase bleeding risk with warfarin, and cause peptic ulcers: "
    "most of the added risk is upper gastrointestinal bleeding."
)
WARFARIN_NSAID_WATCH = (
    "Ask the prescriber about acetaminophen or a short opioid course for pain instead.",
    "If both continue, a proton pump inhibitor lowers the risk of stomach bleeding.",
    "Look for black stools, vomiting blood or bruising; check INR within 3 days.",
)
DIGOXIN_CYCLOSPORINE_MECHANISM = (
    "Cyclosporine inhibits P-glycoprotein, the main efflux transporter of digoxin: raised digoxin levels "
    "and digitalis toxicity."
)
DIGOXIN_CYCLOSPORINE_WATCH = (
    "Check the pulse before each digoxin dose.",
    "Ask for a digoxin level, kidney function, potassium and magnesium within 3 days.",
)

_ROUTE_WORDS = {
    "ophthalmic": "ophthalmic",
    "otic": "otic",
    "topical": "topical",
    "shampoo": "topical",
    "rectal": "rectal",
    "enema": "rectal",
    "vaginal": "vaginal",
}


def ingredient_of_title(title: str) -> str:
    """The ingredient a PDDI-CDS value set covers.

    >>> ingredient_of_title("Exclude Ibuprofen Medications Value Set")
    'ibuprofen'
    """
    text = re.sub(r"^Exclude\s+", "", title.strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+Medications\s+Value\s+Set$", "", text, flags=re.IGNORECASE).strip().lower()


def route_of_display(display: str) -> str:
    """A coarse route from a product display, for reporting exclusions."""
    words = display.lower().split()
    for word in words:
        if word in _ROUTE_WORDS:
            return _ROUTE_WORDS[word]
    return (
        "injectable" if any(w.startswith("inject") for w in words) else "oral" if "oral" in words else "other"
    )


def build(pddi_dir: Path, lookup: NameLookup) -> Part:
    """PDDI-CDS classes and the two rules."""
    part = Part(sources={"pddi-cds": SOURCE})
    rows = [row for row in read_tsv(pddi_dir / FILE, COLUMNS) if row["system"].strip() == RXNORM]
    titles = {row["valueset_id"].strip(): row["title"].strip() for row in rows}
    covered = {ingredient_of_title(title) for vs, title in titles.items() if not vs.endswith("-exclude")}
    for class_id, (name, ingredients) in GROUPS.items():
        present = [ingredient for ingredient in ingredients if ingredient in covered]
        members = lookup.members(present, "pddi-cds")
        part.add_class(DrugClass(class_id, name, "interaction", "pddi-cds", members))
    warfarin = lookup.rxcui("warfarin", "pddi-cds")
    digoxin = lookup.rxcui("digoxin", "pddi-cds")
    cyclosporine = lookup.rxcui("cyclosporine", "pddi-cds")
    if warfarin and part.classes["pddi:nsaids"].members:
        part.rules.append(
            Rule(
                id="pddi-warfarin-nsaid",
                kind="interaction",
                left=f"in:{warfarin}",
                right="class:pddi:nsaids",
                severity="major",
                mechanism=WARFARIN_NSAID_MECHANISM,
                management=steps(management("major", WARFARIN_NSAID_WATCH)),
                sources=("pddi-cds",),
                rating="warfarin + NSAID: bleeding risk (HL7 PDDI-CDS, Warfarin-NSAIDs artifact)",
                summary="{left} with {right} raises the risk of serious bleeding",
                wording="curated",
            )
        )
    if digoxin and cyclosporine:
        part.rules.append(
            Rule(
                id="pddi-digoxin-cyclosporine",
                kind="interaction",
                left=f"in:{digoxin}",
                right=f"in:{cyclosporine}",
                severity="major",
                mechanism=DIGOXIN_CYCLOSPORINE_MECHANISM,
                management=steps(management("major", DIGOXIN_CYCLOSPORINE_WATCH)),
                sources=("pddi-cds",),
                rating="digoxin + cyclosporine: digoxin toxicity (HL7 PDDI-CDS artifact)",
                summary="{right} raises {left} levels: risk of digoxin toxicity",
                wording="curated",
            )
        )
    excluded = [row for row in rows if row["valueset_id"].strip().endswith("-exclude")]
    systemic = sorted(
        f"{row['display'].strip()} ({ingredient_of_title(row['title'])})"
        for row in excluded
        if route_of_display(row["display"]) not in LOCAL_ROUTES
        and route_of_display(row["display"]) not in {"rectal", "vaginal"}
    )
    part.notes.append(
        f"PDDI-CDS: {len(titles)} RxNorm value sets; classes "
        + ", ".join(f"{cid} ({len(part.classes[cid].members)})" for cid in GROUPS)
        + f"; {len(part.rules)} rules (warfarin + NSAIDs, digoxin + cyclosporine; major, systemic routes "
        f"only). {len(excluded)} exclude codes (topical/ophthalmic/otic/rectal forms) are honoured by the "
        f"rules' systemic-only routes; {len(systemic)} exclude codes are systemic forms and stay in scope: "
        + ("; ".join(systemic) or "none")
        + ". Aspirin's value set is not an NSAID group member here (the guide treats aspirin apart)."
    )
    return part
