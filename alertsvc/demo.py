"""`make run`: the service on a fresh SQLite file with a demo ward and four admitted patients.

Each patient's ledger is made on the fly (their own key, signed entries, a 72-hour grant to this
service, a slice), admitted through the same intake as any hospital would use, and given a few scheduled
doses. One of them is the night-shift story: a reaction to ibuprofen flagged at 14:00 and a dose of
ibuprofen due at 02:00. The dashboard URL and a nurse token are printed, then the service runs until
interrupted. Everything lives in ``run/demo/`` (removed and made anew at every start).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alertsvc import schedule_desk
from alertsvc.alerts import store as alert_store
from alertsvc.clock import iso, utc_now
from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service
from alertsvc.web.auth import issue_staff_token

WARD = "ward-7"
ZONE = "Europe/London"


@dataclass(frozen=True)
class DemoPatient:
    name: str
    bed: str
    medications: tuple[tuple[str, str], ...] = ()
    allergies: tuple[tuple[str, str], ...] = ()
    reactions: tuple[tuple[str, str], ...] = ()
    doses: tuple[tuple[str, str, str], ...] = field(default=())  # (drug, dose, local due "HH:MM")


PATIENTS = (
    DemoPatient(
        "Mrs Ada Night",
        "12",
        medications=(("warfarin", "5 mg once daily"),),
        reactions=(("ibuprofen", "swollen lips and wheeze"),),
        doses=(("ibuprofen", "400 mg", "02:00"),),
    ),
    DemoPatient(
        "Mr Bo Statin",
        "14",
        medications=(("simvastatin", "40 mg at night"),),
        doses=(("clarithromycin", "500 mg", "08:00"), ("clarithromycin", "500 mg", "20:00")),
    ),
    DemoPatient(
        "Ms Cy Penicillin",
        "15",
        allergies=(("penicillin", "anaphylaxis"),),
        doses=(("amoxicillin", "500 mg", "06:00"),),
    ),
    DemoPatient(
        "Mr Di Double",
        "16",
        medications=(("acetaminophen", "1 g four times daily"),),
        doses=(("acetaminophen", "1 g", "10:00"), ("acetaminophen", "1 g", "11:00")),
    ),
)


async def seed(service: Service, folder: Path, now: datetime) -> dict[str, Any]:
    """Admit the demo patients and plan their doses; returns what to print."""
    zone = ZoneInfo(ZONE)
    admission_staff = service.staff(
        issue_staff_token(
            service.identity, ward=WARD, name="Demo Admissions", role="admission", now=now, hours=1
        )
    )
    nurse = service.staff(
        issue_staff_token(service.identity, ward=WARD, name="Demo Nurse", role="nurse", now=now, hours=1)
    )
    for number, patient in enumerate(PATIENTS, start=1):
        key = Identity.generate()
        key.save(folder / f"patient-{number}.key")
        with Ledger.init(folder / f"patient-{number}.ledger", key, now=now) as ledger:
            entries = [actions.medication(key, d, dose=dose, now=now) for d, dose in patient.medications]
            entries += [
                actions.allergy(key, s, reaction=r, criticality="high", now=now) for s, r in patient.allergies
            ]
            entries += [
                actions.flagged_reaction(
                    key, d, reaction=r, severity="severe", observed=_last_local(now, time(14), zone), now=now
                )
                for d, r in patient.reactions
            ]
            grant = grants.new_grant(
                key,
                grantee=service.identity.public_id,
                scope=("medications", "allergies", "reactions"),
                not_before=now - timedelta(hours=1),
                hours=72,
                now=now,
            )
            ledger.append([*entries, grant], patient=key, now=now)
            slice_bytes = make_slice(ledger.read(), grant.id, now=now)
        admitted = await service.admit(
            {
                "slice": loads(slice_bytes, what="demo slice"),
                "ward": WARD,
                "bed": patient.bed,
                "label": patient.name,
            },
            admission_staff,
        )
        if patient.doses:
            doses = [
                {
                    "admission": admitted["admission"],
                    "drug": drug,
                    "dose": amount,
                    "route": "oral",
                    "due": iso(_next_local(now, time.fromisoformat(due), zone)),
                }
                for drug, amount, due in patient.doses
            ]
            await schedule_desk.add_schedule(service, WARD, {"administrations": doses}, nurse)
    alerts = alert_store.active_alerts(service.db, ward=WARD)
    return {
        "patients": len(PATIENTS),
        "alerts": len(alerts),
        "critical": sum(a.claims["severity"] == "critical" for a in alerts),
    }


def prepare(folder: Path, environ: dict[str, str]) -> Settings:
    """Fresh demo settings in ``folder`` (its old contents removed)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return Settings.from_env(
        environ,
        db_path=folder / "alertsvc.db",
        service_key=folder / "service.key",
        wards=f"{WARD}={ZONE}",
    )


def main() -> int:
    import uvicorn

    from alertsvc.web.app import create_app
    from alertsvc.web.commands import tune_gc_for_serving

    folder = Path("run/demo")
    settings = prepare(folder, dict(os.environ))
    now = utc_now()

    async def seed_and_stop() -> dict[str, Any]:
        service = Service(settings)
        await service.start()
        try:
            return await seed(service, folder, now)
        finally:
            await service.stop()

    summary = asyncio.run(seed_and_stop())
    service_key = Identity.load(settings.service_key)
    token = issue_staff_token(service_key, ward=WARD, name="Night Nurse", role="nurse", now=now, hours=12)
    url = f"http://{settings.host}:{settings.port}/"
    print(
        f"alertsvc demo: {summary['patients']} patients admitted on {WARD} ({ZONE}), "
        f"{summary['alerts']} alerts ({summary['critical']} critical).\n"
        f"Ward dashboard: {url}\n"
        f"Nurse token for {WARD} (12 hours; paste it into the dashboard):\n{token}\n"
        f"Patient keys and ledgers: {folder}/   Stop with Ctrl-C.",
        flush=True,
    )
    app = create_app(settings)
    tune_gc_for_serving()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def _next_local(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The next time the ward's clocks show ``at`` (tomorrow if it has passed today)."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate


def _last_local(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The last time the ward's clocks showed ``at`` (yesterday if it is still to come today)."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate > local:
        candidate = datetime.combine(local.date() - timedelta(days=1), at, tzinfo=zone)
    return candidate


if __name__ == "__main__":
    sys.exit(main())
