"""The fleet's shared tier on a real Redis: one upstream request per key across replicas, shared failures, budgets
and circuits, keyed sources kept apart, and no call failing when Redis goes away.

Each "replica" here is an `Http` of its own (own memory cache, own Redis connection) in this process; the
multi-process fleet is tests/test_fleet.py.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from fetchers.call_context import call_context
from fetchers.errors import DeadlineExceeded, NotRetried, RateLimitedError, UnavailableError
from fetchers.http import Http, HttpConfig
from fetchers.shared.budgets import PUBLISHED, Budget, Window, with_overrides
from fetchers.shared.redis_link import RedisLink
from fetchers.shared.redis_tier import redis_fleet
from fetchers.shared.tier import BudgetSpentError
from tests.services import RedisServer, free_port, redis_binary

pytestmark = pytest.mark.anyio

BASE = "http://up.test"
SOURCES = ("coinbase", "binance", "coinglass", "okx")


class Upstream:
    """A counting upstream: `handler(request)` decides the answer; `delay_s` makes requests overlap."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.delay_s = 0.0
        self.handler: Callable[[httpx.Request], httpx.Response] = lambda r: httpx.Response(
            200, json={"path": r.url.path, "n": self.requests[str(r.url)]}
        )

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests[str(request.url)] += 1
        if self.delay_s:
            await anyio.sleep(self.delay_s)
        return self.handler(request)

    def total(self) -> int:
        return sum(self.requests.values())


