"""The ward alert list's read path (``ward_desk.alerts_view``) on the demo ward, with every value sealed.

Run with ``python -m bench bench.sealing_bench``; compare with the same run on a branch without sealing.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from alertsvc.web.auth import issue_staff_token

from alertsvc import demo, ward_desk
from alertsvc.alerts import store as alert_store
from alertsvc.clock import utc_now
from alertsvc.service import Service

ROUNDS = 7
CALLS = 300


def run() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "demo"
        settings = demo.prepare(folder, {})

        async def measure() -> list[str]:
            service = Service(settings)
            await service.start()
            try:
                now = utc_now()
                seeded = await demo.seed(service, folder, now)
                token = issue_staff_token(
                    service.identity, ward=demo.WARD, name="n", role="nurse", now=now, hours=1
                )
                staff = service.staff(token)
                ward_desk.alerts_view(service, demo.WARD, None, staff)
                rounds = []
                for _ in range(ROUNDS):
                    start = time.perf_counter()
                    for _ in range(CALLS):
                        ward_desk.alerts_view(service, demo.WARD, None, staff)
                    rounds.append((time.perf_counter() - start) / CALLS * 1000)
                opening = _opening_share(service)
            finally:
                await service.stop()
            return [
                *opening,
                f"ward alert list ({seeded['alerts']} alerts): median {statistics.median(rounds):.3f} ms, "
                f"best {min(rounds):.3f} ms per call ({ROUNDS} rounds of {CALLS})",
            ]

        return asyncio.run(measure())


def _opening_share(service: Service) -> list[str]:
    """How much of reading the ward's alerts is opening their sealed body and JWS (same process, back to
    back, so a busy machine skews both alike). Empty on a branch without sealing."""
    try:
        from alertsvc import sealing
    except ModuleNotFoundError:
        return []
    db = service.db
    raw = db.execute("SELECT admission, body, jws FROM alerts WHERE ward = ?", [demo.WARD]).fetchall()
    reads, opens = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CALLS):
            alert_store.active_alerts(db, ward=demo.WARD)
        reads.append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(CALLS):
            for admission, body, jws in raw:
                sealing.unseal_remembered(db, admission, body)
                sealing.unseal_remembered(db, admission, jws)
        opens.append(time.perf_counter() - start)
    per_alert = min(opens) / CALLS / len(raw) * 1e6
    return [
        f"opening one alert's sealed body and JWS: {per_alert:.1f} us; "
        f"{min(opens) / min(reads) * 100:.1f}% of reading the ward's alerts (alert_store.active_alerts)"
    ]
