"""SoSoValue open API (keyed, `x-soso-api-key` header): US spot ETF daily flows, totals and per fund.

GET /openapi/v1/etfs/summary-history?symbol=BTC&country_code=US gives the daily totals of all US spot funds and
GET /openapi/v1/etfs/{ticker}/history one fund's days; both `{"code": 0, "message": "success", "data": [...]}`,
newest first, USD floats (not millions). The day still being reported carries nulls. A bad key answers
`{"code": 400101, "message": "API Key is invalid or does not exist. ..."}`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from fetchers.errors import BadPayloadError, UnavailableError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, num
from schemas.etf_flows import FlowRow, FlowTable

SOURCE = "sosovalue"
SUMMARY_PATH = "/openapi/v1/etfs/summary-history"
TTL_S = 1800.0
INVALID_KEY_CODE = 400101

# US spot funds per asset, for per-fund histories (the summary has totals only).
FUNDS: dict[str, tuple[str, ...]] = {
    "BTC": ("IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL", "BTCW", "MSBT", "GBTC", "BTC"),
    "ETH": ("ETHA", "ETHB", "FETH", "ETHW", "TETH", "ETHV", "QETH", "EZET", "MSSE", "ETHE", "ETH"),
}


def _data(response: httpx.Response) -> list[Any]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    code = body.get("code")
    if code != 0 and str(code) != "0":
        message = str(body.get("message") or body.get("msg") or "")[:160]
        if code == INVALID_KEY_CODE or str(code) == str(INVALID_KEY_CODE):
            raise UnavailableError(SOURCE, f"the API key was rejected (code {code})")
        raise BadPayloadError(SOURCE, f"error code {code}: {message}")
    return expect_list(SOURCE, body.get("data"), "data")


def _day(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise BadPayloadError(SOURCE, f"{what}: {str(value)[:30]!r} is not an ISO date") from None


def _optional(value: Any, what: str) -> float | None:
    return None if value is None else num(SOURCE, value, what)


def parse_summary_history(response: httpx.Response) -> FlowTable:
    """Daily totals, ascending; `net_assets_usd["TOTAL"]` is the latest reported total net assets."""
    rows: dict[date, FlowRow] = {}
    assets: tuple[date, float] | None = None
    for i, item in enumerate(_data(response)):
        item = expect_dict(SOURCE, item, f"row {i}")
        day = _day(item.get("date"), f"row {i} date")
        total = _optional(item.get("total_net_inflow"), f"{day} total_net_inflow")
        if total is None:
            continue  # the day still being reported
        rows[day] = FlowRow(day=day, funds={}, total_usd=total)
        net_assets = _optional(item.get("total_net_assets"), f"{day} total_net_assets")
        if net_assets is not None and (assets is None or day > assets[0]):
            assets = (day, net_assets)
    return FlowTable(
        tickers=(),
        rows=[rows[d] for d in sorted(rows)],
        net_assets_usd={} if assets is None else {"TOTAL": assets[1]},
    )


def parse_fund_history(response: httpx.Response) -> tuple[dict[date, float], float | None]:
    """One fund's daily net inflow (USD) by day, and its latest net assets (USD)."""
    flows: dict[date, float] = {}
    latest: tuple[date, float] | None = None
    for i, item in enumerate(_data(response)):
        item = expect_dict(SOURCE, item, f"row {i}")
        day = _day(item.get("date"), f"row {i} date")
        flow = _optional(item.get("net_inflow"), f"{day} net_inflow")
        if flow is not None:
            flows[day] = flow
        assets = _optional(item.get("net_assets"), f"{day} net_assets")
        if assets is not None and (latest is None or day > latest[0]):
            latest = (day, assets)
    return flows, None if latest is None else latest[1]


def _headers(http: Http) -> dict[str, str]:
    return {"x-soso-api-key": http.require_key(SOURCE)}


async def fetch_summary(http: Http, asset: str) -> Fetched[FlowTable]:
    return await http.get(
        SOURCE,
        SUMMARY_PATH,
        parse_summary_history,
        params={"symbol": asset, "country_code": "US"},
        headers=_headers(http),
        ttl_s=TTL_S,
    )


async def fetch_fund_history(http: Http, ticker: str) -> Fetched[tuple[dict[date, float], float | None]]:
    return await http.get(
        SOURCE, f"/openapi/v1/etfs/{ticker}/history", parse_fund_history, headers=_headers(http), ttl_s=TTL_S
    )
