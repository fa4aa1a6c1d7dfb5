"""A simulated 1,000-bed hospital on the real service: 40 wards x 25 beds, 20 medications a patient.

Run with ``python -m bench bench.hospital_bench`` (long at full size: see BENCHMARKS.md for the time).
The in-process ``Service`` runs on a SQLite file, its clock a simulated one. Each patient has a real
signed ledger (20 medications drawn from common inpatient drugs the knowledge base knows, so the
interactions are the real ones), a grant to the service and a slice, admitted as the admission desk does
(``Service.admit``). The ward then plans each patient's day (``schedule_desk.add_schedule``): 5 medications
once a day, 5 twice, 4 four times, 3 six times, 2 twelve times and 1 hourly (97 administrations a patient,
~97,000 a day). No outcome is recorded, so overdue alerts are switched off (grace 48 h): otherwise every
dose would raise one. Then the clock runs through the day, ticking (``Service.tick``).

Measured: admitting everyone (each admission, and the total); planning the day (schedule requests of
a ward's patients, as a MAR import sends them); each tick; a full
re-check of every admission after a knowledge update (``alertsvc.knowledge_recheck``: a rule withdrawn,
then restored); database size (file + WAL) after admission and after the day; alerts per patient-day
(interruptive, critical and major apart); and the flagged reaction -> alert latency at 1,000 and 5,000
stream clients on one process (``bench.service_bench``'s machinery: a one-patient database, the
clients' own asyncio sockets).

Scale knobs (environment): ALERTSVC_BENCH_WARDS (40), ALERTSVC_BENCH_BEDS (beds a ward, 25),
ALERTSVC_BENCH_MEDS (20), ALERTSVC_BENCH_DAY_HOURS (24), ALERTSVC_BENCH_TICKS (24),
ALERTSVC_BENCH_RECHECKS (3, each a withdraw and a restore), ALERTSVC_BENCH_STREAMS ("1000,5000"; ""
skips the fan-out). ALERTSVC_BENCH_DATABASE_URL (a server, e.g. ``postgresql://postgres@127.0.0.1:5432/test``)
runs the hospital on PostgreSQL too, side by side, in a schema of its own (``alertsvc_bench``, made afresh
and dropped after). There the service is a cluster member (``alertsvc.cluster``), alone: it holds the
timer lease, and a knowledge update re-checks every admission.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alertsvc import knowledge_recheck, schedule_desk, sealing, store, timers
from alertsvc.access import issue_staff_token
from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service
from bench.report import Figure, Measured, summarise

MODULE = "bench.hospital_bench"
BENCH_SCHEMA = "alertsvc_bench"


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COMMON_DRUGS = words(
    """
paracetamol acetaminophen ibuprofen naproxen diclofenac aspirin clopidogrel ticagrelor warfarin apixaban
rivaroxaban heparin enoxaparin simvastatin atorvastatin rosuvastatin pravastatin amlodipine nifedipine
diltiazem verapamil metoprolol bisoprolol atenolol propranolol carvedilol lisinopril ramipril enalapril
losartan candesartan valsartan spironolactone furosemide bumetanide hydrochlorothiazide indapamide
digoxin amiodarone metformin gliclazide insulin sitagliptin empagliflozin levothyroxine prednisolone
prednisone hydrocortisone dexamethasone omeprazole lansoprazole pantoprazole ranitidine ondansetron
metoclopramide domperidone cyclizine lactulose senna docusate morphine oxycodone codeine tramadol
fentanyl gabapentin pregabalin amitriptyline sertraline citalopram fluoxetine mirtazapine venlafaxine
duloxetine trazodone haloperidol quetiapine olanzapine risperidone lorazepam diazepam zopiclone
levetiracetam phenytoin carbamazepine valproate lamotrigine allopurinol colchicine amoxicillin
co-amoxiclav flucloxacillin clarithromycin erythromycin doxycycline ciprofloxacin levofloxacin
trimethoprim nitrofurantoin metronidazole vancomycin gentamicin fluconazole aciclovir salbutamol
ipratropium tiotropium montelukast theophylline tamsulosin finasteride oxybutynin alendronate calcium
colecalciferol folic ferrous potassium magnesium thiamine tizanidine baclofen methotrexate tacrolimus
ciclosporin lithium sildenafil
"""
)
SCHEDULE = (1,) * 5 + (2,) * 5 + (4,) * 4 + (6,) * 3 + (12,) * 2 + (24,)
"""Administrations a day of each of a patient's 20 medications (97 in all)."""


