"""Fake CryptoQuant serving the real all-exchange reserve and netflow CSVs (../shared/data/06_*) in the API's format.

GET /v1/btc/exchange-flows/{reserve,netflow}?exchange=all_exchange&window=day&from=YYYYMMDD&to=YYYYMMDD&limit=
-> {"status": {"code": 200, "message": "success"}, "result": {"window": "DAY", "data": [{"date", <field>}]}},
newest first. A missing or wrong bearer token gets 401.
"""

from __future__ import annotations

import csv
from datetime import date
from functools import cache

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import DATA

FOLDER = DATA / "06_cryptoquant_btc_exchange_flows_liquidations"
KEY = "test-cq-key"


@cache
def reserve_csv() -> dict[date, float]:
    return _read("btc_exchange_reserve_all_exchanges_daily.csv", "Exchange Reserve")


@cache
def netflow_csv() -> dict[date, float]:
    return _read("btc_exchange_netflow_total_daily.csv", "Exchange Netflow (Total)")


def _read(name: str, column: str) -> dict[date, float]:
    with (FOLDER / name).open() as fh:
        return {date.fromisoformat(r["date"]): float(r[column]) for r in csv.DictReader(fh) if r[column]}


def _day(raw: str) -> date:
    return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))


def handle(request: httpx.Request, path: str) -> httpx.Response:
    if request.headers.get("Authorization") != f"Bearer {KEY}":
        return httpx.Response(401, json={"status": {"code": 401, "message": "Unauthorized"}})
    params = request.url.params
    series = {
        "/v1/btc/exchange-flows/reserve": (reserve_csv, "reserve"),
        "/v1/btc/exchange-flows/netflow": (netflow_csv, "netflow_total"),
    }.get(path)
    if series is None or params.get("exchange") != "all_exchange" or params.get("window") != "day":
        return httpx.Response(400, json={"status": {"code": 400, "message": "Bad Request"}})
    load, field = series
    start, end, limit = _day(params["from"]), _day(params["to"]), int(params.get("limit", 100))
    rows = [(d, v) for d, v in sorted(load().items(), reverse=True) if start <= d <= end][:limit]
    data = [{"date": d.isoformat(), field: v} for d, v in rows]
    return httpx.Response(
        200, json={"status": {"code": 200, "message": "success"}, "result": {"window": "DAY", "data": data}}
    )


def register(fake: FakeUpstream) -> None:
    fake.handlers["cryptoquant"] = handle
