"""Export to JSON or a FHIR Bundle and import back: verified before anything is written."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from alertsvc import errors
from alertsvc.ledger.canonical import b64url, unb64url
from alertsvc.ledger.exchange import SIGNED_ENTRY_URL, export_fhir, export_json, import_ledger
from alertsvc.ledger.log import Ledger
from tests.ledger.conftest import PRACTITIONER, add, grant_to, reaction

Filled = tuple[Ledger, Any]


@pytest.fixture
def with_practitioner(filled: Filled) -> Ledger:
    ledger, _ = filled
    write_grant = grant_to(PRACTITIONER, scope=(), write=("reactions",))
    add(ledger, write_grant)
    add(ledger, reaction("morphine", author=PRACTITIONER, grant=write_grant.id))
    return ledger


@pytest.mark.parametrize(
    "export", [pytest.param(export_json, id="json"), pytest.param(export_fhir, id="fhir")]
)
def test_round_trip_gives_a_ledger_with_the_same_heads(
    with_practitioner: Ledger, tmp_path: Path, export: Any
) -> None:
    original = with_practitioner.read()
    data = export(original)
    copy = tmp_path / "copy.ledger"
    imported = import_ledger(data, copy)
    with Ledger.open(copy) as reopened:
        again = reopened.verify()
    assert [h.payload for h in again.heads] == [h.payload for h in original.heads]
    assert [h.signature for h in again.heads] == [h.signature for h in original.heads]
    assert again.trees == original.trees == imported.trees


def test_the_fhir_bundle_carries_each_body_with_its_signed_envelope(with_practitioner: Ledger) -> None:
    bundle = json.loads(export_fhir(with_practitioner.read()))
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert {"MedicationStatement", "AllergyIntolerance", "Consent", "Binary"} == set(types)
    statement = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationStatement"
    )
    (extension,) = statement["extension"]
    assert extension["url"] == SIGNED_ENTRY_URL
    parts = {part["url"]: part for part in extension["extension"]}
    assert (parts["tree"]["valueCode"], parts["index"]["valueUnsignedInt"]) == ("medications", 0)
    assert set(json.loads(parts["envelope"]["valueString"])) == {"payload", "signature"}


def _flip_payload_byte(document: dict[str, Any]) -> None:
    envelope = document["entries"][2]["entry"]
    raw = bytearray(unb64url(envelope["payload"], what="test"))
    raw[10] ^= 0x01
    envelope["payload"] = b64url(bytes(raw))


def _drop_entry(document: dict[str, Any]) -> None:
    del document["entries"][1]


def _swap_heads(document: dict[str, Any]) -> None:
    heads = document["heads"]
    heads[1], heads[2] = heads[2], heads[1]


@pytest.mark.parametrize(
    ("edit", "error", "match"),
    [
        pytest.param(_flip_payload_byte, errors.LedgerError, r"medications\[2\]", id="payload-byte"),
        pytest.param(_drop_entry, errors.BrokenLog, r"medications\[1\]", id="entry-dropped"),
        pytest.param(_swap_heads, errors.BrokenLog, "head 1", id="heads-swapped"),
    ],
)
def test_a_tampered_json_export_is_refused_and_no_file_is_left(
    filled: Filled, tmp_path: Path, edit: Any, error: type, match: str
) -> None:
    ledger, _ = filled
    document = json.loads(export_json(ledger.read()))
    edit(document)
    out = tmp_path / "copy.ledger"
    with pytest.raises(error, match=match):
        import_ledger(json.dumps(document).encode(), out)
    assert not any(p.name.startswith("copy.ledger") for p in tmp_path.iterdir())


def _bundle_resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def test_a_changed_fhir_resource_is_refused(filled: Filled, tmp_path: Path) -> None:
    ledger, _ = filled
    bundle = json.loads(export_fhir(ledger.read()))
    _bundle_resources(bundle, "MedicationStatement")[1]["dosage"] = [{"text": "10 tablets"}]
    out = tmp_path / "copy.ledger"
    with pytest.raises(errors.BrokenLog, match="differs from the body"):
        import_ledger(json.dumps(bundle).encode(), out)
    assert not out.exists()


def test_a_changed_head_binary_is_refused(filled: Filled, tmp_path: Path) -> None:
    ledger, _ = filled
    bundle = json.loads(export_fhir(ledger.read()))
    head = _bundle_resources(bundle, "Binary")[3]
    envelope = json.loads(base64.b64decode(head["data"]))
    raw = unb64url(envelope["payload"], what="test").replace(b'"seq":3', b'"seq":4')
    envelope["payload"] = b64url(raw)
    head["data"] = base64.b64encode(json.dumps(envelope).encode()).decode()
    out = tmp_path / "copy.ledger"
    with pytest.raises(errors.LedgerError, match="head 3"):
        import_ledger(json.dumps(bundle).encode(), out)
    assert not out.exists()


def test_import_never_overwrites(filled: Filled) -> None:
    ledger, _ = filled
    with pytest.raises(errors.LedgerExists):
        import_ledger(export_json(ledger.read()), ledger.path)
    assert ledger.verify().latest.seq == 6


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b'{"type": "something-else"}', id="unknown-type"),
    ],
)
def test_malformed_exports_are_input_errors(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(errors.InputError, match="export"):
        import_ledger(data, tmp_path / "copy.ledger")
    assert list(tmp_path.iterdir()) == []
