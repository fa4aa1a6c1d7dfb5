"""Reading the FHIR a CDS Hooks client sends: draft orders, current medications, allergies.

Clients send FHIR R4, and older ones STU3 or DSTU2; a few send R5. A medication order or statement names
its drug in one of these ways, all read here:

- ``medicationCodeableConcept`` (DSTU2, STU3, R4);
- ``medicationReference`` to a Medication ``contained`` in the order (``#id``) or sent elsewhere in the
  request (``Medication/id`` or a Bundle entry's ``fullUrl``);
- R5's ``medication`` CodeableReference (``concept`` or ``reference``).

A Medication is read by its ``code`` and, if that does not resolve, by its ingredients
(``ingredient[].itemCodeableConcept``, R5 ``ingredient[].item.concept``). Codes are tried first (RxNorm
and NDC only: another system's digits are not RxCUIs), then the text, then every display.

Nothing that fails to resolve is dropped: it is noted in ``FhirReader.unchecked`` so that a card can say
it was not checked. Allergies coded only as food or environment are left out when they do not resolve;
refuted, entered-in-error, inactive and resolved allergies are left out (the patient is no longer at risk),
and so are SNOMED CT "no known (drug) allergy" assertions: they name no allergen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from alertsvc.errors import InputError, KnowledgeError
from alertsvc.knowledge.model import RXNORM_SYSTEM, Allergy, Ingredient, Medication
from alertsvc.knowledge.terminology import NDC_SYSTEM, Normalizer

DRAFT_TYPES = ("MedicationRequest", "MedicationOrder")
CURRENT_TYPES = (*DRAFT_TYPES, "MedicationStatement")
STOPPED = frozenset({"cancelled", "completed", "entered-in-error", "stopped", "draft", "not-taken"})
NOT_AT_RISK = frozenset({"refuted", "entered-in-error", "inactive", "resolved"})
SNOMED_SYSTEM = "http://snomed.info/sct"
NO_KNOWN_ALLERGY = frozenset({"716186003", "409137002", "429625007", "428607008", "428197003"})
"""SNOMED CT "no known (drug, food, environmental, insect) allergy": assertions, not allergens."""
Criticality = Literal["low", "high", "unable-to-assess"]
CRITICALITY: dict[str, Criticality] = {"high": "high", "low": "low", "CRITH": "high", "CRITL": "low"}
ALLERGY_PREFIXES = ("allergy to ", "allergic to ", "history of allergy to ")


@dataclass(frozen=True)
class Unchecked:
    """A draft, medication, allergy or reaction that did not resolve, or data the client did not send."""

    what: str  # "draft", "medication", "allergy", "reaction"; "medications"/"allergies" when none were sent
    term: str
    reason: str
    ref: str = ""


@dataclass(frozen=True)
class Drafts:
    """The draft orders of a request, normalised; cards are about the ``selected`` ones."""

    medications: list[Medication] = field(default_factory=list)
    selected: set[str] = field(default_factory=set)
    """Refs ("draft:MedicationRequest/<id>") of the orders cards are about."""
    ids: dict[str, str] = field(default_factory=dict)
    """Ref -> "MedicationRequest/<id>" for drafts that have an id (suggestions can name them)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Ref -> the drug as ordered (product name or the term as written)."""


class FhirReader:
    """Reads medications and allergies from one request, noting what does not resolve."""

    def __init__(self, normalizer: Normalizer, containers: list[Any]) -> None:
        self.normalizer = normalizer
        self.unchecked: list[Unchecked] = []
        self.index: dict[str, dict[str, Any]] = {}
        """Resources of the request's Bundles by "Type/id" and by fullUrl (to follow references)."""
        for container in containers:
            entries = container.get("entry") if isinstance(container, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict):
                    self.index[f"{resource.get('resourceType')}/{resource.get('id')}"] = resource
                    if isinstance(entry.get("fullUrl"), str):
                        self.index[entry["fullUrl"]] = resource

    def read(
        self, context: dict[str, Any], prefetch: dict[str, Any], selected_only: bool
    ) -> tuple[Drafts, list[Medication], list[Allergy]]:
        """The request's drafts, current medications and allergies (blocking: may ask RxNav)."""
        drafts = self.drafts(context, selected_only=selected_only)
        return drafts, self.medications(prefetch), self.allergies(prefetch.get("allergies"))

    def drafts(self, context: dict[str, Any], *, selected_only: bool) -> Drafts:
        """``context.draftOrders`` (or older clients' ``context.medications``); with ``selected_only``,
        cards concern the orders in ``context.selections`` (every draft when it names none)."""
        orders = context.get("draftOrders", context.get("medications"))
        if not isinstance(orders, dict | list):
            raise InputError("CDS Hooks request: 'context.draftOrders' must be a FHIR Bundle")
        selections = context.get("selections", [])
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
            raise InputError("CDS Hooks request: 'context.selections' must be a list of draft order ids")
        chosen: list[str] = selections
        result = Drafts()
        for i, resource in enumerate(resources_of(orders)):
            if resource.get("resourceType") not in DRAFT_TYPES:
                continue  # lab, imaging or nutrition orders: nothing for a medication-safety service
            rid = f"{resource['resourceType']}/{resource['id']}" if resource.get("id") else ""
            ref = f"draft:{rid or i}"
            if not (selected_only and chosen and rid) or any(
                s == rid or s.endswith("/" + rid) for s in chosen
            ):
                result.selected.add(ref)
            if rid:
                result.ids[ref] = rid
            medication = self.medication(resource, ref=ref, what="draft")
            if medication is not None:
                result.medications.append(medication)
                result.labels[ref] = medication.label
        return result

    def medications(self, prefetch: dict[str, Any]) -> list[Medication]:
        """The patient's current medications from the ``medications`` and ``statements`` prefetch."""
        found = []
        for key in ("medications", "statements"):
            for i, resource in enumerate(resources_of(prefetch.get(key))):
                if resource.get("resourceType") not in CURRENT_TYPES or resource.get("status") in STOPPED:
                    continue  # a Medication sent alongside (_include) is read through references
                if resource.get("taken") in ("n", "unk"):  # STU3 MedicationStatement
                    continue
                ref = f"prefetch:{key}/{resource.get('id', i)}"
                medication = self.medication(resource, ref=ref, what="medication")
                found += [medication] if medication is not None else []
        return found

    def medication(self, resource: dict[str, Any], *, ref: str, what: str) -> Medication | None:
        """The normalised drug of a medication order or statement; None (and noted) when it cannot be."""
        medication = resource.get("medication")
        r5: dict[str, Any] = medication if isinstance(medication, dict) else {}
        concept = resource.get("medicationCodeableConcept") or r5.get("concept")
        reference = resource.get("medicationReference") or r5.get("reference")
        target = str(reference.get("reference", "")) if isinstance(reference, dict) else ""
        display = reference.get("display") if isinstance(reference, dict) else None
        parts: list[Any] = []
        contained = [c for c in _list(resource.get("contained")) if isinstance(c, dict)]
        found = next((c for c in contained if f"#{c.get('id')}" == target), self.index.get(target))
        if not concept and found is None and isinstance(display, str):
            concept = {"text": display}  # a Reference with only a display names the drug in words
        elif not concept and target and found is None:
            self.unchecked.append(Unchecked(what, target, "the Medication it refers to was not sent", ref))
            return None
        elif not concept and found is not None:
            concept = found.get("code")
            for part in (p for p in _list(found.get("ingredient")) if isinstance(p, dict)):
                item = part.get("item")
                parts.append(
                    part.get("itemCodeableConcept")
                    or (item.get("concept") if isinstance(item, dict) else None)
                )
        label = _label(concept) or (_label(parts[0]) if parts else "") or target or "an unnamed drug"
        reasons: list[str] = []
        codes = set(codes_of(concept))
        failed: list[str] = []  # codes tried that did not resolve
        for term in terms_of(concept):
            res = self.normalizer.resolve(term)
            if res.unresolved is None:
                name = res.product.name if res.product else label
                rxcui = res.product.rxcui if res.product else ""
                marks = (
                    [f"code {', '.join(failed)} is not known here; read by its text {term!r}"]
                    if failed
                    else []
                )
                note = "; ".join([*marks, res.note] if res.note else marks)
                return Medication(name, res.ingredients, res.route, product_rxcui=rxcui, ref=ref, note=note)
            reasons.append(res.unresolved)
            failed += [term] if term in codes else []
        ingredients: list[Ingredient] = []
        for part in parts:
            resolved = [r for r in map(self.normalizer.resolve, terms_of(part)) if r.unresolved is None]
            if not resolved:
                reasons.append(f"its ingredient {_label(part) or '(unnamed)'!r} does not resolve")
                ingredients = []
                break
            ingredients += resolved[0].ingredients
        if ingredients:
            return Medication(label, tuple(dict.fromkeys(ingredients)), ref=ref)
        self.unchecked.append(Unchecked(what, label, "; ".join(reasons) or "it names no drug", ref))
        return None

    def allergies(self, bundle: Any) -> list[Allergy]:
        """Drug allergies from the ``allergies`` prefetch (AllergyIntolerance, DSTU2 to R4)."""
        found: list[Allergy] = []
        for resource in resources_of(bundle):
            statuses = {_code(resource.get("verificationStatus")), _code(resource.get("clinicalStatus"))}
            if resource.get("resourceType") != "AllergyIntolerance" or statuses & NOT_AT_RISK:
                continue
            concept = resource.get("code") or resource.get("substance")
            if any(
                c.get("system") == SNOMED_SYSTEM and c.get("code") in NO_KNOWN_ALLERGY
                for c in _codings(concept)
            ):
                continue
            label = _label(concept) or "an unnamed substance"
            terms = terms_of(concept)
            terms += [t.lower().removeprefix(p) for t in terms for p in ALLERGY_PREFIXES]
            allergy = self._allergy(list(dict.fromkeys(terms)))
            if allergy is not None:
                criticality: Criticality = CRITICALITY.get(
                    str(resource.get("criticality")), "unable-to-assess"
                )
                ref = f"prefetch:allergies/{resource.get('id', len(found))}"
                found.append(Allergy(label, allergy.ingredients, allergy.class_ids, criticality, ref))
                continue
            categories = _list(resource.get("category")) or [resource.get("category")]
            if resource.get("category") is None or "medication" in categories:
                self.unchecked.append(Unchecked("allergy", label, "not an allergen group or drug known here"))
        return found

    def _allergy(self, terms: list[str]) -> Allergy | None:
        for term in terms:
            try:
                return self.normalizer.resolve_allergy(term)
            except KnowledgeError:
                continue
        return None


