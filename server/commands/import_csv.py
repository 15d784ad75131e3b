"""`windvane import`: loads public CSV exports into the history store (Farside ETF flows, OHLC candles).

What the file is (asset, units, layout, bar size) is read from its content; a flag that contradicts it is refused
(exit 2). The plan (what, series, rows, date range) is printed first; `--dry-run` stops there. Stored rows with
other values are conflicts: refused (exit 1, listed) unless `--replace`. The rows go in one transaction.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.settings import Settings
    from tools.history.csv_import import ImportPlan
    from tools.history.import_guard import Compared

NAME = "import"
HELP = "load a Farside ETF flow table or an OHLC candle CSV into the history store"

VENUES = ("binance", "coinbase")
DETECT = "detect"  # tools.history.import_detect.DETECT (not imported here: `windvane --help` stays instant)
CONFLICTS_LISTED = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--etf-flows", type=Path, metavar="FILE", help="Farside-style table: date,<TICKER>...,Total")
    what.add_argument("--candles", type=Path, metavar="FILE", help="OHLC candles (Coinbase or Binance layout)")
    parser.add_argument(
        "--asset",
        choices=[DETECT, "BTC", "ETH"],
        default=DETECT,
        help="asset of the ETF flow table (default: its funds)",
    )
    parser.add_argument(
        "--venue",
        choices=[DETECT, *VENUES],
        default=DETECT,
        help="venue of the candles (default: layout)",
    )
    parser.add_argument("--product", help="pair as BASE-QUOTE (default BTC-USD for coinbase, BTC-USDT for binance)")
    parser.add_argument(
        "--interval", choices=[DETECT, "1d", "1h"], default=DETECT, help="bar size (default: the bars' spacing)"
    )
    parser.add_argument(
        "--keep-last", action="store_true", help="keep the last candle (dropped by default: usually still forming)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    parser.add_argument("--replace", action="store_true", help="overwrite stored rows whose values differ")


def plan_for(args: argparse.Namespace) -> ImportPlan:
    """The file read and identified (blocking; raises ImportFormatError / ImportMismatchError)."""
    from tools.history.csv_import import candle_plan, read_etf_flows

    if args.etf_flows is not None:
        return read_etf_flows(args.etf_flows, args.asset)
    pair = None if args.product is None else args.product.upper()
    if pair is not None and "-" not in pair:
        raise ValueError(f"--product {pair!r} must be BASE-QUOTE, e.g. BTC-USD")
    return candle_plan(args.candles, args.venue, pair, args.interval, keep_last=args.keep_last)


def describe(path: Path, plan: ImportPlan, compared: Compared) -> list[str]:
    span = "no rows" if plan.first is None or plan.last is None else f"{plan.first:%Y-%m-%d}..{plan.last:%Y-%m-%d}"
    return [
        f"{path.name}: {plan.what}",
        f"  series: {plan.series}",
        f"  {plan.rows_read} rows read: {len(plan.observations)} values, {span}; {plan.skipped} skipped: "
        f"{plan.skipped_what}",
        f"  against the store: {len(compared.new)} new, {compared.identical} identical (kept), "
        f"{len(compared.conflicts)} differ",
    ]


def conflict_lines(compared: Compared) -> list[str]:
    shown = [f"  {c.describe()}" for c in compared.conflicts[:CONFLICTS_LISTED]]
    more = len(compared.conflicts) - len(shown)
    return shown + ([f"  ... and {more} more"] if more > 0 else [])


async def execute(args: argparse.Namespace, settings: Settings, *, store: Any = None) -> tuple[int, str]:
    import anyio.to_thread

    from server.stores import open_store, unavailable
    from store.base import StoreError
    from tools.history import import_guard
    from tools.history.csv_import import ImportFormatError
    from tools.history.import_detect import ImportMismatchError

    path: Path = args.etf_flows or args.candles
    try:
        plan = await anyio.to_thread.run_sync(plan_for, args)
    except (ImportFormatError, ImportMismatchError, ValueError) as exc:
        return 2, f"windvane: {exc}"
    opened = store if store is not None else open_store(settings)
    try:
        compared = await import_guard.compare(opened, plan)
        lines = describe(path, plan, compared)
        if args.dry_run:
            return 0, "\n".join([*lines, *conflict_lines(compared), "dry run: nothing written"])
        if compared.conflicts and not args.replace:
            refusal = f"refused: {len(compared.conflicts)} stored value(s) differ from the file; nothing written"
            hint = "pass --replace to overwrite them with the file's values"
            return 1, "\n".join([*lines, f"windvane import {refusal}:", *conflict_lines(compared), hint])
        written = await import_guard.write(opened, plan, compared, replace=args.replace)
    except StoreError as exc:
        return 1, unavailable(exc)
    finally:
        if store is None:
            await opened.close()
    replaced = f", {len(compared.conflicts)} of them replacing stored values" if compared.conflicts else ""
    return 0, "\n".join([*lines, f"imported: {written} values written in one transaction{replaced}"])


def run(args: argparse.Namespace, settings: Settings) -> int:
    import sys

    import anyio

    path: Path = args.etf_flows or args.candles
    if not path.is_file():
        print(f"windvane: {path} is not a file", file=sys.stderr)
        return 2
    code, message = anyio.run(execute, args, settings)
    print(message, file=sys.stderr if code else sys.stdout)
    return code