async def until_locked(url: str, locks: int) -> None:
    """Wait (generous guard) until `locks` single-flight locks are held in Redis."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    try:
        for _ in range(1200):
            if len(await client.keys("windvane:l:*")) >= locks:
                return
            await anyio.sleep(0.05)
    finally:
        await client.aclose()
    raise AssertionError("the locks were never taken")


def parse(response: httpx.Response) -> Any:
    return response.json()


@asynccontextmanager
async def replica(
    url: str, upstream: Upstream, *, budgets: tuple[Budget, ...] = (), keys: dict[str, str] | None = None
) -> AsyncIterator[Http]:
    link = RedisLink(url, retry_s=0.2)
    config = HttpConfig(
        base_urls={s: f"{BASE}/{s}" for s in SOURCES}, api_keys=keys or {}, retries=1, retry_base_delay_s=0.0
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
        try:
            yield Http(client, config, fleet=redis_fleet(link, budgets))
        finally:
            await link.close()


async def test_replicas_share_one_request_per_key_and_its_true_age(redis_url: str) -> None:
    upstream = Upstream()
    upstream.delay_s = 0.2  # every replica asks while the first request is still out
    results: list[Any] = []
    async with replica(redis_url, upstream) as a, replica(redis_url, upstream) as b, replica(redis_url, upstream) as c:

        async def ask(http: Http) -> None:
            with call_context(10):
                results.append(await http.get("coinbase", "/products/BTC-USD/ticker", parse, ttl_s=60))

        async with anyio.create_task_group() as tg:
            for http in (a, b, c) * 10:
                tg.start_soon(ask, http)
        assert upstream.total() == 1
        assert len(results) == 30
        assert {r.fetched_at for r in results} == {results[0].fetched_at}  # every replica says when it was fetched
        assert all(not r.stale for r in results)
        assert sum(h.fleet.stats.shared_hits for h in (a, b, c)) == 2  # the two that did not ask
        later = await b.get("coinbase", "/products/BTC-USD/ticker", parse, ttl_s=60)  # now from b's own memory
        assert later.fetched_at == results[0].fetched_at
        assert upstream.total() == 1


async def test_a_keyed_source_never_serves_one_keys_answer_under_another(redis_url: str) -> None:
    import redis

    upstream = Upstream()
    async with (
        replica(redis_url, upstream, keys={"coinglass": "key-one-5f2a"}) as one,
        replica(redis_url, upstream, keys={"coinglass": "key-two-9c1b"}) as two,
        replica(redis_url, upstream, keys={"coinglass": "key-one-5f2a"}) as one_again,
        replica(redis_url, upstream) as keyless,
    ):
        for http in (one, two, one_again, keyless):
            await http.get("coinglass", "/api/etf/flows", parse, headers={"CG-API-KEY": "x"}, ttl_s=60)
    assert upstream.total() == 3  # key one (shared by two replicas), key two, and no key
    client = redis.Redis.from_url(redis_url)
    try:
        keys = b" ".join(client.keys("*"))
        stored = b" ".join([keys, *(client.get(k) or b"" for k in client.keys("windvane:c:*"))])
    finally:
        client.close()
    assert b"key-one" not in stored
    assert b"key-two" not in stored
    assert b"/api/etf/flows" not in keys  # keys hold hashes, not paths or queries


# Long enough for the waiting replica to reach its wait for the lock on a loaded machine (with 0.5 s its deadline
# could end during its own Redis round trips, a generic "not answered" instead of the wait it is meant to show)
WAIT_S = 2.0


async def test_a_waiting_replica_serves_its_last_good_value_stale_at_its_deadline(redis_url: str) -> None:
    upstream = Upstream()
    async with replica(redis_url, upstream) as slow, replica(redis_url, upstream) as waiting:
        first = await waiting.get("okx", "/api/v5/market/ticker", parse, ttl_s=0.001)  # then stale at once
        await anyio.sleep(0.01)
        upstream.delay_s = 8.0  # the holder keeps the locks through both waits below
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: slow.get("okx", "/api/v5/market/ticker", parse, ttl_s=60))
            tg.start_soon(lambda: slow.get("okx", "/api/v5/market/books", parse, ttl_s=60))
            await until_locked(redis_url, 2)  # `slow` holds the fleet's locks now
            with call_context(WAIT_S):
                served = await waiting.get("okx", "/api/v5/market/ticker", parse, ttl_s=60)
            assert served.stale
            assert served.value == first.value
            assert "waiting for another replica" in (served.stale_reason or "")
            with call_context(WAIT_S), pytest.raises(DeadlineExceeded, match="waiting for another replica"):
                await waiting.get("okx", "/api/v5/market/books", parse, ttl_s=60)  # nothing to serve stale
            tg.cancel_scope.cancel()
    assert upstream.requests[f"{BASE}/okx/api/v5/market/ticker"] == 2
    assert upstream.requests[f"{BASE}/okx/api/v5/market/books"] == 1


async def test_a_failure_is_remembered_by_the_whole_fleet(redis_url: str) -> None:
    upstream = Upstream()
    upstream.handler = lambda r: httpx.Response(404, json={"error": "no such market"})
    async with replica(redis_url, upstream) as a, replica(redis_url, upstream) as b:
        with pytest.raises(NotRetried):
            await a.get("coinbase", "/products/XYZ-USD/ticker", parse, ttl_s=60)
        with pytest.raises(NotRetried, match="remembered by the fleet") as caught:
            await b.get("coinbase", "/products/XYZ-USD/ticker", parse, ttl_s=60)
        assert caught.value.remembered
    assert upstream.total() == 1


async def test_an_open_circuit_is_open_for_every_replica(redis_url: str) -> None:
    upstream = Upstream()
    upstream.handler = lambda r: httpx.Response(503)
    async with replica(redis_url, upstream) as a, replica(redis_url, upstream) as b:
        for path in ("/one", "/two"):  # two failed requests (each after its retry) open the circuit
            with pytest.raises(UnavailableError):
                await a.get("okx", path, parse, ttl_s=60)
        assert a.breakers.circuit("okx").state == "open"
        sent = upstream.total()
        with pytest.raises(UnavailableError, match="opened by another replica"):
            await b.get("okx", "/three", parse, ttl_s=60)
        assert b.breakers.circuit("okx").state == "open"
    assert upstream.total() == sent


async def test_the_budget_is_shared_and_a_spent_one_answers_at_once(redis_url: str) -> None:
    upstream = Upstream()
    budgets = with_overrides(PUBLISHED, {"coinbase": (Window(3, 60),)})
    slept: list[float] = []
    async with replica(redis_url, upstream, budgets=budgets) as a, replica(redis_url, upstream, budgets=budgets) as b:
        a._sleep = b._sleep = lambda s: slept.append(s)  # type: ignore[assignment,misc,method-assign]
        outcomes = []
        for n, http in enumerate((a, b, a, b, a)):
            try:
                with call_context(10):
                    await http.get("coinbase", f"/products/P{n}-USD/ticker", parse, ttl_s=60)
                outcomes.append("ok")
            except RateLimitedError as exc:
                outcomes.append(f"{type(exc).__name__}: {exc.message}")
    spent = "BudgetSpentError: rate budget 3/1m for coinbase is spent"
    assert outcomes[:3] == ["ok", "ok", "ok"]
    assert [o[: len(spent)] for o in outcomes[3:]] == [spent, spent]
    assert upstream.total() == 3
    assert slept == []  # refused at once, never queued
    assert a.breakers.circuit("coinbase").state == "closed"  # our budget is not the upstream failing


async def test_binance_used_weight_and_retry_after_adjust_the_fleets_budget(redis_url: str) -> None:
    upstream = Upstream()
    upstream.handler = lambda r: httpx.Response(200, json=[], headers={"X-MBX-USED-WEIGHT-1M": "5999"})
    budgets = PUBLISHED
    async with replica(redis_url, upstream, budgets=budgets) as a, replica(redis_url, upstream, budgets=budgets) as b:
        await a.get("binance", "/api/v3/ticker/price", parse, params={"symbol": "BTCUSDT"}, ttl_s=60)
        with pytest.raises(BudgetSpentError, match="6000/1m for binance"):  # weight 2 no longer fits in 6000
            await b.get("binance", "/api/v3/klines", parse, params={"symbol": "BTCUSDT"}, ttl_s=60)
        upstream.handler = lambda r: httpx.Response(429, headers={"Retry-After": "30"})
        with pytest.raises(RateLimitedError):
            await a.get("okx", "/api/v5/public/instruments", parse, ttl_s=60)
        with pytest.raises(RateLimitedError) as caught:  # the other replica does not ask during the 30 s
            await b.get("okx", "/api/v5/public/open-interest", parse, ttl_s=60)
        assert caught.value.retry_after_s is not None
        assert caught.value.retry_after_s > 20
    assert upstream.requests[f"{BASE}/binance/api/v3/klines?symbol=BTCUSDT"] == 0
    assert upstream.requests[f"{BASE}/okx/api/v5/public/open-interest"] == 0


async def test_settled_pages_keep_a_long_ttl_in_redis(redis_url: str) -> None:
    import redis

    upstream = Upstream()
    async with replica(redis_url, upstream) as a:
        await a.get("coinbase", "/products/BTC-USD/candles", parse, params={"granularity": 86400}, ttl_s=86400)
        await a.get("coinbase", "/products/BTC-USD/ticker", parse, ttl_s=10)
    client = redis.Redis.from_url(redis_url)
    try:
        ttls = sorted(client.pttl(k) / 1000 for k in client.keys("windvane:c:*"))
    finally:
        client.close()
    assert len(ttls) == 2
    assert ttls[0] < 86400  # a ticker: its 10 s, then kept a few hours as the last good value
    assert ttls[1] > 2 * 86400 - 60  # a settled page: a day fresh, a day more as the last good value


async def test_losing_redis_fails_no_call_and_sharing_resumes_when_it_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    binary = redis_binary()
    if binary is None:
        from tests.services import unavailable

        unavailable("Redis", "redis-server is not installed")
    assert binary is not None
    server = RedisServer(binary, free_port()).start()
    upstream = Upstream()
    caplog.set_level(logging.WARNING, logger="windvane.fleet")
    try:
        async with replica(server.url, upstream) as a, replica(server.url, upstream) as b:
            await a.get("coinbase", "/one", parse, ttl_s=60)
            await b.get("coinbase", "/one", parse, ttl_s=60)
            assert upstream.total() == 1
            server.stop()
            for http in (a, b, a, b):  # nothing fails; each replica asks once on its own
                await http.get("coinbase", "/two", parse, ttl_s=60)
            assert upstream.requests[f"{BASE}/coinbase/two"] == 2
            health = a.fleet.health()
            assert health is not None
            assert health.status == "degraded"
            lost = [r for r in caplog.records if "unreachable" in r.getMessage()]
            assert len(lost) == 2  # once per replica, not once per call
            server.start()
            for _ in range(200):  # each link probes on its own; a call finds it back
                await anyio.sleep(0.05)
                if await a.fleet.cache.get("nothing") is None and a.fleet.health().status == "up":  # type: ignore[union-attr]
                    break
            await b.fleet.cache.get("nothing")
            await anyio.sleep(0.3)
            await a.get("coinbase", "/three", parse, ttl_s=60)
            await b.get("coinbase", "/three", parse, ttl_s=60)
            assert upstream.requests[f"{BASE}/coinbase/three"] == 1
            assert a.fleet.health().status == "up"  # type: ignore[union-attr]
    finally:
        server.stop()


async def test_a_value_shared_between_a_look_and_a_lock_is_not_fetched_again(redis_url: str) -> None:
    upstream = Upstream()
    async with replica(redis_url, upstream) as a, replica(redis_url, upstream) as b:
        lock = b.fleet.lock
        real_acquire = lock.acquire

        async def acquire_after_a_answered(key: str, lease_s: float) -> Any:
            # b looked and found nothing; before it takes the lock, a fetches, shares and lets go
            await a.get("coinbase", "/products/ETH-USD/ticker", parse, ttl_s=60)
            return await real_acquire(key, lease_s)

        lock.acquire = acquire_after_a_answered  # type: ignore[method-assign]
        got = await b.get("coinbase", "/products/ETH-USD/ticker", parse, ttl_s=60)
    assert upstream.total() == 1
    assert got.value == {"path": "/coinbase/products/ETH-USD/ticker", "n": 1}
