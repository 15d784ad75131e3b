"""Error objects inside HTTP 200, empty data, time units and the shared validators (no ../shared needed)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from fetchers import (
    binance,
    bybit,
    coinbase,
    coingecko,
    coinglass,
    coinglass_derivatives,
    coinglass_exchange,
    cryptoquant,
    fred,
    kalshi,
    kraken,
    okx,
    parsing,
    polymarket,
    yahoo,
)
from fetchers.errors import BadPayloadError, UnavailableError

KEYLIKE = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"  # 32 hex characters, the shape of a CoinGlass key


def body(payload: Any) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("parse", "payload", "source", "message"),
    [
        (okx.parse_candles, {"code": "50011", "msg": "Too Many Requests", "data": []}, "okx", "Too Many Requests"),
        (
            bybit.parse_funding_history,
            {"retCode": 10006, "retMsg": "Too many visits!", "result": {}},
            "bybit",
            "visits",
        ),
        (binance.parse_klines, {"code": -1003, "msg": "Too many requests."}, "binance", "Too many requests"),
        (coinbase.parse_candles, {"message": "Unauthorized."}, "coinbase", "Unauthorized"),
        (kraken.parse_ohlc, {"error": ["EGeneral:Too many requests"], "result": {}}, "kraken", "Too many requests"),
        (
            kalshi.parse_markets,
            {"error": {"code": "too_many_requests", "message": "rate limit exceeded", "service": "exchange"}},
            "kalshi",
            "rate limit exceeded",
        ),
        (
            yahoo.parse_chart,
            {"finance": {"result": None, "error": {"code": "Unauthorized", "description": "Invalid Crumb"}}},
            "yahoo",
            "Invalid Crumb",
        ),
        (
            coinglass_derivatives.parse_liquidation_history,
            {"code": "40001", "msg": "Params error"},
            "coinglass",
            "40001",
        ),
        (
            coinglass_exchange.parse_balance_list,
            {"code": "40001", "msg": "symbol not supported"},
            "coinglass",
            "symbol",
        ),
        (
            coingecko.parse_global,
            {"status": {"error_code": 429, "error_message": "Throttled"}},
            "coingecko",
            "Throttled",
        ),
        (
            cryptoquant.daily_parser("reserve"),
            {"status": {"code": 403, "message": "Plan does not allow this window"}},
            "cryptoquant",
            "Plan does not allow",
        ),
        (polymarket.parse_events, {"error": "invalid slug"}, "polymarket", "invalid slug"),
    ],
)
def test_an_error_object_in_http_200_is_bad_payload_with_the_upstreams_message(
    parse: Any, payload: Any, source: str, message: str
) -> None:
    with pytest.raises(BadPayloadError) as info:
        parse(body(payload))
    assert info.value.source == source
    assert message in info.value.message


def test_an_upstream_message_is_truncated_and_never_carries_a_key() -> None:
    echoed = f"Invalid API key {KEYLIKE}. " + "x " * 200
    with pytest.raises(BadPayloadError) as info:
        coinglass_derivatives.parse_liquidation_history(body({"code": "401", "msg": echoed}))
    assert KEYLIKE not in str(info.value)
    assert "[redacted]" in info.value.message
    assert len(info.value.message) < 160
    with pytest.raises(UnavailableError) as rejected:  # a key complaint on the ETF path: the key was rejected
        coinglass.parse_etf_flow_history(body({"code": "401", "msg": echoed}))
    assert KEYLIKE not in str(rejected.value)


@pytest.mark.parametrize(
    ("parse", "payload"),
    [
        (binance.parse_klines, []),
        (coinbase.parse_candles, []),
        (okx.parse_candles, {"code": "0", "msg": "", "data": []}),
        (kraken.parse_ohlc, {"error": [], "result": {"XBTUSDT": [], "last": 0}}),
        (bybit.parse_kline_opens, {"retCode": 0, "retMsg": "OK", "result": {"list": []}}),
        (coinglass_derivatives.parse_liquidation_history, {"code": "0", "msg": "success", "data": []}),
        (polymarket.parse_events, []),
    ],
)
def test_empty_data_is_no_data_not_an_error(parse: Any, payload: Any) -> None:
    assert len(parse(body(payload))) == 0


def test_yahoo_window_without_bars_is_empty() -> None:
    meta = {"exchangeTimezoneName": "America/New_York"}
    payload = {"chart": {"result": [{"meta": meta, "indicators": {"quote": [{}]}}], "error": None}}
    assert yahoo.parse_chart(body(payload)) == []


def test_fredgraph_header_only_is_empty_but_a_settled_window_must_be_reached() -> None:
    assert fred.parse_fredgraph_csv("SP500", "observation_date,SP500\n") == []
    with pytest.raises(BadPayloadError, match="should reach 2025-11-21"):
        fred.parse_fredgraph_csv("SP500", "observation_date,SP500\n", through=date(2025, 11, 21))
    text = "observation_date,SP500\n2025-11-20,6538.76\n2025-11-21,6602.99\n"
    assert fred.parse_fredgraph_csv("SP500", text, through=date(2025, 11, 21))[-1].close == 6602.99
    with pytest.raises(BadPayloadError, match="cut short"):
        fred.parse_fredgraph_csv("SP500", text[:-4])


def test_fred_window_is_checked_for_completeness_only_once_settled() -> None:
    assert fred.expected_through(date(2025, 11, 23), today=date(2025, 12, 10)) == date(2025, 11, 21)  # a Sunday
    assert fred.expected_through(date(2025, 11, 21), today=date(2025, 11, 26)) is None  # may not be published yet


# -- time units ------------------------------------------------------------------------------------------------------


def test_milliseconds_where_seconds_are_documented_are_refused() -> None:
    row = [1786320000000, 63733.03, 65341.83, 64848.68, 63911.88, 6197.0]  # Coinbase documents seconds
    with pytest.raises(BadPayloadError, match="outside 2009-2100"):
        coinbase.parse_candles(body([row]))


def test_seconds_where_milliseconds_are_documented_are_refused() -> None:
    row = [1634943780, "1", "1", "1", "1", "1", 1634943839, "1", 1, "1", "1", "0"]  # Binance documents ms
    with pytest.raises(BadPayloadError, match="milliseconds"):
        binance.parse_klines(body([row]))


@pytest.mark.parametrize(
    ("value", "form", "ok"),
    [
        ("1.5", "text", True),
        (1.5, "json", True),
        ("1.5", "json", False),
        (1.5, "text", False),
        ("-2.5e-05", "any", True),
        (True, "any", False),
        (None, "any", False),
        ("", "any", False),
        (" 1", "any", False),
        ("1_000", "any", False),
        ("nan", "any", False),
        ({"v": 1}, "any", False),
        ([1], "any", False),
    ],
)
def test_num_accepts_only_its_documented_form(value: Any, form: parsing.Form, ok: bool) -> None:
    if ok:
        assert parsing.num("x", value, "v", form) == float(value)
    else:
        with pytest.raises(BadPayloadError, match=r"^x: v"):
            parsing.num("x", value, "v", form)


def test_rows_must_have_exactly_their_columns() -> None:
    columns = (("t", parsing.ms_json), ("price", parsing.num_text))
    assert parsing.row("x", [1763683200000, "1.5"], "r", columns) == [datetime(2025, 11, 21, tzinfo=UTC), 1.5]
    for bad in ([1763683200000], [1763683200000, "1.5", "9"]):
        with pytest.raises(BadPayloadError, match=r"r has \d fields, expected 2 \(t, price\)"):
            parsing.row("x", bad, "r", columns)


def test_a_renamed_key_is_named() -> None:
    with pytest.raises(BadPayloadError, match=r"ticker\.price: missing key 'price'"):
        coinbase.parse_ticker(body({"prices": "1", "time": "2026-07-04T18:27:21.589828120Z"}))
