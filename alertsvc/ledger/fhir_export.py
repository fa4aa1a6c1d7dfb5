"""The ledger as a FHIR R4 collection Bundle other systems accept, and the check that a Bundle being
imported is exactly what its signed entries make. Pure: the RxNorm coder comes in.

One resource per ledger resource, in its current state: a stop or a revocation is a status change of the
resource, never a second resource with the same id.

- MedicationStatement: the latest statement (a stopped one: status ``stopped``, its ``effectivePeriod``).
- AllergyIntolerance: the latest version. A "no known drug allergies" assertion that a recorded allergy
  supersedes is ``clinicalStatus`` inactive; a food, environment or biologic allergen signed as
  ``medication`` (before categories were read from the name) gets its category (``allergen_category``).
- Consent: the grant's Consent, status ``inactive`` once revoked; ``policyRule`` OPTIN when the signed
  body has neither ``policy`` nor ``policyRule`` (FHIR invariant ppc-1).

Each resource keeps its ledger resource id (unique per resource type; a clash takes an id made from the
hash of its first entry), ``meta.versionId`` (how many signed versions) and ``meta.lastUpdated``; each
Bundle entry has a ``fullUrl`` (``urn:uuid:``). The signed entries of every version travel in the
resource's ``extension`` (url ``SIGNED_ENTRY_URL``: ``tree``, ``index`` and the ``envelope`` JSON), so the
Bundle imports back into the same ledger. Heads are ``Binary`` resources (``head-<seq>``).

RxNorm: where a signed concept has no RxNorm coding and the normaliser reads its text as exactly one
concept, the export adds that coding, marked by the extension ``DERIVED_CODING_URL`` (it is not signed;
import sets such codings aside before comparing).
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from alertsvc.errors import BrokenLog
from alertsvc.ledger import fhir
from alertsvc.ledger.allergen_category import category_of
from alertsvc.ledger.canonical import canonical, sha256_hex
from alertsvc.ledger.entries import TREES, SignedEntry, format_time
from alertsvc.ledger.grants import read_revocation
from alertsvc.ledger.log import LedgerSnapshot

SIGNED_ENTRY_URL = "urn:ietf:params:alertsvc:signed-entry"
DERIVED_CODING_URL = "urn:ietf:params:alertsvc:derived-coding"
HEAD_CONTENT_TYPE = "application/json"
OPT_IN = {"coding": [{"system": fhir.ACT_CODE, "code": "OPTIN"}]}
_URL_NAMESPACE = uuid.UUID("6f1c1e0a-7d1b-4f55-9a55-5d0e3c1b2a90")

Coder = Callable[[str, str], tuple[str, str] | None]
"""(role "medication" or "allergen", text) -> (RxCUI, RxNorm name) when the text reads as one concept."""
Located = tuple[str, int, SignedEntry]


def _groups(snapshot: LedgerSnapshot) -> dict[tuple[str, str], list[Located]]:
    """Signed entries by the ledger resource they are versions of, in ledger order."""
    groups: dict[tuple[str, str], list[Located]] = {}
    for tree in TREES:
        for index, entry in enumerate(snapshot.trees[tree]):
            if tree == "grants":
                key = ("consent", entry.id)
            elif tree == "revocations":
                key = ("consent", read_revocation(entry).grant_id)
            else:
                key = (tree, str(entry.body.get("id")))
            groups.setdefault(key, []).append((tree, index, entry))
    return groups


def _signed_extension(tree: str, index: int, entry: SignedEntry) -> dict[str, Any]:
    return {
        "url": SIGNED_ENTRY_URL,
        "extension": [
            {"url": "tree", "valueCode": tree},
            {"url": "index", "valueUnsignedInt": index},
            {"url": "envelope", "valueString": json.dumps(entry.envelope(), separators=(",", ":"))},
        ],
    }


def _add_coding(concept: dict[str, Any], role: str, coder: Coder | None) -> None:
    codings = concept.get("coding", [])
    if coder is None or any(c.get("system") in (fhir.RXNORM, fhir.SNOMED) for c in codings):
        return
    found = coder(role, str(concept.get("text", "")))
    if found is not None:
        derived = {"url": DERIVED_CODING_URL, "valueString": "read from the text by the alertsvc normaliser"}
        coding = {"extension": [derived], "system": fhir.RXNORM, "code": found[0], "display": found[1]}
        concept["coding"] = [*codings, {**coding, "userSelected": False}]


def _current(
    kind: str, versions: Sequence[Located], any_allergy: bool, coder: Coder | None
) -> dict[str, Any]:
    """The resource a group of signed versions stands for now (see the module docstring)."""
    entries = [entry for _, _, entry in versions]
    if kind == "consent":
        resource = copy.deepcopy(entries[0].body)
        if len(entries) > 1:
            resource["status"] = "inactive"
        if "policy" not in resource and "policyRule" not in resource:
            resource["policyRule"] = copy.deepcopy(OPT_IN)
        return resource
    resource = copy.deepcopy(entries[-1].body)
    if kind == "medications":
        _add_coding(resource.get("medicationCodeableConcept", {}), "medication", coder)
    elif kind in ("allergies", "reactions"):
        _current_allergy(kind, resource, any_allergy, coder)
    return resource  # any other kind: its latest version as signed


def _current_allergy(kind: str, resource: dict[str, Any], any_allergy: bool, coder: Coder | None) -> None:
    if fhir.is_no_known_allergy(resource):
        if any_allergy:  # superseded by a recorded allergy
            resource["clinicalStatus"] = {"coding": [{"system": fhir.CLINICAL_STATUS, "code": "inactive"}]}
        return
    concept = resource.get("code", {})
    named = category_of(str(concept.get("text", "")))
    if kind == "allergies" and resource.get("category") == ["medication"] and named != "medication":
        resource["category"] = [named]
    if resource.get("category", ["medication"]) == ["medication"]:
        _add_coding(concept, "allergen" if kind == "allergies" else "medication", coder)


def _full_url(resource_type: str, resource_id: str) -> str:
    try:
        if str(uuid.UUID(resource_id)) == resource_id:
            return f"urn:uuid:{resource_id}"
    except ValueError:
        pass
    return f"urn:uuid:{uuid.uuid5(_URL_NAMESPACE, f'{resource_type}/{resource_id}')}"


def _resources(snapshot: LedgerSnapshot, coder: Coder | None) -> Iterator[tuple[str, dict[str, Any]]]:
    any_allergy = bool(fhir.current_allergies(snapshot.trees["allergies"]))
    taken: set[tuple[str, str]] = set()
    for (kind, _), versions in _groups(snapshot).items():
        resource = _current(kind, versions, any_allergy, coder)
        resource_type = str(resource.get("resourceType"))
        if (resource_type, resource.get("id")) in taken:
            resource["id"] = sha256_hex(versions[0][2].id.encode())[:32]
        taken.add((resource_type, resource["id"]))
        created = max(entry.created for _, _, entry in versions)
        resource["meta"] = {"versionId": str(len(versions)), "lastUpdated": format_time(created)}
        resource["extension"] = [
            *resource.get("extension", []),
            *(_signed_extension(*located) for located in versions),
        ]
        yield _full_url(resource_type, resource["id"]), resource
    for head in snapshot.heads:
        data = canonical(head.envelope())
        binary = {
            "resourceType": "Binary",
            "id": f"head-{head.seq}",
            "contentType": HEAD_CONTENT_TYPE,
            "data": base64.b64encode(data).decode("ascii"),
        }
        yield _full_url("Binary", binary["id"]), binary


def bundle(snapshot: LedgerSnapshot, *, coder: Coder | None = None) -> dict[str, Any]:
    """The verified ledger as a FHIR R4 collection Bundle (see the module docstring)."""
    return {
        "resourceType": "Bundle",
        "id": sha256_hex(snapshot.latest.payload),
        "type": "collection",
        "timestamp": format_time(snapshot.latest.timestamp),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in _resources(snapshot, coder)],
    }


def without_derived(value: Any) -> Any:
    """``value`` with every coding the export derived (marked ``DERIVED_CODING_URL``) left out."""
    if isinstance(value, list):
        return [without_derived(item) for item in value if not _derived(item)]
    if isinstance(value, dict):
        kept = {key: without_derived(item) for key, item in value.items()}
        if kept.get("coding") == [] and value["coding"]:  # the export added the only coding there is
            del kept["coding"]
        return kept
    return value


def _derived(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    marks = item.get("extension")
    return isinstance(marks, list) and any(
        isinstance(m, dict) and m.get("url") == DERIVED_CODING_URL for m in marks
    )


def check_bundle(entries: Sequence[Mapping[str, Any]], snapshot: LedgerSnapshot) -> None:
    """BrokenLog naming the first Bundle entry that is not exactly what the verified signed entries make
    (derived RxNorm codings set aside), or when one is missing or extra."""
    expected = {url: resource for url, resource in _resources(snapshot, None)}
    seen: set[str] = set()
    for position, item in enumerate(entries):
        url, resource = item.get("fullUrl"), item.get("resource")
        what = f"Bundle.entry[{position}] ({url})"
        if not isinstance(url, str) or url not in expected or url in seen:
            raise BrokenLog(f"{what}: not a resource the signed entries make, or there twice")
        seen.add(url)
        if canonical(without_derived(resource)) != canonical(expected[url]):
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            raise BrokenLog(f"{what}: the {kind} differs from the body its signed entries sign")
    missing = sorted(set(expected) - seen)
    if missing:
        raise BrokenLog(f"Bundle: resource {missing[0]} of the signed entries is missing")
