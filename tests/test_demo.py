"""`make run`'s demo: four patients admitted through the real intake, the night-shift story among them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alertsvc import alert_listing, allergy_desk, demo
from alertsvc.access import issue_staff_token
from alertsvc.alerts import store as alert_store
from alertsvc.clock import parse_iso
from alertsvc.service import Service

NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 14:30 in London: the day shift, as `make run` seeds


def test_the_demo_admits_every_patient_with_the_night_story_alert(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    settings = demo.prepare(folder, {})

    async def run() -> tuple[dict[str, Any], list[alert_store.StoredAlert], dict[str, Any]]:
        service = Service(settings, clock=lambda: NOW)
        await service.start()
        try:
            summary = await demo.seed(service, folder, NOW)
            alerts = alert_store.active_alerts(service.db, ward=demo.WARD)
            extras = alert_listing.listed_extras(service.db, [a.id for a in alerts])
            nurse = service.staff(
                issue_staff_token(service.identity, ward=demo.WARD, name="N", role="nurse", now=NOW, hours=1)
            )
            statuses = {
                row["bed"]: row["allergy_status"]["state"]
                for row in await allergy_desk.ward_admissions(service, demo.WARD, nurse)
            }
            return summary, alerts, {"extras": extras, "statuses": statuses}
        finally:
            await service.stop()

    summary, alerts, seen = asyncio.run(run())
    assert summary["patients"] == len(demo.PATIENTS) == 5
    by_bed: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        by_bed.setdefault(alert.claims["bed"], []).append(alert.claims)
    night = [a for a in by_bed["12"] if a["kind"] == "reaction"]
    assert [a["severity"] for a in night] == ["critical"]
    due = parse_iso(night[0]["dose"]["due"]).astimezone(ZoneInfo(demo.ZONE))
    assert (due.hour, due.minute, due.date().isoformat()) == (2, 0, "2026-11-25")
    assert night[0]["flagged_by"] == "patient"
    assert any(a["kind"] == "interaction" and a["severity"] == "critical" for a in by_bed["14"])
    assert any(a["kind"] == "allergy" and a["severity"] == "critical" for a in by_bed["15"])
    assert any(a["kind"] == "too-soon" for a in by_bed["16"])
    assert summary["critical"] == sum(a.claims["severity"] == "critical" for a in alerts) >= 3
    # The story's day shift told the prescriber; a prescriber overrode bed 14's finding upstream.
    acks = seen["extras"][next(a.id for a in alerts if a.claims["bed"] == "12")]["acknowledgements"]
    assert [(a["shift"], a["reason"]["code"]) for a in acks] == [("day", "prescriber-informed")]
    interaction = next(a for a in by_bed["14"] if a["kind"] == "interaction")
    upstream = seen["extras"][interaction["id"]]["upstream"]
    assert [(u["who"], u["reason"]["code"]) for u in upstream] == [
        ("Dr Ade Okafor", "benefit-outweighs-risk")
    ]
    # Allergy status told apart: known, none known (asserted), not recorded, not shared.
    statuses = seen["statuses"]
    assert (statuses["15"], statuses["16"], statuses["12"], statuses["17"]) == (
        "known",
        "none-known",
        "not-recorded",
        "not-shared",
    )
