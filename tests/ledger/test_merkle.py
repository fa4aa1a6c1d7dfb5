"""Merkle tree hashing and proofs: reference vectors, the RFC's recursive definitions, and tampering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import ProofError
from alertsvc.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

REFERENCE: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "rfc6962_merkle.json").read_text(encoding="utf-8")
)
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in REFERENCE["leaves"]]
ROOTS = [bytes.fromhex(x) for x in REFERENCE["roots"]]


def _hexes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


# --- The RFC 9162 section 2.1 definitions, written out literally (recursive) as an independent check.


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d: Sequence[bytes]) -> bytes:
    if len(d) == 0:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]  # the leaf hashes are already SHA-256(0x00 || entry)
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + _mth(d[:k]) + _mth(d[k:])).digest()


def _path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*_path(m, d[:k]), _mth(d[k:])]
    return [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [_mth(d)]
    k = _k(n)
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


def _tree(size: int, salt: bytes = b"") -> list[bytes]:
    """Distinct leaf hashes (so no two subtrees are equal)."""
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


def _flip(hashes: Sequence[bytes], item: int, bit: int) -> list[bytes]:
    altered = list(hashes)
    changed = bytearray(altered[item])
    changed[bit // 8] ^= 1 << (bit % 8)
    altered[item] = bytes(changed)
    return altered


# --- Reference data (transparency-dev/merkle, from the certificate-transparency test data).


def test_hash_primitives() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert [h.hex() for h in LEAVES] == REFERENCE["leaf_hashes"]
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(LEAVES[0], LEAVES[1]).hex() == REFERENCE["roots"][2]


@pytest.mark.parametrize("size", range(9))
def test_reference_roots(size: int) -> None:
    assert root(LEAVES[:size]) == ROOTS[size]


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=f"leaf{c['leaf_index']}-of-{c['tree_size']}") for c in REFERENCE["inclusion_proofs"]],
)
def test_reference_inclusion_proofs(case: dict[str, Any]) -> None:
    index, size, expected = case["leaf_index"], case["tree_size"], _hexes(case["proof"])
    assert inclusion_proof(LEAVES[:size], index) == expected
    verify_inclusion(LEAVES[index], index, size, expected, ROOTS[size])
    # The probes transparency-dev's verifier must refuse: wrong index, wrong size, wrong leaf or root,
    # garbage before or after, each proof hash with a bit flipped, a hash removed or inserted.
    probes: list[tuple[str, int, int, bytes, list[bytes], bytes]] = [
        ("index - 1", index - 1, size, LEAVES[index], expected, ROOTS[size]),
        ("index + 1", index + 1, size, LEAVES[index], expected, ROOTS[size]),
        ("index ^ 2", index ^ 2, size, LEAVES[index], expected, ROOTS[size]),
        ("size * 2", index, size * 2, LEAVES[index], expected, ROOTS[size]),
        ("size // 2", index, size // 2, LEAVES[index], expected, ROOTS[size]),
        ("wrong leaf", index, size, leaf_hash(b"WrongLeaf"), expected, ROOTS[size]),
        ("empty root", index, size, LEAVES[index], expected, EMPTY_ROOT),
        ("random root", index, size, LEAVES[index], expected, bytes.fromhex("abacaba0" + "00" * 26 + "0600")),
        ("trailing root", index, size, LEAVES[index], [*expected, ROOTS[size]], ROOTS[size]),
        ("preceding root", index, size, LEAVES[index], [ROOTS[size], *expected], ROOTS[size]),
        ("trailing garbage", index, size, LEAVES[index], [*expected, b""], ROOTS[size]),
    ]
    probes += [
        (f"flip {i}", index, size, LEAVES[index], _flip(expected, i, 3), ROOTS[size])
        for i in range(len(expected))
    ]
    if expected:
        probes.append(("removed hash", index, size, LEAVES[index], expected[:-1], ROOTS[size]))
    if len(expected) > 1:
        inserted = [expected[0], bytes(32), *expected[1:]]
        probes.append(("inserted hash", index, size, LEAVES[index], inserted, ROOTS[size]))
    accepted = []
    for name, i, n, leaf, proof, expected_root in probes:
        try:
            verify_inclusion(leaf, i, n, proof, expected_root)
        except ProofError:
            continue
        accepted.append(name)
    assert accepted == []


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=f"{c['old_size']}-to-{c['new_size']}") for c in REFERENCE["consistency_proofs"]],
)
def test_reference_consistency_proofs(case: dict[str, Any]) -> None:
    old, new, expected = case["old_size"], case["new_size"], _hexes(case["proof"])
    assert consistency_proof(LEAVES[:new], old) == expected
    verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)
    if not expected:
        return
    probes: list[tuple[str, int, int, bytes, bytes, list[bytes]]] = [
        ("old - 1", old - 1, new, ROOTS[old], ROOTS[new], expected),
        ("old + 1", old + 1, new, ROOTS[old], ROOTS[new], expected),
        ("old ^ 2", old ^ 2, new, ROOTS[old], ROOTS[new], expected),
        ("new * 2", old, new * 2, ROOTS[old], ROOTS[new], expected),
        ("new // 2", old, new // 2, ROOTS[old], ROOTS[new], expected),
        ("wrong old root", old, new, leaf_hash(b"WrongRoot"), ROOTS[new], expected),
        ("wrong new root", old, new, ROOTS[old], leaf_hash(b"WrongRoot"), expected),
        ("swapped roots", old, new, ROOTS[new], ROOTS[old], expected),
        ("empty proof", old, new, ROOTS[old], ROOTS[new], []),
        ("trailing old root", old, new, ROOTS[old], ROOTS[new], [*expected, ROOTS[old]]),
        ("trailing new root", old, new, ROOTS[old], ROOTS[new], [*expected, ROOTS[new]]),
        ("preceding old root", old, new, ROOTS[old], ROOTS[new], [ROOTS[old], *expected]),
        ("preceding proof[0]", old, new, ROOTS[old], ROOTS[new], [expected[0], *expected]),
        ("truncated", old, new, ROOTS[old], ROOTS[new], expected[:-1]),
    ]
    probes += [
        (f"flip {i}", old, new, ROOTS[old], ROOTS[new], _flip(expected, i, 4)) for i in range(len(expected))
    ]
    accepted = []
    for name, m, n, old_root, new_root, proof in probes:
        try:
            verify_consistency(m, n, old_root, new_root, proof)
        except ProofError:
            continue
        accepted.append(name)
    assert accepted == []


# --- The iterative code against the RFC's recursive definitions, for every small tree.


def test_matches_the_rfc_definitions_for_every_size_up_to_70() -> None:
    for size in range(71):
        leaves = _tree(size)
        assert root(leaves) == _mth(leaves)
        for index in range(size):
            assert inclusion_proof(leaves, index) == _path(index, leaves)
        for old in range(1, size):
            assert consistency_proof(leaves, old) == _subproof(old, leaves, True)


def test_root_of_a_large_tree_matches_the_recursive_definition() -> None:
    leaves = _tree(10_000)
    assert root(leaves) == _mth(leaves)


# --- Properties: every honest proof verifies; every altered one fails.

sizes = st.integers(min_value=1, max_value=48)


@settings(max_examples=40, deadline=None)
@given(sizes)
def test_every_inclusion_proof_verifies(size: int) -> None:
    leaves = _tree(size)
    tree_root = root(leaves)
    for index in range(size):
        verify_inclusion(leaves[index], index, size, inclusion_proof(leaves, index), tree_root)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=48))
def test_every_consistency_proof_verifies(size: int) -> None:
    leaves = _tree(size)
    for old in range(size + 1):
        verify_consistency(old, size, root(leaves[:old]), root(leaves), consistency_proof(leaves, old))


@settings(max_examples=80, deadline=None)
@given(size=st.integers(min_value=2, max_value=48), data=st.data())
def test_inclusion_proof_with_a_flipped_bit_fails(size: int, data: st.DataObject) -> None:
    leaves = _tree(size)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(leaves, index)
    item = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    with pytest.raises(ProofError, match="does not lead to the expected root"):
        verify_inclusion(leaves[index], index, size, _flip(proof, item, bit), root(leaves))
    with pytest.raises(ProofError, match="does not lead to the expected root"):
        verify_inclusion(_flip([leaves[index]], 0, bit)[0], index, size, proof, root(leaves))
    with pytest.raises(ProofError, match="does not lead to the expected root"):
        verify_inclusion(leaves[index], index, size, proof, _flip([root(leaves)], 0, bit)[0])


@settings(max_examples=80, deadline=None)
@given(size=st.integers(min_value=2, max_value=48), data=st.data())
def test_inclusion_proof_at_a_wrong_index_fails(size: int, data: st.DataObject) -> None:
    leaves = _tree(size)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
    proof = inclusion_proof(leaves, index)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], other, size, proof, root(leaves))
    with pytest.raises(ProofError):
        verify_inclusion(leaves[other], index, size, proof, root(leaves))


@settings(max_examples=80, deadline=None)
@given(size=st.integers(min_value=1, max_value=48), data=st.data())
def test_inclusion_proof_for_a_wrong_size_fails(size: int, data: st.DataObject) -> None:
    leaves = _tree(64)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    wrong = data.draw(st.integers(min_value=index + 1, max_value=64).filter(lambda n: n != size))
    proof = inclusion_proof(leaves[:size], index)
    # Size and root come from one signed tree head: the wrong size with its own root must fail.
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], index, wrong, proof, root(leaves[:wrong]))


def test_same_shaped_sizes_are_why_size_and_root_must_travel_together() -> None:
    # Index 0 has the same path shape in trees of 3 and 4 leaves, so the size-3 proof checked with
    # the claimed size 4 but the size-3 root passes: the root, not the size, carries the commitment.
    leaves = _tree(4)
    proof = inclusion_proof(leaves[:3], 0)
    verify_inclusion(leaves[0], 0, 4, proof, root(leaves[:3]))
    with pytest.raises(ProofError):
        verify_inclusion(leaves[0], 0, 4, proof, root(leaves))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=40), data=st.data())
def test_inclusion_proof_from_another_tree_fails(size: int, data: st.DataObject) -> None:
    mine, theirs = _tree(size), _tree(size, salt=b"other patient")
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    with pytest.raises(ProofError):
        verify_inclusion(theirs[index], index, size, inclusion_proof(theirs, index), root(mine))
    if size > 1:  # a one-leaf tree's proof is empty, the same for every tree
        with pytest.raises(ProofError):
            verify_inclusion(mine[index], index, size, inclusion_proof(theirs, index), root(mine))


@settings(max_examples=80, deadline=None)
@given(size=st.integers(min_value=3, max_value=48), data=st.data())
def test_consistency_proof_with_a_flipped_bit_fails(size: int, data: st.DataObject) -> None:
    leaves = _tree(size)
    old = data.draw(st.integers(min_value=1, max_value=size - 1))
    proof = consistency_proof(leaves, old)
    item = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    old_root, new_root = root(leaves[:old]), root(leaves)
    with pytest.raises(ProofError, match=r"does not lead to the (old|new) root"):
        verify_consistency(old, size, old_root, new_root, _flip(proof, item, bit))
    # When old is a power of two its root starts the path, so a wrong old root shows at the new root.
    with pytest.raises(ProofError, match=r"does not lead to the (old|new) root"):
        verify_consistency(old, size, _flip([old_root], 0, bit)[0], new_root, proof)
    with pytest.raises(ProofError, match="does not lead to the new root"):
        verify_consistency(old, size, old_root, _flip([new_root], 0, bit)[0], proof)


@settings(max_examples=100, deadline=None)
@given(size=st.integers(min_value=2, max_value=48), data=st.data())
def test_consistency_proof_for_wrong_sizes_fails(size: int, data: st.DataObject) -> None:
    leaves = _tree(64)
    old = data.draw(st.integers(min_value=1, max_value=size - 1))
    proof = consistency_proof(leaves[:size], old)
    claimed_old = data.draw(st.integers(min_value=1, max_value=63))
    claimed_new = data.draw(st.integers(min_value=claimed_old + 1, max_value=64))
    if (claimed_old, claimed_new) == (old, size):
        return
    # Each claimed size with its own genuine root (as a signed tree head would give them).
    with pytest.raises(ProofError):
        verify_consistency(
            claimed_old, claimed_new, root(leaves[:claimed_old]), root(leaves[:claimed_new]), proof
        )


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=2, max_value=40), data=st.data())
def test_consistency_proof_from_another_tree_fails(size: int, data: st.DataObject) -> None:
    mine, theirs = _tree(size), _tree(size, salt=b"other patient")
    old = data.draw(st.integers(min_value=1, max_value=size - 1))
    with pytest.raises(ProofError):
        verify_consistency(old, size, root(mine[:old]), root(mine), consistency_proof(theirs, old))
    # A tree that rewrote history (an old entry altered) has no consistency proof to the old root.
    rewritten = [*mine[: old - 1], leaf_hash(b"altered entry"), *mine[old:]]
    with pytest.raises(ProofError):
        verify_consistency(old, size, root(mine[:old]), root(rewritten), consistency_proof(rewritten, old))


# --- Edge cases and messages.


def test_empty_and_trivial_consistency() -> None:
    leaves = _tree(5)
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, root(leaves), [])
    verify_consistency(5, 5, root(leaves), root(leaves), [])
    with pytest.raises(ProofError, match="old root of an empty tree must be the empty root"):
        verify_consistency(0, 5, root(leaves), root(leaves), [])
    with pytest.raises(ProofError, match="new root of an empty tree must be the empty root"):
        verify_consistency(0, 0, EMPTY_ROOT, root(leaves), [])
    with pytest.raises(ProofError, match="trees of the same size 5 have different roots"):
        verify_consistency(5, 5, root(leaves), root(leaves[:4]), [])
    with pytest.raises(ProofError, match=r"consistency proof from size 5 to 5 has 1 hashes; it must have 0"):
        verify_consistency(5, 5, root(leaves), root(leaves), [EMPTY_ROOT])
    with pytest.raises(ProofError, match="old tree size 6 is larger than new tree size 5"):
        verify_consistency(6, 5, root(leaves), root(leaves), [])


def test_precise_messages() -> None:
    leaves = _tree(8)
    proof = inclusion_proof(leaves, 5)
    with pytest.raises(ProofError, match=r"^leaf index 8 is outside a tree of size 8$"):
        verify_inclusion(leaves[5], 8, 8, proof, root(leaves))
    with pytest.raises(ProofError, match=r"^inclusion proof for leaf 5 of 8 has 2 hashes; it must have 3$"):
        verify_inclusion(leaves[5], 5, 8, proof[:2], root(leaves))
    with pytest.raises(ProofError, match=r"^inclusion proof for leaf 5 of 8: hash 1 is 31 bytes, not 32$"):
        verify_inclusion(leaves[5], 5, 8, [proof[0], proof[1][:31], proof[2]], root(leaves))
    with pytest.raises(ProofError, match=r"^leaf hash is 33 bytes, not 32$"):
        verify_inclusion(leaves[5] + b"\x00", 5, 8, proof, root(leaves))
    with pytest.raises(ProofError, match=r"^expected root is str, not a 32-byte hash$"):
        verify_inclusion(leaves[5], 5, 8, proof, root(leaves).hex())  # type: ignore[arg-type]
    with pytest.raises(ProofError, match=r"^leaf index must be a non-negative integer, got -1$"):
        verify_inclusion(leaves[5], -1, 8, proof, root(leaves))
    with pytest.raises(
        ProofError, match=r"^consistency proof from size 3 to 8 has 0 hashes; it must have 4$"
    ):
        verify_consistency(3, 8, root(leaves[:3]), root(leaves), [])
    with pytest.raises(ProofError, match=r"^cannot prove inclusion of index 8 in a tree of size 8$"):
        inclusion_proof(leaves, 8)
    with pytest.raises(ProofError, match=r"^cannot prove consistency from size 9 to a tree of size 8$"):
        consistency_proof(leaves, 9)


def test_inputs_are_not_mutated_and_tuples_work() -> None:
    leaves = tuple(_tree(7))
    copy = list(leaves)
    assert root(leaves) == root(copy)
    assert inclusion_proof(leaves, 3) == inclusion_proof(copy, 3)
    assert consistency_proof(leaves, 3) == consistency_proof(copy, 3)
    assert list(leaves) == copy
