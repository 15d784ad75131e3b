"""Fake CoinGlass v4 exchange-balance endpoints in the documented format (docs.coinglass.com exchange-balance-list
and exchange-balance-chart), with the docs' example figures for Coinbase and Binance. Other CoinGlass paths are
left to other fakes: this one only wraps the handler for its two paths.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.fakes import FakeUpstream, Handler

KEY = "test-cg-key"
# The documentation's example rows (exchange-balance-list), as served.
LIST_ROWS = [
    {
        "exchange_name": "Coinbase",
        "total_balance": 716590.351233,
        "balance_change_1d": 638.797302,
        "balance_change_percent_1d": 0.09,
        "balance_change_7d": 799.967408,
        "balance_change_percent_7d": 0.11,
        "balance_change_30d": -29121.977486,
        "balance_change_percent_30d": -3.91,
    },
    {
        "exchange_name": "Binance",
        "total_balance": 582344.497738,
        "balance_change_1d": 505.682778,
        "balance_change_percent_1d": 0.09,
        "balance_change_7d": -3784.88544,
        "balance_change_percent_7d": -0.65,
        "balance_change_30d": 3753.870055,
        "balance_change_percent_30d": 0.65,
    },
]
# A daily chart for two venues, built for the tests (ms timestamps at 00:00 UTC).
CHART_DAYS = ["2025-10-24", "2025-10-25", "2025-11-23", "2025-11-24"]
CHART = {
    "coinbase": [745712.33, 745700.0, 716000.0, 716590.35],
    "binance": [578590.63, 578600.0, 582000.0, 582344.50],
}


def _ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def wrap(previous: Handler | None) -> Handler:
    """Serve the two exchange-balance paths; hand any other CoinGlass path to the handler registered before."""

    def handle(request: httpx.Request, path: str) -> httpx.Response:
        if path not in ("/api/exchange/balance/list", "/api/exchange/balance/chart"):
            if previous is None:
                return httpx.Response(404, json={"code": "404", "msg": "not found"})
            return previous(request, path)
        if request.headers.get("CG-API-KEY") != KEY:
            return httpx.Response(200, json={"code": "30001", "msg": "API key missing"})
        if request.url.params.get("symbol") != "BTC":
            return httpx.Response(200, json={"code": "40001", "msg": "symbol not supported"})
        if path == "/api/exchange/balance/list":
            return httpx.Response(200, json={"code": "0", "msg": "success", "data": LIST_ROWS})
        chart = {
            "time_list": [_ms(d) for d in CHART_DAYS],
            "price_list": [110000.0, 111000.0, 86800.0, 88300.0],
            "data_map": CHART,
        }
        return httpx.Response(200, json={"code": "0", "msg": "success", "data": [chart]})

    return handle


def register(fake: FakeUpstream) -> None:
    fake.handlers["coinglass"] = wrap(fake.handlers.get("coinglass"))
