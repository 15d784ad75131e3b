"""CoinGlass v4 derivatives history (keyed: header CG-API-KEY from WINDVANE_COINGLASS_API_KEY).

- GET /api/futures/liquidation/aggregated-history?symbol=BTC&exchange_list=...&interval=1d&start_time=&end_time=
  -> {"code":"0","data":[{"time": ms, "aggregated_long_liquidation_usd": float, "aggregated_short_liquidation_usd":
  float}]}, ascending. The complete cross-venue liquidation figure.
- GET /api/futures/open-interest/aggregated-history?symbol=BTC&interval=1d&unit=usd -> OHLC rows with string values;
  `close` is the open interest at the end of the bar.
Hobbyist plans accept intervals of 4h and above; `1d` works on every plan. A non-"0" code in an HTTP 200 is an error.
Kept apart from any ETF-flow CoinGlass fetcher so each module has one job.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import checked, expect_dict, expect_list, field, ms_json, num, num_json, require, upstream_message
from schemas.derivatives import LiquidationBucket, OpenInterestPoint

SOURCE = "coinglass"
# Exchange names as CoinGlass spells them in public client code; the aggregate covers exactly these venues.
EXCHANGES = "Binance,OKX,Bybit,Bitget,Gate,KuCoin,BingX,Bitmex,Kraken,CoinEx,dYdX"


def _data(response: httpx.Response) -> list[object]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    code = field(SOURCE, body, "code", "response")
    if code != "0":
        raise BadPayloadError(SOURCE, f"error code {str(code)[:12]}: {upstream_message(body.get('msg'))}")
    return field(SOURCE, body, "data", "response", expect_list)


LONG, SHORT = "aggregated_long_liquidation_usd", "aggregated_short_liquidation_usd"


def parse_liquidation_history(response: httpx.Response) -> list[LiquidationBucket]:
    rows = []
    for i, raw in enumerate(_data(response)):
        where = f"liquidation {i}"
        item = expect_dict(SOURCE, raw, where)
        require(SOURCE, item, ("time", LONG, SHORT), where)
        rows.append(
            LiquidationBucket(
                time=field(SOURCE, item, "time", where, ms_json),
                long_usd=field(SOURCE, item, LONG, where, num_json),
                short_usd=field(SOURCE, item, SHORT, where, num_json),
            )
        )
    return sorted(rows, key=lambda r: r.time)


# The OI bars' OHLC values: strings in every answer seen, but the docs give no example, so both forms are read.
_OI_VALUE = checked(num, form="any")


def parse_open_interest_history(response: httpx.Response) -> list[OpenInterestPoint]:
    rows = []
    for i, raw in enumerate(_data(response)):
        where = f"open interest {i}"
        item = expect_dict(SOURCE, raw, where)
        require(SOURCE, item, ("time", "open", "high", "low", "close"), where)
        for key in ("open", "high", "low"):
            field(SOURCE, item, key, where, _OI_VALUE)
        rows.append(
            OpenInterestPoint(
                time=field(SOURCE, item, "time", where, ms_json), usd=field(SOURCE, item, "close", where, _OI_VALUE)
            )
        )
    return sorted(rows, key=lambda r: r.time)


def _headers(http: Http) -> dict[str, str]:
    return {"CG-API-KEY": http.require_key(SOURCE), "accept": "application/json"}


async def fetch_liquidation_history(
    http: Http, asset: str, start: datetime, end: datetime
) -> Fetched[list[LiquidationBucket]]:
    """Daily (UTC) long/short liquidations summed over the listed venues, bars opening in [start, end]."""
    return await http.get(
        SOURCE,
        "/api/futures/liquidation/aggregated-history",
        parse_liquidation_history,
        params={
            "symbol": asset.upper(),
            "exchange_list": EXCHANGES,
            "interval": "1d",
            "start_time": int(start.timestamp() * 1000),
            "end_time": int(end.timestamp() * 1000),
        },
        headers=_headers(http),
        ttl_s=600.0,
    )


async def fetch_open_interest_history(
    http: Http, asset: str, start: datetime, end: datetime
) -> Fetched[list[OpenInterestPoint]]:
    """Daily aggregated open interest (USD, bar close) for bars opening in [start, end]."""
    return await http.get(
        SOURCE,
        "/api/futures/open-interest/aggregated-history",
        parse_open_interest_history,
        params={
            "symbol": asset.upper(),
            "interval": "1d",
            "unit": "usd",
            "start_time": int(start.timestamp() * 1000),
            "end_time": int(end.timestamp() * 1000),
        },
        headers=_headers(http),
        ttl_s=600.0,
    )
