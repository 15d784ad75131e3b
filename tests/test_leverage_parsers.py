"""Derivatives and order-book parsers on payloads in each API's exact format (recorded ones where they exist)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from fetchers import binance, binance_futures, bybit, coinbase, coinglass_derivatives, kraken, okx
from fetchers.errors import BadPayloadError
from tests.fakes.data import PAYLOADS
from tools.leverage.calc import funding_interval_hours, mid_price, normalise_funding


def recorded(folder: str, name: str) -> httpx.Response:
    return httpx.Response(200, content=(PAYLOADS / folder / name).read_bytes())


def body(payload: object) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(payload).encode())


# -- recorded payloads -----------------------------------------------------------------------------------------


def test_binance_funding_history_recorded_jittery_timestamps_give_8h() -> None:
    points = binance_futures.parse_funding_rates(
        recorded("binance", "binance_fapi_fundingRate_BTCUSDT_limit21_2026-07-04.json")
    )
    assert len(points) == 21
    assert points[-1].rate == pytest.approx(0.0000948)
    assert points[-1].time == datetime.fromtimestamp(1783180800.007, UTC)
    assert funding_interval_hours(points) == 8  # 1783180800007 - 1783152000000 ms rounds to 8 h
    rate_8h, annual = normalise_funding(points[-1].rate, 8)
    assert rate_8h == pytest.approx(0.00948)
    assert annual == pytest.approx(0.00948 * 3 * 365)


def test_binance_premium_index_recorded() -> None:
    got = binance_futures.parse_premium_index(recorded("binance", "binance_fapi_premiumIndex_BTCUSDT_2026-07-04.json"))
    assert got.mark_price == pytest.approx(63151.08183333)
    assert got.last_funding_rate == pytest.approx(0.00009296)
    assert got.next_funding_time == datetime(2026, 7, 5, 0, 0, tzinfo=UTC)


def test_binance_restricted_location_body_is_rejected_as_payload() -> None:
    # Served with HTTP 200 by a misbehaving proxy, the 451 body must not parse as data.
    with pytest.raises(BadPayloadError, match="restricted location"):
        binance_futures.parse_funding_rates(recorded("binance", "binance_451_restricted_location_body.json"))


def test_okx_funding_history_recorded_newest_first_is_sorted_and_8h() -> None:
    points = okx.parse_funding_history(
        recorded("okx", "okx_v5_public_funding-rate-history_DOT-USDT-SWAP_limit10_2026-09-20.json")
    )
    assert len(points) == 10
    assert points[0].time < points[-1].time
    assert points[-1].rate == pytest.approx(0.0001)
    assert points[0].rate == pytest.approx(0.0000419539781648)
    assert funding_interval_hours(points) == 8


def test_okx_open_interest_recorded() -> None:
    got = okx.parse_open_interest(recorded("okx", "okx_v5_public_open-interest_DOT-USDT-SWAP_2026-09-20.json"))
    assert got.usd == pytest.approx(8697131.8119)
    assert got.base == pytest.approx(7563381)
    assert got.time == datetime.fromtimestamp(1789936534.485, UTC)


def test_kraken_depth_recorded() -> None:
    response = recorded("kraken", "kraken_public_Depth_XBTUSDT_count5_2025-11-11.json")
    book = kraken.parse_depth(response, count=5)
    assert [lv.price for lv in book.bids][:2] == [105944.2, 105935.4]
    assert book.asks[0].price == 105944.3
    assert book.bids[0].size == pytest.approx(0.002)
    assert book.truncated is True  # 5 levels asked, 5 returned: more may rest beyond
    assert mid_price(book) == pytest.approx(105944.25)
    assert kraken.parse_depth(response, count=500).truncated is False


def test_binance_spot_depth_recorded() -> None:
    response = recorded("binance", "binance_api_v3_depth_BTCUSDT_limit10_2021-10.json")
    book = binance.parse_depth(response, limit=10)
    assert book.bids[0].price == 60650.0
    assert book.asks[0].price == 60650.01
    assert book.asks[-1].size == pytest.approx(0.9617)
    assert book.truncated is True
    assert binance.parse_depth(response).truncated is False


def test_coinbase_book_recorded_level1_shape() -> None:
    book = coinbase.parse_book(recorded("coinbase", "coinbase_exchange_book_level1_DOT-USD_2026-09-14.json"))
    assert book.bids[0].price == 1.0206
    assert book.bids[0].size == pytest.approx(336.29035)  # size is the level total: never x num-orders
    assert book.asks[0].price == 1.0207
    assert book.time == datetime(2026, 9, 14, 18, 58, 34, 560851, tzinfo=UTC)


def test_coinglass_liquidation_history_recorded() -> None:
    rows = coinglass_derivatives.parse_liquidation_history(
        recorded("coinglass", "coinglass_v4_futures_liquidation_aggregated-history_BTC_1d_2026-08-12.json")
    )
    assert len(rows) == 10
    assert rows[0].time == datetime(2026, 8, 3, tzinfo=UTC)
    assert rows[-1].long_usd == pytest.approx(3987215.79)
    assert rows[-1].short_usd == pytest.approx(6077439.28)
    assert sum(r.long_usd for r in rows) == pytest.approx(100588731.27)


# -- exact-format bodies (no public recording) -------------------------------------------------------------------


def test_okx_liquidation_contracts_times_ctval_times_price() -> None:
    # The shape captured live in sources.md: instId on the outer item, orders in `details`.
    payload = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instId": "BTC-USDT-SWAP",
                "instFamily": "BTC-USDT",
                "details": [
                    {
                        "bkLoss": "0",
                        "bkPx": "63955.7",
                        "posSide": "long",
                        "side": "sell",
                        "sz": "3.62",
                        "ts": "1786408771714",
                    },
                    {
                        "bkLoss": "0",
                        "bkPx": "64010",
                        "posSide": "short",
                        "side": "buy",
                        "sz": "150",
                        "ts": "1786408790000",
                    },
                ],
            }
        ],
    }
    rows = okx.parse_liquidations(body(payload))
    assert [r[1] for r in rows] == [False, True]  # newest first: the buy (short) at ...790000
    ct = okx.parse_instrument(
        body({"code": "0", "msg": "", "data": [{"instId": "BTC-USDT-SWAP", "ctVal": "0.01", "ctValCcy": "BTC"}]})
    )
    assert ct.contract_value == 0.01
    liqs = okx.liquidations_usd(rows, ct.contract_value)
    long_liq = next(x for x in liqs if x.long_liquidated)
    short_liq = next(x for x in liqs if not x.long_liquidated)
    assert long_liq.usd == pytest.approx(3.62 * 0.01 * 63955.7)  # US$2,315.20, not 3.62 BTC's worth
    assert short_liq.usd == pytest.approx(150 * 0.01 * 64010)


def test_okx_liquidation_unknown_side_is_drift() -> None:
    payload = {"code": "0", "data": [{"details": [{"bkPx": "1", "side": "close", "sz": "1", "ts": "1"}]}]}
    with pytest.raises(BadPayloadError, match="neither buy nor sell"):
        okx.parse_liquidations(body(payload))


def test_okx_error_code_in_http_200_is_an_error() -> None:
    with pytest.raises(BadPayloadError, match="51001"):
        okx.parse_open_interest(body({"code": "51001", "msg": "Instrument ID does not exist", "data": []}))


def test_okx_rubik_rows_and_books() -> None:
    hist = okx.parse_open_interest_history(
        body(
            {
                "code": "0",
                "msg": "",
                "data": [
                    ["1764158400000", "300000", "3000", "261000000"],
                    ["1764154800000", "299000", "2990", "260000000"],
                ],
            }
        )
    )
    assert [p.usd for p in hist] == [260000000.0, 261000000.0]
    books = okx.parse_books(
        body(
            {
                "code": "0",
                "msg": "",
                "data": [
                    {"asks": [["87001", "0.5", "0", "3"]], "bids": [["86999", "1.5", "0", "2"]], "ts": "1764158400000"}
                ],
            }
        )
    )
    assert books.bids[0].size == 1.5
    assert books.truncated is False


def test_bybit_open_interest_in_btc_is_priced_with_kline_open() -> None:
    oi = bybit.parse_open_interest(
        body(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": {
                    "symbol": "BTCUSDT",
                    "category": "linear",
                    "list": [
                        {"openInterest": "50000", "timestamp": "1764158400000"},
                        {"openInterest": "49000", "timestamp": "1764154800000"},
                    ],
                    "nextPageCursor": "",
                },
                "time": 1,
            }
        )
    )
    opens = bybit.parse_kline_opens(
        body(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": {
                    "category": "linear",
                    "symbol": "BTCUSDT",
                    "list": [["1764158400000", "87000", "87100", "86900", "87050", "10", "870000"]],
                },
            }
        )
    )
    priced = bybit.price_open_interest(oi, opens)
    assert len(priced) == 1  # the 11:00 reading has no price, so it is dropped, not priced at 0
    assert priced[0].usd == pytest.approx(50000 * 87000)


def test_bybit_retcode_error() -> None:
    with pytest.raises(BadPayloadError, match="10001"):
        bybit.parse_funding_history(body({"retCode": 10001, "retMsg": "params error", "result": {}}))


def test_coinglass_error_code_and_missing_field() -> None:
    with pytest.raises(BadPayloadError, match="error code 401"):
        coinglass_derivatives.parse_liquidation_history(body({"code": "401", "msg": "API key missing"}))
    with pytest.raises(BadPayloadError, match="aggregated_short_liquidation_usd"):
        coinglass_derivatives.parse_liquidation_history(
            body({"code": "0", "data": [{"time": 1, "aggregated_long_liquidation_usd": 1.0}]})
        )


def test_coinglass_open_interest_ohlc_strings() -> None:
    rows = coinglass_derivatives.parse_open_interest_history(
        body(
            {
                "code": "0",
                "msg": "success",
                "data": [{"time": 1763683200000, "open": "1", "high": "3", "low": "1", "close": "2608846475"}],
            }
        )
    )
    assert rows[0].usd == 2608846475.0
