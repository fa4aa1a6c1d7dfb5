"""The Merkle log and its SQLite store: init, open, append, heads, proofs and whole-ledger verification."""

from __future__ import annotations

import json
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from alertsvc import errors
from alertsvc.ledger import merkle
from alertsvc.ledger.entries import TREES, SignedEntry, read_entry_parts
from alertsvc.ledger.grants import new_revocation, read_grant
from alertsvc.ledger.log import Ledger, prefix_roots, verify_head_consistency
from tests.ledger.conftest import (
    NOW,
    PATIENT,
    PRACTITIONER,
    STRANGER,
    add,
    allergy,
    file_hash,
    grant_to,
    medication,
    reaction,
    sql,
)


def test_prefix_roots_agree_with_rfc9162_roots() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(37)]
    roots = prefix_roots(leaves, range(40))
    assert set(roots) == set(range(38))
    assert all(roots[n] == merkle.root(leaves[:n]) for n in roots)


def test_init_writes_a_private_file_with_an_empty_signed_head(ledger: Ledger, ledger_path: Path) -> None:
    assert stat.S_IMODE(ledger_path.stat().st_mode) == 0o600
    snapshot = ledger.verify()
    assert [h.seq for h in snapshot.heads] == [0]
    assert all(snapshot.latest.trees[t].size == 0 for t in TREES)
    assert ledger.patient == PATIENT.public_id


def test_init_refuses_an_existing_file_and_leaves_it_alone(ledger: Ledger, ledger_path: Path) -> None:
    before = file_hash(ledger_path)
    with pytest.raises(errors.LedgerExists, match=re.escape(str(ledger_path))):
        Ledger.init(ledger_path, PATIENT, now=NOW)
    assert file_hash(ledger_path) == before


def test_opening_a_missing_ledger_names_it_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ledger"
    with pytest.raises(errors.LedgerNotFound, match=r"nope\.ledger"):
        Ledger.open(missing)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    [pytest.param(b"hello, not a database", id="text"), pytest.param(b"", id="empty-sqlite")],
)
def test_opening_something_that_is_not_a_ledger_fails_cleanly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "other.db"
    path.write_bytes(content)
    with pytest.raises(errors.LedgerError, match=r"other\.db"):
        Ledger.open(path)


def test_every_append_makes_one_head_and_entries_land_in_their_trees(ledger: Ledger) -> None:
    add(ledger, medication("warfarin"))
    add(ledger, allergy("penicillin"), reaction("codeine"), medication("aspirin"))
    snapshot = ledger.verify()
    assert [h.seq for h in snapshot.heads] == [0, 1, 2]
    assert [len(snapshot.trees[t]) for t in TREES] == [2, 1, 1, 0, 0, 0]
    assert snapshot.heads[1].trees["medications"].size == 1
    for tree in TREES:
        assert snapshot.latest.trees[tree].root == merkle.root(snapshot.leaf_hashes(tree))


def _assert_refused_without_writing(ledger: Ledger, path: Path, error: type[Exception], match: str,
                                    *entries: SignedEntry) -> None:  # fmt: skip
    before = file_hash(path)
    with pytest.raises(error, match=match):
        ledger.append(list(entries), patient=PATIENT, now=NOW)
    assert file_hash(path) == before


def test_appending_needs_the_patients_key(ledger: Ledger, ledger_path: Path) -> None:
    before = file_hash(ledger_path)
    with pytest.raises(errors.UnknownSigner, match="not the patient"):
        ledger.append([medication("warfarin")], patient=STRANGER, now=NOW)
    assert file_hash(ledger_path) == before


def test_a_duplicate_entry_is_refused_and_a_bad_batch_writes_nothing(
    ledger: Ledger, ledger_path: Path
) -> None:
    first = medication("warfarin")
    add(ledger, first)
    _assert_refused_without_writing(ledger, ledger_path, errors.InputError, "already", medication("x"), first)
    assert len(ledger.verify().heads) == 2


def test_a_non_canonical_entry_never_enters_the_ledger(ledger: Ledger, ledger_path: Path) -> None:
    spaced = json.dumps(json.loads(medication("warfarin").payload), indent=1).encode()
    entry = read_entry_parts(spaced, PATIENT.sign(spaced), what="spaced")
    _assert_refused_without_writing(ledger, ledger_path, errors.InputError, "canonical", entry)


def test_revoking_an_unknown_grant_is_refused(ledger: Ledger, ledger_path: Path) -> None:
    grant = grant_to(PRACTITIONER)
    revocation = new_revocation(PATIENT, read_grant(grant), now=NOW)
    _assert_refused_without_writing(ledger, ledger_path, errors.InputError, "not a grant", revocation)
    add(ledger, grant, revocation)
    again = new_revocation(PATIENT, read_grant(grant), now=NOW + timedelta(minutes=1))
    _assert_refused_without_writing(ledger, ledger_path, errors.InputError, "already revoked", again)


