"""Fake Bybit v5 (linear perpetual) in the exact formats: open interest in BTC, klines, funding every 4 hours.

Open interest is VENUE_SHARE of CryptoQuant's daily all-exchange OI divided by the Binance perpetual's hourly open,
so windvane's BTC x kline-open conversion must give the USD share back. The 4h funding interval (Bybit moves some
contracts off 8h) exercises interval normalisation: the rate per 4h is half CryptoQuant's 8h rate.
"""

from __future__ import annotations

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.leverage_data import (
    FAKE_NOW,
    HOUR,
    from_ms,
    funding_pct,
    hour_open,
    hours_between,
    ms,
    perp_hourly,
    venue_oi_usd,
)

VENUE = "bybit"
FUNDING_INTERVAL_H = 4


def _ok(result: dict[str, object]) -> httpx.Response:
    return httpx.Response(
        200, json={"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": ms(FAKE_NOW)}
    )


def handler(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if params.get("category") != "linear" or params.get("symbol") != "BTCUSDT":
        return httpx.Response(200, json={"retCode": 10001, "retMsg": "params error: symbol invalid", "result": {}})
    limit = min(int(params.get("limit", 50)), 200)
    if path == "/v5/market/open-interest":
        # Like the venue, hours with no data (before the shared perp history starts) are simply absent.
        hours = [
            h
            for h in hours_between(from_ms(params["startTime"]), from_ms(params["endTime"]))
            if h <= FAKE_NOW and ms(h) in perp_hourly()
        ]
        rows = [
            {"openInterest": f"{venue_oi_usd(VENUE, h) / hour_open(h):.8f}", "timestamp": str(ms(h))}
            for h in reversed(hours)
        ][:limit]
        return _ok({"symbol": "BTCUSDT", "category": "linear", "list": rows, "nextPageCursor": ""})
    if path == "/v5/market/kline":
        hours = [
            h
            for h in hours_between(from_ms(params["start"]), from_ms(params["end"]))
            if h <= FAKE_NOW and ms(h) in perp_hourly()
        ]
        rows = [[*perp_hourly()[ms(h)][:6], perp_hourly()[ms(h)][7]] for h in reversed(hours)][:limit]
        return _ok({"symbol": "BTCUSDT", "category": "linear", "list": rows})
    if path == "/v5/market/funding/history":
        end = from_ms(params["endTime"])
        start = end - FUNDING_INTERVAL_H * limit * HOUR
        hours = [h for h in hours_between(start, min(end, FAKE_NOW)) if h.hour % FUNDING_INTERVAL_H == 0]
        rows = [
            {
                "symbol": "BTCUSDT",
                "fundingRate": repr(funding_pct()[h.date()] / 100 * FUNDING_INTERVAL_H / 8),
                "fundingRateTimestamp": str(ms(h)),
            }
            for h in reversed(hours)
        ][:limit]
        return _ok({"category": "linear", "list": rows})
    return httpx.Response(404, text="Not Found")


def register(fake: FakeUpstream) -> None:
    fake.handlers[VENUE] = handler
