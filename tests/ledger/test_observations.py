"""Observation entries: LOINC-coded values signed by the patient or a write grantee, carried by slices
whose grant covers ``observations``; bad input refused with nothing stored; older heads still read."""

from __future__ import annotations

import doctest
import json
import typing
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from alertsvc.cli import main
from alertsvc.errors import InputError, OutOfScope, UnknownSigner
from alertsvc.knowledge import observation_rules
from alertsvc.ledger import merkle
from alertsvc.ledger import observations as obs
from alertsvc.ledger.canonical import canonical
from alertsvc.ledger.entries import TREES, format_time, read_head_parts, sign_entry
from alertsvc.ledger.exchange import export_fhir, import_ledger
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.server_views import ledger_view
from alertsvc.ledger.slices import make_slice, make_update, verify_slice, verify_update
from alertsvc.ledger.store import LedgerStore, StoredEntry, StoredHead
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, PRACTITIONER, add, file_hash, grant_to, medication


def inr(value: float, *, author=PATIENT, grant: str | None = None, hours_ago: float = 1):  # type: ignore[no-untyped-def]
    return obs.observation(
        author,
        obs.resolve("6301-6", value, None),
        effective=NOW - timedelta(hours=hours_ago),
        now=NOW,
        patient=PATIENT.public_id,
        grant=grant,
    )


def test_the_ledger_names_the_same_analytes_as_the_check() -> None:
    """The ledger names what a LOINC code measures itself (it imports no knowledge); the names must be the
    check's, or a value would reach the modifiers under a name they do not key on."""
    assert typing.get_args(obs.Analyte) == typing.get_args(observation_rules.Analyte)
    assert {code.analyte for code in obs.CODES.values()} <= set(typing.get_args(observation_rules.Analyte))


