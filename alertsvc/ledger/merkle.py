"""Merkle tree hashing, inclusion and consistency proofs (RFC 9162 section 2.1, same as RFC 6962).

Each kind of ledger entry has its own append-only tree. A leaf is ``leaf_hash(entry bytes)``; the tree
head signed by the patient commits to each tree's size and root. Hashes are raw 32-byte SHA-256
digests. Functions that build take the leaf hashes (not the entries); functions that verify raise
:class:`~alertsvc.errors.ProofError` saying what did not hold, or return None.

A root is only meaningful together with its tree size: the same proof can hold for two sizes whose
trees share a shape along the path (index 0 of 3 and of 4 leaves, say), so always take the size and
the root from the same signed tree head.

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> verify_inclusion(leaves[3], 3, 5, inclusion_proof(leaves, 3), root(leaves))
>>> verify_consistency(2, 5, root(leaves[:2]), root(leaves), consistency_proof(leaves, 2))
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from alertsvc.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_BYTES",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_BYTES = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH of a one-entry list: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def _subtree_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a non-empty range, bottom-up without recursion.

    Pairing neighbours level by level and carrying an odd last node up unchanged builds the same
    tree as RFC 9162's split at the largest power of two below n.
    """
    level = list(leaves[start:end])
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes; EMPTY_ROOT for none."""
    if not leaves:
        return EMPTY_ROOT
    return _subtree_root(leaves, 0, len(leaves))


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 section 2.1.3.1: the sibling hashes from the leaf up to the root."""
    size = len(leaves)
    if not 0 <= index < size:
        raise ProofError(f"cannot prove inclusion of index {index} in a tree of size {size}")
    siblings: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            siblings.append(_subtree_root(leaves, middle, end))
            end = middle
        else:
            siblings.append(_subtree_root(leaves, start, middle))
            start = middle
    siblings.reverse()
    return siblings


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162 section 2.1.4.1 from ``old_size`` to ``len(leaves)``.

    Empty when old_size is 0 or equal to the current size: those are consistent with no proof.
    """
    size = len(leaves)
    if not 0 <= old_size <= size:
        raise ProofError(f"cannot prove consistency from size {old_size} to a tree of size {size}")
    if old_size in (0, size):
        return []
    proof: list[bytes] = []
    start, end, old = 0, size, old_size  # ``old``: how many old leaves lie in [start, end)
    whole_old_tree = True
    while old != end - start:
        half = _split(end - start)
        if old <= half:
            proof.append(_subtree_root(leaves, start + half, end))
            end = start + half
        else:
            proof.append(_subtree_root(leaves, start, start + half))
            start, old = start + half, old - half
            whole_old_tree = False
    if not whole_old_tree:
        proof.append(_subtree_root(leaves, start, end))
    proof.reverse()
    return proof


def _inclusion_proof_length(index: int, size: int) -> int:
    length, start, end = 0, 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        start, end = (start, middle) if index < middle else (middle, end)
        length += 1
    return length


def _consistency_proof_length(old_size: int, new_size: int) -> int:
    length, size, old, whole_old_tree = 0, new_size, old_size, True
    while old != size:
        half = _split(size)
        if old <= half:
            size = half
        else:
            size, old, whole_old_tree = size - half, old - half, False
        length += 1
    return length + (0 if whole_old_tree else 1)


def _check_hash(value: object, name: str) -> bytes:
    if not isinstance(value, bytes):
        raise ProofError(f"{name} is {type(value).__name__}, not a {HASH_BYTES}-byte hash")
    if len(value) != HASH_BYTES:
        raise ProofError(f"{name} is {len(value)} bytes, not {HASH_BYTES}")
    return value


def _check_proof(proof: Sequence[bytes], expected_length: int, description: str) -> list[bytes]:
    if len(proof) != expected_length:
        raise ProofError(f"{description} has {len(proof)} hashes; it must have {expected_length}")
    return [_check_hash(item, f"{description}: hash {i}") for i, item in enumerate(proof)]


def _check_size(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Check that ``leaf`` is entry ``index`` of the tree of ``size`` leaves with ``expected_root``.

    RFC 9162 section 2.1.3.2, with the proof's length checked first so the message can say why.
    """
    _check_size(index, "leaf index")
    _check_size(size, "tree size")
    if index >= size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    leaf = _check_hash(leaf, "leaf hash")
    expected_root = _check_hash(expected_root, "expected root")
    description = f"inclusion proof for leaf {index} of {size}"
    path = _check_proof(proof, _inclusion_proof_length(index, size), description)

    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:  # pragma: no cover - excluded by the length check
            raise ProofError(f"{description} is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # pragma: no cover - excluded by the length check
        raise ProofError(f"{description} is shorter than the path to the root")
    if r != expected_root:
        raise ProofError(
            f"{description} does not lead to the expected root: computed {r.hex()[:16]}..., "
            f"expected {expected_root.hex()[:16]}..."
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` leaves with ``new_root`` extends the one of ``old_size``.

    RFC 9162 section 2.1.4.2. Trivial cases need an empty proof: from size 0 (whose root must be
    EMPTY_ROOT) anything is an extension, and equal sizes must have equal roots.
    """
    _check_size(old_size, "old tree size")
    _check_size(new_size, "new tree size")
    old_root = _check_hash(old_root, "old root")
    new_root = _check_hash(new_root, "new root")
    if old_size > new_size:
        raise ProofError(f"old tree size {old_size} is larger than new tree size {new_size}")
    description = f"consistency proof from size {old_size} to {new_size}"
    if old_size == 0 or old_size == new_size:
        _check_proof(proof, 0, description)
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise ProofError(
                f"old root of an empty tree must be the empty root, got {old_root.hex()[:16]}..."
            )
        if new_size == 0 and new_root != EMPTY_ROOT:
            raise ProofError(
                f"new root of an empty tree must be the empty root, got {new_root.hex()[:16]}..."
            )
        if old_size == new_size and old_root != new_root:
            raise ProofError(f"trees of the same size {new_size} have different roots")
        return
    path = _check_proof(proof, _consistency_proof_length(old_size, new_size), description)

    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node of the path
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # pragma: no cover - excluded by the length check
            raise ProofError(f"{description} is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # pragma: no cover - excluded by the length check
        raise ProofError(f"{description} is shorter than the path to the root")
    if fr != old_root:
        raise ProofError(
            f"{description} does not lead to the old root: computed {fr.hex()[:16]}..., "
            f"expected {old_root.hex()[:16]}..."
        )
    if sr != new_root:
        raise ProofError(
            f"{description} does not lead to the new root: computed {sr.hex()[:16]}..., "
            f"expected {new_root.hex()[:16]}..."
        )
