"""`make run`'s demo: four patients admitted through the real intake, the night-shift story among them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alertsvc import demo
from alertsvc.alerts import store as alert_store
from alertsvc.clock import parse_iso
from alertsvc.service import Service

NOW = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)


def test_the_demo_admits_every_patient_with_the_night_story_alert(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    settings = demo.prepare(folder, {})

    async def run() -> tuple[dict[str, Any], list[alert_store.StoredAlert]]:
        service = Service(settings, clock=lambda: NOW)
        await service.start()
        try:
            summary = await demo.seed(service, folder, NOW)
            return summary, alert_store.active_alerts(service.db, ward=demo.WARD)
        finally:
            await service.stop()

    summary, alerts = asyncio.run(run())
    assert summary["patients"] == len(demo.PATIENTS) == 4
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
