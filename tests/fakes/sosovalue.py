"""Fake SoSoValue open API: the shared Farside daily flows (US$m -> USD) in SoSoValue's exact JSON shape.

`GET /openapi/v1/etfs/summary-history?symbol=&country_code=US` -> {"code": 0, "message": "success", "data":
[{date, total_net_inflow, total_value_traded, total_net_assets, cum_net_inflow}]} newest first;
`GET /openapi/v1/etfs/{T}/history` -> rows {date, ticker, net_inflow, cum_inflow, net_assets, ...}. The shared
data has no traded value or net assets, so those are null rather than invented. A missing or wrong
`x-soso-api-key` gets the recorded invalid-key body.
"""

from __future__ import annotations

import json

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import PAYLOADS, etf_flows_csv

KEY = "test-soso-key"
INVALID_KEY_BODY = PAYLOADS / "sosovalue" / "sosovalue_error_invalid_api_key.json"


def _usd(millions: float) -> float:
    return round(millions * 1_000_000, 2)


def handle(request: httpx.Request, path: str) -> httpx.Response:
    if request.headers.get("x-soso-api-key") != KEY:
        return httpx.Response(200, json=json.loads(INVALID_KEY_BODY.read_text()))
    params = request.url.params
    if path == "/openapi/v1/etfs/summary-history":
        asset = params.get("symbol", "")
        if asset not in ("BTC", "ETH") or params.get("country_code") != "US":
            return httpx.Response(200, json={"code": 400, "message": "invalid symbol", "data": None})
        _, rows = etf_flows_csv(asset)
        cumulative = 0.0
        data = []
        for day, _funds, total in rows:
            cumulative += total
            data.append(
                {
                    "date": day,
                    "total_net_inflow": _usd(total),
                    "total_value_traded": None,
                    "total_net_assets": None,
                    "cum_net_inflow": _usd(cumulative),
                }
            )
        return httpx.Response(200, json={"code": 0, "message": "success", "data": data[::-1]})
    parts = path.strip("/").split("/")
    if len(parts) == 5 and parts[:3] == ["openapi", "v1", "etfs"] and parts[4] == "history":
        ticker = parts[3]
        for asset in ("BTC", "ETH"):
            tickers, rows = etf_flows_csv(asset)
            if ticker in tickers:
                data = [
                    {
                        "date": day,
                        "ticker": ticker,
                        "net_inflow": None if funds[ticker] is None else _usd(funds[ticker] or 0.0),
                        "cum_inflow": None,
                        "net_assets": None,
                        "currency_share": None,
                        "prem_dsc": None,
                        "value_traded": None,
                        "volume": None,
                    }
                    for day, funds, _total in rows
                ]
                return httpx.Response(200, json={"code": 0, "message": "success", "data": data[::-1]})
        return httpx.Response(200, json={"code": 404, "message": "etf not found", "data": None})
    return httpx.Response(404, json={"code": 404, "message": "not found"})


def register(fake: FakeUpstream) -> None:
    fake.handlers["sosovalue"] = handle
