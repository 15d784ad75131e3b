"""Cold assess_rebound_vs_reversal with every upstream delayed 200 ms, against one upstream call.

Not part of the test suite. Run from the repository root:
    /tmp/venv/bin/python bench/assess_cold.py [--runs 5] [--configs cold,collected,no-reserves] [--mcp]
Every request goes to the fake upstream (real shared data in each API's format) through an httpx.MockTransport
whose handler sleeps DELAY_S first. A fresh cache and a fresh history store per run make each run cold. The goal is
assess time <= 1.3 x one upstream call: the tools run concurrently, so the call waits only for the slowest chain of
requests. Three configurations:

- cold: every tool, an empty store. The worst case: the keyless reserve tool reads hundreds of wallets at a polite
  concurrency, so the assessment is cut at its per-tool budget (the call deadline, WINDVANE_TOOL_DEADLINE_S).
- collected: every tool, on a store that `windvane collect` has been filling (the intended deployment): a round at
  each day end the assessment reads (the last 40 days, and every month end back to the previous year end, for the
  reserve tool's monthly and year-to-date changes) and one 10 minutes before "now", recorded through the delay-free
  fake. Each run starts from a copy of that store, with an empty cache.
- no-reserves: without the reserve tool, an empty store.
- cold-process: every tool, an empty store, the fake upstream in a process of its own on loopback (its CPU no longer
  runs in the measured event loop, as a real upstream's does not), every answer delayed DELAY_S there.
- served: as cold-process, on the store one background refresh round leaves (what `windvane serve` runs at start-up
  and every 5 minutes: OKX's liquidation cursor, DefiLlama's pages), with an empty cache: a served first call.

`BENCH_DELAY_S=0` shows the pure CPU cost.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import FROZEN_NOW, make_settings
from tests.fakes import FakeUpstream, default_fake

DELAY_S = float(os.environ.get("BENCH_DELAY_S", "0.2"))
AS_OFS = (None, "2025-11-24")
CONFIGS = ("cold", "collected", "no-reserves", "cold-process", "served")
COLLECT_DAYS = 40  # day ends with a collect round: covers the 30-day reserve window ending at either as_of
DB_NAME = "windvane.sqlite3"


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


@contextmanager
def fake_process() -> Iterator[str]:
    """The fake upstream in its own process on 127.0.0.1, each answer delayed DELAY_S: its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.serve", "--port", "0", "--delay-ms", str(DELAY_S * 1000)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def process_settings(tmp: str, base: str, template: Path | None = None) -> Any:
    from tests.fakes.serve import env_for

    settings = fresh_settings(tmp, template)
    urls = {k.removeprefix("WINDVANE_").removesuffix("_BASE_URL").lower(): v for k, v in env_for(base).items()}
    return replace(settings, base_urls={**settings.base_urls, **urls})


async def one_loopback_call(settings: Any) -> float:
    from fetchers import coinbase
    from server.runtime import open_deps

    async with open_deps(settings) as deps:
        start = time.perf_counter()
        await coinbase.fetch_ticker(deps.http, "BTC-USD")
        return time.perf_counter() - start


async def served_store(settings: Any) -> None:
    """One background refresh round, as `windvane serve` runs it at start-up."""
    from server.background import refresh_once
    from server.runtime import open_deps
    from tools.registry import tool_specs

    async with open_deps(settings, clock=lambda: FROZEN_NOW) as deps:
        await refresh_once(deps, [s for s in tool_specs() if s.refresh is not None])


async def cold_assess_loopback(settings: Any, as_of: str | None) -> tuple[float, int, int]:
    from server.runtime import open_deps
    from tools.assess.tool import SPEC, AssessArgs
    from tools.point_in_time import PointInTime

    async with open_deps(settings, clock=lambda: FROZEN_NOW) as deps:
        start = time.perf_counter()
        out = await SPEC.run_within_deadline(deps, AssessArgs(as_of=as_of), PointInTime.parse(as_of, deps.clock()))
        elapsed = time.perf_counter() - start
        requests = sum(s.upstream_requests for s in deps.http.status.values())
    available = sum(1 for s in out.signals if s.reading != "unavailable")
    return elapsed, requests, available


async def process_configs(tmp: str, configs: list[str], runs: int) -> None:
    with fake_process() as base:
        await cold_assess_loopback(process_settings(tmp, base), None)  # warm the fake's lazily built data
        one = median([await one_loopback_call(process_settings(tmp, base)) for _ in range(runs)])
        print(f"one loopback upstream call: median {one * 1000:.0f} ms over {runs} runs")
        template = None
        if "served" in configs:
            seed = process_settings(tmp, base)
            await served_store(seed)
            template = seed.resolved_db_path()
        for config in [c for c in configs if c in ("cold-process", "served")]:
            for as_of in AS_OFS:
                seed_path = template if config == "served" else None
                got = [await cold_assess_loopback(process_settings(tmp, base, seed_path), as_of) for _ in range(runs)]
                t = median(r[0] for r in got)
                label = "now" if as_of is None else f"as_of={as_of}"
                print(
                    f"{config:<12} assessment ({label}): median {t * 1000:.0f} ms "
                    f"({min(r[0] for r in got):.2f}-{max(r[0] for r in got):.2f} s), "
                    f"{median(r[1] for r in got):.0f} upstream requests, {median(r[2] for r in got):.0f} signals "
                    f"available -> ratio {t / one:.2f}x"
                )


