"""Ed25519 identities: known-answer vectors, Wycheproof, key files, JWK thumbprints."""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import pickle
import re
import sqlite3
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import BadSignature, IdentityError
from alertsvc.ledger.canonical import b64url
from alertsvc.ledger.identity import (
    PUBLIC_ID_PREFIX,
    SPREAD_FROM,
    Identity,
    jwk,
    public_key_of,
    verify,
    verify_all,
    verify_raw,
)

VECTORS = Path(__file__).parent / "vectors"
SEED = bytes(range(32))


class Rfc8032Vector(NamedTuple):
    name: str
    secret: bytes
    public: bytes
    message: bytes
    signature: bytes


class WycheproofCase(NamedTuple):
    tc_id: int
    result: str
    flags: str
    public: bytes
    message: bytes
    signature: bytes
    comment: str


def _rows(name: str) -> list[list[str]]:
    lines = (VECTORS / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


RFC8032 = [
    Rfc8032Vector(name, bytes.fromhex(sk), bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig))
    for name, sk, pk, msg, sig in _rows("rfc8032_ed25519.tsv")
]
WYCHEPROOF = [
    WycheproofCase(int(tc), result, flags, bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig), comment)
    for tc, result, flags, pk, msg, sig, comment in _rows("wycheproof_ed25519.tsv")
]


def test_fixture_files_are_complete() -> None:
    assert [v.name for v in RFC8032] == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]
    assert len(RFC8032[3].message) == 1023
    assert RFC8032[4].message == hashlib.sha512(b"abc").digest()
    assert len(WYCHEPROOF) == 151
    assert sorted(c.tc_id for c in WYCHEPROOF) == list(range(1, 152))
    assert sum(c.result == "valid" for c in WYCHEPROOF) == 88
    assert {c.result for c in WYCHEPROOF} == {"valid", "invalid"}


@pytest.mark.parametrize("vector", [pytest.param(v, id=v.name) for v in RFC8032])
def test_rfc8032_section_7_1(vector: Rfc8032Vector) -> None:
    identity = Identity.from_seed(vector.secret)
    assert identity.public_key == vector.public
    assert identity.public_id == PUBLIC_ID_PREFIX + b64url(vector.public)
    assert identity.sign(vector.message) == vector.signature
    verify(identity.public_id, vector.message, vector.signature, what=vector.name)
    verify_raw(vector.public, vector.message, vector.signature, what=vector.name)
    with pytest.raises(
        BadSignature, match=f"^{re.escape(vector.name)}: signature does not verify with ed25519:"
    ):
        verify(identity.public_id, vector.message + b"\x00", vector.signature, what=vector.name)


@pytest.mark.parametrize("case", [pytest.param(c, id=f"tc{c.tc_id}-{c.result}") for c in WYCHEPROOF])
def test_wycheproof_ed25519(case: WycheproofCase) -> None:
    what = f"wycheproof tcId {case.tc_id}"
    if case.result == "valid":
        verify_raw(case.public, case.message, case.signature, what=what)
    else:
        with pytest.raises(BadSignature, match=f"^{what}: signature does not verify with ed25519:"):
            verify_raw(case.public, case.message, case.signature, what=what)


def test_signatures_verify_with_an_independent_implementation() -> None:
    identity = Identity.from_seed(SEED)
    message = b'{"kind":"reaction","drug":"warfarin"}'
    signature = identity.sign(message)
    other = Ed25519PrivateKey.from_private_bytes(SEED)
    assert other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == identity.public_key
    Ed25519PublicKey.from_public_bytes(identity.public_key).verify(signature, message)
    assert other.sign(message) == signature


