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
from fetchers.parsing import expect_dict, expect_list, num, ts_millis
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
        raise BadPayloadError(SOURCE, f"error body: {str(body.get('msg'))[:120]}")
    return body


def parse_funding_rates(response: httpx.Response) -> list[FundingPoint]:
    points = []
    for i, raw in enumerate(expect_list(SOURCE, _body(response), "fundingRate")):
        item = expect_dict(SOURCE, raw, f"funding {i}")
        points.append(
            FundingPoint(
                time=ts_millis(SOURCE, item.get("fundingTime"), "fundingTime"),
                rate=num(SOURCE, item.get("fundingRate"), "fundingRate"),
            )
        )
    return sorted(points, key=lambda p: p.time)


def parse_premium_index(response: httpx.Response) -> PremiumIndex:
    item = expect_dict(SOURCE, _body(response), "premiumIndex")
    return PremiumIndex(
        mark_price=num(SOURCE, item.get("markPrice"), "markPrice"),
        last_funding_rate=num(SOURCE, item.get("lastFundingRate"), "lastFundingRate"),
        next_funding_time=ts_millis(SOURCE, item.get("nextFundingTime"), "nextFundingTime"),
        time=ts_millis(SOURCE, item.get("time"), "time"),
    )


def parse_open_interest(response: httpx.Response) -> OpenInterestPoint:
    item = expect_dict(SOURCE, _body(response), "openInterest")
    return OpenInterestPoint(
        time=ts_millis(SOURCE, item.get("time"), "time"),
        usd=None,  # base units only: the caller prices it with the mark price
        base=num(SOURCE, item.get("openInterest"), "openInterest"),
    )


def parse_open_interest_hist(response: httpx.Response) -> list[OpenInterestPoint]:
    points = []
    for i, raw in enumerate(expect_list(SOURCE, _body(response), "openInterestHist")):
        item = expect_dict(SOURCE, raw, f"open interest {i}")
        points.append(
            OpenInterestPoint(
                time=ts_millis(SOURCE, item.get("timestamp"), "timestamp"),
                usd=num(SOURCE, item.get("sumOpenInterestValue"), "sumOpenInterestValue"),
                base=num(SOURCE, item.get("sumOpenInterest"), "sumOpenInterest"),
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
