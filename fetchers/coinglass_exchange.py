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

from fetchers.coinglass import envelope
from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http
from fetchers.parsing import expect_dict, expect_list, field, ms_json, nullable, num_json, text

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


_BALANCE = nullable(num_json)  # a null change or chart point is "no figure", kept as None


def parse_balance_list(response: httpx.Response) -> list[ExchangeBalance]:
    rows = expect_list(SOURCE, envelope(response), "data")
    out = []
    for i, raw in enumerate(rows):
        where = f"data[{i}]"
        row = expect_dict(SOURCE, raw, where)
        out.append(
            ExchangeBalance(
                exchange=field(SOURCE, row, "exchange_name", where, text).strip().lower(),
                btc=field(SOURCE, row, "total_balance", where, num_json),
                change_1d=field(SOURCE, row, "balance_change_1d", where, _BALANCE),
                change_7d=field(SOURCE, row, "balance_change_7d", where, _BALANCE),
                change_30d=field(SOURCE, row, "balance_change_30d", where, _BALANCE),
            )
        )
    return out


def parse_balance_chart(response: httpx.Response) -> BalanceChart:
    raw = envelope(response)
    if isinstance(raw, list):
        if len(raw) != 1:
            raise BadPayloadError(SOURCE, f"data: expected one chart object, got {len(raw)}")
        raw = raw[0]
    data = expect_dict(SOURCE, raw, "data")
    stamps = field(SOURCE, data, "time_list", "data", expect_list)
    times = [ms_json(SOURCE, t, f"time_list[{i}]") for i, t in enumerate(stamps)]
    by_exchange: dict[str, list[float | None]] = {}
    for name, values in field(SOURCE, data, "data_map", "data", expect_dict).items():
        series = expect_list(SOURCE, values, f"data_map.{name}")
        if len(series) != len(times):
            raise BadPayloadError(SOURCE, f"data_map.{name} has {len(series)} values for {len(times)} times")
        by_exchange[str(name).strip().lower()] = [
            _BALANCE(SOURCE, v, f"data_map.{name}[{j}]") for j, v in enumerate(series)
        ]
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
