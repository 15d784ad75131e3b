"""Fake Yahoo chart API: the FRED index closes re-served in Yahoo's chart format (bars stamped 09:30 New York).

One null close is inserted on each response (Yahoo sends nulls for bars without a price) so the parser's filtering
is exercised on every call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.fred import rows

SYMBOLS = {"^GSPC": "SP500", "^IXIC": "NASDAQCOM", "^DJI": "DJIA"}


def chart(request: httpx.Request, path: str) -> httpx.Response:
    symbol = path.removeprefix("/v8/finance/chart/")
    series = SYMBOLS.get(symbol)
    if series is None or not path.startswith("/v8/finance/chart/"):
        return httpx.Response(
            404,
            json={"chart": {"result": None, "error": {"code": "Not Found", "description": "No data found"}}},
        )
    params = request.url.params
    p1, p2 = int(params["period1"]), int(params["period2"])
    stamps: list[int] = []
    closes: list[float | None] = []
    for day, value in rows(series):
        # 09:30 New York is 14:30 UTC in winter, 13:30 in summer; 14:30 keeps the same date either way.
        ts = int((datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=14, minutes=30)).timestamp())
        if p1 <= ts < p2 and value:
            stamps.append(ts)
            closes.append(float(value))
    if stamps:
        stamps.insert(len(stamps) // 2, stamps[len(stamps) // 2] - 3600)
        closes.insert(len(closes) // 2, None)
    result = {
        "meta": {
            "currency": "USD",
            "symbol": symbol,
            "exchangeName": "SNP",
            "instrumentType": "INDEX",
            "gmtoffset": -18000,
            "timezone": "EST",
            "exchangeTimezoneName": "America/New_York",
        },
        "timestamp": stamps,
        "indicators": {
            "quote": [{"open": closes, "high": closes, "low": closes, "close": closes, "volume": [0] * len(closes)}]
        },
    }
    return httpx.Response(200, json={"chart": {"result": [result], "error": None}})


def register(fake: FakeUpstream) -> None:
    fake.handlers.update(yahoo=chart)
