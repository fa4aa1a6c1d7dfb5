"""The shared vocabulary of drug knowledge: what the knowledge files hold, what normalising a term
gives, what the pure check takes and returns. Frozen dataclasses only; no I/O here.

Node ids used across the graph and rules: ``in:<RxCUI>`` for an ingredient, ``class:<class id>`` for a
class or allergen group (class ids carry their source as a prefix, e.g. ``onc:hp-03-a``,
``ansm:antivitamines-k``, ``vsac:2.16.840.1...``, ``pddi:nsaids``, ``allergen:penicillins``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Severity = Literal["critical", "major", "moderate", "minor"]
Indicator = Literal["critical", "warning", "info"]
FindingKind = Literal[
    "interaction",
    "allergy",
    "reaction",
    "duplicate",
    "too-soon",
    "unchecked",
    "overdue",
    "renal-dose",
    "long-qt",
]
"""``renal-dose`` and ``long-qt`` come from observations (``alertsvc.knowledge.observations``)."""
Wording = Literal["labelled", "mechanism", "curated", "category", "source", ""]
"""Who wrote a rule's words: a labelled pair, a mechanism rule, other curated text (ONC, PDDI-CDS), the
text of a category the build classified the rule into, or the source's own words (minor or moderate only)."""
ClassKind = Literal["interaction", "therapeutic", "allergen"]
Route = Literal[
    "oral",
    "injectable",
    "topical",
    "ophthalmic",
    "otic",
    "nasal",
    "inhalation",
    "rectal",
    "vaginal",
    "transdermal",
    "other",
]

SEVERITY_ORDER: dict[str, int] = {"critical": 0, "major": 1, "moderate": 2, "minor": 3}
INDICATOR: dict[str, Indicator] = {
    "critical": "critical",
    "major": "warning",
    "moderate": "info",
    "minor": "info",
}
LOCAL_ROUTES: frozenset[str] = frozenset({"topical", "ophthalmic", "otic"})
"""Routes that carry no systemic interaction unless a rule says so."""

RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@dataclass(frozen=True)
class Ingredient:
    """An RxNorm ingredient (TTY IN); ``name`` is RxNorm's, lower case (e.g. "warfarin")."""

    rxcui: str
    name: str


@dataclass(frozen=True)
class Product:
    """A clinical or branded product or pack (SCD, SBD, GPCK, BPCK) and the ingredients it contains."""

    rxcui: str
    name: str
    tty: str
    ingredients: tuple[str, ...]  # ingredient RxCUIs
    route: Route
    dose_form: str = ""


@dataclass(frozen=True)
class Brand:
    """A brand name (TTY BN) and its ingredients."""

    rxcui: str
    name: str
    ingredients: tuple[str, ...]


@dataclass(frozen=True)
class DrugClass:
    """A class of ingredients from one source, a therapeutic class or an allergen group."""

    id: str
    name: str
    kind: ClassKind
    source: str  # a key of KnowledgeBase.sources
    members: frozenset[str]  # ingredient RxCUIs


@dataclass(frozen=True)
class Rule:
    """An edge of the knowledge: two nodes (``in:`` or ``class:`` ids) that must not meet.

    ``kind`` "interaction" is a drug-drug rule; "cross-sensitivity" links allergen groups or an allergen
    group to itself. ``non_interruptive`` marks pairs on the ONC non-interruptive list: never critical.
    ``routes`` limits the rule to products given by these routes (empty: systemic routes only).

    ``rating`` is the source's own level in its own words ("Contraindication", "Critical", "high
    priority"...); ``severity`` is the tier alertsvc maps it to. ``summary`` is a sentence template naming
    the drugs as ``{left}`` and ``{right}`` (the ingredients matched on each side), without the severity;
    ``management`` is ordered steps ("1. ... 2. ..."); ``wording`` says who wrote them. ``also`` names a
    third node for a three-drug rule (e.g. the renal "triple whammy"): all three must be present.
    """

    id: str
    kind: Literal["interaction", "cross-sensitivity"]
    left: str
    right: str
    severity: Severity
    mechanism: str
    management: str
    sources: tuple[str, ...]
    non_interruptive: bool = False
    routes: frozenset[str] = frozenset()
    rating: str = ""
    summary: str = ""
    wording: Wording = ""
    also: str = ""


