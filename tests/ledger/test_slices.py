"""Slices and updates: the hospital proves it saw exactly and all of what was granted, nothing more."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from alertsvc import errors
from alertsvc.ledger.canonical import b64url, unb64url
from alertsvc.ledger.entries import SignedEntry, sign_entry
from alertsvc.ledger.grants import new_grant, new_revocation, read_grant
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import VerifiedSlice, make_slice, make_update, verify_slice, verify_update
from tests.ledger.conftest import (
    HOSPITAL,
    NOW,
    PATIENT,
    PRACTITIONER,
    STRANGER,
    add,
    allergy,
    grant_to,
    medication,
    reaction,
)

Filled = tuple[Ledger, SignedEntry]


def _slice(filled: Filled) -> bytes:
    ledger, grant = filled
    return make_slice(ledger.read(), grant.id, now=NOW)


def _verify(data: bytes | str, **overrides: Any) -> VerifiedSlice:
    arguments: dict[str, Any] = {"patient": PATIENT.public_id, "now": NOW + timedelta(hours=1)}
    arguments.update(overrides)
    return verify_slice(data, **arguments)


def _edited(data: bytes, edit: Any) -> str:
    document = json.loads(data)
    edit(document)
    return json.dumps(document)


def test_a_slice_verifies_and_holds_exactly_the_granted_trees(filled: Filled) -> None:
    data = _slice(filled)
    result = _verify(data, grantee=HOSPITAL.public_id)
    assert set(result.entries) == {"medications", "reactions", "revocations"}
    assert sorted(m.drug for m in result.medications) == ["5640", "aspirin", "warfarin"]
    assert [r.drug for r in result.reactions] == ["codeine"]
    assert result.allergies == () and not result.revoked
    assert result.grant.grantee == HOSPITAL.public_id and result.head.seq == 6
    assert b"penicillin" not in data  # the allergies tree shows only its size and root


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"patient": STRANGER.public_id}, errors.UnknownSigner, id="other-patient"),
        pytest.param({"grantee": PRACTITIONER.public_id}, errors.WrongGrantee, id="other-grantee"),
        pytest.param({"now": NOW - timedelta(minutes=1)}, errors.GrantNotYetValid, id="too-early"),
        pytest.param({"now": NOW + timedelta(hours=24)}, errors.GrantExpired, id="expired"),
    ],
)
def test_slice_refused_for_the_wrong_party_or_time(
    filled: Filled, overrides: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        _verify(_slice(filled), **overrides)


@pytest.mark.parametrize("swapped", [(36, 37), (4, 37)], ids=["late-pair", "early-and-late"])
def test_a_forged_signature_in_a_long_tree_is_named(filled: Filled, swapped: tuple[int, int]) -> None:
    """A tree long enough to be checked on several cores names the first entry whose signature fails."""
    ledger, _ = filled
    for n in range(40):
        add(ledger, medication(f"drug {n}"))
    first, second = swapped

    def swap(doc: dict[str, Any]) -> None:
        meds = doc["trees"]["medications"]
        meds[first]["signature"], meds[second]["signature"] = (
            meds[second]["signature"],
            meds[first]["signature"],
        )

    assert len(_verify(_slice(filled)).medications) == 43
    with pytest.raises(errors.BadSignature, match=rf"^medications\[{first}\]: signature does not verify"):
        _verify(_edited(_slice(filled), swap))


def test_a_stale_head_is_refused(filled: Filled) -> None:
    old = _slice(filled)
    ledger, _ = filled
    add(ledger, medication("later"))
    newer = _verify(_slice(filled))
    with pytest.raises(errors.StaleHead, match="older"):
        _verify(old, accepted_head=newer.head)
    assert _verify(_slice(filled), accepted_head=newer.head).head == newer.head


def test_a_revoked_grant_yields_no_slice(filled: Filled) -> None:
    ledger, grant = filled
    data = _slice(filled)
    add(ledger, new_revocation(PATIENT, read_grant(grant), now=NOW))
    with pytest.raises(errors.GrantRevoked):
        make_slice(ledger.read(), grant.id, now=NOW)
    # A slice made before the revocation still verifies on its own: its head predates the revocation.
    assert _verify(data).head.seq == 6


def _drop_first_medication(doc: dict[str, Any]) -> None:
    doc["trees"]["medications"].pop(0)


def _add_allergies_tree(doc: dict[str, Any]) -> None:
    doc["trees"]["allergies"] = [allergy("penicillin").envelope()]


def _drop_reactions_tree(doc: dict[str, Any]) -> None:
    del doc["trees"]["reactions"]


def _allergy_among_medications(doc: dict[str, Any]) -> None:
    doc["trees"]["medications"].append(allergy("penicillin").envelope())


def _stranger_medication(doc: dict[str, Any]) -> None:
    doc["trees"]["medications"][1] = medication("aspirin", author=STRANGER).envelope()


def _forged_grant(doc: dict[str, Any]) -> None:
    forged = grant_to(HOSPITAL, scope=("medications", "reactions", "allergies"))
    doc["grant"]["entry"] = {
        "payload": b64url(forged.payload),
        "signature": b64url(STRANGER.sign(forged.payload)),
    }


def _grant_signed_by_stranger(doc: dict[str, Any]) -> None:
    entry = new_grant(
        STRANGER, grantee=HOSPITAL.public_id, scope=["medications"], not_before=NOW, hours=9, now=NOW
    )
    doc["grant"]["entry"] = entry.envelope()


def _proof_of_another_tree(doc: dict[str, Any]) -> None:
    doc["grant"]["proof"] = doc["grant"]["proof"][::-1] or ["00" * 32]
    doc["grant"]["index"] = 0


def _swapped_medications(doc: dict[str, Any]) -> None:
    meds = doc["trees"]["medications"]
    meds[0], meds[1] = meds[1], meds[0]


def _swapped_signature(doc: dict[str, Any]) -> None:
    meds = doc["trees"]["medications"]
    meds[0]["signature"], meds[1]["signature"] = meds[1]["signature"], meds[0]["signature"]


def _head_by_stranger(doc: dict[str, Any]) -> None:
    raw = unb64url(doc["head"]["payload"], what="test")
    doc["head"]["signature"] = b64url(STRANGER.sign(raw))


@pytest.mark.parametrize(
    ("edit", "error", "match"),
    [
        pytest.param(_drop_first_medication, errors.BrokenLog, "left out", id="granted-entry-left-out"),
        pytest.param(_add_allergies_tree, errors.OutOfScope, "allergies", id="extra-tree"),
        pytest.param(_drop_reactions_tree, errors.OutOfScope, "reactions", id="missing-tree"),
        pytest.param(
            _allergy_among_medications, errors.OutOfScope, r"medications\[3\]", id="entry-out-of-scope"
        ),
        pytest.param(_stranger_medication, errors.UnknownSigner, r"medications\[1\]", id="unknown-signer"),
        pytest.param(_forged_grant, errors.BadSignature, "slice grant", id="grant-signature-forged"),
        pytest.param(
            _grant_signed_by_stranger, errors.UnknownSigner, "is for patient", id="grant-by-stranger"
        ),
        pytest.param(_proof_of_another_tree, errors.ProofError, "grants tree", id="bad-grant-proof"),
        pytest.param(_swapped_medications, errors.BrokenLog, "reordered", id="reordered"),
        pytest.param(_swapped_signature, errors.BadSignature, r"medications\[0\]", id="swapped-signature"),
        pytest.param(_head_by_stranger, errors.BadSignature, "slice head", id="head-forged"),
    ],
)
def test_tampered_slices_are_refused(filled: Filled, edit: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        _verify(_edited(_slice(filled), edit))


def test_a_grant_proof_from_another_tree_is_refused(filled: Filled) -> None:
    ledger, _ = filled
    snapshot = ledger.read()
    medication_proof = snapshot.inclusion_proof("medications", 0, snapshot.latest)

    def edit(doc: dict[str, Any]) -> None:
        doc["grant"]["proof"] = [node.hex() for node in medication_proof]

    with pytest.raises(errors.ProofError):
        _verify(_edited(_slice(filled), edit))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"{", id="truncated"),
        pytest.param(b'{"v": 1, "v": 1}', id="duplicate-key"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"type": "alertsvc-slice", "v": 2}', id="version"),
    ],
)
def test_malformed_slices_are_input_errors(data: bytes) -> None:
    with pytest.raises(errors.InputError, match="slice"):
        _verify(data)


def test_practitioner_entries_travel_with_their_write_grant(ledger: Ledger) -> None:
    write_grant = grant_to(PRACTITIONER, scope=(), write=("reactions",))
    read_grant_entry = grant_to(HOSPITAL, scope=("reactions",))
    add(ledger, write_grant, read_grant_entry)
    add(ledger, reaction("morphine", author=PRACTITIONER, grant=write_grant.id))
    data = make_slice(ledger.read(), read_grant_entry.id, now=NOW)
    result = _verify(data)
    assert [r.flagged_by for r in result.reactions] == [PRACTITIONER.public_id]
    assert set(result.write_grants) == {write_grant.id}

    def drop(doc: dict[str, Any]) -> None:
        doc["write_grants"] = []

    with pytest.raises(errors.UnknownSigner, match=r"reactions\[0\]"):
        _verify(_edited(data, drop))


def test_updates_carry_new_entries_with_consistency_proofs(filled: Filled) -> None:
    ledger, grant = filled
    first = _verify(_slice(filled))
    add(ledger, medication("heparin"))
    early_update = make_update(ledger.read(), grant.id, first.head.seq)
    add(ledger, allergy("latex"), reaction("morphine"))
    update = make_update(ledger.read(), grant.id, first.head.seq)
    assert b"latex" not in update
    second = verify_update(first, update, now=NOW + timedelta(hours=2))
    assert second.head.seq == 8
    assert "heparin" in [m.drug for m in second.medications]
    assert len(second.entries["reactions"]) == 2
    with pytest.raises(errors.StaleHead, match="older"):
        verify_update(second, early_update, now=NOW + timedelta(hours=2))


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        pytest.param(lambda d: d["trees"]["medications"].clear(), errors.BrokenLog, id="new-entry-dropped"),
        pytest.param(
            lambda d: d["consistency"].__setitem__("allergies", d["consistency"]["reactions"]),
            errors.ProofError,
            id="proof-of-another-tree",
        ),
        pytest.param(lambda d: d.__setitem__("since", 5), errors.InputError, id="wrong-starting-head"),
    ],
)
def test_tampered_updates_are_refused(filled: Filled, edit: Any, error: type) -> None:
    ledger, grant = filled
    first = _verify(_slice(filled))
    add(ledger, medication("heparin"), allergy("latex"), reaction("morphine"))
    update = make_update(ledger.read(), grant.id, first.head.seq)
    with pytest.raises(error):
        verify_update(first, _edited(update, edit), now=NOW + timedelta(hours=2))


def test_a_revocation_in_an_update_is_returned_verified(filled: Filled) -> None:
    ledger, grant = filled
    first = _verify(_slice(filled))
    add(
        ledger,
        new_revocation(PATIENT, read_grant(grant), now=NOW + timedelta(hours=3)),
        at=NOW + timedelta(hours=3),
    )
    update = make_update(ledger.read(), grant.id, first.head.seq)
    result = verify_update(first, update, now=NOW + timedelta(hours=30))  # even after expiry
    assert result.revoked and result.revocation is not None
    assert result.revocation.grant_id == grant.id


def _signed_misshapen_medication() -> SignedEntry:
    """A medication entry the patient really signed whose body is an AllergyIntolerance."""
    body = {**allergy("penicillin").body}
    return sign_entry(PATIENT, kind="medication", patient=PATIENT.public_id, body=body, created=NOW)


def test_a_signed_entry_whose_body_is_not_its_kind_is_refused(filled: Filled) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["trees"]["medications"][1] = _signed_misshapen_medication().envelope()

    with pytest.raises(
        errors.BrokenLog, match=r"medications\[1\] \(entry sha256:.*expected MedicationStatement"
    ):
        _verify(_edited(_slice(filled), edit))


def test_a_write_grant_with_a_wrong_proof_is_refused(ledger: Ledger) -> None:
    write_grant = grant_to(PRACTITIONER, scope=(), write=("reactions",))
    read_grant_entry = grant_to(HOSPITAL, scope=("reactions",))
    add(ledger, write_grant, read_grant_entry)
    add(ledger, reaction("morphine", author=PRACTITIONER, grant=write_grant.id))
    data = make_slice(ledger.read(), read_grant_entry.id, now=NOW)

    def wrong_index(doc: dict[str, Any]) -> None:
        doc["write_grants"][0]["index"] = 1

    def wrong_node(doc: dict[str, Any]) -> None:
        doc["write_grants"][0]["proof"][0] = "00" * 32

    for edit in (wrong_index, wrong_node):
        with pytest.raises(errors.ProofError, match=r"write_grants\[0\]: grant .* is not proven"):
            _verify(_edited(data, edit))


def test_an_update_keeps_what_the_slice_said_and_refuses_a_misshapen_new_entry(filled: Filled) -> None:
    ledger, grant = filled
    first = _verify(_slice(filled))
    add(ledger, medication("heparin"), reaction("morphine"))
    update = make_update(ledger.read(), grant.id, first.head.seq)
    second = verify_update(first, update, now=NOW + timedelta(hours=2))
    assert sorted(m.drug for m in second.medications) == ["5640", "aspirin", "heparin", "warfarin"]
    assert sorted(r.drug for r in second.reactions) == ["codeine", "morphine"]

    def edit(doc: dict[str, Any]) -> None:
        doc["trees"]["medications"][0] = _signed_misshapen_medication().envelope()

    with pytest.raises(
        errors.BrokenLog, match=r"medications\[3\] \(entry sha256:.*expected MedicationStatement"
    ):
        verify_update(first, _edited(update, edit), now=NOW + timedelta(hours=2))