@settings(max_examples=60, deadline=None)
@given(message=st.binary(max_size=64), position=st.integers(min_value=0, max_value=64 * 8 - 1))
def test_any_flipped_signature_bit_fails(message: bytes, position: int) -> None:
    identity = Identity.from_seed(SEED)
    signature = bytearray(identity.sign(message))
    signature[position // 8] ^= 1 << (position % 8)
    with pytest.raises(BadSignature):
        verify(identity.public_id, message, bytes(signature), what="entry 3")


@settings(max_examples=60, deadline=None)
@given(message=st.binary(min_size=1, max_size=64), data=st.data())
def test_any_flipped_message_bit_fails(message: bytes, data: st.DataObject) -> None:
    identity = Identity.from_seed(SEED)
    signature = identity.sign(message)
    position = data.draw(st.integers(min_value=0, max_value=len(message) * 8 - 1))
    altered = bytearray(message)
    altered[position // 8] ^= 1 << (position % 8)
    with pytest.raises(BadSignature):
        verify(identity.public_id, bytes(altered), signature, what="entry 3")


def test_signature_of_another_identity_fails() -> None:
    alice, bob = Identity.from_seed(SEED), Identity.from_seed(bytes(32))
    signature = alice.sign(b"grant")
    with pytest.raises(
        BadSignature, match=f"^grant 7: signature does not verify with {re.escape(bob.public_id)}$"
    ):
        verify(bob.public_id, b"grant", signature, what="grant 7")


@pytest.mark.parametrize("length", [0, 32, 63, 65, 128])
def test_wrong_length_signature_is_bad_signature(length: int) -> None:
    identity = Identity.from_seed(SEED)
    signature = (identity.sign(b"m") * 2)[:length]
    with pytest.raises(BadSignature, match=f"^entry 1: signature does not verify .*it is {length} bytes"):
        verify(identity.public_id, b"m", signature, what="entry 1")
    with pytest.raises(BadSignature, match=r"^entry 1: "):
        verify_raw(identity.public_key, b"m", signature, what="entry 1")


@pytest.mark.parametrize(
    "bad",
    [(), (SPREAD_FROM * 3 - 1,), (7, SPREAD_FROM * 2 + 5), (SPREAD_FROM + 1, SPREAD_FROM + 2)],
    ids=["none", "the-last", "one-early-one-late", "two-together"],
)
def test_verify_all_raises_the_first_failure_of_a_long_list(bad: tuple[int, ...]) -> None:
    """Spread over the cores or not, ``verify_all`` fails exactly where checking in order first would."""
    signer, other = Identity.from_seed(SEED), Identity.from_seed(bytes(32))
    checks = [
        (signer.public_key, message, (other if i in bad else signer).sign(message), f"entry {i}")
        for i, message in enumerate(f"entry {i}".encode() for i in range(SPREAD_FROM * 3))
    ]
    if not bad:
        assert verify_all(checks) is None
        return
    with pytest.raises(BadSignature, match=f"^entry {bad[0]}: signature does not verify"):
        verify_all(checks)


def test_wrong_length_raw_public_key_is_bad_signature() -> None:
    identity = Identity.from_seed(SEED)
    with pytest.raises(BadSignature, match=r"^entry 1: public key is 31 bytes"):
        verify_raw(identity.public_key[:31], b"m", identity.sign(b"m"), what="entry 1")


def test_repr_and_str_never_show_the_seed() -> None:
    identity = Identity.from_seed(SEED)
    for text in (repr(identity), str(identity), f"{identity}", f"{identity!r}", repr([identity])):
        assert identity.public_id in text
        for secret in (SEED.hex(), SEED.hex().upper(), b64url(SEED), base64.b64encode(SEED).decode()):
            assert secret not in text
    assert repr(identity) == f"Identity({identity.public_id!r})"
    assert str(identity) == identity.public_id


def test_identity_is_not_pickled_but_copies_are_itself() -> None:
    identity = Identity.from_seed(SEED)
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(identity)
    assert copy.deepcopy(identity) is identity
    assert copy.copy(identity) is identity


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33), "00" * 32])
def test_from_seed_refuses_wrong_seeds(seed: object) -> None:
    with pytest.raises(IdentityError, match="an Ed25519 seed is 32 bytes"):
        Identity.from_seed(seed)  # type: ignore[arg-type]


