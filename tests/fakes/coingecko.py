"""Fake CoinGecko /api/v3/global (the real capture in shared/payloads/coingecko) and CoinPaprika /v1/global.

CoinPaprika's body is hand-built with the field names and types of its official API client
(coinpaprika/coinpaprika-api-kotlin-client GlobalStatsEntity); its figures are test inputs.
"""

from __future__ import annotations

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import PAYLOADS

GLOBAL = PAYLOADS / "coingecko" / "coingecko_api_v3_global_2026-09-12.json"
PAPRIKA_GLOBAL = {
    "market_cap_usd": 3012345678901,
    "volume_24h_usd": 151234567890,
    "bitcoin_dominance_percentage": 58.61,
    "cryptocurrencies_number": 9113,
    "market_cap_ath_value": 4381234567890,
    "market_cap_ath_date": "2025-10-06T19:45:00Z",
    "volume_24h_ath_value": 3322031064755,
    "volume_24h_ath_date": "2021-05-19T15:30:00Z",
    "volume_24h_percent_from_ath": -95.45,
    "volume_24h_percent_to_ath": 2096.53,
    "market_cap_change_24h": 1.37,
    "volume_24h_change_24h": -12.4,
    "last_updated": 1764158400,
}


def coingecko(request: httpx.Request, path: str) -> httpx.Response:
    if path == "/api/v3/global":
        return httpx.Response(200, content=GLOBAL.read_bytes(), headers={"content-type": "application/json"})
    return httpx.Response(404, json={"error": "Not Found"})


def coinpaprika(request: httpx.Request, path: str) -> httpx.Response:
    if path == "/v1/global":
        return httpx.Response(200, json=PAPRIKA_GLOBAL)
    return httpx.Response(404, json={"error": "not found"})


def register(fake: FakeUpstream) -> None:
    fake.handlers.update(coingecko=coingecko, coinpaprika=coinpaprika)
