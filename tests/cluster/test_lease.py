"""The timer lease on a real PostgreSQL: one holder at a time, takeover after kill -9, loss on a dropped
connection, release on stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import psycopg

from alertsvc.store.lease import LeaseThread, TimerLease, connect_dedicated, lease_key, still_held
from tests.cluster.conftest import Worker

TAKEOVER_LIMIT = 10.0


def test_the_key_comes_from_the_name_so_schemas_do_not_share_a_lease() -> None:
    assert lease_key("t_one:timers") == lease_key("t_one:timers")
    assert lease_key("t_one:timers") != lease_key("t_two:timers")
    assert -(2**63) <= lease_key("t_one:timers") < 2**63


def test_kill_9_of_the_holder_hands_the_lease_to_the_other_process_within_10_s(
    database_url: str, schema: str, workers: Callable[..., Worker]
) -> None:
    name = f"{schema}:timers"
    first = workers("lease", database_url, name)
    first.wait_for(lambda lines: any(line.startswith("gained") for line in lines), 15)
    second = workers("lease", database_url, name)
    second.collect(3.0)  # it has started and tried at least once (every 2 s) by now
    assert not any(line.startswith("gained") for line in second.lines), second.lines

    killed_at = time.monotonic()
    first.kill()
    second.wait_for(lambda lines: any(line.startswith("gained") for line in lines), TAKEOVER_LIMIT + 5)
    gained_at = float(next(line for line in second.lines if line.startswith("gained")).split()[1])
    takeover = gained_at - killed_at
    print(f"takeover after kill -9: {takeover:.3f} s")
    assert 0 < takeover < TAKEOVER_LIMIT


def test_three_processes_holder_after_holder_killed_one_holder_at_a_time(
    database_url: str, schema: str, workers: Callable[..., Worker]
) -> None:
    alive = [workers("lease", database_url, f"{schema}:timers") for _ in range(3)]
    takeovers: list[float] = []
    killed_at: float | None = None
    while True:
        holder = _the_one_holder(alive)
        if killed_at is not None:
            takeovers.append(_gained(holder) - killed_at)
        if len(alive) == 1:
            break
        killed_at = time.monotonic()
        holder.kill()
        alive.remove(holder)
    print("takeovers after kill -9: " + ", ".join(f"{t:.2f} s" for t in takeovers))
    assert len(takeovers) == 2 and all(0 < t < TAKEOVER_LIMIT for t in takeovers)


def _the_one_holder(alive: list[Worker]) -> Worker:
    """Wait until one of the processes holds the lease, then check for a while that no other does."""
    deadline = time.monotonic() + TAKEOVER_LIMIT + 15
    while not any(_gained(worker) for worker in alive):
        assert time.monotonic() < deadline, [worker.lines for worker in alive]
        for worker in alive:
            worker.collect(0.05)
    for worker in alive:
        worker.collect(0.5)
    holders = [worker for worker in alive if _gained(worker)]
    assert len(holders) == 1, [worker.lines for worker in alive]
    return holders[0]


def _gained(worker: Worker) -> float:
    """When the worker gained the lease (0.0 if it has not)."""
    times = [float(line.split()[1]) for line in worker.lines if line.startswith("gained")]
    return times[-1] if times else 0.0


def run_with_lease(lease: TimerLease, body: Callable[[], Awaitable[None]], *others: TimerLease) -> None:
    """Run the leases while ``body`` runs, then stop them and wait for their release."""

    async def main() -> None:
        tasks = [asyncio.create_task(each.run()) for each in (lease, *others)]
        try:
            await body()
        finally:
            for each in (lease, *others):
                each.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 10)

    asyncio.run(main())


async def eventually(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``condition()`` holds; AssertionError after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def test_a_dropped_connection_loses_the_lease_at_once_and_it_is_gained_again(
    database_url: str, schema: str
) -> None:
    changes: list[str] = []
    lease = TimerLease(
        database_url,
        f"{schema}:timers",
        on_gained=lambda: changes.append("gained"),
        on_lost=lambda: changes.append("lost"),
        retry_every=0.2,
    )

    async def body() -> None:
        await eventually(lambda: lease.held, 5)
        pid = lease.backend_pid
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            assert await still_held(conn, lease.key, pid or 0)
            await conn.execute("SELECT pg_terminate_backend(%s)", [pid])
            lost_after = await eventually(lambda: not lease.held, lease.check_every + lease.check_timeout)
            print(f"lease lost {lost_after:.3f} s after its session was ended")
            assert not await still_held(conn, lease.key, pid or 0)
            await eventually(lambda: lease.held, 5)
            assert lease.backend_pid != pid
            assert await still_held(conn, lease.key, lease.backend_pid or 0)

    run_with_lease(lease, body)
    assert changes == ["gained", "lost", "gained", "lost"]  # the last "lost" is the release at stop


def test_one_holder_at_a_time_and_stop_releases_to_the_other(database_url: str, schema: str) -> None:
    held: dict[str, bool] = {"a": False, "b": False}
    both: list[bool] = []

    def lease(label: str, name: str) -> TimerLease:
        def gained() -> None:
            held[label] = True
            both.append(all(held.values()))

        return TimerLease(
            database_url, name, on_gained=gained, on_lost=lambda: held.update({label: False}), retry_every=0.2
        )

    a, b = lease("a", f"{schema}:timers"), lease("b", f"{schema}:timers")
    other_schema = TimerLease(
        database_url, f"{schema}_other:timers", on_gained=lambda: None, on_lost=lambda: None
    )

    async def body() -> None:
        await eventually(lambda: a.held or b.held, 5)
        await asyncio.sleep(1.0)  # both have tried several times
        assert a.held != b.held
        await eventually(lambda: other_schema.held, 5)  # another name, another lock
        first, second = (a, b) if a.held else (b, a)
        first.stop()
        released_to_other = await eventually(lambda: second.held, 2)
        print(f"released lease taken by the other after {released_to_other:.3f} s")
        assert not first.held

    run_with_lease(a, body, b, other_schema)
    assert not any(both), "both held the lease at once"


def test_a_dedicated_session_is_never_ended_for_idleness_and_notices_a_vanished_peer(
    database_url: str,
) -> None:
    async def settings() -> list[str]:
        async with await connect_dedicated(database_url, "alertsvc test") as conn:
            names = ["idle_session_timeout", "idle_in_transaction_session_timeout", "tcp_keepalives_idle"]
            cursor = await conn.execute(
                "SELECT current_setting(name) FROM unnest(%s::text[]) WITH ORDINALITY s(name, n) ORDER BY n",
                [names],
            )
            return [row[0] for row in await cursor.fetchall()]

    idle, idle_in_transaction, keepalive_idle = asyncio.run(settings())
    assert (idle, idle_in_transaction) == ("0", "0")
    assert keepalive_idle in ("4", "4s", "0")  # "0" only on a Unix socket, where keepalives do not apply


def test_a_lease_on_its_own_thread_stays_held_while_the_serving_loop_is_busy(
    database_url: str, schema: str
) -> None:
    """The lease's checks run on a loop of their own: while a long tick holds the serving loop for longer
    than a check may take (check_every + check_timeout), the lease stays held, and what it reports
    arrives on the serving loop once that is free."""
    changes: list[str] = []

    async def main() -> list[str]:
        lease = LeaseThread(
            database_url,
            f"{schema}:timers",
            on_gained=lambda: changes.append("gained"),
            on_lost=lambda: changes.append("lost"),
            check_every=0.2,
            check_timeout=0.5,
        )
        lease.start()
        await asyncio.wait_for(lease.tried.wait(), 10)
        await eventually(lambda: changes == ["gained"], 5)
        time.sleep(3.0)  # the serving loop is blocked, as by a long tick: 5 checks fall due meanwhile
        await asyncio.sleep(0.5)
        during = list(changes)
        assert lease.held
        await lease.stop()
        await eventually(lambda: len(changes) == 2, 5)
        return during

    during = asyncio.run(main())
    assert during == ["gained"]
    assert changes == ["gained", "lost"]  # the "lost" is the release at stop