def _frozen(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def seed_collected_store(settings: Any) -> int:
    """A store as `windvane collect` leaves it after running for COLLECT_DAYS days: returns the rows written."""
    from server.commands.collect import collect_round
    from server.runtime import open_deps
    from tools.registry import tool_specs

    specs = [s for s in tool_specs() if s.collect is not None]
    last_day_end = FROZEN_NOW.replace(hour=23, minute=50) - timedelta(days=1)
    days = {last_day_end - timedelta(days=i) for i in range(COLLECT_DAYS)}
    # The reserve tool also reads the two previous month ends and the previous year end (its monthly and YTD changes).
    month_end = last_day_end.replace(day=1) - timedelta(days=1)
    while month_end >= last_day_end.replace(year=last_day_end.year - 1, month=12, day=31):
        days.add(month_end)
        month_end = month_end.replace(day=1) - timedelta(days=1)
    moments = [*sorted(days), FROZEN_NOW - timedelta(minutes=10)]
    fake = default_fake()
    total = 0
    for moment in moments:
        # One Deps per round: a round at another clock must not be answered from the previous round's cache.
        async with open_deps(settings, transport=fake.transport(), clock=_frozen(moment)) as deps:
            rows, failed = await collect_round(deps, specs)
        total += rows
        if failed:
            print(f"  collect at {moment:%Y-%m-%d %H:%M}: failed {failed}")
    return total


def without_reserves() -> tuple[Any, ...]:
    import tools.assess.gather

    full = tools.assess.gather.SUB_TOOLS
    tools.assess.gather.SUB_TOOLS = tuple(t for t in full if not t.label.startswith("exchange_reserve_trend"))
    return full


async def cold_assess_tool(settings: Any, as_of: str | None) -> tuple[float, int, int]:
    """The tool's own time: compute_assessment on fresh dependencies (empty cache)."""
    from server.runtime import open_deps
    from tools.assess.tool import compute_assessment
    from tools.point_in_time import PointInTime

    fake = default_fake()
    async with open_deps(settings, transport=delayed(fake), clock=lambda: FROZEN_NOW) as deps:
        start = time.perf_counter()
        out = await compute_assessment(deps, "BTC", PointInTime.parse(as_of, deps.clock()))
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


def fresh_settings(tmp: str, template: Path | None) -> Any:
    """A new directory per run; with a template, a copy of the seeded store in it."""
    run_dir = Path(tempfile.mkdtemp(dir=tmp))
    if template is not None:
        shutil.copy(template, run_dir / DB_NAME)
    return make_settings(run_dir)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="cold runs per measurement (median reported)")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, from {', '.join(CONFIGS)}")
    parser.add_argument("--mcp", action="store_true", help="also measure through the SDK's in-memory client")
    args = parser.parse_args()
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configuration(s) {sorted(unknown)}; use {', '.join(CONFIGS)}")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("windvane").setLevel(logging.ERROR)
    print(f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {os.cpu_count()} CPUs, delay {DELAY_S * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        base = median([await one_upstream_call(make_settings(Path(tmp))) for _ in range(args.runs)])
        print(f"one upstream call: median {base * 1000:.0f} ms over {args.runs} runs")
        template = None
        if "collected" in configs:
            seed_dir = Path(tempfile.mkdtemp(dir=tmp))
            start = time.perf_counter()
            rows = await seed_collected_store(make_settings(seed_dir))
            template = seed_dir / DB_NAME
            print(f"seeded a collected store: {rows} rows in {time.perf_counter() - start:.1f} s")
        hows = [("compute_assessment", cold_assess_tool)] + ([("MCP client", cold_assess_mcp)] if args.mcp else [])
        await process_configs(tmp, configs, args.runs)
        for config in [c for c in configs if c not in ("cold-process", "served")]:
            full = without_reserves() if config == "no-reserves" else None
            try:
                for how, run in hows:
                    for as_of in AS_OFS:
                        seed = template if config == "collected" else None
                        runs = [await run(fresh_settings(tmp, seed), as_of) for _ in range(args.runs)]
                        t = median(r[0] for r in runs)
                        label = "now" if as_of is None else f"as_of={as_of}"
                        spread = f"{min(r[0] for r in runs):.2f}-{max(r[0] for r in runs):.2f} s"
                        print(
                            f"{config:<12} {how} ({label}): median {t * 1000:.0f} ms ({spread}), "
                            f"{median(r[1] for r in runs):.0f} upstream requests, "
                            f"{median(r[2] for r in runs):.0f} signals available -> ratio {t / base:.2f}x"
                        )
            finally:
                if full is not None:
                    import tools.assess.gather

                    tools.assess.gather.SUB_TOOLS = full


if __name__ == "__main__":
    anyio.run(main)
