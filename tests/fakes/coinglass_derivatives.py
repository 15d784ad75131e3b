"""Fake CoinGlass v4 derivatives history: CryptoQuant's real daily BTC liquidations and open interest, served in
CoinGlass's exact aggregated-history formats (liquidations as floats, OI OHLC as strings, time in ms at 00:00 UTC).

Routes only the /api/futures/ paths and passes anything else to a CoinGlass handler registered before it (an ETF
fake may own /api/etf/ on the same source). A request without the CG-API-KEY header gets CoinGlass's 401 body.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.leverage_data import from_ms, long_liquidations, ms, open_interest, short_liquidations
from tests.fakes.routing import chain


def _days(params: httpx.QueryParams) -> list[date]:
    start = from_ms(params["start_time"]).date() if "start_time" in params else date(2018, 1, 1)
    end = from_ms(params["end_time"]).date() if "end_time" in params else date(2026, 4, 11)
    limit = min(int(params.get("limit", 1000)), 1000)
    days = []
    d = start
    while d <= end:
        days.append(d)
        d += timedelta(days=1)
    return days[-limit:]


def _midnight_ms(d: date) -> int:
    return ms(datetime(d.year, d.month, d.day, tzinfo=UTC))


def futures(request: httpx.Request, path: str) -> httpx.Response | None:
    if not path.startswith("/api/futures/"):
        return None
    if not request.headers.get("CG-API-KEY"):
        return httpx.Response(401, json={"code": "401", "msg": "API key missing"})
    params = request.url.params
    if params.get("symbol") != "BTC" or params.get("interval") != "1d":
        return httpx.Response(200, json={"code": "400", "msg": "this fake serves symbol=BTC interval=1d"})
    if path == "/api/futures/liquidation/aggregated-history":
        longs, shorts = long_liquidations(), short_liquidations()
        data = [
            {
                "time": _midnight_ms(d),
                "aggregated_long_liquidation_usd": longs[d],
                "aggregated_short_liquidation_usd": shorts[d],
            }
            for d in _days(params)
            if d in longs and d in shorts
        ]
        return httpx.Response(200, json={"code": "0", "msg": "success", "data": data})
    if path == "/api/futures/open-interest/aggregated-history":
        oi = open_interest()
        data = [
            {
                "time": _midnight_ms(d),
                "open": repr(oi[d]),
                "high": repr(oi[d]),
                "low": repr(oi[d]),
                "close": repr(oi[d]),
            }
            for d in _days(params)
            if d in oi
        ]
        return httpx.Response(200, json={"code": "0", "msg": "success", "data": data})
    return httpx.Response(404, json={"code": "404", "msg": "not found"})


def register(fake: FakeUpstream) -> None:
    chain(fake, "coinglass", futures)
