"""The patient's Merkle log: six trees of signed entries and a history of patient-signed tree heads.

``verify_log`` is the pure check of a whole ledger (used by ``Ledger.verify`` and by import): every head's
signature; every entry's bytes, signature, id, kind, patient and author; and that each tree's entries
recompute the root every head in history signed. It raises naming the FIRST bad entry as
``tree[index] (entry id)``; for a deletion, insertion or reordering that is the entry at the first
position whose prefix no longer matches a signed head. ``plan_append`` is the pure decision of what an
append writes; ``Ledger`` joins both to the SQLite store.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from alertsvc.errors import (
    AlertsvcError,
    BrokenLog,
    InputError,
    ProofError,
    UnknownKind,
    UnknownSigner,
)
from alertsvc.ledger import fhir, merkle
from alertsvc.ledger.allergy_status import refuse_if_allergies
from alertsvc.ledger.entries import (
    CLINICAL_KINDS,
    TREE_OF_KIND,
    TREES,
    SignedEntry,
    TreeHead,
    TreeState,
    format_time,
    read_entry_parts,
    read_head_parts,
    sign_head,
)
from alertsvc.ledger.grants import (
    Grant,
    Revocation,
    authorising_grant,
    check_practitioner_write,
    read_grant,
    read_revocation,
    write_problem,
)
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.store import LedgerStore, StoredEntry, StoredHead, StoredLog


@dataclass(frozen=True)
class LedgerSnapshot:
    """A verified ledger: entries per tree in order, and every head from seq 0 to the latest."""

    patient: str
    trees: Mapping[str, tuple[SignedEntry, ...]] = field(hash=False)
    heads: tuple[TreeHead, ...]

    @property
    def latest(self) -> TreeHead:
        return self.heads[-1]

    def leaf_hashes(self, tree: str) -> list[bytes]:
        return [merkle.leaf_hash(e.leaf_data) for e in self.trees[tree]]

    def grants(self) -> dict[str, Grant]:
        return {e.id: read_grant(e) for e in self.trees["grants"]}

    def revocations(self) -> tuple[Revocation, ...]:
        return tuple(read_revocation(e) for e in self.trees["revocations"])

    def locate(self, entry_id: str) -> tuple[str, int, SignedEntry]:
        """(tree, index, entry) of the entry with this id; InputError when there is none."""
        for tree, entries in self.trees.items():
            for index, entry in enumerate(entries):
                if entry.id == entry_id:
                    return tree, index, entry
        raise InputError(f"no entry {entry_id} in the ledger of {self.patient}")

    def head(self, seq: int) -> TreeHead:
        if not 0 <= seq < len(self.heads):
            raise InputError(f"no head {seq}: this ledger's heads run from 0 to {len(self.heads) - 1}")
        return self.heads[seq]

    def inclusion_proof(self, tree: str, index: int, head: TreeHead) -> list[bytes]:
        """Proof that entry ``index`` of ``tree`` is in the tree ``head`` signed."""
        return merkle.inclusion_proof(self.leaf_hashes(tree)[: head.trees[tree].size], index)

    def consistency_proofs(self, old: TreeHead, new: TreeHead) -> dict[str, list[bytes]]:
        """Per-tree RFC 9162 consistency proofs from head ``old`` to head ``new``."""
        return {
            tree: merkle.consistency_proof(
                self.leaf_hashes(tree)[: new.trees[tree].size], old.trees[tree].size
            )
            for tree in TREES
        }


def verify_head_consistency(old: TreeHead, new: TreeHead, proofs: Mapping[str, Sequence[bytes]]) -> None:
    """ProofError naming the tree unless each of ``new``'s trees extends ``old``'s (append-only)."""
    for tree in TREES:
        before, after = old.trees[tree], new.trees[tree]
        if tree not in proofs:
            raise ProofError(f"no consistency proof for tree {tree} from head {old.seq} to head {new.seq}")
        try:
            merkle.verify_consistency(before.size, after.size, before.root, after.root, list(proofs[tree]))
        except ProofError as exc:
            raise ProofError(f"tree {tree}, head {old.seq} -> {new.seq}: {exc}") from exc


def prefix_roots(leaves: Sequence[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """RFC 9162 roots of the first ``s`` leaves for each wanted ``s`` <= len(leaves), in one pass."""
    wanted = sorted({s for s in sizes if 0 <= s <= len(leaves)})
    roots: dict[int, bytes] = {}
    stack: list[tuple[int, bytes]] = []  # perfect subtrees (size, hash), largest first
    position = 0
    for size in wanted:
        while position < size:
            width, node = 1, leaves[position]
            position += 1
            while stack and stack[-1][0] == width:
                left_width, left = stack.pop()
                width, node = left_width + width, merkle.node_hash(left, node)
            stack.append((width, node))
        if not stack:
            roots[size] = merkle.EMPTY_ROOT
            continue
        root = stack[-1][1]
        for _, left in reversed(stack[:-1]):
            root = merkle.node_hash(left, root)
        roots[size] = root
    return roots


def _name(tree: str, index: int, entry_id: str | None) -> str:
    return f"{tree}[{index}] ({'entry ' + entry_id if entry_id else 'no entry there'})"


def _restated(exc: AlertsvcError, prefix: str) -> AlertsvcError:
    """The same kind of error (InputError becoming BrokenLog) with ``prefix`` naming the entry."""
    kind = BrokenLog if isinstance(exc, InputError) else type(exc)
    return kind(f"{prefix}: {exc}")


def _verify_heads(patient: str, rows: Sequence[StoredHead]) -> tuple[TreeHead, ...]:
    if not rows:
        raise BrokenLog(f"ledger of {patient} has no signed head")
    heads: list[TreeHead] = []
    for position, row in enumerate(rows):
        if row.seq != position:
            raise BrokenLog(f"head {position} is missing (next stored head is {row.seq})")
        try:
            head = read_head_parts(row.payload, row.signature, patient=patient, what=f"head {row.seq}")
        except (InputError, UnknownKind) as exc:
            raise _restated(exc, f"head {row.seq}") from exc
        if head.seq != row.seq:
            raise BrokenLog(f"head stored as {row.seq} signs seq {head.seq}")
        if heads:
            previous = heads[-1]
            shrunk = [t for t in TREES if head.trees[t].size < previous.trees[t].size]
            if shrunk or head.timestamp < previous.timestamp:
                raise BrokenLog(
                    f"head {head.seq} goes back in time or shrinks tree(s) {shrunk} of head {previous.seq}"
                )
        heads.append(head)
    return tuple(heads)


def _read_body(entry: SignedEntry) -> None:
    if entry.kind in CLINICAL_KINDS:
        fhir.read_clinical(entry)
    elif entry.kind == "grant":
        read_grant(entry)
    else:
        read_revocation(entry)


def _verify_row(patient: str, tree: str, position: int, row: StoredEntry) -> SignedEntry:
    name = _name(tree, position, row.id)
    if row.index != position:
        raise BrokenLog(f"{name}: stored at index {row.index}; an entry before it is missing or inserted")
    try:
        entry = read_entry_parts(row.payload, row.signature, what=name)
        if entry.id != row.id:
            raise BrokenLog(f"{name}: payload hashes to {entry.id}, not to the stored id")
        if entry.tree != tree:
            raise BrokenLog(f"{name}: a {entry.kind} entry does not belong in tree {tree}")
        if entry.patient != patient:
            raise BrokenLog(f"{name}: belongs to patient {entry.patient}, not {patient}")
        if (row.author, row.created) != (entry.author, format_time(entry.created)):
            raise BrokenLog(f"{name}: stored author/created columns disagree with the signed payload")
        _read_body(entry)
    except (InputError, UnknownKind, UnknownSigner) as exc:
        raise _restated(exc, name) from exc
    return entry


def _verify_roots(tree: str, rows: Sequence[StoredEntry], heads: Sequence[TreeHead]) -> None:
    leaves = [merkle.leaf_hash(row.payload + row.signature) for row in rows]
    roots = prefix_roots(leaves, (h.trees[tree].size for h in heads))
    verified = 0
    for head in heads:
        state = head.trees[tree]
        if roots.get(state.size) != state.root:
            entry_id = rows[verified].id if verified < len(rows) else None
            raise BrokenLog(
                f"{_name(tree, verified, entry_id)}: the tree no longer matches head {head.seq} "
                f"({state.size} entries): an entry at or after index {verified} was deleted, inserted, "
                "reordered or altered"
            )
        verified = state.size
    if len(rows) > verified:
        raise BrokenLog(f"{_name(tree, verified, rows[verified].id)}: not covered by any signed head")


def _first_seq(heads: Sequence[TreeHead], tree: str, index: int) -> int:
    """The seq of the first head that includes entry ``index`` of ``tree``."""
    sizes = [h.trees[tree].size for h in heads]
    return bisect.bisect_right(sizes, index)


def _verify_authors(snapshot: LedgerSnapshot) -> None:
    heads = snapshot.heads
    grants = snapshot.grants()
    grant_seq = {e.id: _first_seq(heads, "grants", i) for i, e in enumerate(snapshot.trees["grants"])}
    revoked_seq: dict[str, int] = {}
    for index, entry in enumerate(snapshot.trees["revocations"]):
        revocation, seq = read_revocation(entry), _first_seq(heads, "revocations", index)
        if grant_seq.get(revocation.grant_id, seq + 1) > seq:
            raise BrokenLog(f"{_name('revocations', index, entry.id)}: names grant {revocation.grant_id}, "
                            "which is not in the ledger before it")  # fmt: skip
        revoked_seq.setdefault(revocation.grant_id, seq)
    for tree in (TREE_OF_KIND[kind] for kind in sorted(CLINICAL_KINDS)):
        for index, entry in enumerate(snapshot.trees[tree]):
            problem = write_problem(entry, grants)
            authority = authorising_grant(entry, grants)
            if problem is None and entry.author != entry.patient and authority is not None:
                seq = _first_seq(heads, tree, index)
                if grant_seq[authority.id] > seq:
                    problem = f"grant {authority.id} entered the ledger after this entry"
                elif revoked_seq.get(authority.id, seq) < seq:
                    problem = f"grant {authority.id} was revoked before this entry"
            if problem is not None:
                raise UnknownSigner(f"{_name(tree, index, entry.id)}: {problem}")


def verify_log(log: StoredLog) -> LedgerSnapshot:
    """Check a whole stored log; return it verified, or raise naming the first bad head or entry."""
    heads = _verify_heads(log.patient, log.heads)
    rows: dict[str, list[StoredEntry]] = {tree: [] for tree in TREES}
    for row in log.entries:
        if row.tree not in rows:
            raise UnknownKind(f"{_name(row.tree, row.index, row.id)}: unknown tree {row.tree!r}")
        rows[row.tree].append(row)
    trees: dict[str, tuple[SignedEntry, ...]] = {}
    for tree in TREES:
        trees[tree] = tuple(_verify_row(log.patient, tree, i, row) for i, row in enumerate(rows[tree]))
        _verify_roots(tree, rows[tree], heads)
    snapshot = LedgerSnapshot(log.patient, trees, heads)
    _verify_authors(snapshot)
    return snapshot


def plan_append(
    log: StoredLog, new: Sequence[SignedEntry], *, patient: Identity, now: datetime
) -> tuple[list[StoredEntry], TreeHead]:
    """The rows and the new patient-signed head that appending ``new`` at ``now`` writes.

    Refuses (writing nothing) a ledger that no longer matches its latest head, a head key that is not
    the patient's, an entry for another patient or already present, a malformed body, a revocation of an
    unknown or already revoked grant, and practitioner entries their grant does not allow at ``now``.
    """
    if patient.public_id != log.patient:
        raise UnknownSigner(f"key {patient.public_id} is not the patient {log.patient} of this ledger")
    if not new:
        raise InputError("nothing to append")
    if not log.heads:
        raise BrokenLog(f"ledger of {log.patient} has no signed head")
    last = log.heads[-1]
    latest = read_head_parts(last.payload, last.signature, patient=log.patient, what=f"head {last.seq}")
    if latest.seq != last.seq:
        raise BrokenLog(f"head stored as {last.seq} signs seq {latest.seq}")
    by_tree: dict[str, list[StoredEntry]] = {tree: [] for tree in TREES}
    for row in log.entries:
        by_tree.setdefault(row.tree, []).append(row)
    leaves = {t: [merkle.leaf_hash(r.payload + r.signature) for r in by_tree[t]] for t in TREES}
    for tree in TREES:
        if latest.trees[tree] != TreeState(len(leaves[tree]), merkle.root(leaves[tree])):
            raise BrokenLog(
                f"tree {tree} does not match the latest signed head; run `alertsvc ledger verify`"
            )
    grants = {
        g.id: g
        for g in (read_grant(read_entry_parts(r.payload, r.signature, what=r.id)) for r in by_tree["grants"])
    }
    revocations = [
        read_revocation(read_entry_parts(r.payload, r.signature, what=r.id)) for r in by_tree["revocations"]
    ]
    known = {row.id for row in log.entries}
    asserts_none = any(e.kind == "allergy" and fhir.is_no_known_allergy(e.body) for e in new)
    allergies = (  # the stored allergies matter only to a "no known drug allergies" assertion
        [read_entry_parts(r.payload, r.signature, what=r.id) for r in by_tree["allergies"]]
        if asserts_none
        else []
    )
    rows: list[StoredEntry] = []
    for given in new:
        what = f"new {given.kind} entry {given.id}"
        entry = read_entry_parts(given.payload, given.signature, what=what, require_canonical=True)
        if entry.patient != log.patient:
            raise InputError(f"{what} is for patient {entry.patient}, not {log.patient}")
        if entry.id in known:
            raise InputError(f"{what} is already in the ledger")
        known.add(entry.id)
        if entry.kind == "grant":
            grant = read_grant(entry)
            grants[grant.id] = grant
        elif entry.kind == "revocation":
            revocation = read_revocation(entry)
            if revocation.grant_id not in grants:
                raise InputError(f"{what} revokes {revocation.grant_id}, which is not a grant in this ledger")
            if any(r.grant_id == revocation.grant_id for r in revocations):
                raise InputError(f"{what}: grant {revocation.grant_id} is already revoked")
            revocations.append(revocation)
        else:
            fhir.read_clinical(entry)
            if entry.author != entry.patient:
                check_practitioner_write(entry, grants, now=now, revocations=revocations)
            refuse_if_allergies(entry, allergies)  # no "no known drug allergies" beside allergies
            if entry.kind == "allergy":
                allergies.append(entry)
        rows.append(
            StoredEntry(entry.tree, len(leaves[entry.tree]), entry.id, entry.payload, entry.signature,
                        entry.author, format_time(entry.created))
        )  # fmt: skip
        leaves[entry.tree].append(merkle.leaf_hash(entry.leaf_data))
    grown = {row.tree for row in rows}
    trees = {
        t: TreeState(len(leaves[t]), merkle.root(leaves[t])) if t in grown else latest.trees[t] for t in TREES
    }
    head = sign_head(patient, seq=latest.seq + 1, timestamp=max(now, latest.timestamp), trees=trees)
    return rows, head


class Ledger:
    """A patient's ledger file: read it verified, append to it, export it. Close it when done."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    @property
    def path(self) -> Path:
        return self._store.path

    @property
    def patient(self) -> str:
        return self._store.patient

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._store.close()

    @classmethod
    def init(cls, path: Path, patient: Identity, *, now: datetime) -> Ledger:
        """Create a new, empty ledger at ``path`` (LedgerExists if anything is there) with head 0."""
        empty = {tree: TreeState(0, merkle.EMPTY_ROOT) for tree in TREES}
        head = sign_head(patient, seq=0, timestamp=now, trees=empty)
        store = LedgerStore.create(
            path, patient.public_id, entries=[], heads=[StoredHead(0, head.payload, head.signature)]
        )
        return cls(store)

    @classmethod
    def open(cls, path: Path) -> Ledger:
        """Open an existing ledger (LedgerNotFound when there is none; nothing is created)."""
        return cls(LedgerStore.open(path))

    def read(self) -> LedgerSnapshot:
        """The whole ledger, verified (see ``verify_log``)."""
        return verify_log(self._store.read())

    verify = read

    def raw(self) -> StoredLog:
        """The stored rows, unverified (for export, which verifies separately)."""
        return self._store.read()

    def append(self, entries: Sequence[SignedEntry], *, patient: Identity, now: datetime) -> TreeHead:
        """Append ``entries`` in one transaction under a new head signed by ``patient``; return the head."""
        with self._store.writing() as writer:
            rows, head = plan_append(writer.log, entries, patient=patient, now=now)
            writer.add(rows, StoredHead(head.seq, head.payload, head.signature))
        return head