def test_the_module_examples_hold() -> None:
    result = doctest.testmod(obs, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 3


@pytest.mark.parametrize(
    ("code", "value", "unit", "stored"),
    [
        pytest.param("INR", 4.2, None, ("6301-6", "{INR}", "INR 4.2"), id="inr-no-unit"),
        pytest.param("6301-6", 2.5, "ratio", ("6301-6", "{INR}", "INR 2.5"), id="inr-ratio"),
        pytest.param("K", 5.6, "mEq/L", ("2823-3", "mmol/L", "potassium 5.6 mmol/L"), id="potassium-meq"),
        pytest.param("creatinine", 1.8, "mg/dL", ("2160-0", "mg/dL", "creatinine 1.8 mg/dL"), id="creat-mg"),
        pytest.param(
            "creatinine", 160, "µmol/L", ("14682-9", "umol/L", "creatinine 160 µmol/L"), id="creat-umol"
        ),
        pytest.param(
            "eGFR", 25, "mL/min/1.73m2", ("98979-8", "mL/min/{1.73_m2}", "eGFR 25 mL/min/1.73m2"), id="egfr"
        ),
        pytest.param(
            "62238-1",
            44,
            "mL/min/{1.73_m2}",
            ("62238-1", "mL/min/{1.73_m2}", "eGFR 44 mL/min/1.73m2"),
            id="egfr-ucum",
        ),
        pytest.param("QTc", 520, "msec", ("8636-3", "ms", "QTc 520 ms"), id="qtc"),
    ],
)
def test_each_code_reads_its_units(
    code: str, value: float, unit: str | None, stored: tuple[str, ...]
) -> None:
    quantity = obs.resolve(code, value, unit)
    assert (quantity.code.code, quantity.code.unit, quantity.text) == stored


@pytest.mark.parametrize(
    ("code", "value", "unit", "message"),
    [
        pytest.param("1234-5", 1.0, "mg", "unknown LOINC code '1234-5'", id="unknown-loinc"),
        pytest.param("sodium", 140.0, "mmol/L", "unknown observation 'sodium'", id="unknown-name"),
        pytest.param("potassium", 5.6, None, "potassium (2823-3) needs a unit: mmol/L", id="no-unit"),
        pytest.param("eGFR", 25.0, "", "eGFR (98979-8) needs a unit", id="empty-unit"),
        pytest.param("QTc", 520.0, "s", "QTc (8636-3) is measured in ms (UCUM ms), not 's'", id="wrong-unit"),
        pytest.param(
            "2160-0", 1.8, "umol/L", "creatinine (2160-0) is measured in mg/dL", id="code-unit-clash"
        ),
        pytest.param("INR", float("nan"), None, "must be a finite number", id="nan"),
        pytest.param("potassium", 56.0, "mmol/L", "potassium 56 is outside 0-15 mmol/L", id="implausible"),
    ],
)
def test_bad_values_are_refused_naming_what_was_wrong(
    code: str, value: float, unit: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        obs.resolve(code, value, unit)


def test_an_observation_is_a_fhir_observation_in_its_own_tree(ledger: Ledger) -> None:
    entry = inr(4.2)
    add(ledger, entry)
    snapshot = ledger.verify()
    assert [e.id for e in snapshot.trees["observations"]] == [entry.id]
    body = entry.body
    assert body["resourceType"] == "Observation" and body["status"] == "final"
    assert body["code"]["coding"] == [
        {"system": obs.LOINC, "code": "6301-6", "display": "INR in Platelet poor plasma by Coagulation assay"}
    ]
    assert body["valueQuantity"] == {"value": 4.2, "unit": "INR", "system": obs.UCUM, "code": "{INR}"}
    [read] = obs.current_observations(snapshot.trees["observations"])
    assert (read.code, read.quantity.value, read.effective) == ("6301-6", 4.2, NOW - timedelta(hours=1))


def test_a_tampered_observation_body_is_refused_at_append(ledger: Ledger) -> None:
    body = dict(inr(4.2).body)
    body["valueQuantity"] = {"value": 5.6, "unit": "mmol/L", "system": obs.UCUM, "code": "mg"}
    body["code"] = {"coding": [{"system": obs.LOINC, "code": "2823-3"}]}
    bad = sign_entry(PATIENT, kind="observation", patient=PATIENT.public_id, body=body, created=NOW)
    before = file_hash(ledger.path)
    with pytest.raises(InputError, match="potassium \\(2823-3\\) is measured in mmol/L"):
        add(ledger, bad)
    assert file_hash(ledger.path) == before


def test_a_practitioner_writes_observations_only_under_a_write_grant(ledger: Ledger) -> None:
    allowed = grant_to(PRACTITIONER, scope=("observations",), write=("observations",))
    reads_only = grant_to(HOSPITAL, scope=("observations",))
    add(ledger, allowed, reads_only)
    add(ledger, inr(3.1, author=PRACTITIONER, grant=allowed.id))
    before = file_hash(ledger.path)
    with pytest.raises(OutOfScope, match="write scope does not cover observation entries"):
        add(ledger, inr(3.2, author=HOSPITAL, grant=reads_only.id))
    with pytest.raises(UnknownSigner, match="names no write grant"):
        add(ledger, inr(3.3, author=PRACTITIONER))
    assert file_hash(ledger.path) == before
    assert len(ledger.verify().trees["observations"]) == 1


def test_a_slice_carries_observations_only_when_the_grant_covers_them(ledger: Ledger) -> None:
    with_obs = grant_to(HOSPITAL, scope=("medications", "observations"))
    without = grant_to(HOSPITAL, scope=("medications",))
    add(ledger, medication("warfarin"), inr(4.2), with_obs, without)
    snapshot = ledger.read()
    carried = verify_slice(make_slice(snapshot, with_obs.id, now=NOW), patient=PATIENT.public_id, now=NOW)
    assert [o.quantity.text for o in carried.observations] == ["INR 4.2"]
    withheld = verify_slice(make_slice(snapshot, without.id, now=NOW), patient=PATIENT.public_id, now=NOW)
    assert withheld.observations == () and "observations" not in withheld.entries
    head_seq = snapshot.latest.seq
    add(ledger, inr(2.4, hours_ago=0))
    update = make_update(ledger.read(), with_obs.id, head_seq)
    later = verify_update(carried, update, now=NOW)
    assert [o.quantity.text for o in later.observations] == ["INR 4.2", "INR 2.4"]


def test_a_head_signed_before_observations_existed_reads_as_an_empty_tree() -> None:
    trees = {t: {"size": 0, "root": merkle.EMPTY_ROOT.hex()} for t in TREES if t != "observations"}
    payload = canonical(
        {"v": 1, "patient": PATIENT.public_id, "seq": 0, "timestamp": "2026-03-01T00:00:00Z", "trees": trees}
    )
    head = read_head_parts(payload, PATIENT.sign(payload), patient=PATIENT.public_id, what="old head")
    assert head.trees["observations"].size == 0
    assert head.trees["observations"].root == merkle.EMPTY_ROOT


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_add_observation_from_the_command_line(tmp_path: Path) -> None:
    key, book = tmp_path / "patient.key", tmp_path / "patient.ledger"
    assert cli("keys", "new", key).exit_code == 0
    assert cli("ledger", "init", book, "--key", key).exit_code == 0
    done = cli("ledger", "add-observation", book, "--key", key, "--code", "6301-6", "--value", "4.2",
               "--at", "2026-03-07T09:30:00Z")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "6301-6 INR 4.2, measured 2026-03-07T09:30:00Z" in done.stdout and "observations[0]" in done.stdout
    assert cli("ledger", "add-observation", book, "--key", key, "--code", "eGFR", "--value", "25",
               "--unit", "mL/min/1.73m2").exit_code == 0  # fmt: skip
    shown = json.loads(cli("ledger", "show", book, "--json").stdout)
    assert shown["head"]["seq"] == 2
    with Ledger.open(book) as opened:
        found = obs.current_observations(opened.verify().trees["observations"])
    assert [(o.code, o.quantity.value) for o in found] == [("6301-6", 4.2), ("98979-8", 25.0)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--code", "potassium", "--value", "5.6"), "potassium (2823-3) needs a unit", id="no-unit"
        ),
        pytest.param(
            ("--code", "99999-9", "--value", "1", "--unit", "mg"), "unknown LOINC code '99999-9'", id="loinc"
        ),
        pytest.param(
            ("--code", "QTc", "--value", "520", "--unit", "mmHg"), "QTc (8636-3) is measured in ms", id="unit"
        ),
        pytest.param(
            ("--code", "INR", "--value", "4", "--at", "2099-01-01T00:00:00Z"), "after now", id="future"
        ),
    ],
)
def test_bad_observations_from_the_command_line_store_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    key, book = tmp_path / "patient.key", tmp_path / "patient.ledger"
    cli("keys", "new", key)
    cli("ledger", "init", book, "--key", key)
    before = file_hash(book)
    result = CliRunner().invoke(main, ["ledger", "add-observation", str(book), "--key", str(key), *args])
    assert result.exit_code == 1
    assert message in result.stderr
    assert file_hash(book) == before


