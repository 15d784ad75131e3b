"""Fake OKX swap endpoints in the exact v5 formats, in front of the spot fake in tests/fakes/exchanges.py.

- instruments: BTC-USDT-SWAP with ctVal 0.01 BTC (the real contract size).
- liquidation-orders: per hour, one long liquidation (side=sell) and one short (side=buy) sized so that
  contracts x 0.01 x bkPx = VENUE_SHARE["okx"] x CryptoQuant's daily long/short USD / 24; the endpoint keeps
  LIQUIDATION_LOOKBACK of history (tests shorten it to check the "reaches back only to" path).
- open-interest / rubik history: VENUE_SHARE["okx"] of CryptoQuant's daily OI; rubik keeps 1,440 hourly rows.
- funding-rate-history: hourly settlements (an OKX 1h-interval contract), CryptoQuant's 8h rate / 8.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.leverage_data import (
    FAKE_NOW,
    HOUR,
    VENUE_SHARE,
    from_ms,
    funding_pct,
    hour_open,
    hours_between,
    long_liquidations,
    ms,
    short_liquidations,
    venue_oi_usd,
)
from tests.fakes.routing import chain

CT_VAL = 0.01
LIQUIDATION_LOOKBACK = timedelta(days=8)
LONG_MINUTE, SHORT_MINUTE = 17, 43


def _ok(data: list[object]) -> httpx.Response:
    return httpx.Response(200, json={"code": "0", "msg": "", "data": data})


def liquidation_orders() -> list[dict[str, str]]:
    """Every order the fake holds, newest first."""
    orders = []
    for h in hours_between(FAKE_NOW - LIQUIDATION_LOOKBACK, FAKE_NOW):
        px = hour_open(h)
        for minute, side, pos, daily in (
            (LONG_MINUTE, "sell", "long", long_liquidations()),
            (SHORT_MINUTE, "buy", "short", short_liquidations()),
        ):
            t = h + timedelta(minutes=minute)
            if t > FAKE_NOW:
                continue
            usd = VENUE_SHARE["okx"] * daily[h.date()] / 24
            orders.append(
                {
                    "bkLoss": "0",
                    "bkPx": f"{px}",
                    "ccy": "",
                    "posSide": pos,
                    "side": side,
                    "sz": repr(usd / (CT_VAL * px)),
                    "ts": str(ms(t)),
                }
            )
    return sorted(orders, key=lambda o: -int(o["ts"]))


def expected_liquidations(start: datetime, end: datetime) -> tuple[float, float]:
    """(long, short) USD with start < time <= end, from CryptoQuant directly (no contracts involved)."""
    long_usd = short_usd = 0.0
    for h in hours_between(FAKE_NOW - LIQUIDATION_LOOKBACK, FAKE_NOW):
        if start < h + timedelta(minutes=LONG_MINUTE) <= end:
            long_usd += VENUE_SHARE["okx"] * long_liquidations()[h.date()] / 24
        if start < h + timedelta(minutes=SHORT_MINUTE) <= end:
            short_usd += VENUE_SHARE["okx"] * short_liquidations()[h.date()] / 24
    return long_usd, short_usd


def swap(request: httpx.Request, path: str) -> httpx.Response | None:
    params = request.url.params
    if path == "/api/v5/public/instruments":
        if params.get("instType") != "SWAP" or params.get("instId") != "BTC-USDT-SWAP":
            return _ok([])
        return _ok(
            [
                {
                    "instType": "SWAP",
                    "instId": "BTC-USDT-SWAP",
                    "instFamily": "BTC-USDT",
                    "uly": "BTC-USDT",
                    "ctVal": "0.01",
                    "ctValCcy": "BTC",
                    "ctMult": "1",
                    "ctType": "linear",
                    "settleCcy": "USDT",
                    "lotSz": "0.01",
                    "tickSz": "0.1",
                    "state": "live",
                }
            ]
        )
    if path == "/api/v5/public/liquidation-orders":
        if params.get("instFamily") != "BTC-USDT" or params.get("state") != "filled":
            return _ok([])
        after = int(params.get("after", ms(FAKE_NOW) + 1))
        limit = min(int(params.get("limit", 100)), 100)
        details = [o for o in liquidation_orders() if int(o["ts"]) < after][:limit]
        if not details:
            return _ok([])
        item = {
            "details": details,
            "instFamily": "BTC-USDT",
            "instId": "BTC-USDT-SWAP",
            "instType": "SWAP",
            "totalLoss": "",
            "uly": "BTC-USDT",
        }
        return _ok([item])
    if path == "/api/v5/public/open-interest":
        usd = venue_oi_usd("okx", FAKE_NOW)
        base = usd / hour_open(FAKE_NOW.replace(minute=0))
        return _ok(
            [
                {
                    "instId": "BTC-USDT-SWAP",
                    "instType": "SWAP",
                    "oi": repr(base / CT_VAL),
                    "oiCcy": repr(base),
                    "oiUsd": repr(usd),
                    "ts": str(ms(FAKE_NOW)),
                }
            ]
        )
    if path == "/api/v5/rubik/stat/contracts/open-interest-history":
        if params.get("instId") != "BTC-USDT-SWAP" or params.get("period") != "1H":
            return httpx.Response(200, json={"code": "51000", "msg": "Parameter period error", "data": []})
        end = min(from_ms(params["end"]), FAKE_NOW)
        limit = min(int(params.get("limit", 100)), 100)
        oldest = FAKE_NOW - 1439 * HOUR
        hours = [h for h in hours_between(end - 200 * HOUR, end) if h >= oldest]
        rows: list[object] = []
        for h in reversed(hours):
            usd = venue_oi_usd("okx", h)
            base = usd / hour_open(h)
            rows.append([str(ms(h)), repr(base / CT_VAL), repr(base), repr(usd)])
        return _ok(rows[:limit])
    if path == "/api/v5/public/funding-rate-history":
        after = from_ms(int(params["after"]) - 1)
        limit = min(int(params.get("limit", 100)), 400)
        hours = [h for h in hours_between(after - limit * HOUR, min(after, FAKE_NOW)) if ms(h) < int(params["after"])]
        data: list[object] = []
        for h in reversed(hours):
            rate = repr(funding_pct()[h.date()] / 100 / 8)
            data.append(
                {
                    "formulaType": "withRate",
                    "fundingRate": rate,
                    "fundingTime": str(ms(h)),
                    "instId": "BTC-USDT-SWAP",
                    "instType": "SWAP",
                    "method": "current_period",
                    "realizedRate": rate,
                }
            )
        return _ok(data[:limit])
    return None


def register(fake: FakeUpstream) -> None:
    chain(fake, "okx", swap)
