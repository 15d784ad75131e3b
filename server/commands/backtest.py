"""`windvane backtest`: the scoring's calibration report, day by day with no look-ahead, last third held out."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from server.commands import iso_date

if TYPE_CHECKING:
    import httpx

    from server.settings import Settings
    from tools.args import Asset

NAME = "backtest"
HELP = "score every day of a range and report forward 7/30-day returns per verdict against a 50-day-average baseline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", required=True, type=iso_date, help="first day (UTC), e.g. 2024-01-01")
    parser.add_argument("--to", dest="end", required=True, type=iso_date, help="last day (UTC), e.g. 2025-12-31")
    parser.add_argument("--asset", default="BTC", type=str.upper, choices=["BTC", "ETH"])
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--replay",
        action="store_true",
        help="replay every indicator tool with as_of for each day (all signals, slow) instead of reading the store",
    )
    source.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="read daily CSV history in windvane's shared-data layout instead of the history store",
    )


async def backtest_text(
    settings: Settings,
    start: date,
    end: date,
    asset: Asset,
    data_dir: Path | None,
    transport: httpx.AsyncBaseTransport | None = None,
    replay: bool = False,
) -> str:
    from server.backtest.report import render_markdown, run_backtest
    from tools.errors import InputError

    def progress(day: date) -> None:
        if day.day == 1:
            print(f"  scoring {day:%Y-%m} ...", file=sys.stderr)

    if data_dir is not None:
        from server.backtest.shared_data import SharedDataProvider

        return render_markdown(await run_backtest(SharedDataProvider(data_dir), start, end, progress))
    from server.runtime import open_deps

    async with open_deps(settings, transport=transport) as deps:
        if replay:
            from server.backtest.replay import ToolReplayProvider

            report = await run_backtest(ToolReplayProvider(deps, asset), start, end, progress)
        else:
            from server.backtest.store_history import store_provider

            assert deps.store is not None
            provider = await store_provider(deps.store, asset)
            if not provider.bars:
                raise InputError(
                    f"the history store has no Coinbase {asset}-USD daily candles; run `windvane backfill --since "
                    f"{start}` first, or use --replay or --data-dir"
                )
            report = await run_backtest(provider, start, end, progress)
    return render_markdown(report)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    from tools.errors import InputError

    if args.end < args.start:
        print(f"windvane backtest: --to {args.end} is before --from {args.start}", file=sys.stderr)
        return 2
    if args.data_dir is not None and args.asset != "BTC":
        print("windvane backtest: --data-dir history is BTC only", file=sys.stderr)
        return 2
    try:
        text = anyio.run(backtest_text, settings, args.start, args.end, args.asset, args.data_dir, None, args.replay)
    except (InputError, OSError) as exc:
        print(f"windvane backtest: {exc}", file=sys.stderr)
        return 2
    print(text)
    return 0