def resources_of(value: Any) -> list[dict[str, Any]]:
    """The resources of a Bundle, of a list of resources, or a single resource."""
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        entries = [e.get("resource") for e in _list(value.get("entry")) if isinstance(e, dict)]
        return [r for r in entries if isinstance(r, dict)]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return [value] if isinstance(value, dict) and value.get("resourceType") else []


def codes_of(concept: Any) -> list[str]:
    """The RxNorm and NDC codes of a CodeableConcept."""
    codings = _codings(concept)
    codes = [c.get("code") for c in codings if c.get("system") in (RXNORM_SYSTEM, NDC_SYSTEM)]
    return [c.strip() for c in codes if isinstance(c, str) and c.strip()]


def terms_of(concept: Any) -> list[str]:
    """Terms to resolve, best first: RxNorm and NDC codes, then the text, then every display."""
    codings = _codings(concept)
    codes = [c.get("code") for c in codings if c.get("system") in (RXNORM_SYSTEM, NDC_SYSTEM)]
    texts = [concept.get("text") if isinstance(concept, dict) else None] + [c.get("display") for c in codings]
    return list(dict.fromkeys(t.strip() for t in [*codes, *texts] if isinstance(t, str) and t.strip()))


def _label(concept: Any) -> str:
    codings = _codings(concept)
    texts = [concept.get("text") if isinstance(concept, dict) else None]
    texts += [c.get("display") for c in codings] + [c.get("code") for c in codings]
    return next((t.strip() for t in texts if isinstance(t, str) and t.strip()), "")


def _codings(concept: Any) -> list[dict[str, Any]]:
    return (
        [c for c in _list(concept.get("coding")) if isinstance(c, dict)] if isinstance(concept, dict) else []
    )


def _code(status: Any) -> str:
    """A status as DSTU2/STU3 write it (a code) or R4 (a CodeableConcept)."""
    return status if isinstance(status, str) else next((str(c.get("code")) for c in _codings(status)), "")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
