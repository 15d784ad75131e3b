"""`windvane import`: loads public CSV exports into the history store (Farside ETF flows, OHLC candles)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.settings import Settings

NAME = "import"
HELP = "load a Farside ETF flow table or an OHLC candle CSV into the history store"

DEFAULT_PRODUCT = {"coinbase": "BTC-USD", "binance": "BTC-USDT"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--etf-flows", type=Path, metavar="FILE", help="Farside-style table: date,<TICKER>...,Total")
    what.add_argument("--candles", type=Path, metavar="FILE", help="OHLC candles (Coinbase or Binance layout)")
    parser.add_argument("--asset", choices=["BTC", "ETH"], default="BTC", help="asset of the ETF flow table")
    parser.add_argument("--venue", choices=sorted(DEFAULT_PRODUCT), help="venue the candles come from")
    parser.add_argument("--product", help="pair as BASE-QUOTE (default BTC-USD for coinbase, BTC-USDT for binance)")
    parser.add_argument("--interval", choices=["1d", "1h"], default="1d", help="bar size of the candles")
    parser.add_argument(
        "--keep-last", action="store_true", help="keep the last candle (dropped by default: usually still forming)"
    )


async def execute(args: argparse.Namespace, settings: Settings, *, store: Any = None) -> tuple[int, str]:
    from server.stores import open_store
    from tools.history.csv_import import ImportFormatError, import_candles, import_etf_flows

    path: Path = args.etf_flows or args.candles
    if args.candles is not None and args.venue is None:
        return 2, "windvane: --candles needs --venue coinbase|binance"
    opened = store if store is not None else open_store(settings)
    try:
        if args.etf_flows is not None:
            result = await import_etf_flows(opened, path, args.asset)
            what = f"ETF flows ({args.asset}) as farside/net_flow_usd/{args.asset}/<TICKER|TOTAL>"
        else:
            pair = (args.product or DEFAULT_PRODUCT[args.venue]).upper()
            if "-" not in pair:
                return 2, f"windvane: --product {pair!r} must be BASE-QUOTE, e.g. BTC-USD"
            result = await import_candles(opened, path, args.venue, pair, args.interval, keep_last=args.keep_last)
            what = f"{args.interval} candles as {args.venue}/<open|high|low|close|volume>/{pair}/{args.interval}"
    except ImportFormatError as exc:
        return 2, f"windvane: {exc}"
    finally:
        if store is None:
            await opened.close()
    span = "" if result.first is None or result.last is None else f" {result.first:%Y-%m-%d}..{result.last:%Y-%m-%d}"
    return 0, (
        f"imported {path.name}: {result.rows_read} rows read, {result.observations} observations stored{span}, "
        f"{result.skipped_empty} skipped (empty cells or the forming last bar); {what}"
    )


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
