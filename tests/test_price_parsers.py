"""Price fetchers' parsers on real captured responses (../shared/payloads), and on drifted payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from fetchers import binance, bitstamp, coinbase, kraken, okx
from fetchers.errors import BadPayloadError
from tests.fakes.data import PAYLOADS


def response(body: object | str, status: int = 200) -> httpx.Response:
    text = body if isinstance(body, str) else json.dumps(body)
    return httpx.Response(status, text=text, request=httpx.Request("GET", "http://fake.test/x"))


def payload(folder: str, name: str) -> str:
    return (PAYLOADS / folder / name).read_text()


def test_coinbase_candles_row_order_is_time_low_high_open_close_volume() -> None:
    candles = coinbase.parse_candles(
        response(payload("coinbase", "coinbase_exchange_candles_BTC-USD_1d_2026-08-01_to_08-10.json"))
    )
    assert len(candles) == 10
    newest = candles[0]  # Coinbase sends newest first; the fetcher sorts later
    assert newest.open_time == datetime.fromtimestamp(1786320000, UTC)
    assert (newest.low, newest.high, newest.open, newest.close) == (63733.03, 65341.83, 64848.68, 63911.88)


def test_coinbase_ticker_with_nanosecond_time() -> None:
    quote = coinbase.parse_ticker(response(payload("coinbase", "coinbase_exchange_ticker_BTC-USD_2026-07-04.json")))
    assert quote.price == 63118.97
    assert quote.time == datetime(2026, 7, 4, 18, 27, 21, 589828, tzinfo=UTC)


def test_binance_klines_and_ticker() -> None:
    klines = binance.parse_klines(response(payload("binance", "binance_api_v3_klines_BTCUSDT_1m_2021-10-22.json")))
    assert klines[0].open_time == datetime.fromtimestamp(1634943780, UTC)
    assert klines[0].close == 60719.27
    quote = binance.parse_ticker_price(
        response(payload("binance", "binance_api_v3_ticker_price_BTCUSDT_2026-07-04.json"))
    )
    assert quote.price > 0


def test_binance_error_body_in_200_is_bad_payload() -> None:
    with pytest.raises(BadPayloadError, match="Invalid symbol"):
        binance.parse_klines(response({"code": -1121, "msg": "Invalid symbol."}))


def test_okx_candles_and_error_code() -> None:
    candles = okx.parse_candles(response(payload("okx", "okx_v5_market_candles_BTC-USDT-SWAP_1m_2025-05-13.json")))
    assert candles[0].close == 102820.4
    assert candles[0].closed is True
    with pytest.raises(BadPayloadError, match="51001"):
        okx.parse_candles(response({"code": "51001", "msg": "Instrument ID does not exist", "data": []}))


def test_kraken_reads_the_result_key_it_was_given_and_marks_last_bar_open() -> None:
    candles = kraken.parse_ohlc(response(payload("kraken", "kraken_public_OHLC_XBTUSD_1440_2026-08.json")))
    assert candles[0].open_time == datetime.fromtimestamp(1786147200, UTC)
    assert candles[0].close == 64901.1
    assert candles[-1].closed is False
    assert all(c.closed for c in candles[:-1])
    quote = kraken.parse_ticker(response(payload("kraken", "kraken_public_Ticker_XBTUSDT_2025-11-11.json")))
    assert quote.price == 105899.4


def test_kraken_error_list_is_bad_payload() -> None:
    with pytest.raises(BadPayloadError, match="Unknown asset pair"):
        kraken.parse_ohlc(response({"error": ["EQuery:Unknown asset pair"]}))


def test_bitstamp_ohlc_strings() -> None:
    body = {
        "data": {
            "pair": "BTC/USDT",
            "ohlc": [
                {
                    "timestamp": "1763683200",
                    "open": "86000",
                    "high": "87000",
                    "low": "80600",
                    "close": "85129.43",
                    "volume": "12",
                }
            ],
        }
    }
    candles = bitstamp.parse_ohlc(response(body))
    assert candles[0].close == 85129.43
    assert candles[0].open_time == datetime(2025, 11, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("parser", "body", "needle"),
    [
        (coinbase.parse_candles, "<html><body>Just a moment...</body></html>", "HTML page"),
        (coinbase.parse_candles, "[[1, 2, 3", "malformed JSON"),
        (coinbase.parse_candles, {"message": "NotFound"}, "expected a list"),
        (coinbase.parse_candles, [[1786320000, "x", 1, 1, 1, 1]], "expected a number"),
        (coinbase.parse_candles, [[1786320000, 1, 1]], "3 fields"),
        (coinbase.parse_ticker, {"price": None}, "price"),
        (
            binance.parse_klines,
            [[1634943780000, "NaN", "1", "1", "1", "1", 1634943839999, "1", 1, "1", "1", "0"]],
            "finite",
        ),
        (okx.parse_ticker, {"code": "0", "msg": "", "data": []}, "empty ticker"),
    ],
)
def test_drift_is_a_bad_payload_error_not_a_crash(parser, body, needle: str) -> None:
    with pytest.raises(BadPayloadError, match=needle):
        parser(response(body))


def test_coinbase_pages_never_exceed_300_candles() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2025, 12, 31, tzinfo=UTC)
    pages = coinbase._pages(start, end, 86400)
    assert pages[0][1] == end  # newest page first
    assert pages[-1][0] == start
    for page_start, page_end in pages:
        assert (page_end - page_start).days + 1 <= coinbase.MAX_CANDLES_PER_CALL
    covered = sum((b - a).days + 1 for a, b in pages)
    assert covered == 365
