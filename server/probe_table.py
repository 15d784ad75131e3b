"""Each upstream's cheapest real request, for `windvane doctor`: one small documented endpoint per source (a time or
ping endpoint where the API has one), sent to the configured base URL exactly as windvane's fetchers would.

Keyed sources are probed only when their key is set, and send it where the fetcher does (header, or FRED's query
parameter). WebSocket streams are probed with an opening handshake, then closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from fetchers.liquidation_streams import BYBIT_LINEAR_PATH, binance_path


@dataclass(frozen=True)
class KeyIn:
    """Where the key travels: `header` (with `prefix`), or `query` (FRED's JSON API accepts it nowhere else)."""

    name: str
    where: str = "header"
    prefix: str = ""


@dataclass(frozen=True)
class Probe:
    path: str
    params: Callable[[date], Mapping[str, str]] = field(default=lambda today: {})
    key: KeyIn | None = None
    key_source: str | None = None  # the settings name of the key when it differs from the source (fred_api -> fred)
    websocket: bool = False
    # A 200 that is really a refusal (Cloudflare's challenge page) is recognised by the page's own markers.
    challenge_page: bool = False


def _fixed(**params: str) -> Callable[[date], Mapping[str, str]]:
    return lambda today: params


def _fred_recent(today: date) -> Mapping[str, str]:
    # A week of one series: the whole SP500 history is ten years of rows.
    return {"id": "SP500", "cosd": (today - timedelta(days=7)).isoformat()}


PROBES: dict[str, Probe] = {
    "coinbase": Probe("/time"),
    "binance": Probe("/api/v3/ping"),
    "binance_futures": Probe("/fapi/v1/ping"),
    "okx": Probe("/api/v5/public/time"),
    "kraken": Probe("/0/public/Time"),
    "bitstamp": Probe("/api/v2/ticker/btcusd/"),
    "bybit": Probe("/v5/market/time"),
    "farside": Probe("/btc/", challenge_page=True),  # the short recent-days page, not the all-data one
    "sosovalue": Probe(
        "/openapi/v1/etfs/summary-history", _fixed(symbol="BTC", country_code="US"), KeyIn("x-soso-api-key")
    ),
    "coinglass": Probe("/api/futures/supported-coins", key=KeyIn("CG-API-KEY")),
    "cryptoquant": Probe(
        "/v1/btc/exchange-flows/reserve",
        _fixed(exchange="all_exchange", window="day", limit="1"),
        KeyIn("Authorization", prefix="Bearer "),
    ),
    "fred": Probe("/graph/fredgraph.csv", _fred_recent),
    "fred_api": Probe(
        "/fred/series", _fixed(series_id="SP500", file_type="json"), KeyIn("api_key", "query"), key_source="fred"
    ),
    "yahoo": Probe("/v8/finance/chart/%5EIXIC", _fixed(range="1d", interval="1d")),
    "kalshi": Probe("/trade-api/v2/exchange/status"),
    "polymarket": Probe("/events", _fixed(limit="1")),
    "polymarket_clob": Probe("/time"),
    "coingecko": Probe("/api/v3/ping"),
    "coinpaprika": Probe("/v1/global"),
    "mempool": Probe("/api/blocks/tip/height"),
    "blockstream": Probe("/api/blocks/tip/height"),
    "alternative_me": Probe("/fng/", _fixed(limit="1")),
    "defillama": Probe("/tvl/okx"),  # one number; /protocol/<slug> is the whole multi-megabyte history
    "binance_futures_ws": Probe(binance_path("BTC"), websocket=True),
    "bybit_ws": Probe(BYBIT_LINEAR_PATH, websocket=True),
}

# Configured sources no windvane tool calls yet: nothing to probe.
UNUSED: dict[str, str] = {"deribit": "no windvane tool reads it yet"}
