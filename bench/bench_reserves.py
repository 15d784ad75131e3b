"""How long a cold keyless exchange_reserve_trend call takes against Esplora with a given latency per request.

Serves the fake Esplora (tests/fakes/esplora.py) through an async transport that sleeps `--latency-ms` per request,
so the number reflects the 4-wide concurrency limit, not the speed of this machine. Run from the repository root:
    python -m bench.bench_reserves --latency-ms 150
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import anyio
import httpx


async def run(latency_s: float, as_of: str | None) -> None:
    from mcp import Client

    from server.app import build_server
    from tests.conftest import FROZEN_NOW, make_settings
    from tests.fakes import default_fake

    fake = default_fake()

    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(latency_s)
        return fake.handle(request)

    settings = make_settings(Path(tempfile.mkdtemp()))
    server = build_server(settings, transport=httpx.MockTransport(slow), clock=lambda: FROZEN_NOW)
    args = {} if as_of is None else {"as_of": as_of}
    async with Client(server) as client:  # type: ignore[arg-type]
        for label in ("cold", "warm (cached)"):
            before = len(fake.requests)
            start = time.perf_counter()
            result = await client.call_tool("exchange_reserve_trend", args)
            elapsed = time.perf_counter() - start
            assert not result.is_error, result.content
            print(f"{label:14s} {elapsed:7.2f} s  {len(fake.requests) - before:4d} upstream requests")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--as-of", default=None)
    args = parser.parse_args()
    anyio.run(run, args.latency_ms / 1000, args.as_of)


if __name__ == "__main__":
    main()
