"""Kraken public market data (keyless): OHLC and ticker, a US-reachable reference venue.

GET /0/public/OHLC?pair=XBTUSDT&interval=1440|60&since=<s> returns {"error":[],"result":{"<KrakenName>":[[t, o, h,
l, c, vwap, volume, count]], "last": <s>}}. The result key is Kraken's own name (XBTUSDT may come back as
XBTUSDT or XXBTZUSD), so it is read from the response. Only the latest 720 bars are served, and the last row is
the bar still forming.
GET /0/public/Depth?pair=XBTUSD&count<=500 returns {"result": {"XXBTZUSD": {"asks": [[price, volume, ts]], "bids":
[...]}}}, best first; the book beyond `count` levels is cut off.
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
    num_text,
    row,
    s_json,
    upstream_message,
)
from schemas.derivatives import OrderBook
from schemas.market import INTERVAL_SECONDS, Candle, Quote

SOURCE = "kraken"
INTERVAL_MINUTES = {"1h": 60, "1d": 1440}


def pair(asset: str) -> str:
    return {"BTC": "XBT"}.get(asset.upper(), asset.upper()) + "USDT"


def _result(response: httpx.Response) -> dict[str, object]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    # Every answer carries "error": [] on success, a list of "<severity><category>:<message>" strings otherwise.
    errors = field(SOURCE, body, "error", "response", expect_list)
    if errors:
        raise BadPayloadError(SOURCE, f"error: {upstream_message('; '.join(str(e) for e in errors))}")
    return field(SOURCE, body, "result", "response", expect_dict)


def _pair_value(result: dict[str, object]) -> object:
    keys = [k for k in result if k != "last"]
    if len(keys) != 1:
        raise BadPayloadError(SOURCE, f"expected one pair in result, got {len(keys)}")
    return result[keys[0]]


# Rows are exactly [int time_s, "o", "h", "l", "c", "vwap", "volume", int count] (Kraken's OHLC docs).
ROW = RowLayout(
    "ohlc",
    (
        ("time", s_json),
        ("open", num_text),
        ("high", num_text),
        ("low", num_text),
        ("close", num_text),
        ("vwap", num_text),
        ("volume", num_text),
        ("count", int_json),
    ),
    volume=6,
)


def parse_ohlc(response: httpx.Response) -> list[Candle]:
    result = _result(response)
    field(SOURCE, result, "last", "result", int_json)  # the `since` cursor for the next poll
    rows = expect_list(SOURCE, _pair_value(result), "ohlc")
    # The last row is the bar still forming.
    return [candle_row(SOURCE, raw, i, ROW, closed=i < len(rows) - 1) for i, raw in enumerate(rows)]


# Ticker `c` is [last trade price, lot volume].
LAST_TRADE = (("price", num_text), ("lot volume", num_text))


def parse_ticker(response: httpx.Response) -> Quote:
    item = expect_dict(SOURCE, _pair_value(_result(response)), "ticker")
    price, _ = row(SOURCE, field(SOURCE, item, "c", "ticker"), "ticker c", LAST_TRADE)
    return Quote(price=price, time=None)


async def fetch_candles(
    http: Http, asset: str, interval: str, start: datetime, end: datetime, *, closed_by: datetime
) -> tuple[list[Candle], list[Fetched[list[Candle]]]]:
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    fetched = await http.get(
        SOURCE,
        "/0/public/OHLC",
        parse_ohlc,
        params={
            "pair": pair(asset),
            "interval": INTERVAL_MINUTES[interval],
            "since": int((start - step).timestamp()),
        },
        ttl_s=60.0,
    )
    return window_bars([fetched.value], start, end, step, closed_by), [fetched]


async def fetch_ticker(http: Http, asset: str) -> Fetched[Quote]:
    return await http.get(SOURCE, "/0/public/Ticker", parse_ticker, params={"pair": pair(asset)}, ttl_s=10.0)


# -- order book ------------------------------------------------------------------------------------------------

DEPTH_LEVELS = 500
DEPTH_LEVEL = (("price", num_text), ("volume", num_text), ("timestamp", s_json))


def usd_pair(asset: str) -> str:
    return {"BTC": "XBT"}.get(asset.upper(), asset.upper()) + "USD"


def parse_depth(response: httpx.Response, count: int = DEPTH_LEVELS) -> OrderBook:
    book = expect_dict(SOURCE, _pair_value(_result(response)), "depth")
    return order_book(SOURCE, book, columns=DEPTH_LEVEL, time=None, limit=count)


async def fetch_depth(http: Http, asset: str) -> Fetched[OrderBook]:
    return await http.get(
        SOURCE, "/0/public/Depth", parse_depth, params={"pair": usd_pair(asset), "count": DEPTH_LEVELS}, ttl_s=10.0
    )
