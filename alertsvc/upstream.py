"""Upstream decisions: a prescriber's CDS Hooks override, linked to the ward's alert for the same finding.

When a CDS Hooks call names an admission (``context.encounterId``), every card it answers about a finding
is remembered with the admission, the finding's alert identity (admission, kind, ingredients: see
``alerts.build.dedupe_key``) and the user the call names (``context.userId``). Feedback that a card was
overridden, with a reason, is then linked to that finding: the ward's alert for it lists who overrode it
upstream, when and why. Feedback on a card no admission's call answered is stored as before, unlinked.
Rows name their admission, so a purge deletes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from alertsvc.clock import iso
from alertsvc.store import Database


def remember_cards(
    db: Database, admission: str, cards: Iterable[tuple[str, str]], *, user: str, now: datetime
) -> None:
    """Inside the caller's transaction: (card uuid, finding's dedupe key) of one call about ``admission``."""
    db.executemany(
        'INSERT INTO cds_cards(card, admission, dedupe, "user", issued_at) VALUES (?,?,?,?,?) '
        "ON CONFLICT (card) DO UPDATE SET admission = excluded.admission, dedupe = excluded.dedupe, "
        '"user" = excluded."user", issued_at = excluded.issued_at',
        [(card, admission, dedupe, user[:200], iso(now)) for card, dedupe in cards],
    )


def link_overrides(
    db: Database,
    feedback: Iterable[tuple[str, str, str, str, str]],
    *,
    client: str,
    received: str,
) -> int:
    """Inside the caller's transaction: link each (card, outcome, reason code, reason display, outcome
    time) that overrode a remembered card to its finding; how many were linked."""
    linked = 0
    for card, outcome, code, display, outcome_at in feedback:
        if outcome != "overridden":
            continue
        row = db.execute('SELECT admission, dedupe, "user" FROM cds_cards WHERE card = ?', [card]).fetchone()
        if row is None:
            continue
        db.execute(
            'INSERT INTO cds_overrides(id, admission, dedupe, card, "user", client, reason_code,'
            " reason_display, outcome_at, received_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [uuid.uuid4().hex, row[0], row[1], card, row[2], client, code, display, outcome_at, received],
        )
        linked += 1
    return linked


def upstream_overrides(db: Database, alert_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """For each alert, the prescriber overrides of its finding in CDS Hooks: who, when, why; oldest first."""
    found: dict[str, list[dict[str, Any]]] = {a: [] for a in alert_ids}
    if not alert_ids:
        return found
    marks = ",".join("?" * len(alert_ids))
    rows = db.execute(
        f'SELECT a.id, o."user", o.client, o.outcome_at, o.reason_code, o.reason_display FROM alerts a '
        f"JOIN cds_overrides o ON o.dedupe = a.dedupe AND o.admission = a.admission "
        f"WHERE a.id IN ({marks}) ORDER BY o.outcome_at, o.id",
        alert_ids,
    ).fetchall()
    for alert, user, client, at, code, display in rows:
        found[alert].append(
            {
                "who": user or client,
                "client": client,
                "at": at,
                "reason": {"code": code, "display": display or code or "No reason given"},
                "source": "CDS Hooks",
            }
        )
    return found
