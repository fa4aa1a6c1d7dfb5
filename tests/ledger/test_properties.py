"""Properties: any tampering with a stored ledger or a slice is caught, naming the entry.

The template ledger is built once (single-entry appends, so every size has a signed head) and copied
for each example; the file is then edited directly with sqlite3, as an attacker with the file would.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertsvc import errors
from alertsvc.ledger.entries import TREES
from alertsvc.ledger.grants import new_revocation, read_grant
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice, verify_slice
from tests.ledger.conftest import (
    HOSPITAL,
    NOW,
    PATIENT,
    PRACTITIONER,
    add,
    allergy,
    grant_to,
    medication,
    reaction,
)

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
Row = tuple[str, int, str]  # tree, idx, id


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Row], bytes]]:
    path = tmp_path_factory.mktemp("template") / "template.ledger"
    with Ledger.init(path, PATIENT, now=NOW - timedelta(days=1)) as ledger:
        write_grant = grant_to(PRACTITIONER, scope=(), write=("reactions",))
        hospital_grant = grant_to(HOSPITAL, scope=("medications", "reactions"))
        entries = [
            *(medication(d) for d in ("warfarin", "aspirin", "5640", "heparin", "codeine")),
            allergy("penicillin"),
            allergy("latex"),
            write_grant,
            reaction("morphine"),
            reaction("tramadol", author=PRACTITIONER, grant=write_grant.id),
            hospital_grant,
            allergy("sulfa"),
            new_revocation(PATIENT, read_grant(write_grant), now=NOW),
        ]
        for entry in entries:
            add(ledger, entry)
        ledger.verify()
        slice_bytes = make_slice(ledger.read(), hospital_grant.id, now=NOW)
    conn = sqlite3.connect(path)
    rows = [(t, i, e) for t, i, e in conn.execute("SELECT tree, idx, id FROM entries")]
    conn.close()
    rows.sort(key=lambda r: (TREES.index(r[0]), r[1]))
    yield path, rows, slice_bytes


@pytest.fixture
def copies(template: tuple[Path, list[Row], bytes]) -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as directory:
        counter = iter(range(10**6))

        def copy() -> Path:
            target = Path(directory) / f"copy{next(counter)}.ledger"
            shutil.copyfile(template[0], target)
            return target

        yield copy


def _execute(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement, params in statements:
            conn.execute(statement, params)
    finally:
        conn.close()


def _verify_fails_naming(path: Path, tree: str, index: int, entry_id: str | None) -> None:
    with Ledger.open(path) as ledger, pytest.raises(errors.LedgerError) as caught:
        ledger.verify()
    message = str(caught.value)
    assert f"{tree}[{index}]" in message, message
    if entry_id is not None:
        assert entry_id in message, message


@SETTINGS
@given(data=st.data())
def test_any_flipped_byte_of_a_stored_entry_is_named(template: Any, copies: Any, data: st.DataObject) -> None:
    _, rows, _ = template
    tree, index, entry_id = data.draw(st.sampled_from(rows))
    column = data.draw(st.sampled_from(["payload", "signature"]))
    path = copies()
    conn = sqlite3.connect(path)
    (value,) = conn.execute(
        f"SELECT {column} FROM entries WHERE tree = ? AND idx = ?", (tree, index)
    ).fetchone()
    conn.close()
    position = data.draw(st.integers(0, len(value) - 1))
    bit = data.draw(st.integers(0, 7))
    changed = bytearray(value)
    changed[position] ^= 1 << bit
    _execute(
        path, (f"UPDATE entries SET {column} = ? WHERE tree = ? AND idx = ?", (bytes(changed), tree, index))
    )
    _verify_fails_naming(path, tree, index, entry_id)


@SETTINGS
@given(data=st.data())
def test_a_deleted_entry_is_named(template: Any, copies: Any, data: st.DataObject) -> None:
    _, rows, _ = template
    tree, index, _ = data.draw(st.sampled_from(rows))
    renumber = data.draw(st.booleans())
    path = copies()
    statements = [("DELETE FROM entries WHERE tree = ? AND idx = ?", (tree, index))]
    if renumber:
        later = sorted(i for t, i, _ in rows if t == tree and i > index)
        statements += [
            ("UPDATE entries SET idx = ? WHERE tree = ? AND idx = ?", (i - 1, tree, i)) for i in later
        ]
    _execute(path, *statements)
    _verify_fails_naming(path, tree, index, None)


@SETTINGS
@given(data=st.data())
def test_reordered_entries_are_named(template: Any, copies: Any, data: st.DataObject) -> None:
    _, rows, _ = template
    trees = sorted({t for t, _, _ in rows if sum(1 for r in rows if r[0] == t) >= 2})
    tree = data.draw(st.sampled_from(trees))
    size = sum(1 for r in rows if r[0] == tree)
    first, second = sorted(data.draw(st.lists(st.integers(0, size - 1), min_size=2, max_size=2, unique=True)))
    path = copies()
    swap = ("UPDATE entries SET idx = -1 WHERE tree = ? AND idx = ?", (tree, first))
    _execute(
        path,
        swap,
        ("UPDATE entries SET idx = ? WHERE tree = ? AND idx = ?", (first, tree, second)),
        ("UPDATE entries SET idx = ? WHERE tree = ? AND idx = -1", (second, tree)),
    )
    _verify_fails_naming(path, tree, first, None)


@SETTINGS
@given(data=st.data())
def test_an_inserted_entry_is_named(template: Any, copies: Any, data: st.DataObject) -> None:
    _, rows, _ = template
    size = sum(1 for r in rows if r[0] == "medications")
    index = data.draw(st.integers(0, size))
    foreign = medication(data.draw(st.sampled_from(["morphine", "digoxin", "lithium"])))
    path = copies()
    shifts = [
        ("UPDATE entries SET idx = ? WHERE tree = 'medications' AND idx = ?", (i + 1, i))
        for i in range(size - 1, index - 1, -1)
    ]
    insert = (
        "INSERT INTO entries (tree, idx, id, payload, signature, author, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("medications", index, foreign.id, foreign.payload, foreign.signature, foreign.author,
         "2026-03-08T02:00:00Z"),
    )  # fmt: skip
    _execute(path, *shifts, insert)
    _verify_fails_naming(path, "medications", index, foreign.id)


@SETTINGS
@given(data=st.data())
def test_swapped_signatures_are_named(template: Any, copies: Any, data: st.DataObject) -> None:
    _, rows, _ = template
    a, b = data.draw(st.lists(st.sampled_from(rows), min_size=2, max_size=2, unique=True))
    first = min(a, b, key=lambda r: (TREES.index(r[0]), r[1]))
    path = copies()
    conn = sqlite3.connect(path, isolation_level=None)
    signature = {
        r: conn.execute("SELECT signature FROM entries WHERE tree = ? AND idx = ?", r[:2]).fetchone()[0]
        for r in (a, b)
    }
    conn.close()
    _execute(
        path,
        ("UPDATE entries SET signature = ? WHERE tree = ? AND idx = ?", (signature[b], *a[:2])),
        ("UPDATE entries SET signature = ? WHERE tree = ? AND idx = ?", (signature[a], *b[:2])),
    )
    _verify_fails_naming(path, first[0], first[1], first[2])


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@SETTINGS
@given(data=st.data())
def test_any_changed_character_of_a_slice_entry_is_refused(template: Any, data: st.DataObject) -> None:
    document = json.loads(template[2])
    envelopes = [
        *(("trees", t, i) for t, items in document["trees"].items() for i in range(len(items))),
        ("grant", None, None),
        ("head", None, None),
    ]
    where = data.draw(st.sampled_from(envelopes))
    envelope = document["trees"][where[1]][where[2]] if where[0] == "trees" else document[where[0]]
    envelope = envelope["entry"] if where[0] == "grant" else envelope
    field = data.draw(st.sampled_from(["payload", "signature"]))
    text = envelope[field]
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from(B64.replace(text[position], "")))
    envelope[field] = text[:position] + replacement + text[position + 1 :]
    with pytest.raises(errors.AlertsvcError):
        verify_slice(json.dumps(document), patient=PATIENT.public_id, now=NOW + timedelta(hours=1))


@SETTINGS
@given(data=st.data())
def test_a_slice_missing_any_granted_entry_is_refused(template: Any, data: st.DataObject) -> None:
    document = json.loads(template[2])
    trees = [t for t, items in document["trees"].items() if items]
    tree = data.draw(st.sampled_from(trees))
    del document["trees"][tree][data.draw(st.integers(0, len(document["trees"][tree]) - 1))]
    with pytest.raises(errors.BrokenLog, match=tree):
        verify_slice(json.dumps(document), patient=PATIENT.public_id, now=NOW + timedelta(hours=1))
