"""A real ``alertsvc serve`` stopped at 06:50 and restarted at 07:10, with doses due at 07:00.

The process lives at 2030-01-16 (London, winter: ward time is UTC) by its shifted clock (setting
``clock_start``, drills and tests only), with a grace of 5 minutes, so the 07:00 doses fall overdue at
07:05, while it is down. At the restart each missed dose gets exactly one overdue alert (start-up catch-up),
a dose with an outcome none, and the dose that was already overdue before the stop keeps its one alert; a
second restart (after ``kill -9``) doubles nothing; a timer at due + grace fires on time by the service's
clock; recording an outcome withdraws the alert with a signed event.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from alertsvc.access import Role, issue_staff_token
from alertsvc.clock import parse_iso
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from tests.postgres import open_reader
from tests.web.conftest import verify_with_cryptography
from tests.web.processes import Site, killed
from tests.web.sealed_db import sealed_reader

WARD = "ward-o"
DAY = datetime(2030, 1, 16, tzinfo=UTC)
SEVEN = DAY.replace(hour=7)
GRACE = {"ALERTSVC_OVERDUE_GRACE_MINUTES": "5"}
GRACE_MINUTES = timedelta(minutes=5)
TIMER_AHEAD_S = 8
"""How far ahead (service time) the dose planned after the second restart falls overdue."""
MISSED = ("ibuprofen", "paracetamol", "qqzx unknown tonic")
"""07:00 doses nobody records: a drug the patient flagged (major), a plain one, one that cannot be checked."""
RECORDED = (("amoxicillin", "given"), ("ondansetron", "held"))
"""07:00 doses recorded before the stop: never overdue."""


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute, second=second)


def clock_start(moment: datetime) -> dict[str, str]:
    return {"ALERTSVC_CLOCK_START": moment.isoformat(), **GRACE}


class Ward:
    """The ward's side: staff tokens signed with the service's key at the service's time, and HTTP."""

    def __init__(self, site: Site, identity: Identity) -> None:
        self.site, self.identity = site, identity

    def client(self, now: datetime, role: Role = "nurse") -> httpx.Client:
        token = issue_staff_token(self.identity, ward=WARD, name=f"{role}-1", role=role, now=now, hours=24)
        return httpx.Client(base_url=self.site.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def overdue_alerts(self, now: datetime) -> dict[str, dict[str, Any]]:
        """The ward's active overdue alerts by dose id (each entry as listed: id, jws, alert claims)."""
        with self.client(now) as client:
            response = client.get(f"/wards/{WARD}/alerts")
        assert response.status_code == 200, response.text
        listed = response.json()["alerts"]
        return {a["alert"]["dose"]["id"]: a for a in listed if a["alert"]["kind"] == "overdue"}


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return value


def outbox(db_path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every event in the service's outbox, in order: (type, data)."""
    return [(kind, data) for kind, data, _ in outbox_times(db_path)]


def outbox_times(db_path: Path) -> list[tuple[str, dict[str, Any], datetime]]:
    """Every event in the outbox with the service's time when it was written: (type, data, at)."""
    connection = open_reader(db_path)
    try:
        opened = sealed_reader(connection, db_path.parent / "hospital.kek")  # her events are sealed
        rows = connection.execute("SELECT type, data, at, admission FROM events ORDER BY seq").fetchall()
        return [
            (kind, json.loads(opened(admission, data)), parse_iso(at_)) for kind, data, at_, admission in rows
        ]
    finally:
        connection.close()


def raised_per_dose(db_path: Path) -> Counter[str]:
    """How many times an overdue alert (any version) was raised for each dose, from the outbox."""
    return Counter(
        claims["dose"]["id"]
        for kind, data in outbox(db_path)
        if kind == "alert" and (claims := claims_of(data["jws"]))["kind"] == "overdue"
    )


def patient_slice(directory: Path, service: Identity, now: datetime) -> dict[str, Any]:
    """A patient who flagged ibuprofen, granting the service 30 hours from 06:00."""
    patient = Identity.generate()
    with Ledger.init(directory / "p.ledger", patient, now=now) as ledger:
        grant = grants.new_grant(
            patient, grantee=service.public_id, scope=("medications", "reactions"),
            not_before=at(6, 0), hours=30, now=now,
        )  # fmt: skip
        flag = actions.flagged_reaction(patient, "ibuprofen", reaction="wheeze", severity="severe", now=now)
        ledger.append([flag, grant], patient=patient, now=now)
        value: dict[str, Any] = loads(make_slice(ledger.read(), grant.id, now=now), what="slice")
    return value


def test_a_stop_at_0650_and_restart_at_0710_raises_one_overdue_alert_per_missed_dose(tmp_path: Path) -> None:
    service = Identity.generate()
    service.save(tmp_path / "service.key")
    site = Site.make(tmp_path, wards=f"{WARD}=Europe/London", key=tmp_path / "service.key")
    ward = Ward(site, service)
    db = site.db_path

    # -- before the stop: 06:49:30 to about 06:50 -------------------------------------------------
    now = at(6, 49, 30)
    with site.serving(**clock_start(now)):
        with ward.client(now, "admission") as client:
            response = client.post(
                "/admissions", json={"slice": patient_slice(tmp_path, service, now), "ward": WARD, "bed": "4"}
            )
            assert response.status_code == 201, response.text
            admission = response.json()["admission"]
        items = [{"admission": admission, "drug": d, "due": SEVEN.isoformat()} for d in MISSED]
        items += [{"admission": admission, "drug": d, "due": SEVEN.isoformat()} for d, _ in RECORDED]
        items.append({"admission": admission, "drug": "omeprazole", "due": at(6, 30).isoformat()})
        with ward.client(now) as client:
            response = client.post(f"/wards/{WARD}/schedule", json={"administrations": items})
            assert response.status_code == 201, response.text
            doses = {d["drug"]: d["id"] for d in response.json()["administrations"]}
            for drug, status in RECORDED:
                recorded = client.post(
                    f"/wards/{WARD}/schedule/{doses[drug]}/outcome", json={"status": status}
                )
                assert recorded.status_code == 200, recorded.text
        before = ward.overdue_alerts(now)
    assert set(before) == {doses["omeprazole"]}  # due 06:30, overdue at 06:35: raised before the stop
    assert raised_per_dose(db) == Counter({doses["omeprazole"]: 1})

    # -- down from 06:50 to 07:10; the 07:00 doses fall overdue at 07:05 ------------------------------
    missed = {doses[d] for d in MISSED}
    now = at(7, 10)
    started = time.monotonic()
    with site.serving(**clock_start(now)) as process:
        up = time.monotonic() - started
        after = ward.overdue_alerts(now)
        killed(process)  # and the next start-up must still not double them
    assert set(after) == missed | {doses["omeprazole"]}, after
    assert after[doses["omeprazole"]]["id"] == before[doses["omeprazole"]]["id"]
    assert raised_per_dose(db) == Counter(dict.fromkeys([*missed, doses["omeprazole"]], 1))
    severities = {drug: after[doses[drug]]["alert"]["severity"] for drug in MISSED}
    assert severities == {"ibuprofen": "major", "paracetamol": "moderate", "qqzx unknown tonic": "moderate"}
    for drug in MISSED:
        claims = after[doses[drug]]["alert"]
        assert claims["rule"] == "mar-overdue" and claims["dose"]["due"] == "2030-01-16T07:00:00Z"
        assert claims["summary"].startswith(f"Dose of {drug} due 07:00 not recorded; give or record why not")

    # -- restarted again (after kill -9) at 07:15: nothing doubled; a new timer fires on time ----------
    now = at(7, 15)
    launched = time.monotonic()  # the service's clock reads at most now + (time since launched)
    with site.serving(**clock_start(now)):
        again = ward.overdue_alerts(now)
        assert {dose: a["id"] for dose, a in again.items()} == {dose: a["id"] for dose, a in after.items()}
        assert raised_per_dose(db) == Counter(dict.fromkeys([*missed, doses["omeprazole"]], 1))
        # A dose that falls overdue TIMER_AHEAD_S from now by the service's clock: its timer must fire.
        falls_due = (now + timedelta(seconds=time.monotonic() - launched + TIMER_AHEAD_S)).replace(
            microsecond=0
        )
        late = {"admission": admission, "drug": "cetirizine", "due": (falls_due - GRACE_MINUTES).isoformat()}
        with ward.client(now) as client:
            response = client.post(f"/wards/{WARD}/schedule", json={"administrations": [late]})
            assert response.status_code == 201, response.text
            late_dose = response.json()["administrations"][0]["id"]
        planned_at = [
            at_ for kind, data, at_ in outbox_times(db) if kind == "schedule" and late_dose in data["doses"]
        ]
        assert planned_at[0] < falls_due, "planned after it fell overdue: the timer is not what raised it"
        deadline = time.monotonic() + TIMER_AHEAD_S + 15
        while late_dose not in (listed := ward.overdue_alerts(now)):
            assert time.monotonic() < deadline, "the overdue timer did not fire"
            time.sleep(0.1)
        created = datetime.fromisoformat(listed[late_dose]["alert"]["created"].replace("Z", "+00:00"))
        lateness = created - falls_due
        assert timedelta(0) <= lateness < timedelta(seconds=5), created  # on time by the service's clock

        # Recording the outcome withdraws the alert, with a signed withdrawal naming it.
        with ward.client(now) as client:
            jwks = client.get("/.well-known/jwks.json").json()
            ibuprofen = doses["ibuprofen"]
            recorded = client.post(
                f"/wards/{WARD}/schedule/{ibuprofen}/outcome", json={"status": "held", "note": "flagged"}
            )
            assert recorded.status_code == 200, recorded.text
        assert ibuprofen not in ward.overdue_alerts(now)
    withdrawn = [data for kind, data in outbox(db) if kind == "withdrawn"]
    assert [w["alerts"] for w in withdrawn] == [[after[ibuprofen]["id"]]]
    signed = verify_with_cryptography(withdrawn[0]["jws"], jwks)
    assert signed["alerts"] == [after[ibuprofen]["id"]] and signed["ward"] == WARD
    assert signed["reason"] == "dose outcome recorded"
    final = raised_per_dose(db)
    assert final == Counter(dict.fromkeys([*missed, doses["omeprazole"], late_dose], 1)), final
    print(
        f"\nstop 06:50 / restart 07:10: {len(missed)} doses missed at 07:00 -> {len(missed)} overdue alerts "
        f"at the restart (serving {up:.2f} s after start), 0 for {len(RECORDED)} recorded doses, 0 raised "
        f"again by a restart after kill -9; a timer at due + grace raised its alert "
        f"{lateness.total_seconds():.0f} s late by the service's clock (created, to the second)"
    )
