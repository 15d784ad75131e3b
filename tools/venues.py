"""Every venue windvane reads, declared once: which fetcher answers which question, and in which order.

A venue is named by its fetcher's SOURCE, which is also its `WINDVANE_<NAME>_BASE_URL` setting (the `Venue`
protocol). Spot venues give candles, tickers and order books; perpetual venues give funding and open interest;
stream venues push liquidations over WebSocket. Differences between venues' APIs (a time range here, a row limit
there, contracts or coins) are absorbed here, so the tools call every venue of a kind the same way.
To add a venue: write its fetcher in fetchers/, declare it below, and put it in the chain that should use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from fetchers import binance, binance_futures, bitstamp, bybit, coinbase, kraken, okx
from fetchers import liquidation_streams as ls
from fetchers.concurrency import gather
from fetchers.http import Fetched, Http
from schemas.derivatives import FundingPoint, OpenInterestPoint, OrderBook
from schemas.market import Candle, Quote

CandleRows = tuple[list[Candle], list[Fetched[list[Candle]]]]
OpenInterestRows = tuple[list[OpenInterestPoint], list[Fetched[Any]]]
OpenInterestNow = tuple[OpenInterestPoint | None, list[Fetched[Any]]]


class Venue(Protocol):
    @property
    def name(self) -> str: ...


class CandleFetch(Protocol):
    async def __call__(
        self, http: Http, instrument: str, interval: str, start: datetime, end: datetime, /, *, closed_by: datetime
    ) -> CandleRows: ...


@dataclass(frozen=True)
class SpotVenue:
    """A spot venue. `instrument` is what its fetcher takes: a product for Coinbase ('BTC-USD', 'USDT-USD'), the
    asset for the USDT-quoted venues ('BTC' -> BTCUSDT)."""

    name: str
    fetch_candles: CandleFetch
    fetch_ticker: Callable[[Http, str], Awaitable[Fetched[Quote]]]
    candle_path: Callable[[str], str]  # the real candles path for an instrument: a store-served answer cites it


COINBASE = SpotVenue(
    "coinbase", coinbase.fetch_candles, coinbase.fetch_ticker, lambda product: f"/products/{product.upper()}/candles"
)
BINANCE = SpotVenue("binance", binance.fetch_candles, binance.fetch_ticker, lambda _: "/api/v3/klines")
OKX = SpotVenue("okx", okx.fetch_candles, okx.fetch_ticker, lambda _: "/api/v5/market/history-candles")
KRAKEN = SpotVenue("kraken", kraken.fetch_candles, kraken.fetch_ticker, lambda _: "/0/public/OHLC")
BITSTAMP = SpotVenue(
    "bitstamp", bitstamp.fetch_candles, bitstamp.fetch_ticker, lambda asset: f"/api/v2/ohlc/{bitstamp.market(asset)}/"
)

# The global <ASSET>USDT reference of the Coinbase premium, in order: Binance answers HTTP 451 from US addresses.
REFERENCE_VENUES: tuple[SpotVenue, ...] = (BINANCE, OKX, KRAKEN, BITSTAMP)


@dataclass(frozen=True)
class BookVenue:
    """A spot order book: `pair` names the book for an asset, `fetch` reads it (http, asset)."""

    name: str
    pair: Callable[[str], str]
    fetch: Callable[[Http, str], Awaitable[Fetched[OrderBook]]]


# Summed for depth near price; Coinbase first, as it is USD-quoted and its level-2 book is complete.
BOOK_VENUES: tuple[BookVenue, ...] = (
    BookVenue("coinbase", lambda asset: f"{asset}-USD", lambda http, asset: coinbase.fetch_book(http, f"{asset}-USD")),
    BookVenue("kraken", kraken.usd_pair, kraken.fetch_depth),
    BookVenue("okx", okx.inst_id, okx.fetch_books),
    BookVenue("binance", binance.symbol, binance.fetch_depth),
)


@dataclass(frozen=True)
class PerpVenue:
    """A USDT-margined perpetual. Its open-interest history reaches `oi_lookback` back, `oi_chunk` per call."""

    name: str
    fetch_funding: Callable[[Http, str, datetime], Awaitable[Fetched[list[FundingPoint]]]]  # settlements by `at`
    fetch_oi_history: Callable[[Http, str, datetime, datetime], Awaitable[OpenInterestRows]]  # hourly USD
    fetch_oi_now: Callable[[Http, str], Awaitable[OpenInterestNow]]  # the current reading, fresher than the hour
    oi_lookback: timedelta
    oi_chunk: timedelta


# Binance takes a time range for funding: three days hold at least two settlements even on an 8-hour venue.
BINANCE_FUNDING_LOOKBACK = timedelta(days=3)


async def _binance_oi_history(http: Http, asset: str, start: datetime, end: datetime) -> OpenInterestRows:
    got = await binance_futures.fetch_open_interest_history(http, asset, start, end)
    return got.value, [got]


async def _binance_oi_now(http: Http, asset: str) -> OpenInterestNow:
    # Binance reports open interest in coins: priced at the mark price, fetched at the same time.
    oi, mark = await gather(
        lambda: binance_futures.fetch_open_interest(http, asset),
        lambda: binance_futures.fetch_premium_index(http, asset),
    )
    base = oi.value.base
    point = None if base is None else OpenInterestPoint(oi.value.time, base * mark.value.mark_price, base)
    return point, [oi, mark]


async def _okx_oi_now(http: Http, asset: str) -> OpenInterestNow:
    got = await okx.fetch_open_interest(http, asset)
    return got.value, [got]


async def _no_oi_now(http: Http, asset: str) -> OpenInterestNow:
    return None, []  # Bybit's hourly history is as fresh as it reports


BINANCE_FUTURES = PerpVenue(
    "binance_futures",
    lambda http, asset, at: binance_futures.fetch_funding_rates(http, asset, at - BINANCE_FUNDING_LOOKBACK, at),
    _binance_oi_history,
    _binance_oi_now,
    oi_lookback=timedelta(days=30),
    oi_chunk=timedelta(hours=499),
)
OKX_SWAP = PerpVenue(
    "okx",
    okx.fetch_funding_history,
    okx.fetch_open_interest_history,
    _okx_oi_now,
    oi_lookback=timedelta(hours=1439),
    oi_chunk=timedelta(days=30),
)
BYBIT_LINEAR = PerpVenue(
    "bybit",
    bybit.fetch_funding_history,
    bybit.fetch_open_interest_history,
    _no_oi_now,
    oi_lookback=timedelta(days=3650),
    oi_chunk=timedelta(hours=199),
)
PERP_VENUES: tuple[PerpVenue, ...] = (BINANCE_FUTURES, OKX_SWAP, BYBIT_LINEAR)

# What a reader must know about a stream's completeness.
SAMPLED_NOTE = "sampled: Binance pushes at most 1 liquidation per symbol per second, so it undercounts"


@dataclass(frozen=True)
class StreamVenue:
    """A liquidation stream `windvane collect` listens to; stored under source f'{venue}_stream'."""

    venue: str
    name: str  # its base-URL setting
    stream: str
    path: Callable[[str], str]  # asset -> the stream's path (one connection per symbol, or one for all)
    note: str | None


BINANCE_STREAM = StreamVenue("binance", ls.BINANCE_SOURCE, "forceOrder", ls.binance_path, SAMPLED_NOTE)
BYBIT_STREAM = StreamVenue("bybit", ls.BYBIT_SOURCE, "allLiquidation", lambda _: ls.BYBIT_LINEAR_PATH, None)
STREAM_VENUES: tuple[StreamVenue, ...] = (BINANCE_STREAM, BYBIT_STREAM)


def all_venues() -> tuple[Venue, ...]:
    """Every declared venue, each once: what a reachability check or a settings audit walks."""
    return (*REFERENCE_VENUES, COINBASE, *BOOK_VENUES, *PERP_VENUES, *STREAM_VENUES)
