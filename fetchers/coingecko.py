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
from fetchers.parsing import expect_dict, num, ts_seconds
from schemas.macro_rows import MarketCapSnapshot

SOURCE = "coingecko"
PAPRIKA_SOURCE = "coinpaprika"


def parse_global(response: httpx.Response) -> MarketCapSnapshot:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "global response")
    data = expect_dict(SOURCE, body.get("data"), "data")
    total = num(SOURCE, expect_dict(SOURCE, data.get("total_market_cap"), "total_market_cap").get("usd"), "usd")
    if total <= 0:
        raise BadPayloadError(SOURCE, "total_market_cap.usd is not positive")
    share = data.get("market_cap_percentage", {})
    btc = share.get("btc") if isinstance(share, dict) else None
    updated = data.get("updated_at")
    return MarketCapSnapshot(
        total_usd=total,
        updated_at=None if updated is None else ts_seconds(SOURCE, updated, "updated_at"),
        btc_dominance_pct=None if btc is None else num(SOURCE, btc, "market_cap_percentage.btc"),
    )


def parse_paprika_global(response: httpx.Response) -> MarketCapSnapshot:
    body = expect_dict(PAPRIKA_SOURCE, decode_json(response, PAPRIKA_SOURCE), "global response")
    total = num(PAPRIKA_SOURCE, body.get("market_cap_usd"), "market_cap_usd")
    if total <= 0:
        raise BadPayloadError(PAPRIKA_SOURCE, "market_cap_usd is not positive")
    btc = body.get("bitcoin_dominance_percentage")
    updated = body.get("last_updated")
    return MarketCapSnapshot(
        total_usd=total,
        updated_at=None if updated is None else ts_seconds(PAPRIKA_SOURCE, updated, "last_updated"),
        btc_dominance_pct=None if btc is None else num(PAPRIKA_SOURCE, btc, "bitcoin_dominance_percentage"),
    )


async def fetch_global(http: Http) -> Fetched[MarketCapSnapshot]:
    # CoinGecko itself refreshes /global about every 10 minutes.
    return await http.get(SOURCE, "/api/v3/global", parse_global, ttl_s=600.0)


async def fetch_paprika_global(http: Http) -> Fetched[MarketCapSnapshot]:
    return await http.get(PAPRIKA_SOURCE, "/v1/global", parse_paprika_global, ttl_s=600.0)
