"""Yahoo Finance chart API (unofficial, keyless): the fallback for index closes when FRED is unreachable.

GET /v8/finance/chart/%5EGSPC?period1=<s>&period2=<s>&interval=1d returns
`chart.result[0].timestamp[]` (bar times, unix s) and `indicators.quote[0].close[]`, which can hold nulls (a bar
with no trade yet, or a glitch): those are dropped, never read as zero. Errors come inside HTTP 200/404 bodies as
`chart.error{code, description}` (or `finance.error`). Bar times are converted to the exchange's local date
(meta.exchangeTimezoneName).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, field, nullable, num_json, s_json, text, upstream_message
from schemas.macro_rows import DailyClose

SOURCE = "yahoo"


def _exchange_tz(meta: dict[str, object]) -> ZoneInfo:
    name = field(SOURCE, meta, "exchangeTimezoneName", "meta", text)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadPayloadError(SOURCE, f"meta.exchangeTimezoneName {name[:40]!r} is not a time zone") from None


def _error(body: dict[str, object]) -> None:
    """Yahoo reports errors inside the body, as chart.error or (for some paths and rate limits) finance.error."""
    for key in ("chart", "finance"):
        holder = body.get(key)
        error = holder.get("error") if isinstance(holder, dict) else None
        if error:
            described = error.get("description") if isinstance(error, dict) else error
            raise BadPayloadError(SOURCE, f"{key} error: {upstream_message(described)}")


_CLOSE = nullable(num_json)  # Yahoo sends null for a bar without a price: dropped, never read as zero


def parse_chart(response: httpx.Response) -> list[DailyClose]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "chart response")
    _error(body)
    chart = field(SOURCE, body, "chart", "response", expect_dict)
    results = field(SOURCE, chart, "result", "chart", expect_list)
    if not results:
        raise BadPayloadError(SOURCE, "chart.result is empty")
    result = expect_dict(SOURCE, results[0], "chart.result[0]")
    tz = _exchange_tz(field(SOURCE, result, "meta", "chart.result[0]", expect_dict))
    quotes = field(SOURCE, field(SOURCE, result, "indicators", "chart.result[0]", expect_dict), "quote", "indicators")
    quotes = expect_list(SOURCE, quotes, "indicators.quote")
    if not quotes:
        raise BadPayloadError(SOURCE, "indicators.quote is empty")
    quote = expect_dict(SOURCE, quotes[0], "quote[0]")
    if "timestamp" not in result:
        # A window without bars comes without `timestamp` and with an empty quote; closes without times are drift.
        if quote.get("close"):
            raise BadPayloadError(SOURCE, "chart.result[0]: closes but no 'timestamp'")
        return []
    stamps = field(SOURCE, result, "timestamp", "chart.result[0]", expect_list)
    closes = field(SOURCE, quote, "close", "quote[0]", expect_list)
    if len(closes) != len(stamps):
        raise BadPayloadError(SOURCE, f"{len(stamps)} timestamps but {len(closes)} closes")
    rows: dict[date, float] = {}
    for i, (stamp, raw_close) in enumerate(zip(stamps, closes, strict=True)):
        day = s_json(SOURCE, stamp, f"timestamp {i}").astimezone(tz).date()
        close = _CLOSE(SOURCE, raw_close, f"close {i}")
        if close is not None:
            rows[day] = close
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