def test_the_patients_page_view_lists_observations_with_who_signed_them(ledger: Ledger) -> None:
    allowed = grant_to(PRACTITIONER, scope=("observations",), write=("observations",))
    add(ledger, allowed, inr(4.2), inr(2.8, author=PRACTITIONER, grant=allowed.id, hours_ago=0))
    view = ledger_view(ledger.read(), now=NOW, url="http://127.0.0.1:1")
    assert [(o["text"], o["code"], o["signed_by"]) for o in view["observations"]] == [
        ("INR 4.2", "6301-6", "patient"),
        ("INR 2.8", "6301-6", "practitioner"),
    ]
    assert view["observations"][0]["measured"] == "2026-03-08T01:00:00Z"
    assert view["grants"][0]["scope"] == ["observations"]


def test_observations_survive_fhir_export_and_import(ledger: Ledger, tmp_path: Path) -> None:
    add(ledger, medication("warfarin"), inr(4.2))
    bundle = json.loads(export_fhir(ledger.read()))
    [resource] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert resource["code"]["coding"][0]["code"] == "6301-6"
    copy = import_ledger(export_fhir(ledger.read()), tmp_path / "copy.ledger")
    assert [o.quantity.text for o in obs.current_observations(copy.trees["observations"])] == ["INR 4.2"]


