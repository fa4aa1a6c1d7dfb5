"""What single-use signed requests and signed withdrawals cost.

Run with ``python -m bench bench.trust_bench``. Figures: a patient-signed request checked as the service
checks it (signature, method, target, body hash, time, then the replay cache), a replay refused, the
memory a full replay cache holds (its default capacity, every entry live), and signing one withdrawal.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from alertsvc.access import ReplayCache, SignedRequest, read_signed_request
from alertsvc.alerts.withdrawal import WITHDRAWAL_TYPE, withdrawal_claims
from alertsvc.errors import Unauthorized
from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.request_tokens import sign_request

REQUESTS = 2000
BODY = b'{"v":1,"entries":[' + (b'{"x":"' + b"a" * 2000 + b'"},') * 20 + b"{}]}"  # about 40 KB


def _per_second(seconds: list[float]) -> str:
    median = statistics.median(seconds)
    return f"median {median * 1e6:.0f} µs ({1 / median:,.0f}/s)"


def run() -> list[str]:
    patient, service = Identity.generate(), Identity.generate()
    now = datetime.now(UTC).replace(microsecond=0)
    target = "/admissions/adm-0123456789abcdef/entries"
    args = {"method": "POST", "target": target, "body": BODY, "audience": service.public_id}
    tokens = [sign_request(patient, **args, now=now) for _ in range(REQUESTS)]
    cache = ReplayCache(started=now)
    checked = []
    for token in tokens:
        started = time.perf_counter()
        cache.admit(read_signed_request(token, **args, now=now), now=now)
        checked.append(time.perf_counter() - started)
    replayed = []
    for token in tokens[:200]:
        started = time.perf_counter()
        try:
            cache.admit(read_signed_request(token, **args, now=now), now=now)
        except Unauthorized:
            replayed.append(time.perf_counter() - started)
    assert len(replayed) == 200, "every replay is refused"

    full = ReplayCache(started=now)
    expires = int((now + timedelta(seconds=60)).timestamp())
    issued = int(now.timestamp())
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for n in range(full.capacity):
        full.admit(SignedRequest(patient.public_id, f"{n:032x}", issued, expires), now=now)
    used = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()

    claims = withdrawal_claims(
        ward="ward-7", admission="adm-0123456789abcdef", alerts=[f"alert-{n:016x}" for n in range(12)],
        reason="grant expired", now=now,
    )  # fmt: skip
    signing = []
    for _ in range(500):
        started = time.perf_counter()
        jws.sign(claims, service, typ=WITHDRAWAL_TYPE)
        signing.append(time.perf_counter() - started)
    return [
        f"signed request checked and admitted ({len(BODY) // 1024} KB body hashed): {_per_second(checked)}",
        f"replay refused: {_per_second(replayed)}",
        f"replay cache full ({full.capacity:,} live nonces): {used / 2**20:.1f} MiB",
        f"withdrawal of 12 alerts signed: {_per_second(signing)}",
    ]
