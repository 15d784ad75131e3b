"""Total crypto market capitalisation "now": CoinGecko /api/v3/global, with CoinPaprika /v1/global as fallback.

Neither offers keyless history (CoinGecko's market-cap chart is paid-plan only), so windvane stores a snapshot on
every fetch and reads changes over time from its own history store.
CoinGecko: `{"data": {"total_market_cap": {"usd": ...}, "market_cap_percentage": {"btc": ...}, "updated_at": <s>}}`.
CoinPaprika (source `coinpaprika`): `{"market_cap_usd", "bitcoin_dominance_percentage", "last_updated": <s>}`.
"""

from __future__ import annotations

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, field, num_json, s_json, upstream_message
from schemas.macro_rows import MarketCapSnapshot

SOURCE = "coingecko"
PAPRIKA_SOURCE = "coinpaprika"


def parse_global(response: httpx.Response) -> MarketCapSnapshot:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "global response")
    status = body.get("status")
    if isinstance(status, dict) and status.get("error_message"):
        # CoinGecko's error shape: {"status": {"error_code": 429, "error_message": "..."}}.
        raise BadPayloadError(SOURCE, f"error: {upstream_message(status['error_message'])}")
    data = field(SOURCE, body, "data", "response", expect_dict)
    caps = field(SOURCE, data, "total_market_cap", "data", expect_dict)
    total = field(SOURCE, caps, "usd", "data.total_market_cap", num_json)
    if total <= 0:
        raise BadPayloadError(SOURCE, "total_market_cap.usd is not positive")
    share = field(SOURCE, data, "market_cap_percentage", "data", expect_dict)
    return MarketCapSnapshot(
        total_usd=total,
        updated_at=field(SOURCE, data, "updated_at", "data", s_json),
        btc_dominance_pct=field(SOURCE, share, "btc", "data.market_cap_percentage", num_json),
    )


def parse_paprika_global(response: httpx.Response) -> MarketCapSnapshot:
    body = expect_dict(PAPRIKA_SOURCE, decode_json(response, PAPRIKA_SOURCE), "global response")
    if "error" in body and "market_cap_usd" not in body:
        raise BadPayloadError(PAPRIKA_SOURCE, f"error: {upstream_message(body['error'])}")
    total = field(PAPRIKA_SOURCE, body, "market_cap_usd", "global", num_json)
    if total <= 0:
        raise BadPayloadError(PAPRIKA_SOURCE, "market_cap_usd is not positive")
    return MarketCapSnapshot(
        total_usd=total,
        updated_at=field(PAPRIKA_SOURCE, body, "last_updated", "global", s_json),
        btc_dominance_pct=field(PAPRIKA_SOURCE, body, "bitcoin_dominance_percentage", "global", num_json),
    )


async def fetch_global(http: Http) -> Fetched[MarketCapSnapshot]:
    # CoinGecko itself refreshes /global about every 10 minutes.
    return await http.get(SOURCE, "/api/v3/global", parse_global, ttl_s=600.0)


async def fetch_paprika_global(http: Http) -> Fetched[MarketCapSnapshot]:
    return await http.get(PAPRIKA_SOURCE, "/v1/global", parse_paprika_global, ttl_s=600.0)
