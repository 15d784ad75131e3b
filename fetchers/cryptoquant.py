"""CryptoQuant (keyed, `Authorization: Bearer <key>`): all-exchange BTC reserve and netflow, daily.

GET /v1/btc/exchange-flows/reserve and /v1/btc/exchange-flows/netflow with exchange=all_exchange, window=day,
from/to (YYYYMMDD) and limit. Body: {"status": {...}, "result": {"window": "DAY", "data": [{"date": "YYYY-MM-DD",
<metric>: number}, ...]}}. Field names `reserve` and `netflow_total` follow public client code reading this API
(sources.md marks them [U]); the parser names the field it expected when they drift. Rows are sorted by date here,
whatever order the API sends. Each daily value is the end-of-UTC-day figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, field, num_json, require, text, upstream_message

SOURCE = "cryptoquant"
RESERVE_PATH = "/v1/btc/exchange-flows/reserve"
NETFLOW_PATH = "/v1/btc/exchange-flows/netflow"
RESERVE_FIELD = "reserve"
NETFLOW_FIELD = "netflow_total"
MAX_LIMIT = 100_000


@dataclass(frozen=True)
class DailyValue:
    day: date
    value: float


def daily_parser(metric: str) -> Callable[[httpx.Response], list[DailyValue]]:
    def parse(response: httpx.Response) -> list[DailyValue]:
        body = expect_dict(SOURCE, decode_json(response, SOURCE), "body")
        status = body.get("status")
        if "result" not in body and isinstance(status, dict) and status.get("message"):
            # CryptoQuant's error shape: {"status": {"code": 4xx, "message": "..."}}.
            raise BadPayloadError(SOURCE, f"error: {upstream_message(status['message'])}")
        result = field(SOURCE, body, "result", "body", expect_dict)
        rows = field(SOURCE, result, "data", "result", expect_list)
        out: dict[date, float] = {}
        for i, raw in enumerate(rows):
            where = f"result.data[{i}]"
            row = expect_dict(SOURCE, raw, where)
            require(SOURCE, row, ("date", metric), where)
            raw_day = field(SOURCE, row, "date", where, text)
            try:
                day = date.fromisoformat(raw_day[:10])
            except ValueError:
                raise BadPayloadError(SOURCE, f"{where}: date {raw_day[:20]!r} is not YYYY-MM-DD") from None
            if day in out:
                raise BadPayloadError(SOURCE, f"{where}: a second row for {day}")
            # A JSON number per the API's public client code (sources.md marks the shape unverified).
            out[day] = field(SOURCE, row, metric, where, num_json)
        return [DailyValue(d, v) for d, v in sorted(out.items())]

    return parse


async def _daily(
    http: Http, path: str, metric: str, start: date, end: date, *, today: date
) -> Fetched[list[DailyValue]]:
    key = http.require_key(SOURCE)
    days = (end - start).days + 1
    settled = end + timedelta(days=2) <= today  # finished days, past the vendor's late revisions
    return await http.get(
        SOURCE,
        path,
        daily_parser(metric),
        params={
            "exchange": "all_exchange",
            "window": "day",
            "from": start.strftime("%Y%m%d"),
            "to": end.strftime("%Y%m%d"),
            "limit": min(MAX_LIMIT, days),
        },
        headers={"Authorization": f"Bearer {key}"},
        ttl_s=86400.0 if settled else 900.0,
    )


async def fetch_reserve(http: Http, start: date, end: date, *, today: date) -> Fetched[list[DailyValue]]:
    return await _daily(http, RESERVE_PATH, RESERVE_FIELD, start, end, today=today)


async def fetch_netflow(http: Http, start: date, end: date, *, today: date) -> Fetched[list[DailyValue]]:
    return await _daily(http, NETFLOW_PATH, NETFLOW_FIELD, start, end, today=today)
