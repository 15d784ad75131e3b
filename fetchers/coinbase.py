"""Coinbase Exchange public market data (keyless): candles and tickers.

GET /products/{product}/candles?granularity=&start=&end= returns rows [time_s, low, high, open, close, volume],
newest first, at most 300 per call (a wider window is rejected), so long ranges are paged backwards.
"No data is published for intervals where there are no ticks": gaps stay gaps.
GET /products/{product}/ticker returns string prices and an ISO time.
GET /products/{product}/book?level=2 returns the whole book aggregated per price: {bids, asks: [[price, size,
num-orders]], sequence, time}.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import httpx

from fetchers.books import order_book
from fetchers.candles import RowLayout, candle_row, window_bars
from fetchers.concurrency import gather_all
from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, iso_z, num, ts_seconds
from schemas.derivatives import OrderBook
from schemas.market import INTERVAL_SECONDS, Candle, Quote

SOURCE = "coinbase"
MAX_CANDLES_PER_CALL = 300
GRANULARITY = {"1h": 3600, "1d": 86400}
PAGES_AT_ONCE = 4


# Rows are [time_s, low, high, open, close, volume].
ROW = RowLayout("candle", 6, 6, "time", ts_seconds, open=3, high=2, low=1, close=4, volume=5)


def parse_candles(response: httpx.Response) -> list[Candle]:
    rows = expect_list(SOURCE, decode_json(response, SOURCE), "candles")
    return [candle_row(SOURCE, row, i, ROW) for i, row in enumerate(rows)]


def parse_ticker(response: httpx.Response) -> Quote:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "ticker")
    time_raw = body.get("time")
    when = None
    if isinstance(time_raw, str):
        # Coinbase sends up to 9 fractional digits; Python parses at most 6.
        head, _, frac = time_raw.rstrip("Z").partition(".")
        when = datetime.fromisoformat(head + ("." + frac[:6] if frac else "")).replace(tzinfo=UTC)
    return Quote(price=num(SOURCE, body.get("price"), "price"), time=when)


def _pages(start: datetime, end: datetime, step_s: int) -> list[tuple[datetime, datetime]]:
    """Windows of at most 300 bars, newest first, covering bar opens in [start, end]."""
    span = timedelta(seconds=step_s * (MAX_CANDLES_PER_CALL - 1))
    pages = []
    page_end = end
    while page_end >= start:
        page_start = max(start, page_end - span)
        pages.append((page_start, page_end))
        page_end = page_start - timedelta(seconds=step_s)
    return pages


async def fetch_candles(
    http: Http, product: str, interval: str, start: datetime, end: datetime, *, closed_by: datetime
) -> tuple[list[Candle], list[Fetched[list[Candle]]]]:
    """Bars with open time in [start, end], ascending and deduplicated, and the fetch records."""
    step = GRANULARITY[interval]

    async def page(window: tuple[datetime, datetime]) -> Fetched[list[Candle]]:
        page_start, page_end = window
        # A page of bars that all closed more than a bar ago will never change: cache it for a day.
        settled = page_end + timedelta(seconds=2 * step) <= closed_by
        return await http.get(
            SOURCE,
            f"/products/{product}/candles",
            parse_candles,
            params={"granularity": step, "start": iso_z(page_start), "end": iso_z(page_end)},
            ttl_s=86400.0 if settled else 60.0,
        )

    # The windows are known up front (start/end, not a cursor): fetch them together, within Coinbase's 10 req/s.
    fetches = await gather_all((partial(page, w) for w in _pages(start, end, step)), limit=PAGES_AT_ONCE)
    bar = timedelta(seconds=INTERVAL_SECONDS[interval])
    return window_bars((f.value for f in fetches), start, end, bar, closed_by), fetches


async def fetch_ticker(http: Http, product: str) -> Fetched[Quote]:
    return await http.get(SOURCE, f"/products/{product}/ticker", parse_ticker, ttl_s=10.0)


# -- order book (level 2: the full book, aggregated per price) -------------------------------------------------


def parse_book(response: httpx.Response) -> OrderBook:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "book")
    if "message" in body and "bids" not in body:
        raise BadPayloadError(SOURCE, f"error: {str(body.get('message'))[:120]}")
    # Rows are [price, size, num-orders]; "size should not be multiplied by num-orders" (it is already the total).
    # Level 2 is the whole aggregated book, so it is never truncated.
    return order_book(SOURCE, body, expected_fields=3, time=_parse_time(body.get("time")), limit=None)


def _parse_time(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    head, _, frac = raw.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + ("." + frac[:6] if frac else "")).replace(tzinfo=UTC)


async def fetch_book(http: Http, product: str) -> Fetched[OrderBook]:
    return await http.get(SOURCE, f"/products/{product}/book", parse_book, params={"level": 2}, ttl_s=10.0)
