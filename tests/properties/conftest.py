"""A real service for the property tests of the parsers that need one (schedule requests, acknowledgements):
a SQLite file, an admitted patient with a critical alert and a non-interruptive one, driven on an event
loop of the test's own (no HTTP: hundreds of examples must stay fast)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from alertsvc.access import Staff, issue_staff_token
from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service

NOW = datetime(2030, 1, 15, 13, 0, tzinfo=UTC)
WARD = "ward-p"
T = TypeVar("T")


@dataclass
class Desk:
    service: Service
    loop: asyncio.AbstractEventLoop
    admission: str
    nurse: Staff
    critical_alert: str
    other_alert: str

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    directory = tmp_path_factory.mktemp("desk")
    settings = Settings(
        db_path=directory / "s.db", service_key=directory / "s.key", wards=f"{WARD}=Europe/London"
    )
    loop = asyncio.new_event_loop()
    service = Service(settings, clock=lambda: NOW)
    loop.run_until_complete(service.start())
    try:
        patient = Identity.generate()
        with Ledger.init(directory / "p.ledger", patient, now=NOW) as ledger:
            grant = grants.new_grant(
                patient, grantee=service.identity.public_id, scope=("medications", "reactions"),
                not_before=NOW, hours=48, now=NOW,
            )  # fmt: skip
            entries = [
                actions.medication(patient, "qqzx unknown tonic", now=NOW),
                actions.medication(patient, "ibuprofen", now=NOW),
                actions.flagged_reaction(patient, "ibuprofen", reaction="rash", now=NOW),
                grant,
            ]
            ledger.append(entries, patient=patient, now=NOW)
            slice_value = loads(make_slice(ledger.read(), grant.id, now=NOW), what="slice")

        def staff(role: str) -> Staff:
            token = issue_staff_token(
                service.identity, ward=WARD, name=f"{role}-1", role=role, now=NOW, hours=24
            )  # type: ignore[arg-type]
            return service.staff(token)

        admitted = loop.run_until_complete(
            service.admit({"slice": slice_value, "ward": WARD, "bed": "1"}, staff("admission"))
        )
        alerts = service.db.execute(
            "SELECT id, severity_rank FROM alerts WHERE admission = ? AND status = 'active'",
            [admitted["admission"]],
        ).fetchall()
        by_rank = sorted(alerts, key=lambda row: row[1])
        yield Desk(service, loop, admitted["admission"], staff("nurse"), by_rank[0][0], by_rank[-1][0])
    finally:
        loop.run_until_complete(service.stop())
        loop.close()


def due_in(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat()
