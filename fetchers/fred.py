"""FRED (St. Louis Fed) daily series: the keyless fredgraph CSV, and the JSON API when a key is configured.

CSV: GET /graph/fredgraph.csv?id=SP500&cosd=YYYY-MM-DD&coed=YYYY-MM-DD. Current files head the date column
`observation_date`; older ones (and much public code) `DATE`. Holidays are rows with an empty value (new format) or
'.' (old format): they are skipped, never read as zero.

JSON API (source `fred_api`): GET /fred/series/observations?series_id=&observation_start=&observation_end=
&file_type=json&api_key=. FRED accepts the key ONLY as a query parameter, which breaks the project rule "keys travel
in headers". The trade-off, made deliberately: the key is passed as `secret_params`, which the HTTP layer sends but
keeps out of the cache key, the reported endpoint and error messages, and masks in httpx's request log. The keyless
CSV stays the default; the API is only tried when WINDVANE_FRED_API_KEY is set.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import httpx

from fetchers.errors import BadPayloadError, UpstreamError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, field, num, string, upstream_message
from schemas.macro_rows import DailyClose

SOURCE = "fred"
API_SOURCE = "fred_api"
KEY_SOURCE = "fred"  # WINDVANE_FRED_API_KEY; settings list keyed sources by their public name
MISSING = {"", "."}


def last_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def parse_fredgraph_csv(series_id: str, text: str, *, through: date | None = None) -> list[DailyClose]:
    """Rows of a fredgraph CSV body, ascending by date, holidays skipped.

    FRED writes a row for every weekday (a holiday's value is empty), and ends the file with a newline, so a body
    cut short is recognisable: a last line without its newline, or, with `through` (the last weekday the window
    must reach, known for a settled window), a last row before it.
    """
    if text.lstrip()[:1] == "<":
        raise BadPayloadError(SOURCE, "expected CSV but received an HTML page")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or len(header) < 2:
        raise BadPayloadError(SOURCE, "empty CSV or header without a value column")
    if len(header) != 2:
        raise BadPayloadError(SOURCE, f"CSV header has {len(header)} columns, expected 2 (date, {series_id})")
    if not text.endswith("\n"):
        raise BadPayloadError(SOURCE, "CSV does not end with a newline: the body was cut short")
    date_col = header[0].strip().lstrip("\ufeff")
    if date_col not in ("observation_date", "DATE"):
        raise BadPayloadError(SOURCE, f"unexpected date column {date_col!r} (expected observation_date or DATE)")
    if header[1].strip() != series_id:
        raise BadPayloadError(SOURCE, f"CSV is for series {header[1].strip()!r}, expected {series_id!r}")
    rows: dict[date, float] = {}
    last: date | None = None
    for line_no, row in enumerate(reader, start=2):
        if len(row) != 2:  # FRED writes no blank lines: an empty one is a field dropped, too
            raise BadPayloadError(SOURCE, f"line {line_no}: expected 2 fields, got {len(row)}")
        try:
            day = date.fromisoformat(row[0].strip())
        except ValueError:
            raise BadPayloadError(SOURCE, f"line {line_no}: bad date {row[0][:20]!r}") from None
        if last is not None and day <= last:
            raise BadPayloadError(SOURCE, f"line {line_no}: {day} follows {last}: dates are not ascending")
        last = day
        raw = row[1].strip()
        if raw in MISSING:
            continue
        rows[day] = num(SOURCE, raw, f"{series_id} on {day}")
    if through is not None and (last is None or last < through):
        ended = "no rows" if last is None else f"its last row is {last}"
        raise BadPayloadError(SOURCE, f"CSV for {series_id} should reach {through} but {ended}: the body was cut short")
    return [DailyClose(day, value) for day, value in sorted(rows.items())]


def parse_observations(series_id: str, response: httpx.Response) -> list[DailyClose]:
    body = expect_dict(API_SOURCE, decode_json(response, API_SOURCE), "observations response")
    if "error_message" in body and "observations" not in body:
        # FRED reports errors in the body; its message names the problem (and upstream_message masks any key).
        raise BadPayloadError(API_SOURCE, f"FRED API error: {upstream_message(body['error_message'])}")
    rows: dict[date, float] = {}
    for i, raw_obs in enumerate(field(API_SOURCE, body, "observations", "response", expect_list)):
        where = f"observation {i}"
        obs = expect_dict(API_SOURCE, raw_obs, where)
        raw_day = field(API_SOURCE, obs, "date", where, string)
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise BadPayloadError(API_SOURCE, f"{where}: bad date {raw_day[:20]!r}") from None
        raw = field(API_SOURCE, obs, "value", where, string)
        if raw.strip() in MISSING:
            continue
        rows[day] = num(API_SOURCE, raw, f"{series_id} on {day}", "text")
    return [DailyClose(day, value) for day, value in sorted(rows.items())]


def _ttl(end: date, today: date) -> float:
    # A window ending well before today will not change; today's window gains a row each evening.
    return 86400.0 if (today - end).days > 3 else 3600.0


SETTLED_DAYS = 7  # FRED publishes a daily close the next business day; a week covers holidays and late updates


def expected_through(end: date, today: date) -> date | None:
    """The last weekday a CSV for a window ending `end` must reach, when the window is long settled."""
    return last_weekday(end) if (today - end).days > SETTLED_DAYS else None


async def fetch_series_csv(
    http: Http, series_id: str, start: date, end: date, *, today: date
) -> Fetched[list[DailyClose]]:
    return await http.get(
        SOURCE,
        "/graph/fredgraph.csv",
        lambda r: parse_fredgraph_csv(series_id, r.text, through=expected_through(end, today)),
        params={"id": series_id, "cosd": start.isoformat(), "coed": end.isoformat()},
        ttl_s=_ttl(end, today),
    )


async def fetch_series_api(
    http: Http, series_id: str, start: date, end: date, *, today: date
) -> Fetched[list[DailyClose]]:
    key = http.require_key(KEY_SOURCE)
    try:
        return await http.get(
            API_SOURCE,
            "/fred/series/observations",
            lambda r: parse_observations(series_id, r),
            params={
                "series_id": series_id,
                "observation_start": start.isoformat(),
                "observation_end": end.isoformat(),
                "file_type": "json",
            },
            secret_params={"api_key": key},
            ttl_s=_ttl(end, today),
        )
    except UpstreamError as exc:
        if key in exc.message:  # belt and braces: no message leaves here carrying the key
            raise type(exc)(exc.source, exc.message.replace(key, "[REDACTED]")) from None
        raise