@dataclass(frozen=True)
class Scale:
    wards: int = 40
    beds: int = 25
    medications: int = 20
    day_hours: int = 24
    ticks: int = 24
    next_ticks: int = 8
    rechecks: int = 3
    streams: tuple[int, ...] = (1000, 5000)

    @classmethod
    def from_env(cls) -> Scale:
        env = os.environ.get
        streams = env("ALERTSVC_BENCH_STREAMS", "1000,5000")
        return cls(
            wards=int(env("ALERTSVC_BENCH_WARDS", "40")),
            beds=int(env("ALERTSVC_BENCH_BEDS", "25")),
            medications=int(env("ALERTSVC_BENCH_MEDS", "20")),
            day_hours=int(env("ALERTSVC_BENCH_DAY_HOURS", "24")),
            ticks=int(env("ALERTSVC_BENCH_TICKS", "24")),
            next_ticks=int(env("ALERTSVC_BENCH_NEXT_TICKS", "8")),
            rechecks=int(env("ALERTSVC_BENCH_RECHECKS", "3")),
            streams=tuple(int(n) for n in streams.split(",") if n.strip()),
        )


class SimulatedClock:
    """The service's clock, moved on by the bench."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def run() -> list[str]:
    return measure().lines


def measure(scale: Scale | None = None) -> Measured:
    """The hospital on SQLite, then on PostgreSQL when ALERTSVC_BENCH_DATABASE_URL is set and supported."""
    scale = scale or Scale.from_env()
    result = Measured(MODULE)
    sqlite = asyncio.run(hospital(scale, engine="sqlite"))
    result.figures += sqlite.figures
    result.series |= sqlite.series
    result.lines += sqlite.lines
    server = os.environ.get("ALERTSVC_BENCH_DATABASE_URL", "")
    if server:
        with bench_schema(server) as url:
            postgres = asyncio.run(hospital(scale, engine="postgresql", database_url=url))
        on_sqlite = {f.name: f for f in sqlite.figures}
        for f in postgres.figures:
            same = f.name.replace(" [postgresql]", "")
            result.figures.append(dataclasses.replace(f, ratio_to=same if same in on_sqlite else None))
        result.series |= postgres.series
        result.lines += postgres.lines
    if scale.streams:
        fan = fan_out(scale.streams, server)
        result.figures += fan.figures
        result.series |= fan.series
        result.lines += fan.lines
    return result


@contextlib.contextmanager
def bench_schema(server: str) -> Iterator[str]:
    """A fresh schema ``alertsvc_bench`` on ``server``: its URL, for as long as the block runs."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {BENCH_SCHEMA}")
    try:
        yield store.with_schema(server, BENCH_SCHEMA)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE")


def patient_drugs(rng: random.Random, pool: list[str], count: int) -> list[str]:
    return rng.sample(pool, min(count, len(pool)))


def day_plan(admission: str, drugs: list[str], start: datetime, hours: int) -> list[dict[str, Any]]:
    """Each drug's administrations over ``hours`` from ``start``, at its frequency (``SCHEDULE``)."""
    doses = []
    for i, drug in enumerate(drugs):
        per_day = SCHEDULE[i % len(SCHEDULE)]
        step = timedelta(hours=24 / per_day)
        due = start + timedelta(minutes=5 + (i * 7) % 55)
        while due < start + timedelta(hours=hours):
            doses.append({"admission": admission, "drug": drug, "due": due.isoformat()})
            due += step
    return doses


