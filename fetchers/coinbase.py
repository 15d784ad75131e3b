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
from fetchers.parsing import (
    expect_dict,
    expect_list,
    field,
    int_json,
    iso_z,
    num_json,
    num_text,
    s_json,
    text,
    upstream_message,
)
from schemas.derivatives import OrderBook
from schemas.market import INTERVAL_SECONDS, Candle, Quote

SOURCE = "coinbase"
MAX_CANDLES_PER_CALL = 300
GRANULARITY = {"1h": 3600, "1d": 86400}
PAGES_AT_ONCE = 4


# Rows are exactly [time_s, low, high, open, close, volume], all JSON numbers (the docs' candle schema).
ROW = RowLayout(
    "candle",
    (
        ("time", s_json),
        ("low", num_json),
        ("high", num_json),
        ("open", num_json),
        ("close", num_json),
        ("volume", num_json),
    ),
    open=3,
    high=2,
    low=1,
    close=4,
    volume=5,
)


def _body(response: httpx.Response, what: str, expected: str) -> object:
    body = decode_json(response, SOURCE)
    # Errors come as {"message": "..."} (with a 4xx, but a proxy may pass them on as a 200).
    if isinstance(body, dict) and set(body) == {"message"}:
        raise BadPayloadError(
            SOURCE, f"{what}: expected {expected}, got the error {upstream_message(body['message'])!r}"
        )
    return body


def parse_candles(response: httpx.Response) -> list[Candle]:
    rows = expect_list(SOURCE, _body(response, "candles", "a list"), "candles")
    return [candle_row(SOURCE, row, i, ROW) for i, row in enumerate(rows)]


def parse_ticker(response: httpx.Response) -> Quote:
    body = expect_dict(SOURCE, _body(response, "ticker", "an object"), "ticker")
    return Quote(
        price=field(SOURCE, body, "price", "ticker", num_text), time=field(SOURCE, body, "time", "ticker", iso_time)
    )


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


# Rows are [price, size, num-orders]; "size should not be multiplied by num-orders" (it is already the total).
BOOK_LEVEL = (("price", num_text), ("size", num_text), ("num-orders", int_json))


def parse_book(response: httpx.Response) -> OrderBook:
    body = expect_dict(SOURCE, _body(response, "book", "an object"), "book")
    field(SOURCE, body, "sequence", "book", int_json)
    # Level 2 is the whole aggregated book, so it is never truncated.
    return order_book(SOURCE, body, columns=BOOK_LEVEL, time=field(SOURCE, body, "time", "book", iso_time), limit=None)


def iso_time(source: str, raw: object, what: str) -> datetime:
    """Coinbase's ISO-8601 UTC time with up to 9 fractional digits (Python parses at most 6)."""
    value = text(source, raw, what)
    head, dot, frac = value.removesuffix("Z").partition(".")
    try:
        if dot and not frac.isdigit():
            raise ValueError(value)
        parsed = datetime.fromisoformat(head + (dot + frac[:6]))
    except ValueError:
        raise BadPayloadError(source, f"{what}: {value[:40]!r} is not an ISO-8601 UTC time") from None
    if parsed.tzinfo is not None and parsed.utcoffset():
        raise BadPayloadError(source, f"{what}: {value[:40]!r} is not in UTC")
    return parsed.replace(tzinfo=UTC)


async def fetch_book(http: Http, product: str) -> Fetched[OrderBook]:
    # The full level-2 book is tens of thousands of levels: parsed off the event loop, as the other tools wait on it.
    return await http.get(
        SOURCE, f"/products/{product}/book", parse_book, params={"level": 2}, ttl_s=10.0, parse_in_thread=True
    )
