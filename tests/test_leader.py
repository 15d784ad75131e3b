"""One leader per fleet (server/leader.py), on a real Redis and a real PostgreSQL: the lease is exclusive, a dead
leader's lease frees itself (Redis: within the lease; PostgreSQL: when its session ends), a standby takes over, and a
leader that loses its lease stops its work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from server.leader import PostgresLease, RedisLease, lease_for, run_as_leader
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

LEASE_S = 2.0


async def until(condition: Callable[[], Awaitable[bool] | bool], guard_s: float = 60.0) -> None:
    """Poll `condition` until it holds; the guard only keeps a broken build from hanging (not a timing claim)."""
    for _ in range(int(guard_s / 0.05)):
        met = condition()
        if met if isinstance(met, bool) else await met:
            return
        await anyio.sleep(0.05)
    raise AssertionError(f"not met within the {guard_s:g} s guard")


async def test_a_redis_lease_is_exclusive_and_expires_within_the_lease_when_its_holder_dies(redis_url: str) -> None:
    import redis

    first, second = RedisLease(redis_url, "job", LEASE_S), RedisLease(redis_url, "job", LEASE_S)
    assert await first.acquire()
    assert not await second.acquire()
    assert await first.renew()
    client = redis.Redis.from_url(redis_url)
    try:
        left_ms = client.pttl("windvane:lease:job")
    finally:
        client.close()
    assert 0 < left_ms <= LEASE_S * 1000  # the first "dies" here: it never renews or releases again
    await until(second.acquire)  # bounded by the key's expiry, asserted just above
    assert not await first.renew()  # the old holder learns it lost the lease
    await second.release()
    await first.release()


async def test_a_postgres_lease_frees_itself_when_its_session_ends(postgres_url: str) -> None:
    first, second = PostgresLease(postgres_url, "job"), PostgresLease(postgres_url, "job")
    assert await first.acquire()
    assert not await second.acquire()
    assert await first.renew()
    await first._conn.close()  # the leader's process dies: its connection closes with it
    assert await second.acquire()
    assert not await first.renew()
    await second.release()


def test_a_fleet_gets_a_lease_and_a_single_process_none(tmp_path: Path) -> None:
    base = make_settings(tmp_path)
    assert lease_for(base, "collect") is None
    assert isinstance(lease_for(replace(base, redis_url="redis://127.0.0.1:1/0"), "collect"), RedisLease)
    both = replace(base, redis_url="redis://127.0.0.1:1/0", database_url="postgresql://u@127.0.0.1:1/db")
    assert isinstance(lease_for(both, "collect"), PostgresLease)  # where the job writes


async def test_only_one_runs_and_a_standby_takes_over_when_the_leader_stops(redis_url: str) -> None:
    running: list[str] = []
    started: list[str] = []

    def job(name: str):  # type: ignore[no-untyped-def]
        async def work() -> None:
            started.append(name)
            running.append(name)
            try:
                await anyio.sleep_forever()
            finally:
                running.remove(name)

        return work

    async with anyio.create_task_group() as tg:
        scopes = {}
        for name in ("a", "b"):
            scope = anyio.CancelScope()
            scopes[name] = scope

            async def lead(name: str = name, scope: anyio.CancelScope = scope) -> None:
                with scope:
                    await run_as_leader(RedisLease(redis_url, "job", LEASE_S), LEASE_S, "job", job(name))

            tg.start_soon(lead)
        await until(lambda: bool(running))
        await anyio.sleep(LEASE_S)  # the standby has tried several times meanwhile
        assert len(running) == 1
        leader = running[0]
        scopes[leader].cancel()  # the leader stops (and releases)
        await until(lambda: running not in ([], [leader]))
        assert running == ["b" if leader == "a" else "a"]
        tg.cancel_scope.cancel()
    assert len(started) == 2


async def test_a_leader_that_loses_its_lease_stops_its_work(redis_url: str) -> None:
    import redis

    cancelled: list[bool] = []
    starts = 0

    async def work() -> None:
        nonlocal starts
        starts += 1
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    async with anyio.create_task_group() as tg:
        tg.start_soon(run_as_leader, RedisLease(redis_url, "job", LEASE_S), LEASE_S, "job", work)
        await until(lambda: starts > 0)
        client = redis.Redis.from_url(redis_url)
        try:
            client.set("windvane:lease:job", "someone-else", px=60_000)  # another process holds it now
        finally:
            client.close()
        await until(lambda: bool(cancelled))
        tg.cancel_scope.cancel()
    assert starts == 1  # stood by afterwards: the lease stayed someone else's
