"""Fake spot venues in their exact formats: Coinbase, Binance, OKX, Kraken, Bitstamp.

Coinbase serves the real Coinbase BTC-USD daily candles and Binance the real BTCUSDT daily klines from
../shared/data. OKX, Kraken and Bitstamp (fallback reference venues) re-serve the Binance BTCUSDT closes in their
own formats, so a fallback test can check that the same numbers arrive through another venue's parser.
Each handler enforces the paging limits of its API (e.g. Coinbase's 300-candle window).
"""

from __future__ import annotations

import json
from datetime import datetime

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import PAYLOADS, binance_daily, coinbase_daily

DAY = 86400


def _iso_s(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def coinbase(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if path == "/products/BTC-USD/candles":
        gran = int(params["granularity"])
        start, end = _iso_s(params["start"]), _iso_s(params["end"])
        if (end - start) // gran + 1 > 300:
            return httpx.Response(400, json={"message": "granularity too small for the requested time range"})
        if gran != DAY:
            return httpx.Response(200, json=[])
        rows = [[t, b[2], b[1], b[0], b[3], b[4]] for t, b in coinbase_daily().items() if start <= t <= end]
        return httpx.Response(200, json=sorted(rows, key=lambda r: -r[0]))  # newest first, like Coinbase
    if path == "/products/USDT-USD/candles":
        return httpx.Response(200, json=[])
    if path == "/products/BTC-USD/ticker":
        body = json.loads((PAYLOADS / "coinbase" / "coinbase_exchange_ticker_BTC-USD_2026-07-04.json").read_text())
        return httpx.Response(200, json=body)
    return httpx.Response(404, json={"message": "NotFound"})


def _binance_rows(start_ms: int, end_ms: int, limit: int) -> list[list[object]]:
    rows = [r for t, r in sorted(binance_daily().items()) if start_ms <= t <= end_ms][:limit]
    return [[int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7], int(r[8]), r[9], r[10], r[11]] for r in rows]


def binance(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if params.get("symbol") != "BTCUSDT":
        return httpx.Response(400, json={"code": -1121, "msg": "Invalid symbol."})
    if path == "/api/v3/klines":
        limit = int(params.get("limit", 500))
        if limit > 1000 or params.get("interval") != "1d":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=_binance_rows(int(params["startTime"]), int(params["endTime"]), limit))
    if path == "/api/v3/ticker/price":
        body = json.loads((PAYLOADS / "binance" / "binance_api_v3_ticker_price_BTCUSDT_2026-07-04.json").read_text())
        return httpx.Response(200, json=body)
    return httpx.Response(404, json={"code": -1, "msg": "not found"})


def okx(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if path == "/api/v5/market/history-candles" and params.get("instId") == "BTC-USDT" and params.get("bar") == "1Dutc":
        after = int(params["after"])
        limit = min(int(params.get("limit", 100)), 100)
        rows = [r for t, r in sorted(binance_daily().items(), reverse=True) if t < after][:limit]
        data = [[r[0], r[1], r[2], r[3], r[4], r[5], r[7], r[7], "1"] for r in rows]
        return httpx.Response(200, json={"code": "0", "msg": "", "data": data})
    if path == "/api/v5/market/ticker":
        last = binance_daily()[max(binance_daily())]
        return httpx.Response(
            200,
            json={
                "code": "0",
                "msg": "",
                "data": [{"instId": "BTC-USDT", "last": last[4], "ts": str(int(last[6]))}],
            },
        )
    return httpx.Response(200, json={"code": "51001", "msg": "Instrument ID does not exist", "data": []})


def kraken(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if path == "/0/public/OHLC" and params.get("pair") == "XBTUSDT" and params.get("interval") == "1440":
        rows = sorted(binance_daily().items())[-720:]  # Kraken serves only the latest 720 bars
        since = int(params.get("since", 0))
        ohlc = [[t // 1000, r[1], r[2], r[3], r[4], r[4], r[5], int(r[8])] for t, r in rows if t // 1000 > since]
        return httpx.Response(200, json={"error": [], "result": {"XBTUSDT": ohlc, "last": ohlc[-1][0] if ohlc else 0}})
    if path == "/0/public/Ticker":
        body = json.loads((PAYLOADS / "kraken" / "kraken_public_Ticker_XBTUSDT_2025-11-11.json").read_text())
        return httpx.Response(200, json=body)
    return httpx.Response(200, json={"error": ["EQuery:Unknown asset pair"]})


def bitstamp(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if path == "/api/v2/ohlc/btcusdt/" and params.get("step") == str(DAY):
        start, end = int(params["start"]), int(params["end"])
        rows = [r for t, r in sorted(binance_daily().items()) if start <= t // 1000 <= end]
        ohlc = [
            {
                "timestamp": str(int(r[0]) // 1000),
                "open": r[1],
                "high": r[2],
                "low": r[3],
                "close": r[4],
                "volume": r[5],
            }
            for r in rows
        ]
        return httpx.Response(200, json={"data": {"pair": "BTC/USDT", "ohlc": ohlc}})
    return httpx.Response(404, json={"errors": [{"message": "not found"}]})


def register(fake: FakeUpstream) -> None:
    fake.handlers.update(coinbase=coinbase, binance=binance, okx=okx, kraken=kraken, bitstamp=bitstamp)