def test_generate_gives_distinct_working_identities() -> None:
    first, second = Identity.generate(), Identity.generate()
    assert first.public_id != second.public_id
    verify(first.public_id, b"x", first.sign(b"x"), what="x")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "patient.key"
    identity = Identity.from_seed(SEED)
    identity.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = Identity.load(path)
    assert loaded.public_id == identity.public_id
    assert loaded.sign(b"entry") == identity.sign(b"entry")
    text = path.read_text(encoding="utf-8")
    assert '"type": "alertsvc-identity"' in text and b64url(SEED) in text


def test_saved_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        Identity.generate().save(tmp_path / "a.key")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.key").stat().st_mode & 0o777 == 0o600


def test_save_refuses_to_overwrite_and_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "patient.key"
    Identity.from_seed(SEED).save(path)
    before = path.read_bytes()
    with pytest.raises(IdentityError, match=f"^{re.escape(str(path))}: a file is already there"):
        Identity.generate().save(path)
    assert path.read_bytes() == before
    assert Identity.load(path).public_id == Identity.from_seed(SEED).public_id

    ledger = tmp_path / "ledger.db"
    ledger.write_bytes(b"not a key")
    with pytest.raises(IdentityError, match="refusing to overwrite"):
        Identity.generate().save(ledger)
    assert ledger.read_bytes() == b"not a key"


def test_save_refuses_to_follow_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / "link.key").symlink_to(target)
    with pytest.raises(IdentityError, match=r"link\.key"):
        Identity.generate().save(tmp_path / "link.key")
    assert not target.exists()


def test_save_into_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir.key"
    with pytest.raises(IdentityError, match=f"^{re.escape(str(path))}: directory .* does not exist"):
        Identity.generate().save(path)


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.key"
    with pytest.raises(IdentityError, match=f"^{re.escape(str(path))}: no key file there"):
        Identity.load(path)


def _write(path: Path, content: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b'{"entries": [], "patient": "ed25519:x"}', "found type None", id="other-json-object"),
        pytest.param(
            b'{"type": "alertsvc-slice", "entries": []}', "found type 'alertsvc-slice'", id="a-slice"
        ),
        pytest.param(b"[1, 2, 3]", "found a JSON list", id="json-array"),
        pytest.param(b"ed25519:abc\n", "Expecting value", id="not-json"),
        pytest.param(b"\x00\xff\xfe", "invalid UTF-8", id="binary"),
        pytest.param(b"", "Expecting value", id="empty-file"),
    ],
)
def test_load_refuses_files_that_are_not_key_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = _write(tmp_path / "given.key", content)
    with pytest.raises(IdentityError) as info:
        Identity.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not an alertsvc key file")
    assert reason in message


def test_load_refuses_a_ledger_given_as_key(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as db:
        db.execute("create table entries (seq integer primary key, body blob)")
    path.chmod(0o600)
    with pytest.raises(IdentityError, match=f"^{re.escape(str(path))}: not an alertsvc key file"):
        Identity.load(path)


def test_load_refuses_a_large_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "big.key", b" " * 100_000)
    with pytest.raises(IdentityError, match="far too large"):
        Identity.load(path)


def test_load_refuses_a_tampered_public_id(tmp_path: Path) -> None:
    path = tmp_path / "patient.key"
    Identity.from_seed(SEED).save(path)
    other = Identity.from_seed(bytes(32)).public_id
    text = path.read_text(encoding="utf-8").replace(Identity.from_seed(SEED).public_id, other)
    _write(path, text.encode())
    with pytest.raises(
        IdentityError,
        match=f"^{re.escape(str(path))}: public_id '{re.escape(other)}' does not match the seed",
    ):
        Identity.load(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o700 | 0o020])
