"""OKX public market data (keyless): candles and ticker (the reference venue when Binance is blocked), plus the
perpetual-swap data behind get_leverage_state: instruments, liquidations, open interest, funding and order books.

GET /api/v5/market/history-candles?instId=BTC-USDT&bar=1Dutc|1H&after=<ms>&limit<=100 returns
{"code":"0","msg":"","data":[[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]]} newest first, all strings;
`after` asks for bars older than that timestamp. `1D` bars open at UTC+8, so daily bars use `1Dutc`.
A non-"0" code inside an HTTP 200 is an error.

Derivatives: sizes on swap endpoints are in CONTRACTS, and
one contract is `ctVal` of the base asset (BTC-USDT-SWAP: 0.01 BTC), read from /api/v5/public/instruments.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import httpx

from fetchers.books import order_book
from fetchers.candles import RowLayout, candle_from, candle_values, window_bars
from fetchers.concurrency import gather_all
from fetchers.errors import BadPayloadError
from fetchers.http import Fetched, Http, decode_json
from fetchers.parsing import (
    expect_dict,
    expect_list,
    field,
    int_text,
    ms_text,
    num_text,
    one_of,
    row,
    string,
    text,
    upstream_message,
)
from schemas.derivatives import FundingPoint, Instrument, Liquidation, OpenInterestPoint, OrderBook
from schemas.market import INTERVAL_SECONDS, Candle, Quote

SOURCE = "okx"
BAR = {"1h": "1H", "1d": "1Dutc"}
MAX_CANDLES_PER_CALL = 100


def inst_id(asset: str) -> str:
    return f"{asset.upper()}-USDT"


def okx_data(response: httpx.Response) -> list[object]:
    body = expect_dict(SOURCE, decode_json(response, SOURCE), "response")
    code = field(SOURCE, body, "code", "response")
    if code != "0":
        raise BadPayloadError(SOURCE, f"error code {str(code)[:12]}: {upstream_message(body.get('msg'))}")
    return field(SOURCE, body, "data", "response", expect_list)


# Rows are exactly [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm], all strings; confirm "0" = still forming.
# OKX grew this row once (volCcyQuote); a further column is refused until read, never guessed at.
ROW = RowLayout(
    "candle",
    (
        ("ts", ms_text),
        ("open", num_text),
        ("high", num_text),
        ("low", num_text),
        ("close", num_text),
        ("vol", num_text),
        ("volCcy", num_text),
        ("volCcyQuote", num_text),
        ("confirm", one_of("0", "1")),
    ),
)


def parse_candles(response: httpx.Response) -> list[Candle]:
    candles = []
    for i, raw in enumerate(okx_data(response)):
        values = candle_values(SOURCE, raw, i, ROW)
        candles.append(candle_from(values, ROW, closed=values[8] == "1"))
    return candles


def parse_ticker(response: httpx.Response) -> Quote:
    item = _item(okx_data(response), "ticker")
    field(SOURCE, item, "instId", "ticker", text)
    return Quote(
        price=field(SOURCE, item, "last", "ticker", num_text), time=field(SOURCE, item, "ts", "ticker", ms_text)
    )


async def fetch_candles(
    http: Http, asset: str, interval: str, start: datetime, end: datetime, *, closed_by: datetime
) -> tuple[list[Candle], list[Fetched[list[Candle]]]]:
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    fetches: list[Fetched[list[Candle]]] = []
    cursor = end + step  # `after` is exclusive: bars strictly older than the cursor
    while cursor > start:
        settled = cursor + step <= closed_by
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
        if not page:
            break
        oldest = min(c.open_time for c in page)
        if oldest >= cursor:
            break  # the venue ignored the cursor; stop rather than loop
        cursor = oldest
    return window_bars((f.value for f in fetches), start, end, step, closed_by), fetches


async def fetch_ticker(http: Http, asset: str) -> Fetched[Quote]:
    return await http.get(SOURCE, "/api/v5/market/ticker", parse_ticker, params={"instId": inst_id(asset)}, ttl_s=10.0)


# -- perpetual swaps: instruments, liquidations, open interest, funding; spot order books ----------------------


def swap_id(asset: str) -> str:
    return f"{asset.upper()}-USDT-SWAP"


def swap_family(asset: str) -> str:
    return f"{asset.upper()}-USDT"


def _item(data: list[object], what: str) -> dict[str, object]:
    if not data:
        raise BadPayloadError(SOURCE, f"empty {what} data")
    return expect_dict(SOURCE, data[0], what)


def parse_instrument(response: httpx.Response) -> Instrument:
    item = _item(okx_data(response), "instrument")
    ct_val = field(SOURCE, item, "ctVal", "instrument", num_text)
    if ct_val <= 0:
        raise BadPayloadError(SOURCE, f"ctVal must be positive, got {ct_val}")
    return Instrument(
        inst_id=field(SOURCE, item, "instId", "instrument", text),
        contract_value=ct_val,
        contract_value_ccy=field(SOURCE, item, "ctValCcy", "instrument", string),
    )


def parse_liquidations(response: httpx.Response) -> list[tuple[datetime, bool, float, float]]:
    """(time, long_liquidated, contracts, bankruptcy price) per filled liquidation order, newest first.

    The undocumented public/liquidation-orders endpoint nests orders under `details` of one item per instrument;
    `side=sell` closes a long (a long was liquidated), `side=buy` closes a short.
    """
    rows: list[tuple[datetime, bool, float, float]] = []
    for i, raw in enumerate(okx_data(response)):
        item = expect_dict(SOURCE, raw, f"liquidation item {i}")
        for j, raw_detail in enumerate(field(SOURCE, item, "details", f"liquidation item {i}", expect_list)):
            where = f"liquidation {i}.{j}"
            d = expect_dict(SOURCE, raw_detail, where)
            side = field(SOURCE, d, "side", where)
            if side not in ("buy", "sell"):
                raise BadPayloadError(SOURCE, f"{where}: side {str(side)[:20]!r} is neither buy nor sell")
            rows.append(
                (
                    field(SOURCE, d, "ts", where, ms_text),
                    side == "sell",
                    field(SOURCE, d, "sz", where, num_text),
                    field(SOURCE, d, "bkPx", where, num_text),
                )
            )
    return sorted(rows, key=lambda r: r[0], reverse=True)


def liquidations_usd(rows: list[tuple[datetime, bool, float, float]], contract_value: float) -> list[Liquidation]:
    """Contracts -> USD: contracts x ctVal (base per contract) x bankruptcy price."""
    return [Liquidation(t, is_long, sz * contract_value * px) for t, is_long, sz, px in rows]


def parse_open_interest(response: httpx.Response) -> OpenInterestPoint:
    item = _item(okx_data(response), "open interest")
    return OpenInterestPoint(
        time=field(SOURCE, item, "ts", "open interest", ms_text),
        usd=field(SOURCE, item, "oiUsd", "open interest", num_text),
        base=field(SOURCE, item, "oiCcy", "open interest", num_text),
    )


# rubik rows are exactly [ts, oi (contracts), oiCcy (base), oiUsd], all strings.
OI_HISTORY_ROW = (("ts", ms_text), ("oi", num_text), ("oiCcy", num_text), ("oiUsd", num_text))


def parse_open_interest_history(response: httpx.Response) -> list[OpenInterestPoint]:
    """rubik rows, newest first -> ascending points."""
    points = []
    for i, raw in enumerate(okx_data(response)):
        ts, _, oi_ccy, oi_usd = row(SOURCE, raw, f"open interest row {i}", OI_HISTORY_ROW)
        points.append(OpenInterestPoint(time=ts, usd=oi_usd, base=oi_ccy))
    return sorted(points, key=lambda p: p.time)


def parse_funding_history(response: httpx.Response) -> list[FundingPoint]:
    """Settled funding, ascending. `realizedRate` is what was paid; `fundingRate` may be the predicted one."""
    points = []
    for i, raw in enumerate(okx_data(response)):
        where = f"funding {i}"
        item = expect_dict(SOURCE, raw, where)
        # realizedRate is "" on records settled before OKX published it; then fundingRate is the settled rate.
        realized = field(SOURCE, item, "realizedRate", where, string)
        rate = num_text(SOURCE, realized, f"{where}.realizedRate") if realized else None
        if rate is None:
            rate = field(SOURCE, item, "fundingRate", where, num_text)
        points.append(FundingPoint(time=field(SOURCE, item, "fundingTime", where, ms_text), rate=rate))
    return sorted(points, key=lambda p: p.time)


def parse_books(response: httpx.Response, depth: int = 400) -> OrderBook:
    """Spot book rows [price, size (base), "0" (deprecated), order count]; sizes are base units on SPOT."""
    item = _item(okx_data(response), "books")
    when = field(SOURCE, item, "ts", "books", ms_text)
    return order_book(SOURCE, item, columns=BOOK_LEVEL, time=when, limit=depth)


BOOK_LEVEL = (("price", num_text), ("size", num_text), ("deprecated", string), ("orders", int_text))


async def fetch_swap_instrument(http: Http, asset: str) -> Fetched[Instrument]:
    # Contract specs change rarely; a day of cache keeps the liquidation path to one extra call a day.
    return await http.get(
        SOURCE,
        "/api/v5/public/instruments",
        parse_instrument,
        params={"instType": "SWAP", "instId": swap_id(asset)},
        ttl_s=86400.0,
    )


LIQUIDATION_PAGE = 100


async def fetch_liquidation_page(
    http: Http, asset: str, after: datetime | None
) -> Fetched[list[tuple[datetime, bool, float, float]]]:
    """One page of filled liquidations, newest first; `after` asks for orders older than that time."""
    params: dict[str, str | int] = {
        "instType": "SWAP",
        "instFamily": swap_family(asset),
        "state": "filled",
        "limit": LIQUIDATION_PAGE,
    }
    if after is not None:
        params["after"] = int(after.timestamp() * 1000)
    return await http.get(SOURCE, "/api/v5/public/liquidation-orders", parse_liquidations, params=params, ttl_s=60.0)


async def fetch_open_interest(http: Http, asset: str) -> Fetched[OpenInterestPoint]:
    return await http.get(
        SOURCE,
        "/api/v5/public/open-interest",
        parse_open_interest,
        params={"instType": "SWAP", "instId": swap_id(asset)},
        ttl_s=60.0,
    )


OI_HISTORY_PAGE = 100


async def fetch_open_interest_history(
    http: Http, asset: str, start: datetime, end: datetime
) -> tuple[list[OpenInterestPoint], list[Fetched[list[OpenInterestPoint]]]]:
    """Hourly OI snapshots with start <= time <= end (rubik keeps the latest 1,440 rows).

    A page is the 100 rows at or before its `end`. Rows are hourly, so a page always reaches at least 100 hours back
    (more across a gap): page ends 100 hours apart, known up front, overlap but leave no hole, and are fetched
    together instead of following a cursor.
    """
    span = timedelta(hours=OI_HISTORY_PAGE)
    ends = [end - k * span for k in range(int((end - start) / span) + 1)]

    async def page(page_end: datetime) -> Fetched[list[OpenInterestPoint]]:
        return await http.get(
            SOURCE,
            "/api/v5/rubik/stat/contracts/open-interest-history",
            parse_open_interest_history,
            params={
                "instId": swap_id(asset),
                "period": "1H",
                "end": int(page_end.timestamp() * 1000),
                "limit": OI_HISTORY_PAGE,
            },
            ttl_s=300.0,
        )

    fetches = await gather_all(partial(page, e) for e in ends)
    by_time = {p.time: p for f in fetches for p in f.value if start <= p.time <= end}
    return [by_time[t] for t in sorted(by_time)], fetches


async def fetch_funding_history(http: Http, asset: str, end: datetime, limit: int = 20) -> Fetched[list[FundingPoint]]:
    """The latest settled funding rates at or before `end` (kept for three months only)."""
    return await http.get(
        SOURCE,
        "/api/v5/public/funding-rate-history",
        parse_funding_history,
        # `after` returns records strictly earlier than the given fundingTime.
        params={"instId": swap_id(asset), "after": int(end.timestamp() * 1000) + 1, "limit": limit},
        ttl_s=300.0,
    )


BOOK_DEPTH = 400


async def fetch_books(http: Http, asset: str) -> Fetched[OrderBook]:
    return await http.get(
        SOURCE,
        "/api/v5/market/books",
        parse_books,
        params={"instId": inst_id(asset), "sz": BOOK_DEPTH},
        ttl_s=10.0,
    )
