"""Bybit v5 public market data (keyless): linear-perpetual open interest, funding history, klines.

Every body is {"retCode": 0, "retMsg": "OK", "result": {...}, "time": ms}; a non-zero retCode inside HTTP 200 is an
error. Lists come newest first and numbers as strings.
- GET /v5/market/open-interest?category=linear&symbol=&intervalTime=1h&startTime=&endTime=&limit<=200:
  `openInterest` is in the BASE asset (BTC) for linear contracts (USD only for inverse), so it is priced here
  with the hourly kline open at the same timestamp.
- GET /v5/market/funding/history?category=linear&symbol=&endTime=&limit<=200 (passing only startTime is an error).
- GET /v5/market/kline?category=linear&symbol=&interval=60&start=&end=&limit<=1000: [start, o, h, l, c, vol, turnover].
Bybit answers HTTP 403 to US and mainland-China addresses, which the HTTP layer reports as GeoBlockedError.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from fetchers.concurrency import gather
from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, field, ms_text, num_text, row, text, upstream_message
from schemas.derivatives import FundingPoint, OpenInterestPoint

SOURCE = "bybit"
PAGE = 200


def symbol(asset: str) -> str:
    return f"{asset.upper()}USDT"


def _list(response: httpx.Response) -> list[object]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    code = field(SOURCE, body, "retCode", "response")
    if code != 0 or isinstance(code, bool):
        raise BadPayloadError(SOURCE, f"retCode {str(code)[:12]}: {upstream_message(body.get('retMsg'))}")
    result = field(SOURCE, body, "result", "response", expect_dict)
    return field(SOURCE, result, "list", "result", expect_list)


def parse_open_interest(response: httpx.Response) -> list[OpenInterestPoint]:
    points = []
    for i, raw in enumerate(_list(response)):
        where = f"open interest {i}"
        item = expect_dict(SOURCE, raw, where)
        points.append(
            OpenInterestPoint(
                time=field(SOURCE, item, "timestamp", where, ms_text),
                usd=None,
                base=field(SOURCE, item, "openInterest", where, num_text),
            )
        )
    return sorted(points, key=lambda p: p.time)


def parse_funding_history(response: httpx.Response) -> list[FundingPoint]:
    points = []
    for i, raw in enumerate(_list(response)):
        where = f"funding {i}"
        item = expect_dict(SOURCE, raw, where)
        field(SOURCE, item, "symbol", where, text)
        points.append(
            FundingPoint(
                time=field(SOURCE, item, "fundingRateTimestamp", where, ms_text),
                rate=field(SOURCE, item, "fundingRate", where, num_text),
            )
        )
    return sorted(points, key=lambda p: p.time)


# Kline rows are exactly [startTime, open, high, low, close, volume, turnover], all strings.
KLINE_ROW = (
    ("start", ms_text),
    ("open", num_text),
    ("high", num_text),
    ("low", num_text),
    ("close", num_text),
    ("volume", num_text),
    ("turnover", num_text),
)


def parse_kline_opens(response: httpx.Response) -> dict[datetime, float]:
    """Bar start -> open price."""
    opens: dict[datetime, float] = {}
    for i, raw in enumerate(_list(response)):
        values = row(SOURCE, raw, f"kline {i}", KLINE_ROW)
        opens[values[0]] = values[1]
    return opens


def price_open_interest(points: list[OpenInterestPoint], opens: dict[datetime, float]) -> list[OpenInterestPoint]:
    """Linear OI in BTC x the price at that hour (the kline open at the same timestamp); unpriced points drop."""
    return [
        OpenInterestPoint(time=p.time, usd=p.base * opens[p.time], base=p.base)
        for p in points
        if p.base is not None and p.time in opens
    ]


async def fetch_open_interest_history(
    http: Http, asset: str, start: datetime, end: datetime
) -> tuple[list[OpenInterestPoint], list[Fetched[Any]]]:
    """Hourly OI in USD with start <= time <= end (at most 200 hours: 7 days and a margin)."""
    if end - start > timedelta(hours=PAGE - 1):
        raise ValueError("one Bybit page holds 200 hourly rows")
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    # Bybit reports linear OI in coins: priced at each hour's kline open, fetched at the same time.
    oi, klines = await gather(
        lambda: http.get(
            SOURCE,
            "/v5/market/open-interest",
            parse_open_interest,
            params={
                "category": "linear",
                "symbol": symbol(asset),
                "intervalTime": "1h",
                "startTime": start_ms,
                "endTime": end_ms,
                "limit": PAGE,
            },
            ttl_s=300.0,
        ),
        lambda: http.get(
            SOURCE,
            "/v5/market/kline",
            parse_kline_opens,
            params={
                "category": "linear",
                "symbol": symbol(asset),
                "interval": "60",
                "start": start_ms,
                "end": end_ms,
                "limit": PAGE,
            },
            ttl_s=300.0,
        ),
    )
    points = [p for p in price_open_interest(oi.value, klines.value) if start <= p.time <= end]
    return points, [oi, klines]


async def fetch_funding_history(http: Http, asset: str, end: datetime, limit: int = 20) -> Fetched[list[FundingPoint]]:
    return await http.get(
        SOURCE,
        "/v5/market/funding/history",
        parse_funding_history,
        params={"category": "linear", "symbol": symbol(asset), "endTime": int(end.timestamp() * 1000), "limit": limit},
        ttl_s=300.0,
    )
