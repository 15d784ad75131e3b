"""CoinGlass API v4 (keyed, `CG-API-KEY` header).

ETF flows: GET /api/etf/bitcoin/flow-history and /api/etf/ethereum/flow-history return
`{"code": "0", "msg": null, "data": [{"timestamp": ms at 00:00 UTC of the US trade date, "flow_usd": float,
"price_usd": float, "etf_flows": [{"etf_ticker": "IBIT", "flow_usd": float}, ...]}]}`, ascending, USD (not millions).
Errors come as a non-"0" code with a `msg`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from fetchers.errors import BadPayloadError, UnavailableError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import (
    expect_dict,
    expect_list,
    field,
    ms_json,
    nullable,
    num_json,
    optional,
    text,
    upstream_message,
)
from schemas.etf_flows import FlowRow, FlowTable

SOURCE = "coinglass"
ETF_FLOW_PATHS = {"BTC": "/api/etf/bitcoin/flow-history", "ETH": "/api/etf/ethereum/flow-history"}
ETF_TTL_S = 1800.0


def envelope(response: httpx.Response) -> Any:
    """The `data` of a CoinGlass v4 body: `code` "0" is success; otherwise `msg` says what went wrong."""
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    code = field(SOURCE, body, "code", "response")
    if code != "0":
        message = upstream_message(body.get("msg"), 160)
        if "key" in message.lower():
            raise UnavailableError(SOURCE, f"the API key was rejected (code {str(code)[:12]}: {message})")
        raise BadPayloadError(SOURCE, f"error code {str(code)[:12]}: {message}")
    return field(SOURCE, body, "data", "response")


_FLOW = nullable(num_json)  # a null flow is "no figure" (kept as None), never read as zero
DAY_MS = 86_400_000


def parse_etf_flow_history(response: httpx.Response) -> FlowTable:
    rows: dict[date, FlowRow] = {}
    tickers: list[str] = []
    for i, raw in enumerate(expect_list(SOURCE, envelope(response), "data")):
        where = f"row {i}"
        item = expect_dict(SOURCE, raw, where)
        stamp = field(SOURCE, item, "timestamp", where, ms_json)
        if item["timestamp"] % DAY_MS:
            # Documented as 00:00 UTC of the US trade date; another hour would move rows to the wrong day.
            raise BadPayloadError(SOURCE, f"{where}: timestamp {item['timestamp']} is not at 00:00 UTC")
        day = stamp.date()
        total = field(SOURCE, item, "flow_usd", where, _FLOW)
        funds: dict[str, float | None] = {}
        # etf_flows is in the docs' example but absent from a real capture: optional, and then no per-fund figures.
        for j, fund_raw in enumerate(optional(SOURCE, item, "etf_flows", where, expect_list) or []):
            fund_where = f"{day} etf_flows[{j}]"
            fund = expect_dict(SOURCE, fund_raw, fund_where)
            ticker = field(SOURCE, fund, "etf_ticker", fund_where, text).strip().upper()
            funds[ticker] = field(SOURCE, fund, "flow_usd", fund_where, _FLOW)
            if ticker not in tickers:
                tickers.append(ticker)
        rows[day] = FlowRow(day=day, funds=funds, total_usd=total)
    return FlowTable(tickers=tuple(tickers), rows=[rows[d] for d in sorted(rows)], since_launch=True)


async def fetch_etf_flow_history(http: Http, asset: str) -> Fetched[FlowTable]:
    return await http.get(
        SOURCE,
        ETF_FLOW_PATHS[asset],
        parse_etf_flow_history,
        headers={"CG-API-KEY": http.require_key(SOURCE)},
        ttl_s=ETF_TTL_S,
    )