@pytest.mark.parametrize("code", sorted(obs.CODES))
def test_every_observation_body_is_a_valid_fhir_observation(code: str) -> None:
    fhir_observation = pytest.importorskip("fhir.resources.R4B.observation")
    unit = None if code == "6301-6" else obs.CODES[code].unit
    body = obs.observation(
        PATIENT, obs.resolve(code, 1.0, unit), effective=NOW - timedelta(hours=1), now=NOW
    ).body
    parsed = fhir_observation.Observation.parse_obj(body)
    assert parsed.code.coding[0].code == code and parsed.valueQuantity.code == obs.CODES[code].unit


def old_head(seq: int, trees: dict[str, tuple[int, bytes]]) -> StoredHead:
    """A head as ledgers signed it before the observations tree existed (five trees)."""
    states = {t: trees.get(t, (0, merkle.EMPTY_ROOT)) for t in TREES if t != "observations"}
    signed = {t: {"size": size, "root": root.hex()} for t, (size, root) in states.items()}
    payload = canonical(
        {
            "v": 1,
            "patient": PATIENT.public_id,
            "seq": seq,
            "timestamp": "2026-03-01T00:00:00Z",
            "trees": signed,
        }
    )
    return StoredHead(seq, payload, PATIENT.sign(payload))


def test_a_ledger_made_before_observations_takes_them_and_proves_the_update(tmp_path: Path) -> None:
    grant = grant_to(HOSPITAL, scope=("medications", "observations"), at=NOW - timedelta(days=2), hours=96)
    row = StoredEntry(
        "grants", 0, grant.id, grant.payload, grant.signature, grant.author, format_time(grant.created)
    )
    root = merkle.root([merkle.leaf_hash(grant.leaf_data)])
    path = tmp_path / "old.ledger"
    heads = [old_head(0, {}), old_head(1, {"grants": (1, root)})]
    LedgerStore.create(path, PATIENT.public_id, entries=[row], heads=heads).close()
    with Ledger.open(path) as old:
        first = verify_slice(make_slice(old.read(), grant.id, now=NOW), patient=PATIENT.public_id, now=NOW)
        assert first.head.trees["observations"].size == 0
        add(old, inr(4.2))
        snapshot = old.verify()
        later = verify_update(first, make_update(snapshot, grant.id, 1), now=NOW)
    assert [o.quantity.text for o in later.observations] == ["INR 4.2"]
    assert [h.trees["observations"].size for h in snapshot.heads] == [0, 0, 1]


def test_verify_slice_lists_the_observations_it_carries(tmp_path: Path) -> None:
    key, book = tmp_path / "patient.key", tmp_path / "patient.ledger"
    cli("keys", "new", key)
    cli("ledger", "init", book, "--key", key)
    cli("ledger", "add-observation", book, "--key", key, "--code", "QTc", "--value", "520", "--unit", "ms")
    hospital = cli("keys", "new", tmp_path / "hospital.key").stdout.strip()
    granted = cli("ledger", "grant", book, "--key", key, "--to", hospital, "--scope", "observations",
                  "--hours", "2", "--out", tmp_path / "grant.json")  # fmt: skip
    assert granted.exit_code == 0, granted.output
    cli("ledger", "slice", book, "--grant", tmp_path / "grant.json", "--out", tmp_path / "slice.json")
    shown = cli("ledger", "verify-slice", tmp_path / "slice.json", "--grantee", hospital)
    assert shown.exit_code == 0 and "observations 1" in shown.stdout
    assert "observation QTc 520 ms (LOINC 8636-3), measured" in shown.stdout
