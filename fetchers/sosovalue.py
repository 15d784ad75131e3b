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
from fetchers.parsing import expect_dict, expect_list, field, nullable, num_json, require, text, upstream_message
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
    code = field(SOURCE, body, "code", "response")
    if code != 0 and str(code) != "0":
        message = upstream_message(body.get("message") or body.get("msg"), 160)
        if code == INVALID_KEY_CODE or str(code) == str(INVALID_KEY_CODE):
            raise UnavailableError(SOURCE, f"the API key was rejected (code {code})")
        raise BadPayloadError(SOURCE, f"error code {str(code)[:12]}: {message}")
    return field(SOURCE, body, "data", "response", expect_list)


def _day(source: str, value: Any, what: str) -> date:
    raw = text(source, value, what)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise BadPayloadError(source, f"{what}: {raw[:30]!r} is not an ISO date") from None


# The day still being reported carries nulls: kept as None (skipped for flows), never read as zero.
_USD = nullable(num_json)


def parse_summary_history(response: httpx.Response) -> FlowTable:
    """Daily totals, ascending; `net_assets_usd["TOTAL"]` is the latest reported total net assets."""
    rows: dict[date, FlowRow] = {}
    seen: set[date] = set()
    assets: tuple[date, float] | None = None
    for i, raw in enumerate(_data(response)):
        where = f"row {i}"
        item = expect_dict(SOURCE, raw, where)
        require(SOURCE, item, ("date", "total_net_inflow", "total_net_assets"), where)
        day = field(SOURCE, item, "date", where, _day)
        total = field(SOURCE, item, "total_net_inflow", str(day), _USD)
        net_assets = field(SOURCE, item, "total_net_assets", str(day), _USD)
        if day in seen:
            raise BadPayloadError(SOURCE, f"{where}: a second row for {day}")
        seen.add(day)
        if total is None:
            continue  # the day still being reported
        rows[day] = FlowRow(day=day, funds={}, total_usd=total)
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
    for i, raw in enumerate(_data(response)):
        where = f"row {i}"
        item = expect_dict(SOURCE, raw, where)
        require(SOURCE, item, ("date", "net_inflow", "net_assets"), where)
        day = field(SOURCE, item, "date", where, _day)
        flow = field(SOURCE, item, "net_inflow", str(day), _USD)
        if flow is not None:
            flows[day] = flow
        assets = field(SOURCE, item, "net_assets", str(day), _USD)
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
