"""Slices: what a grantee (the hospital) receives, and how it proves the slice is whole and in scope.

A slice carries, for one grant, every entry of the granted trees plus the whole ``revocations`` tree,
the latest patient-signed head, the grant entry with its inclusion proof in the grants tree, and the
grant entries (with proofs) under which practitioners wrote any included entry. The other trees appear
only as size and root in the head, so the hospital learns nothing about them. An update carries the
entries added since an earlier head, the new head, and per-tree consistency proofs.

Revocation in an update: ``verify_update`` does not raise; it returns a ``VerifiedSlice`` whose
``revocation`` is set (and ``revoked`` true), so the caller holds the verified revocation and must purge.
``verify_slice`` on a slice whose grant is already revoked raises ``GrantRevoked``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from alertsvc.errors import (
    BrokenLog,
    GrantNotYetValid,
    GrantRevoked,
    InputError,
    OutOfScope,
    ProofError,
    StaleHead,
    UnknownSigner,
)
from alertsvc.ledger import fhir, merkle
from alertsvc.ledger.canonical import canonical, loads
from alertsvc.ledger.entries import (
    ADDED_TREES,
    TREES,
    SignedEntry,
    TreeHead,
    check_tree,
    read_entries,
    read_entry,
    read_head,
    require_dict,
    require_int,
    require_list,
    require_str,
)
from alertsvc.ledger.grants import (
    Grant,
    Revocation,
    check_current,
    check_grantee,
    read_grant,
    read_revocation,
    write_problem,
)
from alertsvc.ledger.log import LedgerSnapshot, verify_head_consistency
from alertsvc.ledger.observations import Observation, latest_observations

_R = TypeVar("_R")
SLICE_TYPE = "alertsvc-slice"
UPDATE_TYPE = "alertsvc-slice-update"


@dataclass(frozen=True)
class VerifiedSlice:
    """A slice whose signatures, proofs, scope and completeness all held at the ``now`` it was checked."""

    patient: str
    grant: Grant
    head: TreeHead
    entries: Mapping[str, tuple[SignedEntry, ...]] = field(hash=False)
    write_grants: Mapping[str, Grant] = field(hash=False)
    medications: tuple[fhir.Medication, ...]
    allergies: tuple[fhir.Allergy, ...]
    reactions: tuple[fhir.Reaction, ...]
    revocation: Revocation | None = None
    observations: tuple[Observation, ...] = ()
    """The latest value per observation resource, when the grant covers ``observations``."""

    @property
    def revoked(self) -> bool:
        return self.revocation is not None


# --- making slices and updates (the patient's side) ---


def _proof_hex(proof: Iterable[bytes]) -> list[str]:
    return [node.hex() for node in proof]


def _grant_proof(snapshot: LedgerSnapshot, grant_id: str, head: TreeHead) -> dict[str, Any]:
    tree, index, entry = snapshot.locate(grant_id)
    if tree != "grants":
        raise InputError(f"entry {grant_id} is a {entry.kind}, not a grant")
    return {
        "entry": entry.envelope(),
        "index": index,
        "proof": _proof_hex(snapshot.inclusion_proof(tree, index, head)),
    }


def _write_grant_proofs(
    snapshot: LedgerSnapshot, entries: Iterable[SignedEntry], head: TreeHead
) -> list[dict[str, Any]]:
    ids = sorted({e.grant for e in entries if e.grant is not None and e.author != e.patient})
    return [_grant_proof(snapshot, grant_id, head) for grant_id in ids]


def _grant_of(snapshot: LedgerSnapshot, grant_id: str) -> Grant:
    tree, _, entry = snapshot.locate(grant_id)
    if tree != "grants":
        raise InputError(f"entry {grant_id} is a {entry.kind}, not a grant")
    return read_grant(entry)


def make_slice(snapshot: LedgerSnapshot, grant_id: str, *, now: datetime) -> bytes:
    """The slice for ``grant_id`` at the latest head; refuses a revoked or expired grant."""
    grant = _grant_of(snapshot, grant_id)
    with contextlib.suppress(GrantNotYetValid):  # a slice may be handed over before admission starts
        check_current(grant, now=now, revocations=snapshot.revocations())
    head = snapshot.latest
    trees = {tree: list(snapshot.trees[tree]) for tree in grant.trees}
    document = {
        "v": 1,
        "type": SLICE_TYPE,
        "patient": snapshot.patient,
        "head": head.envelope(),
        "grant": _grant_proof(snapshot, grant.id, head),
        "trees": {tree: [e.envelope() for e in entries] for tree, entries in trees.items()},
        "write_grants": _write_grant_proofs(snapshot, (e for es in trees.values() for e in es), head),
    }
    return canonical(document)


def make_update(
    snapshot: LedgerSnapshot, grant_id: str, since_head_seq: int, *, until_head_seq: int | None = None
) -> bytes:
    """Entries of the grant's trees added since head ``since_head_seq``, with the proofs, up to the latest
    head or to head ``until_head_seq`` (e.g. the head carrying the grant's revocation, nothing after)."""
    grant = _grant_of(snapshot, grant_id)
    old = snapshot.head(since_head_seq)
    new = snapshot.latest if until_head_seq is None else snapshot.head(until_head_seq)
    added = {tree: snapshot.trees[tree][old.trees[tree].size : new.trees[tree].size] for tree in grant.trees}
    document = {
        "v": 1,
        "type": UPDATE_TYPE,
        "patient": snapshot.patient,
        "grant": grant.id,
        "since": old.seq,
        "head": new.envelope(),
        "trees": {tree: [e.envelope() for e in entries] for tree, entries in added.items()},
        "consistency": {t: _proof_hex(p) for t, p in snapshot.consistency_proofs(old, new).items()},
        "write_grants": _write_grant_proofs(snapshot, (e for es in added.values() for e in es), new),
    }
    return canonical(document)


# --- verifying them (the hospital's side): pure, ``now`` passed in ---


def _document(data: bytes | str, kind: str, fields: set[str]) -> dict[str, Any]:
    document = require_dict(loads(data, what=kind), what=kind)
    if document.get("type") != kind or document.get("v") != 1:
        raise InputError(f"{kind}: not an {kind} of version 1 (type {document.get('type')!r})")
    if set(document) != fields:
        raise InputError(f"{kind}: expected fields {sorted(fields)}, got {sorted(document)}")
    return document


def _hashes(value: object, *, what: str) -> list[bytes]:
    result = []
    for i, item in enumerate(require_list(value, what=what)):
        text = require_str(item, what=f"{what}[{i}]")
        if len(text) != 64:
            raise InputError(f"{what}[{i}]: a hash is 64 hex digits")
        try:
            result.append(bytes.fromhex(text))
        except ValueError as exc:
            raise InputError(f"{what}[{i}]: not hex") from exc
    return result


def _proven_grant(value: object, head: TreeHead, patient: str, *, what: str) -> Grant:
    """A grant entry the patient signed, proven (by index and proof) to be in ``head``'s grants tree."""
    part = require_dict(value, what=what)
    if set(part) != {"entry", "index", "proof"}:
        raise InputError(f"{what}: expected fields entry, index, proof; got {sorted(part)}")
    entry = read_entry(part["entry"], what=what)
    if entry.patient != patient:
        raise UnknownSigner(f"{what}: grant {entry.id} is for patient {entry.patient}, not {patient}")
    grant = read_grant(entry)
    index = require_int(part["index"], what=f"{what} index")
    state = head.trees["grants"]
    proof = _hashes(part["proof"], what=f"{what} proof")
    try:
        merkle.verify_inclusion(merkle.leaf_hash(entry.leaf_data), index, state.size, proof, state.root)
    except ProofError as exc:
        raise ProofError(
            f"{what}: grant {grant.id} is not proven in head {head.seq}'s grants tree: {exc}"
        ) from exc
    return grant


def _write_grants(value: object, head: TreeHead, patient: str) -> dict[str, Grant]:
    items = require_list(value, what="write_grants")
    proven = (_proven_grant(item, head, patient, what=f"write_grants[{i}]") for i, item in enumerate(items))
    return {g.id: g for g in proven}


def _check_tree_names(names: Iterable[str], grant: Grant) -> None:
    present, wanted = set(names), set(grant.trees)
    extra, missing = sorted(present - wanted), sorted(wanted - present)
    if extra:
        check_tree(extra[0], what="slice")
        raise OutOfScope(f"slice carries tree {extra[0]}, which grant {grant.id} does not cover")
    if missing:
        raise OutOfScope(f"slice lacks tree {missing[0]}, which grant {grant.id} covers: it is incomplete")


Record = fhir.Medication | fhir.Allergy | fhir.Reaction | Observation | Revocation
"""What an entry's body says, read once when the entry is checked."""


def _read_body(entry: SignedEntry, tree: str) -> Record:
    return read_revocation(entry) if tree == "revocations" else fhir.read_clinical(entry)


def _verified_entries(
    tree: str, items: object, *, start: int, patient: str, grant: Grant, write_grants: Mapping[str, Grant]
) -> tuple[list[SignedEntry], list[Record]]:
    """Each entry's signature, tree, patient, author and body; ``start`` is the index of the first item.

    Returns the entries and what each body says (read here once, for ``_result``)."""
    entries, records = [], []
    listed = require_list(items, what=f"slice tree {tree}")
    names = [f"{tree}[{start + offset}]" for offset in range(len(listed))]
    for name, entry in zip(names, read_entries(listed, names=names), strict=True):
        name = f"{name} (entry {entry.id})"
        if entry.tree != tree:
            error = BrokenLog if entry.tree in grant.trees else OutOfScope
            raise error(
                f"{name}: a {entry.kind} entry in tree {tree} (grant {grant.id} covers {grant.trees})"
            )
        if entry.patient != patient:
            raise BrokenLog(f"{name}: belongs to patient {entry.patient}, not {patient}")
        problem = write_problem(entry, write_grants)
        if problem is not None:
            raise UnknownSigner(f"{name}: {problem}")
        try:
            records.append(_read_body(entry, tree))
        except InputError as exc:
            raise BrokenLog(f"{name}: {exc}") from exc
        entries.append(entry)
    return entries, records


def _check_root(tree: str, entries: Sequence[SignedEntry], head: TreeHead) -> None:
    state = head.trees[tree]
    if len(entries) > state.size:
        extra = entries[state.size]
        raise BrokenLog(
            f"{tree}[{state.size}] (entry {extra.id}): beyond the {state.size} entries head {head.seq} signs"
        )
    if len(entries) < state.size:
        raise BrokenLog(
            f"tree {tree}: {len(entries)} entries, but head {head.seq} signs {state.size}: entries left out"
        )
    if merkle.root([merkle.leaf_hash(e.leaf_data) for e in entries]) != state.root:
        raise BrokenLog(f"tree {tree}: entries do not hash to head {head.seq}'s root: reordered or replaced")


def _check_not_stale(head: TreeHead, accepted: TreeHead | None) -> None:
    if accepted is None:
        return
    if accepted.patient != head.patient:
        raise InputError(f"accepted head is of patient {accepted.patient}, not {head.patient}")
    if head.seq < accepted.seq:
        raise StaleHead(f"head {head.seq} is older than head {accepted.seq}, already accepted")
    if head.seq == accepted.seq and head.payload != accepted.payload:
        raise BrokenLog(f"two different heads with seq {head.seq}: the ledger was forked")


def _result(
    patient: str,
    grant: Grant,
    head: TreeHead,
    entries: Mapping[str, tuple[SignedEntry, ...]],
    records: Mapping[str, Sequence[Record]],
    write_grants: Mapping[str, Grant],
) -> VerifiedSlice:
    def read(tree: str, kind: type[_R]) -> list[_R]:
        return [r for r in records.get(tree, ()) if isinstance(r, kind)]

    revocation = next((r for r in read("revocations", Revocation) if r.grant_id == grant.id), None)
    return VerifiedSlice(
        patient=patient,
        grant=grant,
        head=head,
        entries=entries,
        write_grants=write_grants,
        medications=fhir.latest_medications(read("medications", fhir.Medication)),
        allergies=fhir.latest_allergies(read("allergies", fhir.Allergy)),
        reactions=fhir.latest_reactions(read("reactions", fhir.Reaction)),
        revocation=revocation,
        observations=latest_observations(read("observations", Observation)),
    )


def verify_slice(
    slice_bytes: bytes | str,
    *,
    patient: str | None,
    now: datetime,
    grantee: str | None = None,
    accepted_head: TreeHead | None = None,
) -> VerifiedSlice:
    """Verify a slice completely (see the module docstring); raise naming what failed."""
    fields = {"v", "type", "patient", "head", "grant", "trees", "write_grants"}
    document = _document(slice_bytes, SLICE_TYPE, fields)
    owner = require_str(document["patient"], what="slice patient")
    if patient is not None and owner != patient:
        raise UnknownSigner(f"slice is of patient {owner}, not {patient}")
    head = read_head(document["head"], patient=owner, what="slice head")
    _check_not_stale(head, accepted_head)
    grant = _proven_grant(document["grant"], head, owner, what="slice grant")
    check_grantee(grant, grantee)
    trees = require_dict(document["trees"], what="slice trees")
    _check_tree_names(trees, grant)
    write_grants = _write_grants(document["write_grants"], head, owner)
    entries: dict[str, tuple[SignedEntry, ...]] = {}
    records: dict[str, list[Record]] = {}
    for tree in grant.trees:
        checked, records[tree] = _verified_entries(
            tree, trees[tree], start=0, patient=owner, grant=grant, write_grants=write_grants
        )
        _check_root(tree, checked, head)
        entries[tree] = tuple(checked)
    result = _result(owner, grant, head, entries, records, write_grants)
    if result.revocation is not None:
        raise GrantRevoked(f"grant {grant.id} was revoked by entry {result.revocation.id}")
    check_current(grant, now=now, revocations=())
    return result


def verify_update(previous: VerifiedSlice, update_bytes: bytes | str, *, now: datetime) -> VerifiedSlice:
    """Verify an update against the slice accepted before; return the slice it leads to.

    A revocation of the grant does not raise: the result has ``revocation`` set. An expired or not yet
    valid grant raises; a head older than ``previous.head`` raises StaleHead.
    """
    fields = {"v", "type", "patient", "grant", "since", "head", "trees", "consistency", "write_grants"}
    document = _document(update_bytes, UPDATE_TYPE, fields)
    owner, grant = previous.patient, previous.grant
    if document["patient"] != owner:
        raise UnknownSigner(f"update is of patient {document['patient']!r}, not {owner}")
    if document["grant"] != grant.id:
        raise InputError(f"update is for grant {document['grant']!r}, not {grant.id}")
    head = read_head(document["head"], patient=owner, what="update head")
    _check_not_stale(head, previous.head)
    since = require_int(document["since"], what="update since")
    if since != previous.head.seq:
        raise InputError(
            f"update starts at head {since}, but the accepted slice is at head {previous.head.seq}"
        )
    raw_proofs = require_dict(document["consistency"], what="update consistency")
    proofs = {
        tree: _hashes(
            raw_proofs.get(tree, [] if tree in ADDED_TREES else None), what=f"consistency proof of {tree}"
        )
        for tree in TREES
    }  # a ledger server older than a tree sends no proof for it: that tree is empty at both heads
    verify_head_consistency(previous.head, head, proofs)
    trees = require_dict(document["trees"], what="update trees")
    _check_tree_names(trees, grant)
    write_grants = {**previous.write_grants, **_write_grants(document["write_grants"], head, owner)}
    entries: dict[str, tuple[SignedEntry, ...]] = {}
    records: dict[str, list[Record]] = {}
    for tree in grant.trees:
        before = previous.entries[tree]
        added, added_records = _verified_entries(
            tree, trees[tree], start=len(before), patient=owner, grant=grant, write_grants=write_grants
        )
        entries[tree] = (*before, *added)
        _check_root(tree, entries[tree], head)
        records[tree] = [*(_read_body(e, tree) for e in before), *added_records]
    result = _result(owner, grant, head, entries, records, write_grants)
    if result.revocation is None:
        check_current(grant, now=now, revocations=())
    return result
