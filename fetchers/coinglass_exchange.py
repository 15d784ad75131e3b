"""CoinGlass v4 (keyed, `CG-API-KEY` header): BTC balance per exchange, including Coinbase.

GET /api/exchange/balance/list?symbol=BTC -> {"code": "0", "data": [{"exchange_name", "total_balance",
"balance_change_1d", "balance_change_percent_1d", ...7d, ...30d}]} (updated hourly).
GET /api/exchange/balance/chart?symbol=BTC -> {"code": "0", "data": [{"time_list": [ms...], "price_list": [...],
"data_map": {"<exchange>": [balance per time...]}}]} (the docs wrap the one chart object in a list; a bare object
is accepted too). A non-"0" code is an error whatever the HTTP status. Exchange names are lower-cased here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx

from fetchers.errors import BadPayloadError, UnavailableError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, num, ts_millis

SOURCE = "coinglass"


@dataclass(frozen=True)
class ExchangeBalance:
    exchange: str
    btc: float
    change_1d: float | None
    change_7d: float | None
    change_30d: float | None


@dataclass(frozen=True)
class BalanceChart:
    times: list[datetime]
    by_exchange: dict[str, list[float | None]]


def _data(response: httpx.Response) -> object:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "body")
    if str(body.get("code")) != "0":
        raise UnavailableError(SOURCE, f"API error code {body.get('code')!r}: {str(body.get('msg'))[:80]}")
    return body.get("data")


def _opt(value: object, what: str) -> float | None:
    return None if value is None else num(SOURCE, value, what)


def parse_balance_list(response: httpx.Response) -> list[ExchangeBalance]:
    rows = expect_list(SOURCE, _data(response), "data")
    out = []
    for i, row in enumerate(rows):
        row = expect_dict(SOURCE, row, f"data[{i}]")
        name = row.get("exchange_name")
        if not isinstance(name, str):
            raise BadPayloadError(SOURCE, f"data[{i}]: missing exchange_name")
        out.append(
            ExchangeBalance(
                exchange=name.strip().lower(),
                btc=num(SOURCE, row.get("total_balance"), f"data[{i}].total_balance"),
                change_1d=_opt(row.get("balance_change_1d"), "balance_change_1d"),
                change_7d=_opt(row.get("balance_change_7d"), "balance_change_7d"),
                change_30d=_opt(row.get("balance_change_30d"), "balance_change_30d"),
            )
        )
    return out


def parse_balance_chart(response: httpx.Response) -> BalanceChart:
    raw = _data(response)
    if isinstance(raw, list):
        if len(raw) != 1:
            raise BadPayloadError(SOURCE, f"data: expected one chart object, got {len(raw)}")
        raw = raw[0]
    data = expect_dict(SOURCE, raw, "data")
    times = [ts_millis(SOURCE, t, "time_list") for t in expect_list(SOURCE, data.get("time_list"), "time_list")]
    by_exchange: dict[str, list[float | None]] = {}
    for name, values in expect_dict(SOURCE, data.get("data_map"), "data_map").items():
        series = expect_list(SOURCE, values, f"data_map.{name}")
        if len(series) != len(times):
            raise BadPayloadError(SOURCE, f"data_map.{name} has {len(series)} values for {len(times)} times")
        by_exchange[str(name).strip().lower()] = [_opt(v, f"data_map.{name}") for v in series]
    return BalanceChart(times, by_exchange)


def _headers(http: Http) -> dict[str, str]:
    return {"CG-API-KEY": http.require_key(SOURCE)}


async def fetch_balance_list(http: Http) -> Fetched[list[ExchangeBalance]]:
    return await http.get(
        SOURCE,
        "/api/exchange/balance/list",
        parse_balance_list,
        params={"symbol": "BTC"},
        headers=_headers(http),
        ttl_s=900.0,
    )


async def fetch_balance_chart(http: Http) -> Fetched[BalanceChart]:
    return await http.get(
        SOURCE,
        "/api/exchange/balance/chart",
        parse_balance_chart,
        params={"symbol": "BTC"},
        headers=_headers(http),
        ttl_s=3600.0,
    )
