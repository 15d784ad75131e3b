"""Cold assess_rebound_vs_reversal with every upstream delayed 200 ms, against one upstream call.

Not part of the test suite. Run from the repository root:  /tmp/venv/bin/python bench/assess_cold.py
Every request goes to the fake upstream (real shared data in each API's format) through an httpx.MockTransport
whose handler sleeps DELAY_S first. A fresh server (empty cache) and a fresh history store per run make each run
cold. The goal is assess time <= 1.3 x one upstream call: the tools run concurrently, so the call waits only for the
slowest chain of requests.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import FROZEN_NOW, make_settings
from tests.fakes import FakeUpstream, default_fake

DELAY_S = float(__import__("os").environ.get("BENCH_DELAY_S", "0.2"))
RUNS = 5


def delayed(fake: FakeUpstream) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(DELAY_S)
        return fake.handle(request)

    return httpx.MockTransport(handler)


async def one_upstream_call(settings: Any) -> float:
    from fetchers import coinbase
    from server.runtime import open_deps

    async with open_deps(settings, transport=delayed(default_fake())) as deps:
        start = time.perf_counter()
        await coinbase.fetch_ticker(deps.http, "BTC-USD")
        return time.perf_counter() - start


async def cold_assess_tool(settings: Any, as_of: str | None) -> tuple[float, int, int]:
    """The tool's own time: compute_assessment on fresh dependencies (empty cache)."""
    from server.runtime import open_deps
    from tools.assess import compute_assessment

    fake = default_fake()
    async with open_deps(settings, transport=delayed(fake), clock=lambda: FROZEN_NOW) as deps:
        start = time.perf_counter()
        out = await compute_assessment(deps, "BTC", as_of)
        elapsed = time.perf_counter() - start
    available = sum(1 for s in out.signals if s.reading != "unavailable")
    return elapsed, len(fake.requests), available


async def cold_assess_mcp(settings: Any, as_of: str | None) -> tuple[float, int, int]:
    """End to end through the SDK's in-memory client: adds the client's output-schema validation."""
    from mcp import Client

    from server.app import build_server

    fake = default_fake()
    server = build_server(settings, transport=delayed(fake), clock=lambda: FROZEN_NOW)
    args = {} if as_of is None else {"as_of": as_of}
    async with Client(server) as client:  # type: ignore[arg-type]
        start = time.perf_counter()
        result = await client.call_tool("assess_rebound_vs_reversal", args)
        elapsed = time.perf_counter() - start
    assert not result.is_error, result.content
    available = sum(1 for s in result.structured_content["signals"] if s["reading"] != "unavailable")
    return elapsed, len(fake.requests), available


async def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp))
        base = median([await one_upstream_call(settings) for _ in range(RUNS)])
        print(f"one upstream call (delay {DELAY_S * 1000:.0f} ms): median {base * 1000:.0f} ms over {RUNS} runs")
        for how, run in (("compute_assessment", cold_assess_tool), ("MCP in-memory client", cold_assess_mcp)):
            for as_of in (None, "2025-11-24"):
                # A fresh history store per run as well as a fresh cache: bars stored by one run would warm the next.
                runs = [await run(make_settings(Path(tempfile.mkdtemp(dir=tmp))), as_of) for _ in range(RUNS)]
                t = median(r[0] for r in runs)
                label = "now" if as_of is None else f"as_of={as_of}"
                print(
                    f"cold assess, {how} ({label}): median {t * 1000:.0f} ms, {runs[0][1]} upstream requests, "
                    f"{runs[0][2]} signals available -> ratio {t / base:.2f}x"
                )


if __name__ == "__main__":
    anyio.run(main)
