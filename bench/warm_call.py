"""Warm call: a cached get_coinbase_premium against a no-op tool on the same SDK, p50 and p95. Goal <= 1.2x.

    python bench/warm_call.py [--calls 300]

In-memory (SDK `Client(server)`, direct dispatch) and over stdio (a spawned `python -m server serve` on the loopback
fake, newline JSON-RPC, against bench/noop_server.py). "Warm": the first call fills the cache; the timed calls make
no upstream request (checked). In-memory also reports a third line, a no-op tool returning the same precomputed
premium result: the difference between it and windvane is windvane's own work; the rest is the SDK moving and (on
the client side) validating the structured result against its output schema. The default result is the compact
summary (the latest 5 of the 30 bars); a fourth line times the same call with detail="full" (all 30 bars).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _support as S
import anyio

logging.disable(logging.WARNING)


async def interleaved(
    targets: list[tuple[Any, str, dict[str, Any]]], calls: int, upstream: Callable[[], int] = lambda: 0
) -> tuple[list[list[float]], list[Any]]:
    """Latencies of `calls` calls to each target after one warming call each, taken in turn (A, B, C, A, B, C...) so
    background load on the machine hits every target alike. Asserts no timed call went upstream."""
    from contextlib import AsyncExitStack

    from mcp import Client

    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(server)) for server, _, _ in targets]  # one cache each
        firsts = []
        for client, (_, tool, args) in zip(clients, targets, strict=True):
            first = await client.call_tool(tool, args)
            assert not first.is_error, first.content
            firsts.append(first.structured_content)
        warm_requests = upstream()
        out: list[list[float]] = [[] for _ in targets]
        for _ in range(calls):
            for i, (client, (_, tool, args)) in enumerate(zip(clients, targets, strict=True)):
                started = time.perf_counter()
                result = await client.call_tool(tool, args)
                out[i].append(time.perf_counter() - started)
                assert not result.is_error
        assert upstream() == warm_requests, "a warm call went upstream"
    return out, firsts


def payload_twin(result: Any) -> Any:
    """A no-op tool returning a fixed, identical CoinbasePremium: the SDK's cost for a result this size."""
    from mcp.server.mcpserver import MCPServer

    from schemas.premium import CoinbasePremium

    fixed = CoinbasePremium.model_validate(result)
    mcp = MCPServer("twin")

    def noop_premium() -> CoinbasePremium:
        return fixed

    noop_premium.__annotations__["return"] = CoinbasePremium  # a real class: this module's annotations are strings
    mcp.add_tool(noop_premium)
    return mcp


def in_memory(calls: int) -> list[tuple[str, list[float]]]:
    from server.app import build_server
    from tests.conftest import make_settings
    from tests.fakes import default_fake

    fake = default_fake()
    with tempfile.TemporaryDirectory() as tmp:
        server = build_server(make_settings(Path(tmp)), transport=fake.transport())
        _, (result,) = anyio.run(interleaved, [(server, "get_coinbase_premium", S.WARM_ARGS)], 1)
        twin = payload_twin(result)
        targets = [
            (server, "get_coinbase_premium", S.WARM_ARGS),
            (S.build_noop_server(), "noop", {}),
            (twin, "noop_premium", {}),
            (server, "get_coinbase_premium", {**S.WARM_ARGS, "detail": "full"}),
        ]
        (windvane, noop, twin_t, full), _ = anyio.run(interleaved, targets, calls, lambda: len(fake.requests))
    return [
        ("windvane get_coinbase_premium", windvane),
        ("no-op", noop),
        ("no-op returning the same result", twin_t),
        ("windvane, detail=full (30 bars)", full),
    ]


def over_stdio(calls: int) -> list[tuple[str, list[float]]]:
    import sys

    from tests.fakes.serve import start

    fake = start()
    peers: list[S.StdioPeer] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = S.windvane_env(f"http://127.0.0.1:{fake.server_address[1]}", Path(tmp))
            peers.append(S.StdioPeer([sys.executable, "-m", "server", "serve"], env))
            peers.append(S.StdioPeer([sys.executable, str(S.REPO / "bench" / "noop_server.py")]))
            params = [{"name": "get_coinbase_premium", "arguments": S.WARM_ARGS}, {"name": "noop", "arguments": {}}]
            for peer, p in zip(peers, params, strict=True):
                peer.initialize()
                assert peer.request("tools/call", p)["result"]["isError"] is False
            out: list[list[float]] = [[], []]
            for _ in range(calls):
                for i, (peer, p) in enumerate(zip(peers, params, strict=True)):
                    started = time.perf_counter()
                    reply = peer.request("tools/call", p)
                    out[i].append(time.perf_counter() - started)
                    assert reply["result"]["isError"] is False
    finally:
        for peer in peers:
            peer.close()
        fake.shutdown()
        fake.server_close()
    return [("windvane get_coinbase_premium", out[0]), ("no-op", out[1])]


def report(title: str, rows: list[tuple[str, list[float]]]) -> None:
    print(f"\n{title}")
    print(f"  {'':34} {'p50':>12} {'p95':>12}")
    for name, values in rows:
        print(f"  {name:34} {S.ms(S.pct(values, 50)):>12} {S.ms(S.pct(values, 95)):>12}")
    main, base = rows[0][1], rows[1][1]
    print(
        f"  ratio windvane / no-op: p50 {S.pct(main, 50) / S.pct(base, 50):.2f}x, "
        f"p95 {S.pct(main, 95) / S.pct(base, 95):.2f}x (goal <= 1.2x)"
    )
    if len(rows) > 2:
        twin = rows[2][1]
        print(
            f"  ratio windvane / no-op returning the same result: p50 {S.pct(main, 50) / S.pct(twin, 50):.2f}x, "
            f"p95 {S.pct(main, 95) / S.pct(twin, 95):.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    print(f"warm call, {args.calls} calls each; {S.machine()}; {S.stamp()}")
    report("in-memory (SDK Client, direct dispatch)", in_memory(args.calls))
    report("stdio (spawned process, newline JSON-RPC)", over_stdio(args.calls))


if __name__ == "__main__":
    main()
