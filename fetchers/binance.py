"""Binance spot public market data (keyless): klines and ticker price.

GET /api/v3/klines?symbol=&interval=&startTime=&endTime=&limit<=1000 returns chronological rows
[open_ms, "o", "h", "l", "c", "vol", close_ms, ...]. Binance answers HTTP 451 from US addresses, which the HTTP
layer reports as GeoBlockedError so callers can fall back to another venue. Error bodies look like
{"code": -1121, "msg": "Invalid symbol."}.
GET /api/v3/depth?symbol=&limit<=5000 returns {"lastUpdateId", "bids": [[price, qty]], "asks": [...]}, best first,
strings, with no timestamp; weight 250 at limit 5000.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from fetchers.books import order_book
from fetchers.candles import RowLayout, candle_row, window_bars
from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import (
    expect_dict,
    expect_list,
    field,
    int_json,
    ms_json,
    num_text,
    string,
    text,
    upstream_message,
)
from schemas.derivatives import OrderBook
from schemas.market import INTERVAL_SECONDS, Candle, Quote

SOURCE = "binance"
MAX_KLINES_PER_CALL = 1000


def symbol(asset: str) -> str:
    return f"{asset.upper()}USDT"


def _body(response: httpx.Response) -> object:
    body = decode_json(response, SOURCE)
    if isinstance(body, dict) and "code" in body and "msg" in body:
        raise BadPayloadError(SOURCE, f"error body: {upstream_message(body.get('msg'))}")
    return body


# Binance documents exactly these 12 columns (the last one "Unused field, ignore"): times are JSON integers (ms),
# prices and volumes strings, the trade count an integer. Binance has never appended a kline column; if it does,
# the venue answers bad_payload (and the premium falls back to the next venue) until this layout is updated,
# rather than risk reading a column in the wrong place.
ROW = RowLayout(
    "kline",
    (
        ("open time", ms_json),
        ("open", num_text),
        ("high", num_text),
        ("low", num_text),
        ("close", num_text),
        ("volume", num_text),
        ("close time", ms_json),
        ("quote volume", num_text),
        ("trades", int_json),
        ("taker buy base volume", num_text),
        ("taker buy quote volume", num_text),
        ("ignore", string),
    ),
)


def parse_klines(response: httpx.Response) -> list[Candle]:
    rows = expect_list(SOURCE, _body(response), "klines")
    return [candle_row(SOURCE, row, i, ROW) for i, row in enumerate(rows)]


def parse_ticker_price(response: httpx.Response) -> Quote:
    body = expect_dict(SOURCE, _body(response), "ticker")
    field(SOURCE, body, "symbol", "ticker", text)
    return Quote(price=field(SOURCE, body, "price", "ticker", num_text), time=None)


async def fetch_candles(
    http: Http, asset: str, interval: str, start: datetime, end: datetime, *, closed_by: datetime
) -> tuple[list[Candle], list[Fetched[list[Candle]]]]:
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    fetches: list[Fetched[list[Candle]]] = []
    page_start = start
    # Klines come oldest first, so we page forward from `start` until `end` is covered.
    while page_start <= end:
        page_end = min(end, page_start + step * (MAX_KLINES_PER_CALL - 1))
        settled = page_end + 2 * step <= closed_by
        fetched = await http.get(
            SOURCE,
            "/api/v3/klines",
            parse_klines,
            params={
                "symbol": symbol(asset),
                "interval": interval,
                "startTime": int(page_start.timestamp() * 1000),
                "endTime": int((page_end + step).timestamp() * 1000) - 1,
                "limit": MAX_KLINES_PER_CALL,
            },
            ttl_s=86400.0 if settled else 60.0,
        )
        fetches.append(fetched)
        page_start = page_end + step
    return window_bars((f.value for f in fetches), start, end, step, closed_by), fetches


async def fetch_ticker(http: Http, asset: str) -> Fetched[Quote]:
    return await http.get(
        SOURCE, "/api/v3/ticker/price", parse_ticker_price, params={"symbol": symbol(asset)}, ttl_s=10.0
    )


DEPTH_LIMIT = 5000
DEPTH_LEVEL = (("price", num_text), ("quantity", num_text))


def parse_depth(response: httpx.Response, limit: int = DEPTH_LIMIT) -> OrderBook:
    body = expect_dict(SOURCE, _body(response), "depth")
    field(SOURCE, body, "lastUpdateId", "depth", int_json)
    return order_book(SOURCE, body, columns=DEPTH_LEVEL, time=None, limit=limit)


async def fetch_depth(http: Http, asset: str) -> Fetched[OrderBook]:
    return await http.get(
        SOURCE,
        "/api/v3/depth",
        parse_depth,
        params={"symbol": symbol(asset), "limit": DEPTH_LIMIT},
        ttl_s=10.0,
        parse_in_thread=True,  # 5,000 levels a side: off the event loop, as the other tools wait on it
    )
