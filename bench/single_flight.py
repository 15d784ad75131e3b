"""Single-flight: 100 concurrent identical cold calls of get_coinbase_premium -> upstream requests. Goal 1.

    python bench/single_flight.py [--concurrency 100] [--delay 0.05]

A fresh server (empty cache), every upstream delayed `--delay` seconds so the calls overlap, then `--concurrency`
identical calls at once through the SDK's in-memory client. Reports upstream requests per endpoint; the ratio is
requests to Coinbase BTC-USD candles per endpoint page (1.0 means every caller shared one request).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import _support as S
import anyio
import httpx

logging.disable(logging.WARNING)


async def burst(server: Any, concurrency: int) -> tuple[float, int]:
    from mcp import Client

    errors = 0

    async with Client(server) as client:

        async def one() -> None:
            nonlocal errors
            result = await client.call_tool("get_coinbase_premium", S.WARM_ARGS)
            errors += bool(result.is_error)

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(one)
    return time.perf_counter() - started, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    from server.app import build_server
    from tests.conftest import make_settings
    from tests.fakes import default_fake

    fake = default_fake()

    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(args.delay)
        return fake.handle(request)

    with tempfile.TemporaryDirectory() as tmp:
        server = build_server(make_settings(Path(tmp)), transport=httpx.MockTransport(slow))
        elapsed, errors = anyio.run(burst, server, args.concurrency)
    per_endpoint = Counter(f"{r.url.host}{r.url.path}" for r in fake.requests)
    print(f"single-flight, {args.concurrency} concurrent cold calls; {S.machine()}; {S.stamp()}")
    print(f"  wall time {elapsed:.3f} s, tool errors {errors}")
    for endpoint, count in sorted(per_endpoint.items()):
        print(f"  {count:4d}  {endpoint}")
    worst = max(per_endpoint.values())
    print(f"  upstream requests per endpoint: max {worst} (goal 1); total {sum(per_endpoint.values())}")


if __name__ == "__main__":
    main()
