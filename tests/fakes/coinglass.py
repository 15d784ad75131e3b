"""Fake CoinGlass API v4 (ETF flows): the shared Farside daily flows (US$m -> USD) in CoinGlass's exact shape.

`GET /api/etf/bitcoin/flow-history` and `/api/etf/ethereum/flow-history` -> {"code": "0", "msg": null, "data":
[{timestamp (ms, 00:00 UTC of the trade date), flow_usd, price_usd, etf_flows: [{etf_ticker, flow_usd}]}]},
ascending. price_usd is the real Coinbase daily close for BTC (null where the shared data has none; ETH has none).
A missing or wrong `CG-API-KEY` gets CoinGlass's error shape.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import coinbase_daily, day_ts, etf_flows_csv

KEY = "test-cg-key"
ETF_PATHS = {"/api/etf/bitcoin/flow-history": "BTC", "/api/etf/ethereum/flow-history": "ETH"}


def _ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def handle(request: httpx.Request, path: str) -> httpx.Response:
    if request.headers.get("CG-API-KEY") != KEY:
        return httpx.Response(200, json={"code": "400", "msg": "API key missing or invalid.", "data": None})
    asset = ETF_PATHS.get(path)
    if asset is None:
        return httpx.Response(404, json={"code": "404", "msg": "Not Found", "data": None})
    tickers, rows = etf_flows_csv(asset)
    closes = coinbase_daily() if asset == "BTC" else {}
    data = []
    for day, funds, total in rows:
        close = closes.get(day_ts(day))
        data.append(
            {
                "timestamp": _ms(day),
                "flow_usd": round(total * 1_000_000, 2),
                "price_usd": None if close is None else close[3],
                "etf_flows": [
                    {"etf_ticker": t, "flow_usd": round(v * 1_000_000, 2)}
                    for t in tickers
                    if (v := funds[t]) is not None
                ],
            }
        )
    return httpx.Response(200, json={"code": "0", "msg": None, "data": data})


def register(fake: FakeUpstream) -> None:
    fake.handlers["coinglass"] = handle
