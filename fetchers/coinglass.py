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
from fetchers.parsing import expect_dict, expect_list, num, ts_millis
from schemas.etf_flows import FlowRow, FlowTable

SOURCE = "coinglass"
ETF_FLOW_PATHS = {"BTC": "/api/etf/bitcoin/flow-history", "ETH": "/api/etf/ethereum/flow-history"}
ETF_TTL_S = 1800.0


def _data(response: httpx.Response) -> Any:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    code = str(body.get("code"))
    if code != "0":
        message = str(body.get("msg") or "")[:160]
        if "key" in message.lower():
            raise UnavailableError(SOURCE, f"the API key was rejected (code {code}: {message})")
        raise BadPayloadError(SOURCE, f"error code {code}: {message}")
    return body.get("data")


def parse_etf_flow_history(response: httpx.Response) -> FlowTable:
    rows: dict[date, FlowRow] = {}
    tickers: list[str] = []
    for i, item in enumerate(expect_list(SOURCE, _data(response), "data")):
        item = expect_dict(SOURCE, item, f"row {i}")
        day = ts_millis(SOURCE, item.get("timestamp"), f"row {i} timestamp").date()
        total = item.get("flow_usd")
        funds: dict[str, float | None] = {}
        for j, fund in enumerate(expect_list(SOURCE, item.get("etf_flows") or [], f"{day} etf_flows")):
            fund = expect_dict(SOURCE, fund, f"{day} etf_flows[{j}]")
            ticker = str(fund.get("etf_ticker") or "").strip().upper()
            if not ticker:
                raise BadPayloadError(SOURCE, f"{day} etf_flows[{j}] has no etf_ticker")
            flow = fund.get("flow_usd")
            funds[ticker] = None if flow is None else num(SOURCE, flow, f"{day} {ticker} flow_usd")
            if ticker not in tickers:
                tickers.append(ticker)
        rows[day] = FlowRow(
            day=day, funds=funds, total_usd=None if total is None else num(SOURCE, total, f"{day} flow_usd")
        )
    return FlowTable(tickers=tuple(tickers), rows=[rows[d] for d in sorted(rows)], since_launch=True)


async def fetch_etf_flow_history(http: Http, asset: str) -> Fetched[FlowTable]:
    return await http.get(
        SOURCE,
        ETF_FLOW_PATHS[asset],
        parse_etf_flow_history,
        headers={"CG-API-KEY": http.require_key(SOURCE)},
        ttl_s=ETF_TTL_S,
    )
