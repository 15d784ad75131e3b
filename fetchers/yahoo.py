"""Yahoo Finance chart API (unofficial, keyless): the fallback for index closes when FRED is unreachable.

GET /v8/finance/chart/%5EGSPC?period1=<s>&period2=<s>&interval=1d returns
`chart.result[0].timestamp[]` (bar times, unix s) and `indicators.quote[0].close[]`, which can hold nulls (a bar
with no trade yet, or a glitch): those are dropped, never read as zero. Errors come inside HTTP 200/404 bodies as
`chart.error{code, description}`. Bar times are converted to the exchange's local date (meta.exchangeTimezoneName).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, num
from schemas.macro_rows import DailyClose

SOURCE = "yahoo"


def _exchange_tz(meta: dict[str, object]) -> timezone | ZoneInfo:
    name = meta.get("exchangeTimezoneName")
    if isinstance(name, str):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = meta.get("gmtoffset")
    return timezone(timedelta(seconds=int(offset))) if isinstance(offset, int) else UTC


def parse_chart(response: httpx.Response) -> list[DailyClose]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "chart response")
    chart = expect_dict(SOURCE, body.get("chart"), "chart")
    error = chart.get("error")
    if error:
        described = error.get("description") if isinstance(error, dict) else error
        raise BadPayloadError(SOURCE, f"chart error: {str(described)[:120]}")
    results = expect_list(SOURCE, chart.get("result"), "chart.result")
    if not results:
        raise BadPayloadError(SOURCE, "chart.result is empty")
    result = expect_dict(SOURCE, results[0], "chart.result[0]")
    tz = _exchange_tz(expect_dict(SOURCE, result.get("meta", {}), "meta"))
    stamps = expect_list(SOURCE, result.get("timestamp", []), "timestamp")
    quotes = expect_list(SOURCE, expect_dict(SOURCE, result.get("indicators"), "indicators").get("quote"), "quote")
    if not quotes:
        raise BadPayloadError(SOURCE, "indicators.quote is empty")
    closes = expect_list(SOURCE, expect_dict(SOURCE, quotes[0], "quote[0]").get("close"), "close")
    if len(closes) != len(stamps):
        raise BadPayloadError(SOURCE, f"{len(stamps)} timestamps but {len(closes)} closes")
    rows: dict[date, float] = {}
    for i, (stamp, close) in enumerate(zip(stamps, closes, strict=True)):
        if close is None:
            continue
        day = datetime.fromtimestamp(num(SOURCE, stamp, f"timestamp {i}"), UTC).astimezone(tz).date()
        rows[day] = num(SOURCE, close, f"close {i}")
    return [DailyClose(day, value) for day, value in sorted(rows.items())]


async def fetch_daily_closes(
    http: Http, symbol: str, start: date, end: date, *, today: date
) -> Fetched[list[DailyClose]]:
    """Daily closes of `symbol` (e.g. ^GSPC) for trading days in [start, end]."""
    period1 = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    period2 = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp()) + 86400
    fetched = await http.get(
        SOURCE,
        f"/v8/finance/chart/{quote(symbol, safe='')}",
        parse_chart,
        params={"period1": period1, "period2": period2, "interval": "1d"},
        ttl_s=86400.0 if (today - end).days > 3 else 600.0,
    )
    rows = [row for row in fetched.value if start <= row.day <= end]
    return replace(fetched, value=rows)