@dataclass(frozen=True)
class Source:
    """A public source the knowledge was built from, as credited in data/SOURCES.md."""

    key: str
    title: str
    version: str
    licence: str
    attribution: str
    url: str = ""


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything in ``data/``, loaded once at start-up. ``version`` names the content hash and build date."""

    version: str
    built: str
    sources: dict[str, Source]
    ingredients: dict[str, Ingredient]  # by RxCUI (IN only)
    salts: dict[str, str]  # PIN RxCUI -> IN RxCUI
    products: dict[str, Product]  # by RxCUI
    brands: dict[str, Brand]  # by RxCUI
    names: dict[
        str, tuple[str, ...]
    ]  # normalised name (ingredient, salt, brand, synonym, misspelling) -> IN RxCUIs
    ndc: dict[str, str]  # 11-digit NDC -> product RxCUI (may be empty)
    classes: dict[str, DrugClass]
    rules: tuple[Rule, ...]
    display_names: dict[str, dict[str, str]] = field(default_factory=dict)
    """Locale ("en-GB") -> IN RxCUI -> the name wards of that locale read, where it differs from RxNorm's."""
    unknown_drugs: dict[str, str] = field(default_factory=dict)
    """Drug names the sources write that map to no ingredient here ("acarbose") -> the source key."""


@dataclass(frozen=True)
class Resolution:
    """What one way of writing a drug resolves to. ``unresolved`` is None or the reason it did not."""

    term: str
    ingredients: tuple[Ingredient, ...]
    product: Product | None = None
    route: Route = "oral"
    unresolved: str | None = None
    via: str = ""  # how it resolved: "ingredient", "salt", "brand", "product", "ndc", "name", "rxnav", ...
    note: str = ""  # what the ward must see about how it was read: "read 'ibuprophen' as ibuprofen"


class OnlineTerminology(Protocol):
    """An online terminology (RxNav) the offline normaliser may ask when it cannot resolve a term."""

    def resolve(self, term: str) -> Resolution:
        """Resolve ``term``; on a slow, dead or garbled server return an unresolved Resolution saying why."""
        ...


@dataclass(frozen=True)
class Medication:
    """A medication the patient takes or is scheduled to take, already normalised."""

    label: str  # what to show a nurse: the product or the term as written
    ingredients: tuple[Ingredient, ...]
    route: Route = "oral"
    product_rxcui: str = ""
    ref: str = ""  # where it came from: a ledger entry id, a scheduled dose id, a draft order id
    active: bool = True
    note: str = ""  # the Resolution's note (a misspelling read as a drug, a code read by its display)


@dataclass(frozen=True)
class Allergy:
    """A documented allergy to an ingredient or a class (``class_ids``), as normalised."""

    label: str
    ingredients: tuple[Ingredient, ...] = ()
    class_ids: tuple[str, ...] = ()
    criticality: Literal["low", "high", "unable-to-assess"] = "unable-to-assess"
    ref: str = ""


@dataclass(frozen=True)
class FlaggedReaction:
    """A bad reaction to a drug flagged in the patient's ledger, by the patient or a practitioner."""

    label: str
    ingredients: tuple[Ingredient, ...]
    reaction: str
    severity: Literal["mild", "moderate", "severe"] = "moderate"
    flagged_by: Literal["patient", "practitioner"] = "patient"
    observed: str = ""  # ISO 8601 date or date-time as flagged
    ref: str = ""
    note: str = ""  # how the flagged drug was read, when the ward must see it (as Medication.note)


@dataclass(frozen=True)
class Rating:
    """One source's rating of a finding: the rule, its source, the tier it maps to and the source's words."""

    source: str
    rule: str
    severity: Severity
    rating: str = ""


@dataclass(frozen=True)
class Finding:
    """A pure result of checking; see docs/design.md ("finding"). ``refs`` names the
    medications/allergies/flags involved."""

    kind: FindingKind
    severity: Severity
    ingredients: tuple[Ingredient, ...]
    summary: str  # under 140 characters
    mechanism: str
    management: str
    rule: str
    sources: tuple[str, ...]
    evidence: tuple[str, ...]  # the path through the graph, as node ids
    knowledge_version: str
    refs: tuple[str, ...] = field(default=())
    ratings: tuple[Rating, ...] = field(default=())
    """Every source's own rating when several rules match (the finding takes the highest)."""

    @property
    def indicator(self) -> Indicator:
        return INDICATOR[self.severity]

    @property
    def interruptive(self) -> bool:
        return self.severity == "critical"
