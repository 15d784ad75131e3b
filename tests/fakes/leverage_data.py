"""Real series behind the derivatives fakes (read from ../shared/data at runtime, never copied).

CryptoQuant's all-exchange daily BTC liquidations, open interest and funding (folder 06) and Binance's USD-M
perpetual hourly klines (folder 04). Venue fakes split the all-exchange figures by fixed VENUE_SHARE so that the sums
and changes windvane computes can be checked against the CSVs exactly.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from functools import cache

from tests.fakes.data import DATA

CQ = DATA / "06_cryptoquant_btc_exchange_flows_liquidations"
PERP = DATA / "04_binance_btcusdt_usdm_perp_1h"
FAKE_NOW = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)  # equals tests.conftest.FROZEN_NOW
# Fixed shares of the all-exchange open interest and liquidations that each venue fake serves.
VENUE_SHARE = {"binance_futures": 0.30, "okx": 0.10, "bybit": 0.18}
HOUR = timedelta(hours=1)


@cache
def cq_daily(name: str) -> dict[date, float]:
    """A CryptoQuant daily CSV (`date,<metric>`) as date -> value; blank cells are left out."""
    out: dict[date, float] = {}
    with (CQ / name).open() as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            if len(row) > 1 and row[1].strip():
                out[date.fromisoformat(row[0])] = float(row[1])
    return out


def long_liquidations() -> dict[date, float]:
    return cq_daily("btc_long_liquidations_usd_daily.csv")


def short_liquidations() -> dict[date, float]:
    return cq_daily("btc_short_liquidations_usd_daily.csv")


def open_interest() -> dict[date, float]:
    return cq_daily("btc_open_interest_daily.csv")


def funding_pct() -> dict[date, float]:
    """CryptoQuant's all-exchange funding rate, in percent per 8 hours (0.0058 on 2025-11-21)."""
    return cq_daily("btc_funding_rates_daily.csv")


@cache
def perp_hourly() -> dict[int, list[str]]:
    """Binance USD-M BTCUSDT 1h klines: open time ms -> the 12 CSV fields (strings, as the API sends them)."""
    rows: dict[int, list[str]] = {}
    for path in sorted(PERP.glob("BTCUSDT-1h-*.csv")):
        with path.open() as fh:
            reader = csv.reader(fh)
            next(reader)
            for row in reader:
                rows[int(row[0])] = row
    return rows


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def from_ms(value: int | str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def hour_open(t: datetime) -> float:
    """The perpetual's price at an hour boundary: the open of the bar starting then."""
    return float(perp_hourly()[ms(t)][1])


def venue_oi_usd(venue: str, t: datetime) -> float:
    """The venue's OI at time t: its share of that UTC day's all-exchange OI (a step function per day)."""
    return VENUE_SHARE[venue] * open_interest()[t.date()]


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """Whole hours h with start <= h <= end, ascending."""
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += HOUR
    out = []
    t = first
    while t <= end:
        out.append(t)
        t += HOUR
    return out
