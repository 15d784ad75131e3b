"""Fake Binance USD-M futures (source `binance_futures`) in the exact fapi formats.

Funding settles every 8h with a few ms of jitter, like the recorded payload; the rate is CryptoQuant's daily
all-exchange funding. Open interest is VENUE_SHARE of CryptoQuant's daily all-exchange OI, and openInterestHist
serves only the latest 30 days, like the real endpoint.
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.leverage_data import (
    FAKE_NOW,
    from_ms,
    funding_pct,
    hour_open,
    hours_between,
    ms,
    venue_oi_usd,
)

VENUE = "binance_futures"
JITTER_MS = (0, 13, 6, 0, 7)


def funding_rows(start_ms: int, end_ms: int, limit: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i, t in enumerate(h for h in hours_between(from_ms(start_ms), from_ms(end_ms)) if h.hour % 8 == 0):
        stamp = ms(t) + JITTER_MS[i % len(JITTER_MS)]
        if stamp > end_ms:
            continue
        rate = funding_pct()[t.date()] / 100
        rows.append(
            {
                "symbol": "BTCUSDT",
                "fundingTime": stamp,
                "fundingRate": f"{rate:.8f}",
                "markPrice": f"{hour_open(t):.8f}",
            }
        )
    return rows[:limit]


def handler(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if params.get("symbol") != "BTCUSDT":
        return httpx.Response(400, json={"code": -1121, "msg": "Invalid symbol."})
    now_hour = FAKE_NOW.replace(minute=0)
    if path == "/fapi/v1/fundingRate":
        limit = min(int(params.get("limit", 100)), 1000)
        return httpx.Response(200, json=funding_rows(int(params["startTime"]), int(params["endTime"]), limit))
    if path == "/fapi/v1/premiumIndex":
        mark = hour_open(now_hour)
        return httpx.Response(
            200,
            json={
                "symbol": "BTCUSDT",
                "markPrice": f"{mark:.8f}",
                "indexPrice": f"{mark:.8f}",
                "estimatedSettlePrice": f"{mark:.8f}",
                "lastFundingRate": f"{funding_pct()[FAKE_NOW.date()] / 100:.8f}",
                "interestRate": "0.00010000",
                "nextFundingTime": ms(now_hour.replace(hour=16)),
                "time": ms(FAKE_NOW),
            },
        )
    if path == "/fapi/v1/openInterest":
        base = venue_oi_usd(VENUE, FAKE_NOW) / hour_open(now_hour)
        return httpx.Response(200, json={"openInterest": f"{base:.3f}", "symbol": "BTCUSDT", "time": ms(FAKE_NOW)})
    if path == "/futures/data/openInterestHist":
        limit = min(int(params.get("limit", 30)), 500)
        oldest = FAKE_NOW - timedelta(days=30)
        hours = [
            h
            for h in hours_between(from_ms(params["startTime"]), from_ms(params["endTime"]))
            if oldest <= h <= FAKE_NOW
        ][:limit]
        rows = [
            {
                "symbol": "BTCUSDT",
                "sumOpenInterest": f"{venue_oi_usd(VENUE, h) / hour_open(h):.8f}",
                "sumOpenInterestValue": f"{venue_oi_usd(VENUE, h):.8f}",
                "timestamp": ms(h),
            }
            for h in hours
        ]
        return httpx.Response(200, json=rows)
    return httpx.Response(404, json={"code": -1, "msg": "not found"})


def register(fake: FakeUpstream) -> None:
    fake.handlers[VENUE] = handler


__all__ = ["funding_rows", "handler", "register"]
