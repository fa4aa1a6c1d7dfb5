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
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alertsvc import schedule_desk, store, upstream, ward_desk
from alertsvc.access import issue_staff_token
from alertsvc.alerts import store as alert_store
from alertsvc.clock import ShiftedClock, iso, utc_now
from alertsvc.config import Settings
from alertsvc.ledger import actions, allergy_status, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import grant_link
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service

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
    no_known_allergies: bool = False  # she signed "no known drug allergies"
    shares_allergies: bool = True  # False: her grant leaves allergies out ("not shared" on the ward)


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
        no_known_allergies=True,
    ),
    DemoPatient(
        "Mrs Eve Private",
        "17",
        medications=(("metformin", "500 mg twice daily"),),
        allergies=(("codeine", "vomiting"),),
        shares_allergies=False,
    ),
)
DAY_ACKNOWLEDGED_AT = time(14, 30)
"""The demo is seeded as the day shift saw it at 14:30 (the night story's flag is at 14:00), so whoever
opens it later sees the day shift's acknowledgement of the critical alert, as the night nurse would."""


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
            if patient.no_known_allergies:
                entries.append(allergy_status.no_known_allergies(key, now=now))
            entries += [
                actions.flagged_reaction(
                    key, d, reaction=r, severity="severe", observed=_last_local(now, time(14), zone), now=now
                )
                for d, r in patient.reactions
            ]
            grant = grants.new_grant(
                key,
                grantee=service.identity.public_id,
                scope=("medications", "allergies", "reactions")
                if patient.shares_allergies
                else ("medications", "reactions"),
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
    await _day_shift_acknowledges_the_night_story(service, now)
    _prescriber_overrode_upstream(service, now)
    alerts = alert_store.active_alerts(service.db, ward=WARD)
    return {
        "patients": len(PATIENTS),
        "alerts": len(alerts),
        "critical": sum(a.claims["severity"] == "critical" for a in alerts),
    }


async def _day_shift_acknowledges_the_night_story(service: Service, now: datetime) -> None:
    """The day nurse tells the prescriber about the ibuprofen due at 02:00 (the alert stays for the night)."""
    day_nurse = service.staff(
        issue_staff_token(service.identity, ward=WARD, name="Dee Day", role="nurse", now=now, hours=1)
    )
    for alert in alert_store.active_alerts(service.db, ward=WARD):
        if alert.claims["bed"] == "12" and alert.claims["kind"] == "reaction":
            body = {
                "reason": {"code": "prescriber-informed"},
                "comment": "Dr Okafor told at 14:30; will review the 02:00 ibuprofen",
            }
            await ward_desk.acknowledge(service, alert.id, body, day_nurse)


def _prescriber_overrode_upstream(service: Service, now: datetime) -> None:
    """A prescriber in the EHR overrode the clarithromycin + simvastatin card for bed 14 (CDS Hooks
    feedback, recorded here as the CDS Hooks route records it: the card remembered for the admission, then
    the override linked to the same finding), so the ward's alert shows who, when and why."""
    found = [
        a
        for a in alert_store.active_alerts(service.db, ward=WARD)
        if a.claims["bed"] == "14" and a.claims["kind"] == "interaction"
    ]
    if not found:
        return
    card, at = str(uuid.uuid4()), iso(now - timedelta(minutes=20))
    with store.write(service.db):
        upstream.remember_cards(
            service.db, found[0].admission, [(card, found[0].dedupe)], user="Dr Ade Okafor", now=now
        )
        upstream.link_overrides(
            service.db,
            [(card, "overridden", "benefit-outweighs-risk", "Benefit outweighs risk", at)],
            client="demo-ehr",
            received=at,
        )


LINKED = DemoPatient("Ms Fay Linked", "18", medications=(("lisinopril", "10 mg once daily"),))
"""Admitted by grant link: her own ledger server runs beside the demo, so a reaction she flags on her
page reaches the ward in seconds (her server's watch), and what the ward records goes back to her."""


async def admit_linked(
    service: Service, folder: Path, now: datetime, serve_ledger: Callable[[Path, Path], str]
) -> str:
    """Make her ledger, start her ledger server (``serve_ledger(ledger, key)`` -> its address), grant the
    hospital read and write access for 72 hours and admit her by the grant's link; her page's address."""
    key = Identity.generate()
    key_path, ledger_path = folder / "patient-linked.key", folder / "patient-linked.ledger"
    key.save(key_path)
    grant = grants.new_grant(
        key,
        grantee=service.identity.public_id,
        scope=("medications", "allergies", "reactions", "observations"),
        write_scope=("allergies", "reactions", "observations"),
        not_before=now - timedelta(hours=1),
        hours=72,
        now=now,
    )
    with Ledger.init(ledger_path, key, now=now) as ledger:
        entries = [actions.medication(key, d, dose=dose, now=now) for d, dose in LINKED.medications]
        ledger.append(
            [*entries, allergy_status.no_known_allergies(key, now=now), grant], patient=key, now=now
        )
    url = serve_ledger(ledger_path, key_path)
    link = grant_link(url, grant.id, key.public_id)
    admission_staff = service.staff(
        issue_staff_token(
            service.identity, ward=WARD, name="Demo Admissions", role="admission", now=now, hours=1
        )
    )
    body = {"grant_link": link, "ward": WARD, "bed": LINKED.bed, "label": LINKED.name}
    await service.admit(body, admission_staff)
    return url + "/"


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
    seeded_at = _last_local(now, DAY_ACKNOWLEDGED_AT, ZoneInfo(ZONE))
    servers: list[subprocess.Popen[str]] = []

    def serve_ledger(ledger: Path, key: Path) -> str:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "alertsvc",
                "ledger",
                "serve",
                str(ledger),
                "--key",
                str(key),
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        servers.append(server)
        assert server.stdout is not None
        for line in server.stdout:  # "open http://127.0.0.1:PORT/ in your browser"
            if line.startswith("open "):
                return line.split()[1].rstrip("/")
        raise RuntimeError("the demo patient's ledger server did not start")

    async def seed_and_stop() -> tuple[dict[str, Any], str]:
        # First as the day shift saw it at 14:30 (timers fire by that clock), then now for her link.
        service = Service(settings, clock=ShiftedClock.starting_at(seeded_at))
        await service.start()
        try:
            summary = await seed(service, folder, seeded_at)
        finally:
            await service.stop()
        service = Service(settings)
        await service.start()
        try:
            return summary, await admit_linked(service, folder, utc_now(), serve_ledger)
        finally:
            await service.stop()

    try:
        summary, page = asyncio.run(seed_and_stop())
        service_key = Identity.load(settings.service_key)
        token = issue_staff_token(service_key, ward=WARD, name="Night Nurse", role="nurse", now=now, hours=12)
        url = f"http://{settings.host}:{settings.port}/"
        print(
            f"\nalertsvc demo: {summary['patients'] + 1} patients on {WARD} ({ZONE}), "
            f"{summary['alerts']} alerts ({summary['critical']} critical); the day shift acknowledged the\n"
            "night story (bed 12) at 14:30, a prescriber overrode bed 14's alert upstream.\n\n"
            f"  Ward dashboard (sign in as the night nurse, 12 hours):\n  {url}#token={token}\n\n"
            f"  Ms Fay Linked's own ledger page (bed 18; flag a reaction there, see the ward):\n  {page}\n\n"
            f"  Keys and ledgers: {folder}/        Stop with Ctrl-C.\n",
            flush=True,
        )
        app = create_app(settings)
        tune_gc_for_serving()
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
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
