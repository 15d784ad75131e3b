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
from fetchers.parsing import expect_dict, expect_list, num, ts_seconds
from schemas.derivatives import OrderBook
from schemas.market import INTERVAL_SECONDS, Candle, Quote

SOURCE = "kraken"
INTERVAL_MINUTES = {"1h": 60, "1d": 1440}


def pair(asset: str) -> str:
    return {"BTC": "XBT"}.get(asset.upper(), asset.upper()) + "USDT"


def _result(response: httpx.Response) -> dict[str, object]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    errors = body.get("error") or []
    if errors:
        raise BadPayloadError(SOURCE, f"error: {'; '.join(str(e) for e in errors)[:120]}")
    return expect_dict(SOURCE, body.get("result"), "result")


def _pair_value(result: dict[str, object]) -> object:
    keys = [k for k in result if k != "last"]
    if len(keys) != 1:
        raise BadPayloadError(SOURCE, f"expected one pair in result, got {len(keys)}")
    return result[keys[0]]


# Rows are [time_s, o, h, l, c, vwap, volume, count].
ROW = RowLayout("ohlc", 8, 7, "time", ts_seconds, volume=6)


def parse_ohlc(response: httpx.Response) -> list[Candle]:
    rows = expect_list(SOURCE, _pair_value(_result(response)), "ohlc")
    # The last row is the bar still forming.
    return [candle_row(SOURCE, row, i, ROW, closed=i < len(rows) - 1) for i, row in enumerate(rows)]


def parse_ticker(response: httpx.Response) -> Quote:
    item = expect_dict(SOURCE, _pair_value(_result(response)), "ticker")
    last = expect_list(SOURCE, item.get("c"), "c")
    if not last:
        raise BadPayloadError(SOURCE, "ticker has no last trade")
    return Quote(price=num(SOURCE, last[0], "last trade price"), time=None)


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


def usd_pair(asset: str) -> str:
    return {"BTC": "XBT"}.get(asset.upper(), asset.upper()) + "USD"


def parse_depth(response: httpx.Response, count: int = DEPTH_LEVELS) -> OrderBook:
    book = expect_dict(SOURCE, _pair_value(_result(response)), "depth")
    return order_book(SOURCE, book, expected_fields=3, time=None, limit=count)


async def fetch_depth(http: Http, asset: str) -> Fetched[OrderBook]:
    return await http.get(
        SOURCE, "/0/public/Depth", parse_depth, params={"pair": usd_pair(asset), "count": DEPTH_LEVELS}, ttl_s=10.0
    )
