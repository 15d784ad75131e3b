"""Crypto Fear & Greed Index from alternative.me (keyless).

GET /fng/?limit=N returns `{"name", "data": [{"value": "54", "value_classification": "Neutral",
"timestamp": "1713628800", "time_until_update"?}], "metadata": {"error": null}}`, newest first, one value per UTC day,
every field a string. An error is reported in `metadata.error` inside an HTTP 200.
"""

from __future__ import annotations

from datetime import date

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, field, int_text, s_text, upstream_message
from schemas.macro_rows import FearGreedReading

SOURCE = "alternative_me"


def parse_fng(response: httpx.Response) -> list[FearGreedReading]:
    """Readings oldest first (the API sends newest first)."""
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "fng response")
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and metadata.get("error"):
        raise BadPayloadError(SOURCE, f"API error: {upstream_message(metadata['error'])}")
    readings: dict[date, FearGreedReading] = {}
    for i, raw in enumerate(field(SOURCE, body, "data", "response", expect_list)):
        where = f"data {i}"
        row = expect_dict(SOURCE, raw, where)
        value = field(SOURCE, row, "value", where, int_text)
        if not 0 <= value <= 100:
            raise BadPayloadError(SOURCE, f"data {i}: value {value} is not an integer 0-100")
        label = row.get("value_classification")
        if not isinstance(label, str) or not label:
            raise BadPayloadError(SOURCE, f"data {i}: missing value_classification")
        stamp = field(SOURCE, row, "timestamp", where, s_text)
        if stamp.timestamp() % 86400:
            # One reading per UTC day, stamped 00:00 UTC; another time would move readings to the wrong day.
            raise BadPayloadError(SOURCE, f"{where}: timestamp {row['timestamp']} is not at 00:00 UTC")
        day = stamp.date()
        if day in readings:
            raise BadPayloadError(SOURCE, f"{where}: a second reading for {day}")
        readings[day] = FearGreedReading(day=day, value=value, classification=label)
    return sorted(readings.values(), key=lambda r: r.day)


async def fetch_fng(http: Http, limit: int) -> Fetched[list[FearGreedReading]]:
    """The latest `limit` daily readings, or the whole history (from 2018-02-01) with limit=0."""
    return await http.get(SOURCE, "/fng/", parse_fng, params={"limit": limit}, ttl_s=1800.0)