def test_load_refuses_a_file_others_can_read_or_write(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "patient.key"
    Identity.from_seed(SEED).save(path)
    path.chmod(mode)
    with pytest.raises(
        IdentityError,
        match=f"^{re.escape(str(path))}: key file is accessible by group or others \\(mode {mode:04o}\\)",
    ):
        Identity.load(path)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        pytest.param({"version": 2}, "unsupported key file version 2", id="version"),
        pytest.param({"extra": 1}, "key file fields are", id="extra-field"),
        pytest.param({"seed": "AAAA"}, "seed is 3 bytes", id="short-seed"),
        pytest.param({"seed": "AA=="}, "seed: '=' is not a base64url character", id="padded-seed"),
    ],
)
def test_load_refuses_malformed_key_files(tmp_path: Path, edit: dict[str, object], reason: str) -> None:
    import json

    identity = Identity.from_seed(SEED)
    doc = {"type": "alertsvc-identity", "version": 1, "public_id": identity.public_id, "seed": b64url(SEED)}
    path = _write(tmp_path / "k.key", json.dumps({**doc, **edit}).encode())
    with pytest.raises(IdentityError, match=f"^{re.escape(str(path))}: ") as info:
        Identity.load(path)
    assert reason in str(info.value)


def test_load_a_directory(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="is a directory"):
        Identity.load(tmp_path)


def test_public_key_of_round_trip() -> None:
    identity = Identity.from_seed(SEED)
    assert public_key_of(identity.public_id) == identity.public_key


@pytest.mark.parametrize(
    ("public_id", "reason"),
    [
        pytest.param("ed448:" + b64url(bytes(32)), "does not start with 'ed25519:'", id="other-prefix"),
        pytest.param(b64url(Identity.from_seed(SEED).public_key), "does not start with", id="no-prefix"),
        pytest.param(
            "ed25519:" + b64url(Identity.from_seed(SEED).public_key)[:-1], "non-canonical", id="truncated"
        ),
        pytest.param("ed25519:" + b64url(bytes(31)), "holds 31 bytes", id="31-bytes"),
        pytest.param("ed25519:" + b64url(bytes(33)), "holds 33 bytes", id="33-bytes"),
        pytest.param("ed25519:" + b64url(bytes(32)) + "=", "'=' is not a base64url", id="padding"),
        pytest.param(
            "ed25519:" + base64.b64encode(bytes([251] * 32)).decode().rstrip("="), "'+'", id="std-b64"
        ),
        # The neutral element (y = 1) and a point of order 4 (y = 0): no signature can be trusted.
        pytest.param(
            "ed25519:" + b64url(b"\x01" + bytes(31)), "not a valid Ed25519 public key", id="identity-point"
        ),
        pytest.param("ed25519:" + b64url(bytes(32)), "not a valid Ed25519 public key", id="small-order"),
        pytest.param(None, "a public id is text", id="none"),
    ],
)
def test_public_key_of_refuses_malformed_ids(public_id: str, reason: str) -> None:
    with pytest.raises(IdentityError) as info:
        public_key_of(public_id)
    assert reason in str(info.value)


def test_verify_with_a_malformed_id_is_an_identity_error() -> None:
    with pytest.raises(IdentityError, match="does not start with"):
        verify("rsa:abc", b"m", bytes(64), what="entry 1")


def _independent_thumbprint(seed: bytes) -> tuple[str, str]:
    """RFC 7638 section 3: SHA-256 over the required members in lexicographic order, no whitespace."""
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    members = '{"crv":"Ed25519","kty":"OKP","x":"' + x + '"}'
    kid = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).decode().rstrip("=")
    return x, kid


@pytest.mark.parametrize("seed", [SEED, bytes(32), RFC8032[0].secret])
def test_jwk_matches_rfc7638_thumbprint(seed: bytes) -> None:
    identity = Identity.from_seed(seed)
    x, kid = _independent_thumbprint(seed)
    assert jwk(identity.public_id) == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": x,
        "alg": "EdDSA",
        "use": "sig",
        "kid": kid,
    }


def test_jwk_of_rfc8037_example_key() -> None:
    # RFC 8037 appendix A.1 uses the RFC 8032 TEST 1 key; A.3 gives its RFC 7638 thumbprint.
    identity = Identity.from_seed(RFC8032[0].secret)
    key = jwk(identity.public_id)
    assert key["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert key["kid"] == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
