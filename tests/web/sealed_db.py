"""Reading a service database file directly, as its sealed values need: opened with the real keys, or
turned into one an older release (before crypto-shredding) left."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import nacl.secret

from alertsvc import sealing
from alertsvc.migrations import SEALED


def unsealed_copy_in_place(db_path: Path, kek_path: Path, *, version: int) -> None:
    """Open every sealed value of ``db_path`` with its admission's key (unwrapped by the KEK in
    ``kek_path``), drop ``admission_keys`` and set the schema version to ``version``."""
    kek = sealing.read_kek(kek_path)
    with closing(sqlite3.connect(db_path)) as db, db:
        keys = {
            admission: nacl.secret.SecretBox(kek.unwrap(admission, wrapped))
            for admission, wrapped in db.execute("SELECT admission, wrapped FROM admission_keys")
        }

        def opened(admission: str, value: object, *, text: bool) -> object:
            if not isinstance(value, bytes) or admission not in keys:
                return value
            plain = bytes(keys[admission].decrypt(value))
            return plain.decode() if text else plain

        for table, owner, columns in SEALED:
            for column in columns:
                binary = (table, column) in {
                    ("slices", "slice"),
                    ("slice_updates", "body"),
                    ("practitioner_entries", "payload"),
                }
                for rowid, admission, value in db.execute(
                    f"SELECT rowid, {owner}, {column} FROM {table}"
                ).fetchall():
                    db.execute(
                        f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                        [opened(admission, value, text=not binary), rowid],
                    )
        for answer_id, admission, value in db.execute(
            "SELECT i.id, min(a.admission), i.answer FROM idempotency i "
            "JOIN idempotency_admissions a ON a.answer = i.id GROUP BY i.id"
        ).fetchall():
            db.execute(
                "UPDATE idempotency SET answer = ? WHERE id = ?",
                [opened(admission, value, text=False), answer_id],
            )
        for alert_id, body in db.execute("SELECT id, body FROM alerts").fetchall():  # dedupe in clear
            db.execute(
                "UPDATE alerts SET dedupe = ? WHERE id = ?", [clear_identity(json.loads(body)), alert_id]
            )
        db.execute("DROP TABLE admission_keys")
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])


def clear_identity(claims: dict[str, Any]) -> str:
    """An alert's identity as releases before version 4 stored it (``alerts.build.dedupe_key``, with the
    RxCUIs in clear), from its claims."""
    if claims["kind"] == "overdue" and claims["dose"]:
        what = "dose:" + claims["dose"]["id"]
    else:
        what = ",".join(sorted(i["rxcui"] for i in claims["ingredients"]))
    return f"{claims['admission']}|{claims['kind']}|{what}"


def sealed_reader(connection: sqlite3.Connection, kek_path: Path) -> Callable[[str | None, object], str]:
    """``open(admission, value)``: a value as the service stored it, opened with the admission's key (a
    value stored in clear, or of no admission, as it is). For tests reading the database file directly."""
    kek = sealing.read_kek(kek_path)
    keys = {
        admission: nacl.secret.SecretBox(kek.unwrap(admission, wrapped))
        for admission, wrapped in connection.execute("SELECT admission, wrapped FROM admission_keys")
    }

    def opened(admission: str | None, value: object) -> str:
        if isinstance(value, bytes) and admission is not None:
            return bytes(keys[admission].decrypt(value)).decode()
        return value.decode() if isinstance(value, bytes) else str(value)  # a ward's event: UTF-8 bytes

    return opened
