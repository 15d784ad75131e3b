"""Binance USD-M futures public data (keyless, source `binance_futures`, base https://fapi.binance.com).

- GET /fapi/v1/fundingRate?symbol=&startTime=&endTime=&limit<=1000: settled funding, ascending. `fundingTime` carries
  a few ms of jitter (…000013), so intervals are rounded by the caller.
- GET /fapi/v1/premiumIndex?symbol=: mark price, last (current-period) funding rate, next funding time.
- GET /fapi/v1/openInterest?symbol=: current open interest in the BASE asset (contracts of 1 BTC for BTCUSDT).
- GET /futures/data/openInterestHist?symbol=&period=1h&startTime=&endTime=&limit<=500: OI history in base and USD
  (`sumOpenInterestValue`), but only for the latest 30 days.
Like spot, fapi answers HTTP 451 from US addresses; the HTTP layer reports GeoBlockedError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import (
    checked,
    expect_dict,
    expect_list,
    field,
    ms_json,
    num_text,
    text,
    ts_millis,
    upstream_message,
)
from schemas.derivatives import FundingPoint, OpenInterestPoint

SOURCE = "binance_futures"


def symbol(asset: str) -> str:
    return f"{asset.upper()}USDT"


@dataclass(frozen=True, slots=True)
class PremiumIndex:
    mark_price: float
    last_funding_rate: float
    next_funding_time: datetime
    time: datetime


def _body(response: httpx.Response) -> object:
    body = decode_json(response, SOURCE)
    if isinstance(body, dict) and "code" in body and "msg" in body:
        raise BadPayloadError(SOURCE, f"error body: {upstream_message(body.get('msg'))}")
    return body


def parse_funding_rates(response: httpx.Response) -> list[FundingPoint]:
    points = []
    for i, raw in enumerate(expect_list(SOURCE, _body(response), "fundingRate")):
        where = f"funding {i}"
        item = expect_dict(SOURCE, raw, where)
        field(SOURCE, item, "symbol", where, text)
        points.append(
            FundingPoint(
                time=field(SOURCE, item, "fundingTime", where, ms_json),
                rate=field(SOURCE, item, "fundingRate", where, num_text),
            )
        )
    return sorted(points, key=lambda p: p.time)


def parse_premium_index(response: httpx.Response) -> PremiumIndex:
    where = "premiumIndex"
    item = expect_dict(SOURCE, _body(response), where)
    return PremiumIndex(
        mark_price=field(SOURCE, item, "markPrice", where, num_text),
        last_funding_rate=field(SOURCE, item, "lastFundingRate", where, num_text),
        next_funding_time=field(SOURCE, item, "nextFundingTime", where, ms_json),
        time=field(SOURCE, item, "time", where, ms_json),
    )


def parse_open_interest(response: httpx.Response) -> OpenInterestPoint:
    where = "openInterest"
    item = expect_dict(SOURCE, _body(response), where)
    field(SOURCE, item, "symbol", where, text)
    return OpenInterestPoint(
        time=field(SOURCE, item, "time", where, ms_json),
        usd=None,  # base units only: the caller prices it with the mark price
        base=field(SOURCE, item, "openInterest", where, num_text),
    )


# openInterestHist's `timestamp` is a string in Binance's own example but a JSON number in answers and public
# client code: both forms are read (the value is the same either way; only its encoding is undecided).
_HIST_TIMESTAMP = checked(ts_millis, form="any")


def parse_open_interest_hist(response: httpx.Response) -> list[OpenInterestPoint]:
    points = []
    for i, raw in enumerate(expect_list(SOURCE, _body(response), "openInterestHist")):
        where = f"open interest {i}"
        item = expect_dict(SOURCE, raw, where)
        field(SOURCE, item, "symbol", where, text)
        points.append(
            OpenInterestPoint(
                time=field(SOURCE, item, "timestamp", where, _HIST_TIMESTAMP),
                usd=field(SOURCE, item, "sumOpenInterestValue", where, num_text),
                base=field(SOURCE, item, "sumOpenInterest", where, num_text),
            )
        )
    return sorted(points, key=lambda p: p.time)


async def fetch_funding_rates(http: Http, asset: str, start: datetime, end: datetime) -> Fetched[list[FundingPoint]]:
    return await http.get(
        SOURCE,
        "/fapi/v1/fundingRate",
        parse_funding_rates,
        params={
            "symbol": symbol(asset),
            "startTime": int(start.timestamp() * 1000),
            "endTime": int(end.timestamp() * 1000),
            "limit": 1000,
        },
        ttl_s=300.0,
    )


async def fetch_premium_index(http: Http, asset: str) -> Fetched[PremiumIndex]:
    return await http.get(
        SOURCE, "/fapi/v1/premiumIndex", parse_premium_index, params={"symbol": symbol(asset)}, ttl_s=30.0
    )


async def fetch_open_interest(http: Http, asset: str) -> Fetched[OpenInterestPoint]:
    return await http.get(
        SOURCE, "/fapi/v1/openInterest", parse_open_interest, params={"symbol": symbol(asset)}, ttl_s=60.0
    )


async def fetch_open_interest_history(
    http: Http, asset: str, start: datetime, end: datetime
) -> Fetched[list[OpenInterestPoint]]:
    """Hourly OI (USD) with start <= time <= end; at most 500 rows, enough for 7 days and a margin."""
    if end - start > timedelta(hours=499):
        raise ValueError("openInterestHist serves at most 500 hourly rows per call")
    return await http.get(
        SOURCE,
        "/futures/data/openInterestHist",
        parse_open_interest_hist,
        params={
            "symbol": symbol(asset),
            "period": "1h",
            "startTime": int(start.timestamp() * 1000),
            "endTime": int(end.timestamp() * 1000),
            "limit": 500,
        },
        ttl_s=300.0,
    )
