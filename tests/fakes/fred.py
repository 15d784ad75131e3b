"""Fake FRED: the fredgraph CSV (real FRED files from ../shared) and the JSON API built from the same rows.

SP500 and NASDAQCOM come from shared/data/09 (new `observation_date` header, empty holiday cells); DJIA from the
real fredgraph body in shared/payloads/fred (2016-01-11..2026-01-09). `OLD_FORMAT` switches the CSV to the older
`DATE` header with '.' holiday cells, as FRED served it until 2024. The API requires `api_key` == `API_KEY`.
"""

from __future__ import annotations

from functools import cache

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import DATA, PAYLOADS

API_KEY = "fred-test-key-5f1c9e"
FILES = {
    "SP500": DATA / "09_us_equity_indices" / "fred_sp500_daily.csv",
    "NASDAQCOM": DATA / "09_us_equity_indices" / "fred_nasdaqcom_daily.csv",
    "DJIA": PAYLOADS / "fred" / "fredgraph_DJIA_2016-01-11_to_2026-01-09.csv",
}
OLD_FORMAT: dict[str, bool] = {"on": False}


@cache
def rows(series: str) -> list[tuple[str, str]]:
    """(date, raw value) as in the file; a holiday has an empty value."""
    lines = FILES[series].read_text().splitlines()[1:]
    return [(date, value) for date, value in (line.split(",", 1) for line in lines if line)]


def _window(series: str, start: str, end: str) -> list[tuple[str, str]]:
    return [(d, v) for d, v in rows(series) if (not start or d >= start) and (not end or d <= end)]


def fredgraph(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    series = params.get("id", "")
    if path != "/graph/fredgraph.csv" or series not in FILES:
        return httpx.Response(404, text="<!DOCTYPE html><html><body>Series not found</body></html>")
    window = _window(series, params.get("cosd", ""), params.get("coed", ""))
    if OLD_FORMAT["on"]:
        body = f"DATE,{series}\n" + "".join(f"{d},{v or '.'}\n" for d, v in window)
    else:
        body = f"observation_date,{series}\n" + "".join(f"{d},{v}\n" for d, v in window)
    return httpx.Response(200, text=body, headers={"content-type": "text/csv"})


def api(request: httpx.Request, path: str) -> httpx.Response:
    params = request.url.params
    if params.get("api_key") != API_KEY:
        return httpx.Response(
            400,
            json={
                "error_code": 400,
                "error_message": "Bad Request.  The value for variable api_key is not registered.",
            },
        )
    series = params.get("series_id", "")
    if path != "/fred/series/observations" or series not in FILES or params.get("file_type") != "json":
        return httpx.Response(
            400, json={"error_code": 400, "error_message": "Bad Request.  The series does not exist."}
        )
    window = _window(series, params.get("observation_start", ""), params.get("observation_end", ""))
    observations = [
        {"realtime_start": "2026-07-02", "realtime_end": "2026-07-02", "date": d, "value": v or "."} for d, v in window
    ]
    return httpx.Response(200, json={"observations": observations})


def register(fake: FakeUpstream) -> None:
    fake.handlers.update(fred=fredgraph, fred_api=api)
