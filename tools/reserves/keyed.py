"""The keyed reserve sources for exchange_reserve_trend: CryptoQuant (all exchanges) and CoinGlass (per exchange).

Both are optional: an unconfigured source is simply absent. The per-exchange figures of the answer (CoinGlass's, or
DefiLlama's keyless) are cross-checked against the labelled wallets' snapshots where both cover an exchange.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fetchers import coinglass_exchange, cryptoquant
from fetchers.address_book import AddressBook
from fetchers.concurrency import gather
from fetchers.http import Fetched
from schemas.reserves import CrossCheck, ExchangeReserve
from tools.deps import Deps
from tools.numbers import rounded
from tools.provenance import Provenance
from tools.reserves.periods import Points, difference, end_of_day, pct_change

# Venues the address book does not list but CoinGlass reports; the same institutional/retail/derivatives reading.
KNOWN_CATEGORIES = {
    "coinbase": "institutional",
    "coinbasepro": "institutional",
    "gemini": "institutional",
    "bitstamp": "institutional",
    "kraken": "institutional",
    "bitfinex": "institutional",
    "binance": "retail",
    "okx": "retail",
    "bitget": "retail",
    "htx": "retail",
    "huobi": "retail",
    "gate": "retail",
    "mexc": "retail",
    "cryptocom": "retail",
    "kucoin": "retail",
    "robinhood": "retail",
    "bybit": "derivatives",
    "deribit": "derivatives",
    "bitmex": "derivatives",
}


# Vendor spellings of the same venue, so a cross-check pairs them (names compared lower-case, alphanumerics only).
ALIASES = {"gateio": "gate", "huobi": "htx", "okex": "okx", "binance2": "binance"}


SOURCE_NAMES = {"coinglass": "CoinGlass", "defillama": "DefiLlama"}


def normalise_exchange(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return ALIASES.get(key, key)


def category_for(book: AddressBook, exchange: str) -> str | None:
    return book.category_of(exchange) or KNOWN_CATEGORIES.get(normalise_exchange(exchange))


def chart_value(chart: coinglass_exchange.BalanceChart, exchange: str, instant: datetime) -> float | None:
    series = chart.by_exchange.get(exchange)
    if series is None:
        return None
    best: float | None = None
    for when, value in zip(chart.times, series, strict=True):
        if when <= instant and value is not None:
            best = value
    return best


# -- assembly ------------------------------------------------------------------------------------------------------


@dataclass
class Keyed:
    cq_reserve: Fetched[list[cryptoquant.DailyValue]] | None = None
    cq_netflow: Fetched[list[cryptoquant.DailyValue]] | None = None
    cg_list: Fetched[list[coinglass_exchange.ExchangeBalance]] | None = None
    cg_chart: Fetched[coinglass_exchange.BalanceChart] | None = None

    @property
    def per_exchange(self) -> bool:
        return self.cg_list is not None or self.cg_chart is not None


async def fetch_keyed(deps: Deps, prov: Provenance, points: Points, today: date) -> Keyed:
    """CryptoQuant and CoinGlass, concurrently; an unconfigured source is simply absent."""
    http = deps.http

    async def cg_list() -> Fetched[list[coinglass_exchange.ExchangeBalance]] | None:
        if not points.live:  # the list is "now" only
            return None
        return await prov.attempt(
            "CoinGlass balance list", lambda: coinglass_exchange.fetch_balance_list(http), optional=True
        )

    reserve_from, netflow_from = min(points.days()), points.window_start + timedelta(days=1)
    out = Keyed(
        *await gather(
            lambda: prov.attempt(
                "CryptoQuant reserve",
                lambda: cryptoquant.fetch_reserve(http, reserve_from, points.end_day, today=today),
                optional=True,
            ),
            lambda: prov.attempt(
                "CryptoQuant netflow",
                lambda: cryptoquant.fetch_netflow(http, netflow_from, points.end_day, today=today),
                optional=True,
            ),
            cg_list,
            lambda: prov.attempt(
                "CoinGlass balance chart", lambda: coinglass_exchange.fetch_balance_chart(http), optional=True
            ),
        )
    )
    for fetched in (out.cq_reserve, out.cq_netflow, out.cg_list, out.cg_chart):
        if fetched is not None:
            prov.add(fetched)
    return out


def coinglass_rows(book: AddressBook, keyed: Keyed, points: Points, window_days: int) -> list[ExchangeReserve]:
    chart = keyed.cg_chart.value if keyed.cg_chart is not None else None
    listed = {b.exchange: b for b in keyed.cg_list.value} if keyed.cg_list is not None else {}
    names = set(listed) | (set(chart.by_exchange) if chart is not None else set())
    start_at = end_of_day(points.window_start)
    rows = []
    for name in sorted(names):
        end = listed[name].btc if name in listed else None
        if end is None and chart is not None:
            end = chart_value(chart, name, points.end)
        start = None
        if points.live and name in listed and window_days in (1, 7, 30):
            # Live: CoinGlass's own 1/7/30-day change, consistent with its current balance.
            b = listed[name]
            delta = {1: b.change_1d, 7: b.change_7d, 30: b.change_30d}[window_days]
            start = None if delta is None or end is None else end - delta
        elif chart is not None:
            start = chart_value(chart, name, start_at)
        change = difference(end, start)
        rows.append(
            ExchangeReserve(
                exchange=name,
                btc=rounded(end, 8),
                change_btc=change,
                change_pct=pct_change(change, start),
                category=category_for(book, name),
                source="coinglass",
            )
        )
    return rows


def cross_checks(
    prov: Provenance, keyed_rows: Sequence[ExchangeReserve], onchain_rows: Sequence[ExchangeReserve]
) -> list[CrossCheck]:
    keyed = {normalise_exchange(r.exchange): r for r in keyed_rows}
    out = []
    for r in onchain_rows:
        k = keyed.get(normalise_exchange(r.exchange))
        if k is None or k.btc is None or r.btc is None or k.btc == 0:
            continue
        diff_pct = round(100 * (r.btc / k.btc - 1), 6)
        out.append(
            CrossCheck(
                exchange=r.exchange, onchain_btc=r.btc, keyed_btc=k.btc, keyed_source=k.source, diff_pct=diff_pct
            )
        )
        if abs(diff_pct) > 50:
            prov.warn(
                f"{r.exchange}: labelled wallets hold {r.btc:,.0f} BTC vs {SOURCE_NAMES.get(k.source, k.source)} "
                f"{k.btc:,.0f} ({diff_pct:+.1f}%); the public address list is partial"
            )
    return out
