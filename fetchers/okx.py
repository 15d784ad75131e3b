"""OKX public market data (keyless): candles and ticker, used as the reference venue when Binance is blocked.

GET /api/v5/market/history-candles?instId=BTC-USDT&bar=1Dutc|1H&after=<ms>&limit<=100 returns
{"code":"0","msg":"","data":[[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]]} newest first, all strings;
`after` asks for bars older than that timestamp. `1D` bars open at UTC+8, so daily bars use `1Dutc`.
A non-"0" code inside an HTTP 200 is an error.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import expect_dict, expect_list, num, ts_millis
from schemas.market import INTERVAL_SECONDS, Candle, Quote

SOURCE = "okx"
BAR = {"1h": "1H", "1d": "1Dutc"}
MAX_CANDLES_PER_CALL = 100


def inst_id(asset: str) -> str:
    return f"{asset.upper()}-USDT"


def okx_data(response: httpx.Response) -> list[object]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    if str(body.get("code")) != "0":
        raise BadPayloadError(SOURCE, f"error code {body.get('code')}: {str(body.get('msg'))[:120]}")
    return expect_list(SOURCE, body.get("data"), "data")


def parse_candles(response: httpx.Response) -> list[Candle]:
    candles = []
    for i, row in enumerate(okx_data(response)):
        row = expect_list(SOURCE, row, f"candle {i}")
        if len(row) < 6:
            raise BadPayloadError(SOURCE, f"candle {i} has {len(row)} fields, expected 9")
        candles.append(
            Candle(
                open_time=ts_millis(SOURCE, row[0], "ts"),
                open=num(SOURCE, row[1], "open"),
                high=num(SOURCE, row[2], "high"),
                low=num(SOURCE, row[3], "low"),
                close=num(SOURCE, row[4], "close"),
                volume=num(SOURCE, row[5], "volume"),
                closed=len(row) < 9 or str(row[8]) == "1",
            )
        )
    return candles


def parse_ticker(response: httpx.Response) -> Quote:
    data = okx_data(response)
    if not data:
        raise BadPayloadError(SOURCE, "empty ticker data")
    item = expect_dict(SOURCE, data[0], "ticker")
    return Quote(price=num(SOURCE, item.get("last"), "last"), time=ts_millis(SOURCE, item.get("ts"), "ts"))


async def fetch_candles(
    http: Http, asset: str, interval: str, start: datetime, end: datetime, *, now: datetime
) -> tuple[list[Candle], list[Fetched[list[Candle]]]]:
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    fetches: list[Fetched[list[Candle]]] = []
    by_time: dict[datetime, Candle] = {}
    cursor = end + step  # `after` is exclusive: bars strictly older than the cursor
    while cursor > start:
        settled = cursor + step <= now
        fetched = await http.get(
            SOURCE,
            "/api/v5/market/history-candles",
            parse_candles,
            params={
                "instId": inst_id(asset),
                "bar": BAR[interval],
                "after": int(cursor.timestamp() * 1000),
                "limit": MAX_CANDLES_PER_CALL,
            },
            ttl_s=86400.0 if settled else 60.0,
        )
        fetches.append(fetched)
        page = fetched.value
        for candle in page:
            if start <= candle.open_time <= end:
                by_time[candle.open_time] = candle
        if not page:
            break
        oldest = min(c.open_time for c in page)
        if oldest >= cursor:
            break  # the venue ignored the cursor; stop rather than loop
        cursor = oldest
    rows = [
        Candle(
            c.open_time,
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume,
            closed=c.closed and c.open_time + step <= now,
        )
        for c in sorted(by_time.values(), key=lambda c: c.open_time)
    ]
    return rows, fetches


async def fetch_ticker(http: Http, asset: str) -> Fetched[Quote]:
    return await http.get(SOURCE, "/api/v5/market/ticker", parse_ticker, params={"instId": inst_id(asset)}, ttl_s=10.0)