def test_practitioner_writes_under_a_write_grant(ledger: Ledger, ledger_path: Path) -> None:
    write_grant = grant_to(PRACTITIONER, scope=("medications",), write=("reactions",))
    add(ledger, write_grant)
    flagged = reaction("morphine", author=PRACTITIONER, grant=write_grant.id)
    add(ledger, flagged)
    assert ledger.verify().trees["reactions"] == (flagged,)
    cases: list[tuple[type[Exception], str, SignedEntry]] = [
        (errors.OutOfScope, "write scope", medication("x", author=PRACTITIONER, grant=write_grant.id)),
        (errors.UnknownSigner, "names no write grant", reaction("x", author=PRACTITIONER)),
        (errors.UnknownSigner, "is for", reaction("x", author=STRANGER, grant=write_grant.id)),
        (errors.UnknownSigner, "not a known grant", reaction("x", author=PRACTITIONER, grant="sha256:00")),
    ]
    for error, match, entry in cases:
        _assert_refused_without_writing(ledger, ledger_path, error, match, entry)


def test_practitioner_writes_stop_when_the_grant_expires_or_is_revoked(
    ledger: Ledger, ledger_path: Path
) -> None:
    write_grant = grant_to(PRACTITIONER, write=("reactions",), hours=1)
    add(ledger, write_grant)
    late = NOW + timedelta(hours=2)
    before = file_hash(ledger_path)
    with pytest.raises(errors.GrantExpired):
        ledger.append(
            [reaction("x", author=PRACTITIONER, grant=write_grant.id, at=NOW)], patient=PATIENT, now=late
        )
    assert file_hash(ledger_path) == before
    add(ledger, new_revocation(PATIENT, read_grant(write_grant), now=NOW))
    _assert_refused_without_writing(
        ledger,
        ledger_path,
        errors.GrantRevoked,
        "revoked",
        reaction("x", author=PRACTITIONER, grant=write_grant.id),
    )


def test_appending_to_a_tampered_ledger_is_refused(ledger: Ledger, ledger_path: Path) -> None:
    add(ledger, medication("warfarin"), medication("aspirin"))
    sql(ledger_path, "DELETE FROM entries WHERE idx = 1")
    with pytest.raises(errors.BrokenLog, match="medications"):
        add(ledger, medication("x"))


def test_heads_are_consistent_with_each_other(ledger: Ledger) -> None:
    add(ledger, medication("a"))
    add(ledger, medication("b"), allergy("c"))
    add(ledger, grant_to(PRACTITIONER))
    snapshot = ledger.verify()
    for old in snapshot.heads:
        for new in snapshot.heads[old.seq :]:
            verify_head_consistency(old, new, snapshot.consistency_proofs(old, new))
    old, new = snapshot.heads[1], snapshot.latest
    proofs = snapshot.consistency_proofs(old, new)
    proofs["medications"] = proofs["allergies"]
    with pytest.raises(errors.ProofError, match="medications"):
        verify_head_consistency(old, new, proofs)


@pytest.mark.parametrize(
    ("statement", "match"),
    [
        pytest.param("UPDATE entries SET idx = 7 WHERE tree = 'medications' AND idx = 2", r"medications\[2\]",
                     id="renumbered"),
        pytest.param("DELETE FROM entries WHERE tree = 'allergies'", r"allergies\[0\] \(no entry there\)",
                     id="tree-emptied"),
        pytest.param("DELETE FROM heads WHERE seq = 2", "head 2 is missing", id="head-deleted"),
        pytest.param("UPDATE entries SET payload = 'text' WHERE tree = 'medications' AND idx = 1",
                     r"medications\[1\]", id="payload-as-text"),
        pytest.param("UPDATE entries SET author = 'ed25519:x' WHERE tree = 'medications' AND idx = 0",
                     r"medications\[0\].*author", id="author-column"),
    ],
)  # fmt: skip
def test_verify_names_what_is_wrong(ledger: Ledger, ledger_path: Path, statement: str, match: str) -> None:
    for drug in ("a", "b", "c"):
        add(ledger, medication(drug))
    add(ledger, allergy("penicillin"))
    ledger.verify()
    sql(ledger_path, statement)
    with pytest.raises(errors.LedgerError, match=match):
        ledger.verify()


def test_verify_catches_a_renumbered_head_under_practitioner_entries(
    ledger: Ledger, ledger_path: Path
) -> None:
    write_grant = grant_to(PRACTITIONER, write=("reactions",))
    add(ledger, write_grant)
    add(ledger, reaction("x", author=PRACTITIONER, grant=write_grant.id))
    assert ledger.verify().trees["reactions"][0].author == PRACTITIONER.public_id
    sql(ledger_path, "UPDATE heads SET seq = 99 WHERE seq = 1")
    with pytest.raises(errors.BrokenLog, match="head 1"):
        ledger.verify()
