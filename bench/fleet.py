"""A fleet's upstream requests per key per TTL, with and without the shared Redis tier, and what a warm call pays
to be served through Redis rather than from a replica's own memory. Ratios within one run.

    python bench/fleet.py [--calls 60] [--delay 0.05] [--warm 300]

Part 1: for 1, 3 and 5 replicas (each a windvane server of its own: own memory cache, own SQLite, own Redis
connection), `--calls` concurrent cold tool calls (get_coinbase_premium and get_macro_backdrop, as_of 2025-11-24)
spread round-robin over the replicas, every upstream answer delayed `--delay` s so the calls overlap. Reports
upstream requests per distinct endpoint (per key, within one TTL: the run is far shorter than any TTL involved),
without Redis and with it. Goal: 1.0 with Redis whatever the replica count.
Part 2: `--warm` warm get_coinbase_premium calls through the SDK's in-memory client, alternating between a replica
whose entries are in its own memory and one whose memory is emptied before every call (every entry then comes from
Redis), plus the same two at the HTTP layer alone (one cached request). Reports p50/p95 and the ratios.
Starts its own redis-server (from PATH or /usr/bin) on a free loopback port; never touches the network.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import _support as S
import anyio
import httpx

logging.disable(logging.WARNING)

CALLS = (("get_coinbase_premium", {"as_of": "2025-11-24", "days": 30}), ("get_macro_backdrop", {"as_of": "2025-11-24"}))


def counting_transport(delay_s: float) -> tuple[httpx.MockTransport, Counter[str]]:
    from tests.fakes import default_fake
    from tests.fakes.serve import endpoint

    fake = default_fake()
    seen: Counter[str] = Counter()

    async def handle(request: httpx.Request) -> httpx.Response:
        seen[endpoint(request)] += 1
        await anyio.sleep(delay_s)
        return fake.handle(request)

    return httpx.MockTransport(handle), seen


async def requests_per_key(replicas: int, redis_url: str | None, calls: int, delay_s: float, tmp: Path) -> float:
    from mcp import Client

    from server.app import build_server
    from tests.conftest import make_settings

    transport, seen = counting_transport(delay_s)
    async with AsyncExitStack() as stack:
        clients = []
        for i in range(replicas):
            settings = replace(make_settings(tmp / f"r{replicas}-{i}-{bool(redis_url)}"), redis_url=redis_url)
            clients.append(await stack.enter_async_context(Client(build_server(settings, transport=transport))))
        async with anyio.create_task_group() as tg:
            for n in range(calls):
                name, args = CALLS[n % len(CALLS)]
                tg.start_soon(clients[n % replicas].call_tool, name, args)
    return sum(seen.values()) / len(seen)


def flush(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()


async def warm_latencies(redis_url: str, warm: int, tmp: Path) -> dict[str, list[float]]:
    from mcp import Client

    from fetchers.cache import MemoryCache
    from fetchers.http import Http
    from server.app import build_server
    from tests.conftest import make_settings
    from tools.deps import Deps

    transport, seen = counting_transport(0.0)
    settings = replace(make_settings(tmp / "warm"), redis_url=redis_url)
    local_live: list[Deps] = []
    shared_live: list[Deps] = []
    out: dict[str, list[float]] = {"tool, memory": [], "tool, redis": [], "http, memory": [], "http, redis": []}
    name, args = CALLS[0]
    async with (
        Client(build_server(settings, transport=transport, live=local_live)) as local,
        Client(
            build_server(replace(settings, db_path=tmp / "warm2.sqlite3"), transport=transport, live=shared_live)
        ) as shared,
    ):
        await local.call_tool(name, args)  # fills Redis, and the first replica's memory
        await shared.call_tool(name, args)
        shared_http: Http = shared_live[0].http
        local_http: Http = local_live[0].http

        def parse(response: httpx.Response) -> Any:
            return response.json()

        path = "/products/BTC-USD/ticker"
        await local_http.get("coinbase", path, parse, ttl_s=3600)
        before = sum(seen.values())
        for _ in range(warm):
            started = time.perf_counter()
            await local.call_tool(name, args)
            out["tool, memory"].append(time.perf_counter() - started)
            shared_http.cache = MemoryCache()  # this replica's memory forgets: every entry comes from Redis
            started = time.perf_counter()
            await shared.call_tool(name, args)
            out["tool, redis"].append(time.perf_counter() - started)
            started = time.perf_counter()
            await local_http.get("coinbase", path, parse, ttl_s=3600)
            out["http, memory"].append(time.perf_counter() - started)
            shared_http.cache = MemoryCache()
            started = time.perf_counter()
            await shared_http.get("coinbase", path, parse, ttl_s=3600)
            out["http, redis"].append(time.perf_counter() - started)
        assert sum(seen.values()) == before, "a warm call went upstream"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--warm", type=int, default=300)
    args = parser.parse_args()
    from tests.services import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        raise SystemExit("bench/fleet.py needs redis-server (apt-get install redis-server)")
    server = RedisServer(binary).start()
    try:
        print(f"fleet: {args.calls} concurrent cold calls, upstream delay {args.delay} s; {S.machine()}; {S.stamp()}")
        print("  upstream requests per key per TTL (requests / distinct endpoints)")
        print(f"  {'replicas':>8}  {'no Redis':>9}  {'Redis':>6}  {'ratio':>6}")
        for replicas in (1, 3, 5):
            with tempfile.TemporaryDirectory() as tmp:
                alone = anyio.run(requests_per_key, replicas, None, args.calls, args.delay, Path(tmp))
                flush(server.url)
                shared = anyio.run(requests_per_key, replicas, server.url, args.calls, args.delay, Path(tmp))
            print(f"  {replicas:>8}  {alone:>9.2f}  {shared:>6.2f}  {alone / shared:>5.2f}x")
        flush(server.url)
        with tempfile.TemporaryDirectory() as tmp:
            lat = anyio.run(warm_latencies, server.url, args.warm, Path(tmp))
    finally:
        server.stop()
    print(f"  warm calls, {args.warm} each, alternating (p50 / p95)")
    for level in ("tool", "http"):
        memory, redis = lat[f"{level}, memory"], lat[f"{level}, redis"]
        p50, p95 = S.pct(redis, 50) / S.pct(memory, 50), S.pct(redis, 95) / S.pct(memory, 95)
        print(
            f"  {level:>4}: memory {S.ms(S.pct(memory, 50))} / {S.ms(S.pct(memory, 95))}, "
            f"through Redis {S.ms(S.pct(redis, 50))} / {S.ms(S.pct(redis, 95))}  -> {p50:.2f}x / {p95:.2f}x"
        )


if __name__ == "__main__":
    main()