def ward_requests(
    admitted: list[tuple[str, str, list[str]]], start: datetime, hours: int, most: int
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each ward's day as schedule requests of whole patients, at most ``most`` administrations each."""
    request: list[dict[str, Any]] = []
    ward = ""
    for patient_ward, admission, drugs in admitted:
        doses = day_plan(admission, drugs, start, hours)
        if request and (patient_ward != ward or len(request) + len(doses) > most):
            yield ward, request
            request = []
        ward = patient_ward
        request += doses
    if request:
        yield ward, request


def _patient_slice(folder: Path, drugs: list[str], service_id: str, now: datetime) -> dict[str, Any]:
    patient = Identity.generate()
    with Ledger.init(folder / "p.ledger", patient, now=now) as ledger:
        entries = [actions.medication(patient, drug, now=now) for drug in drugs]
        grant = grants.new_grant(
            patient,
            grantee=service_id,
            scope=("medications", "allergies", "reactions"),
            not_before=now - timedelta(minutes=5),
            hours=72,
            now=now,
        )
        ledger.append([*entries, grant], patient=patient, now=now)
        body: dict[str, Any] = loads(make_slice(ledger.read(), grant.id, now=now), what="slice")
    return body


def _database_bytes(path: Path, database_url: str = "") -> int:
    """The SQLite file and its WAL; on PostgreSQL, ``pg_database_size`` of the URL's database."""
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as connection:
            row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def alert_counts(service: Service) -> Counter[str]:
    """Every alert raised (any status): all, interruptive (as its claim says), critical, major."""
    counts: Counter[str] = Counter()
    for admission, body in service.db.execute("SELECT admission, body FROM alerts").fetchall():
        claims = json.loads(sealing.unseal_text(service.db, admission, body))
        counts["all"] += 1
        counts["interruptive"] += bool(claims.get("interruptive"))
        counts[str(claims.get("severity"))] += 1
    return counts


def most_cited_rule(service: Service, *, one_pair: bool = False) -> str:
    """The rule most active alerts cite; with ``one_pair``, of the rules between two ingredients (not
    classes), as most published updates are."""
    rules: Counter[str] = Counter()
    known = {
        r.id
        for r in service.knowledge.rules
        if not one_pair or (r.left.startswith("in:") and r.right.startswith("in:") and not r.also)
    }
    active = service.db.execute("SELECT admission, body FROM alerts WHERE status = 'active'").fetchall()
    for admission, body in active:
        rule = json.loads(sealing.unseal_text(service.db, admission, body)).get("rule")
        if rule in known:
            rules[rule] += 1
    if not rules:
        raise RuntimeError("no alert cites a knowledge rule: the hospital raised no interaction alert")
    return rules.most_common(1)[0][0]


async def rechecks(service: Service, rule: str, count: int) -> tuple[list[float], int, int]:
    """Withdraw ``rule`` and restore it, ``count`` times, each a knowledge update and its re-check: the
    time of each re-check (ms), the most admissions one checked and the most events one published."""
    original = service.knowledge
    without = dataclasses.replace(
        original, version=original.version + "-bench", rules=tuple(r for r in original.rules if r.id != rule)
    )
    times: list[float] = []
    changed = checked = 0
    for _ in range(count):
        for knowledge in (without, original):
            touched = knowledge_recheck.use_knowledge(service, knowledge)
            t = time.perf_counter()
            done = await knowledge_recheck.recheck_all(service, touched)
            times.append((time.perf_counter() - t) * 1000)
            changed, checked = max(changed, done.events), max(checked, done.admissions)
    return times, checked, changed


async def next_ticks(service: Service, clock: SimulatedClock, count: int) -> tuple[list[float], list[int]]:
    """Move the clock to the next instant the timers planned a tick for and tick, ``count`` times, as the
    service's timer would: the time of each tick (ms) and how many admissions each re-checked."""
    times: list[float] = []
    checked: list[int] = []
    for _ in range(count):
        upcoming = timers.earliest({k: v for k, v in service.planned.items() if not k.startswith("poll:")})
        if upcoming is None:
            break
        clock.now = max(clock.now, upcoming)
        t = time.perf_counter()
        await service.tick()
        times.append((time.perf_counter() - t) * 1000)
        checked.append(len(service.last_tick.rechecked) if service.last_tick else 0)
    return times, checked


def _median(values: list[int]) -> float:
    return statistics.median(values) if values else 0.0


async def hospital(scale: Scale, *, engine: str, database_url: str = "") -> Measured:
    tag = "" if engine == "sqlite" else f" [{engine}]"
    result = Measured(MODULE)
    beds = scale.wards * scale.beds
    # A year ahead: the service's timers fire by the real clock (a fixed clock has no offset), so the
    # simulated day, moved on by hand, never has them fire on their own while it is measured.
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=365)
    clock = SimulatedClock(start)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ward_ids = [f"w{n:02d}" for n in range(1, scale.wards + 1)]
        options: dict[str, Any] = {"database_url": database_url} if database_url else {}
        settings = Settings(
            db_path=folder / "hospital.db",
            service_key=folder / "service.key",
            wards=";".join(f"{w}=Europe/London" for w in ward_ids),
            overdue_grace_minutes=48 * 60,
            **options,
        )
        service = Service(settings, clock=clock)
        await service.start()
        try:
            rng = random.Random(12)
            pool = [d for d in COMMON_DRUGS if service.normalizer.resolve(d).unresolved is None]
            built = time.perf_counter()
            people = []
            for n in range(beds):
                (folder / f"p{n}").mkdir()
                drugs = patient_drugs(rng, pool, scale.medications)
                people.append((ward_ids[n // scale.beds], str(n % scale.beds + 1), drugs))
            slices = [
                _patient_slice(folder / f"p{n}", drugs, service.identity.public_id, start)
                for n, (_, _, drugs) in enumerate(people)
            ]
            built = time.perf_counter() - built

            desks = {  # the admission desk of each ward
                w: service.staff(
                    issue_staff_token(
                        service.identity, ward=w, name="bench", role="admission", now=clock(), hours=12
                    )
                )
                for w in ward_ids
            }
            admitted, times = [], []
            began = time.perf_counter()
            for (ward, bed, drugs), body in zip(people, slices, strict=True):
                t = time.perf_counter()
                answer = await service.admit({"slice": body, "ward": ward, "bed": bed}, desks[ward])
                times.append((time.perf_counter() - t) * 1000)
                admitted.append((ward, str(answer["admission"]), drugs))
            total = time.perf_counter() - began
            size_admitted = _database_bytes(settings.db_path, database_url)
            result.figures += [
                summarise(f"admission{tag}", times, "ms"),
                Figure(f"admit all {beds} patients{tag}", total, "s"),
                Figure(f"database after admission{tag}", size_admitted / 2**20, "MiB", note="file + WAL"),
            ]
            result.series[f"admission{tag}"] = times

            planned, plan_times = 0, []
            for ward, request in ward_requests(admitted, start, scale.day_hours, settings.max_schedule_items):
                t = time.perf_counter()
                await schedule_desk.add_schedule(service, ward, {"administrations": request}, desks[ward])
                plan_times.append((time.perf_counter() - t) * 1000)
                planned += len(request)
            result.figures.append(summarise(f"schedule request{tag}", plan_times, "ms", note="a MAR import"))
            result.series[f"schedule request{tag}"] = plan_times
            replans = []
            for _ in range(5):
                t = time.perf_counter()
                service.rebuild_timers()
                replans.append((time.perf_counter() - t) * 1000)
            result.figures.append(
                summarise(
                    f"timers planned again{tag}",
                    replans,
                    "ms",
                    note="on the event loop after every change: a dose's outcome, an update, a tick",
                )
            )

            rule = most_cited_rule(service)
            recheck_times, checked, changed = await rechecks(service, rule, scale.rechecks)
            result.figures.append(
                summarise(f"re-check after a knowledge update{tag}", recheck_times, "ms", note="target < 1 s")
            )
            result.series[f"re-check after a knowledge update{tag}"] = recheck_times
            pair_rule = most_cited_rule(service, one_pair=True)
            pair_times, pair_checked, pair_changed = await rechecks(service, pair_rule, scale.rechecks)
            result.figures.append(
                summarise(
                    f"re-check after a one-pair rule update{tag}",
                    pair_times,
                    "ms",
                    note="a rule between two ingredients",
                )
            )

            next_times, next_checked = await next_ticks(service, clock, scale.next_ticks)
            result.figures.append(
                summarise(
                    f"tick at the next instant planned{tag}",
                    next_times,
                    "ms",
                    note="as the timers run it: what fell due since the last tick",
                )
            )
            result.series[f"tick at the next instant planned{tag}"] = next_times

            tick_times = []
            for _ in range(scale.ticks):
                clock.now += timedelta(hours=scale.day_hours / scale.ticks)
                t = time.perf_counter()
                await service.tick()
                tick_times.append((time.perf_counter() - t) * 1000)
            size_day = _database_bytes(settings.db_path, database_url)
            counts = alert_counts(service)
            patient_days = beds * scale.day_hours / 24
            result.figures += [
                summarise(f"tick{tag}", tick_times, "ms", note="a sweep: every admission re-checked"),
                Figure(
                    f"database after the day{tag}",
                    size_day / 2**20,
                    "MiB",
                    ratio_to=f"database after admission{tag}",
                ),
                Figure(f"alerts per patient-day{tag}", counts["all"] / patient_days, "alerts"),
                Figure(
                    f"interruptive alerts per patient-day{tag}",
                    counts["interruptive"] / patient_days,
                    "alerts",
                    ratio_to=f"alerts per patient-day{tag}",
                ),
                Figure(f"critical alerts per patient-day{tag}", counts["critical"] / patient_days, "alerts"),
                Figure(f"major alerts per patient-day{tag}", counts["major"] / patient_days, "alerts"),
            ]
            result.series[f"tick{tag}"] = tick_times
            result.lines += [
                f"hospital{tag}: {scale.wards} wards x {scale.beds} beds, "
                f"{scale.medications} medications a patient from {len(pool)} common drugs; "
                f"ledgers built in {built:.1f} s",
                f"admission: median {summarise('a', times, 'ms').median:.1f} ms; everyone in {total:.1f} s",
                f"the day: {planned:,} administrations planned ({planned / beds:.0f} a patient), "
                f"in {len(plan_times)} schedule requests (a ward's patients, at most "
                f"{settings.max_schedule_items} administrations each), median "
                f"{summarise('p', plan_times, 'ms').median:.0f} ms",
                f"re-check after rule {rule} (the one most alerts cite) was withdrawn, then "
                f"restored ({checked} of {len(admitted)} admissions checked, the others take drugs of one "
                f"side at most; up to {changed} events): median "
                f"{summarise('r', recheck_times, 'ms').median:.0f} ms, max {max(recheck_times):.0f} ms "
                "(target < 1,000 ms)",
                f"re-check after rule {pair_rule} (the most cited between two ingredients) was withdrawn, "
                f"then restored ({pair_checked} admissions checked; up to {pair_changed} events): median "
                f"{summarise('q', pair_times, 'ms').median:.0f} ms, max {max(pair_times):.0f} ms",
                f"{len(next_times)} ticks at the next instant planned (re-checking a median of "
                f"{_median(next_checked):.0f} admissions, at most {max(next_checked, default=0)}): "
                f"median {summarise('n', next_times, 'ms').median:.0f} ms",
                f"{scale.ticks} ticks over {scale.day_hours} h, each a sweep re-checking every admission: "
                f"median {summarise('t', tick_times, 'ms').median:.0f} ms",
                f"database (file + WAL): {size_admitted / 2**20:.1f} MiB after admission, "
                f"{size_day / 2**20:.1f} MiB after the day",
                f"alerts raised over {patient_days:,.0f} patient-days: {counts['all']:,} "
                f"({counts['all'] / patient_days:.1f} a patient-day), "
                f"interruptive {counts['interruptive']:,} ({counts['interruptive'] / patient_days:.1f}), "
                f"critical {counts['critical']:,}, "
                f"major {counts['major']:,}, moderate {counts['moderate']:,}",
            ]
        finally:
            await service.stop()
    return result


SPREAD = 4
"""Service processes the streams are spread over, on PostgreSQL, beside the one-process figures."""


def fan_out(clients: tuple[int, ...], server: str = "") -> Measured:
    """Flagged reaction -> alert at each number of stream clients on one service process (SQLite) and,
    with a PostgreSQL ``server``, the largest number spread over ``SPREAD`` processes of a cluster."""
    from bench import service_bench

    result = Measured(MODULE)
    first, usual = None, service_bench.CLIENTS
    runs: list[tuple[str, int, int]] = [(f"flag -> alert at {n:,} streams", n, 1) for n in clients]
    if server and clients:
        runs.append(
            (f"flag -> alert at {max(clients):,} streams over {SPREAD} processes", max(clients), SPREAD)
        )
    for name, count, processes in runs:
        service_bench.CLIENTS = count  # its fan-out holds this many streams
        try:
            if processes == 1:
                line = service_bench.fan_out()
            else:
                with bench_schema(server) as url:
                    line = service_bench.fan_out(processes, url)
        except Exception as exc:  # the hospital's figures, measured first, are kept; the report says why
            result.lines.append(f"{name}: did not complete ({type(exc).__name__}: {exc})")
            continue
        latencies = [s * 1000 for s in service_bench.last_latencies]
        same = f"flag -> alert at {count:,} streams"
        result.figures.append(summarise(name, latencies, "ms", ratio_to=same if processes > 1 else first))
        result.series[name] = latencies
        result.lines.extend(line)
        first = first or name
    service_bench.CLIENTS = usual
    return result


def lines(measured: Measured) -> Iterator[str]:
    yield from measured.lines


if __name__ == "__main__":
    print("\n".join(run()))
