"""A backtest history read straight from the user's history store (what `windvane backfill` and `import` fill).

Fast: every series is read once and sliced per day. It covers the series with a history the store can be filled
with: Coinbase and Binance daily candles (premium and trend) and ETF flow days. Figures that only accrue through
`windvane collect` (reserves, leverage, macro snapshots) are reported unavailable here; `--replay` asks the tools.
A row dated after the scored day is never read; the store's `fetched_at` is not used as a filter, because backfilled
history is fetched long after the day it describes.
"""

from __future__ import annotations

from datetime import date

from server.backtest.shared_data import Series, SeriesProvider, empty
from store.base import Observation, SeriesKey, Store
from tools.assess.trend import DailyBar
from tools.history import etf_store
from tools.history.candle_store import series_key

# ETF flow sources in the order get_etf_flows prefers them (farside keyless first).
ETF_SOURCES = ("farside", "sosovalue", "coinglass")
REFERENCE_SOURCE = "binance"


def _by_day(rows: list[Observation]) -> dict[date, float]:
    return {row.ts.date(): row.value for row in rows}


def _series(values: dict[date, float], source: str) -> Series:
    days = sorted(values)
    return Series(days, [values[d] for d in days], source)


async def store_provider(store: Store, asset: str = "BTC") -> SeriesProvider:
    pair = f"{asset}-USD"
    closes = _by_day(await store.read(series_key("coinbase", pair, "1d", "close")))
    highs = _by_day(await store.read(series_key("coinbase", pair, "1d", "high")))
    bars = [DailyBar(d.isoformat(), highs[d], closes[d]) for d in sorted(closes) if d in highs]
    reference = _by_day(await store.read(series_key(REFERENCE_SOURCE, f"{asset}-USDT", "1d", "close")))
    premium = {d: 100 * (closes[d] / reference[d] - 1) for d in closes if reference.get(d, 0) > 0}
    etf: Series = empty("history store: no ETF flow days")
    for source in ETF_SOURCES:
        rows = await store.read(SeriesKey(source, etf_store.METRIC, asset, etf_store.TOTAL_VENUE))
        if rows:
            etf = _series(_by_day(rows), f"history store: {source} ETF flows")
            break
    collected_only = "history store (only `windvane collect` accrues it)"
    return SeriesProvider(
        f"{asset} history store",
        bars=bars,
        bars_source="history store: coinbase daily candles",
        premium=_series(premium, "history store: coinbase vs binance daily closes"),
        etf=etf,
        reserve=empty(collected_only),
        netflow=empty(collected_only),
        oi=empty(collected_only),
        funding=empty(collected_only),
        liq_long=empty(collected_only),
        liq_short=empty(collected_only),
        mcap=empty(collected_only),
        nasdaq=empty(collected_only),
    )
