"""Bitstamp public market data (keyless): OHLC and ticker, the last reference-venue fallback.

GET /api/v2/ohlc/{pair}/?step=86400|3600&limit<=1000&start=&end= returns
{"data":{"pair":"BTC/USDT","ohlc":[{"timestamp":"<s>","open":"..","high":"..","low":"..","close":"..","volume":".."}]}}
with string values, oldest first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from fetchers.candles import window_bars
from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, field, num_text, s_text, text, upstream_message
from schemas.market import INTERVAL_SECONDS, Candle, Quote

SOURCE = "bitstamp"
MAX_CANDLES_PER_CALL = 1000


def market(asset: str) -> str:
    return f"{asset.lower()}usdt"


def parse_ohlc(response: httpx.Response) -> list[Candle]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    if "errors" in body or body.get("status") == "error":
        raise BadPayloadError(SOURCE, f"error body: {upstream_message(body.get('errors') or body.get('reason'))}")
    data = field(SOURCE, body, "data", "response", expect_dict)
    field(SOURCE, data, "pair", "data", text)
    candles = []
    for i, raw in enumerate(field(SOURCE, data, "ohlc", "data", expect_list)):
        where = f"ohlc {i}"
        item = expect_dict(SOURCE, raw, where)
        candles.append(
            Candle(
                open_time=field(SOURCE, item, "timestamp", where, s_text),
                open=field(SOURCE, item, "open", where, num_text),
                high=field(SOURCE, item, "high", where, num_text),
                low=field(SOURCE, item, "low", where, num_text),
                close=field(SOURCE, item, "close", where, num_text),
                volume=field(SOURCE, item, "volume", where, num_text),
            )
        )
    return candles


def parse_ticker(response: httpx.Response) -> Quote:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "ticker")
    return Quote(
        price=field(SOURCE, body, "last", "ticker", num_text),
        time=field(SOURCE, body, "timestamp", "ticker", s_text),
    )


async def fetch_candles(
    http: Http, asset: str, interval: str, start: datetime, end: datetime, *, closed_by: datetime
) -> tuple[list[Candle], list[Fetched[list[Candle]]]]:
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    fetches: list[Fetched[list[Candle]]] = []
    page_start = start
    while page_start <= end:
        page_end = min(end, page_start + step * (MAX_CANDLES_PER_CALL - 1))
        fetched = await http.get(
            SOURCE,
            f"/api/v2/ohlc/{market(asset)}/",
            parse_ohlc,
            params={
                "step": int(step.total_seconds()),
                "limit": MAX_CANDLES_PER_CALL,
                "start": int(page_start.timestamp()),
                "end": int(page_end.timestamp()),
            },
            ttl_s=86400.0 if page_end + 2 * step <= closed_by else 60.0,
        )
        fetches.append(fetched)
        page_start = page_end + step
    return window_bars((f.value for f in fetches), start, end, step, closed_by), fetches


async def fetch_ticker(http: Http, asset: str) -> Fetched[Quote]:
    return await http.get(SOURCE, f"/api/v2/ticker/{market(asset)}/", parse_ticker, ttl_s=10.0)
