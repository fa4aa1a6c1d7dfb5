"""The event loop while a large admission is checked and signed (issue 9: ``/healthz`` stalled while the
service reconciled a large slice and signed its alerts on the loop).

The check, the plan and the signatures run in a worker thread (``alertsvc.reconciling``); the loop then
only writes rows. Which thread signs is seen through PyNaCl's own ``SigningKey.sign`` (the library,
wrapped to note the calling thread, and still doing the signing). A prepared outcome is written only if
the database still holds what it was prepared from: otherwise it is prepared again, there and then.
``bench.bounds_bench`` measures how long ``/healthz`` waits meanwhile (a figure, not a test).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nacl.signing
import pytest

from alertsvc import reconciling, store
from alertsvc.alerts import store as alert_store
from alertsvc.clock import iso
from tests.web.bounds import patient_slice
from tests.web.conftest import FakeClock, RunningService
from tests.web.test_admissions import service_settings, serving
from tests.web.test_bounds import WARD, _admit, _known_drugs

LONGEST_WAIT_SECONDS = 2.0
"""A generous bound on one /healthz answer during the admission (~0.1-0.2 s measured on two busy
cores; the whole admission takes 2-4 s)."""


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path, wards=f"{WARD}=Europe/London"), clock) as service:
        yield service


def test_a_large_admission_signs_its_alerts_off_the_event_loop(
    running: RunningService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = _known_drugs(running, 100)
    slice_doc = patient_slice(
        tmp_path, running.service.identity.public_id, running.clock.now, medications=known
    )
    loop_thread: int = running.run(_thread_id())
    signers: list[int] = []
    monkeypatch.setattr(
        nacl.signing.SigningKey, "sign", _noting_thread(nacl.signing.SigningKey.sign, signers)
    )

    result: list[httpx.Response] = []
    admitting = threading.Thread(
        target=lambda: result.append(_admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"}))
    )
    waits: list[float] = []
    with httpx.Client(base_url=running.url, timeout=30) as client:
        admitting.start()
        while admitting.is_alive():
            started = time.monotonic()
            assert client.get("/healthz").status_code == 200
            waits.append(time.monotonic() - started)
        admitting.join()

    assert result[0].status_code == 201, result[0].text[:500]
    alerts = result[0].json()["alerts"]
    assert alerts > 300
    on_loop = sum(1 for thread in signers if thread == loop_thread)
    assert len(signers) >= alerts, (len(signers), alerts)
    assert on_loop == 0, f"{on_loop} of {len(signers)} signatures were made on the event loop's thread"
    assert len(waits) >= 2 and max(waits) < LONGEST_WAIT_SECONDS, (len(waits), max(waits))


def test_a_prepared_check_is_not_written_over_a_change_made_while_it_was_prepared(
    running: RunningService, tmp_path: Path
) -> None:
    """A dose of ibuprofen is scheduled for a patient on warfarin; 30 minutes before it is due, a check
    is prepared (it would mark the alerts as reminded for the dose, new versions); meanwhile the nurse
    records the dose as held, which re-checks at once (the alerts no longer bound to it). The prepared
    check is then offered: it is set aside (written, it would bind the alerts to the held dose again),
    and the fresh check written in its place finds the held dose's own check current: nothing to write."""
    drugs = ["warfarin", "ibuprofen"]
    slice_doc = patient_slice(
        tmp_path, running.service.identity.public_id, running.clock.now, medications=drugs
    )
    response = _admit(running, {"slice": slice_doc, "ward": WARD, "bed": "1"})
    assert response.status_code == 201, response.text
    admission_id = response.json()["admission"]
    service = running.service
    nurse = {"Authorization": f"Bearer {running.token(WARD, 'Nia')}"}
    due = running.clock.now.replace(microsecond=0) + timedelta(hours=3)
    dose = {"admission": admission_id, "drug": "ibuprofen", "dose": "400 mg", "route": "oral"}
    with httpx.Client(base_url=running.url, headers=nurse, timeout=30) as client:
        scheduled = client.post(
            f"/wards/{WARD}/schedule", json={"administrations": [{**dose, "due": iso(due)}]}
        )
        assert scheduled.status_code in (200, 201), scheduled.text
        [dose_id] = [d["id"] for d in scheduled.json()["administrations"]]
        assert _bound_doses(running, admission_id) == {dose_id}

        running.clock.now = due - timedelta(minutes=30)  # within the lead time: reminders are due
        ready: reconciling.Prepared = running.run(_prepare(service, admission_id, running.clock.now))
        assert ready.signed and all(s.reminded == dose_id for s in ready.signed)

        held = client.post(f"/wards/{WARD}/schedule/{dose_id}/outcome", json={"status": "held"})
        assert held.status_code in (200, 201), held.text
        assert _bound_doses(running, admission_id) == set()

    written = running.run(_write(service, admission_id, ready))
    assert written == 0
    assert _bound_doses(running, admission_id) == set()  # not bound to the held dose again


async def _prepare(service: Any, admission_id: str, now: datetime) -> reconciling.Prepared:
    admission = service.active_admission(admission_id)
    prepared: reconciling.Prepared = await service.prepare_reconcile(
        admission, await service.patient_of(admission_id), now
    )
    return prepared


async def _write(service: Any, admission_id: str, ready: reconciling.Prepared) -> int:
    admission = service.active_admission(admission_id)
    patient = await service.patient_of(admission_id)
    with store.write(service.db):
        events = service.reconcile(admission, patient, ready.now, ready)
    return len(events)


def _bound_doses(running: RunningService, admission_id: str) -> set[str]:
    async def bound() -> set[str]:
        alerts = alert_store.active_alerts(running.service.db, admission=admission_id)
        return {a.dose for a in alerts if a.dose}

    result: set[str] = running.run(bound())
    return result


async def _thread_id() -> int:
    return threading.get_ident()


def _noting_thread(sign: Callable[..., Any], threads: list[int]) -> Callable[..., Any]:
    def noted(self: nacl.signing.SigningKey, *args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return sign(self, *args, **kwargs)

    return noted
