"""`windvane backtest`: the scoring's calibration report, day by day with no look-ahead, in and out of sample."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from server.commands import iso_date

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from server.backtest.report import BacktestReport, HistoryProvider

    Progress = Callable[[date], None] | None

    from server.settings import Settings
    from tools.args import Asset

NAME = "backtest"
HELP = "score every day of a range and report forward 7/30-day returns per verdict against a 50-day-average baseline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", required=True, type=iso_date, help="first day (UTC), e.g. 2024-01-01")
    parser.add_argument("--to", dest="end", required=True, type=iso_date, help="last day (UTC), e.g. 2025-12-31")
    parser.add_argument("--asset", default="BTC", type=str.upper, choices=["BTC", "ETH"])
    parser.add_argument(
        "--write-calibration",
        nargs="?",
        const="",
        default=None,
        metavar="FILE",
        help="also write each verdict's historical outcome as the calibration file the assessment reports "
        "(default FILE: the packaged tools/assess/data/calibration.json)",
    )
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
    calibration_file: Path | None = None,
) -> str:
    from server.backtest.report import render_markdown
    from server.backtest.report import run_backtest as run

    async def run_backtest(provider: HistoryProvider, start: date, end: date, progress: Progress) -> BacktestReport:
        report = await run(provider, start, end, progress)
        if calibration_file is not None:
            from server.backtest.calibration import command_line, write_calibration

            flag = "--data-dir ../shared/data" if data_dir is not None else ("--replay" if replay else "")
            write_calibration(report, command_line(report, flag), calibration_file)
            print(f"  wrote {calibration_file}", file=sys.stderr)
        return report

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
            from server.runtime import store_fault, store_problem
            from store.base import StoreError

            problem = await store_problem(deps)
            if problem is not None:
                raise StoreError(problem)
            assert deps.store is not None
            provider = await store_provider(deps.store, asset)
            fault = store_fault(deps)
            if fault is not None:  # a read failed after the store opened: the history read is incomplete
                raise StoreError(fault)
            if not provider.bars:
                raise InputError(
                    f"the history store has no Coinbase {asset}-USD daily candles; run `windvane backfill --since "
                    f"{start}` first, or use --replay or --data-dir"
                )
            report = await run_backtest(provider, start, end, progress)
    return render_markdown(report)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    from server.stores import unavailable
    from store.base import StoreError
    from tools.errors import InputError

    if args.end < args.start:
        print(f"windvane backtest: --to {args.end} is before --from {args.start}", file=sys.stderr)
        return 2
    if args.data_dir is not None and args.asset != "BTC":
        print("windvane backtest: --data-dir history is BTC only", file=sys.stderr)
        return 2
    calibration_file = None
    if args.write_calibration is not None:
        from server.backtest.calibration import PACKAGED

        calibration_file = Path(args.write_calibration) if args.write_calibration else PACKAGED
    try:
        text = anyio.run(
            backtest_text,
            settings,
            args.start,
            args.end,
            args.asset,
            args.data_dir,
            None,
            args.replay,
            calibration_file,
        )
    except StoreError as exc:
        print(unavailable(exc), file=sys.stderr)
        return 1
    except (InputError, OSError) as exc:
        print(f"windvane backtest: {exc}", file=sys.stderr)
        return 2
    print(text)
    return 0
