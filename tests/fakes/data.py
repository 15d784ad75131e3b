"""Loaders for the real market history in ../shared/data (read-only, never copied into the repo)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DATA = SHARED / "data"
PAYLOADS = SHARED / "payloads"
# CI sets it: there ../shared must be present, and a real-data test that would skip fails instead.
REQUIRE_SHARED_ENV = "WINDVANE_REQUIRE_SHARED"
SHARED_MISSING = (
    f"real-data test: it replays ../shared (the real market history and captured API responses gathered for "
    f"windvane, kept beside the checkout, never in it), not found at {SHARED}"
)


def shared_present() -> bool:
    return DATA.is_dir() and PAYLOADS.is_dir()


@cache
def coinbase_daily() -> dict[int, tuple[float, float, float, float, float]]:
    """Coinbase BTC-USD daily bars: open time (s) -> (open, high, low, close, volume), partial last day dropped."""
    path = DATA / "02_coinbase_btcusd_candles" / "coinbase_btcusd_1d.csv"
    bars: dict[int, tuple[float, float, float, float, float]] = {}
    with path.open() as fh:
        for row in csv.DictReader(fh):
            t = int(datetime.fromisoformat(row["timestamp"]).timestamp())
            bars[t] = (
                float(row["open"]),
                float(row["high"]),
                float(row["low"]),
                float(row["close"]),
                float(row["volume"]),
            )
    last = max(bars)
    del bars[last]
    return bars


@cache
def binance_daily() -> dict[int, list[str]]:
    """Binance spot BTCUSDT daily klines: open time (unix ms) -> the 12 kline fields as the API sends them."""
    path = DATA / "03_binance_btcusdt_spot_candles" / "binance_btcusdt_spot_1d.csv"
    rows: dict[int, list[str]] = {}
    with path.open() as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            rows[int(row[0])] = row
    del rows[max(rows)]
    return rows


def day_ts(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


ETF_FLOW_FILES = {"BTC": "farside_btc_etf_flows_daily.csv", "ETH": "farside_eth_etf_flows_daily.csv"}


@cache
def etf_flows_csv(asset: str) -> tuple[tuple[str, ...], tuple[tuple[str, dict[str, float | None], float], ...]]:
    """Farside's daily ETF flows from ../shared/data (US$m): the fund tickers and (date, {ticker: value}, Total) rows.

    An empty cell is Farside's '-' (no figure) and stays None.
    """
    path = DATA / "01_us_spot_btc_etf_flows_farside" / ETF_FLOW_FILES[asset]
    with path.open() as fh:
        reader = csv.reader(fh)
        header = next(reader)
        tickers = tuple(header[1:-1])
        rows = []
        for row in reader:
            funds = {t: (float(v) if v.strip() else None) for t, v in zip(tickers, row[1:-1], strict=True)}
            rows.append((row[0], funds, float(row[-1])))
    return tickers, tuple(rows)
