"""Every JSON parser against drifted versions of its real payloads: refused (bad_payload naming the source), or
unchanged.

Healthy bodies are real captures from ../shared/payloads, or the exact format a fake in tests/fakes builds from
../shared/data where no capture exists. tests/drift.py holds the mutations and the property; the figures each healthy
body parses to today are pinned in tests/test_parsers_drift_healthy.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fetchers import (
    alternative_me,
    binance,
    binance_futures,
    bitstamp,
    bybit,
    coinbase,
    coingecko,
    coinglass,
    coinglass_derivatives,
    coinglass_exchange,
    cryptoquant,
    esplora,
    fred,
    kalshi,
    kraken,
    okx,
    polymarket,
    sosovalue,
    yahoo,
)
from fetchers import liquidation_streams as streams
from tests.drift import DRIFT_SETTINGS, JsonCase, column_dropped, needs_shared, renamed, retyped, truncations
from tests.fakes.data import PAYLOADS

pytestmark = needs_shared


def recorded(folder: str, name: str) -> Any:
    return json.loads((PAYLOADS / folder / name).read_text())


def served(handler: Any, source: str, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    """What a fake in tests/fakes answers to one request: the upstream's exact format, from ../shared data."""
    request = httpx.Request("GET", f"http://fake.test/{source}{path}", params=params, headers=headers)
    answer = handler(request, path)
    assert answer is not None, (source, path)
    assert answer.status_code == 200, (source, path)
    return answer.json()


def _fake_window_ms(hours: int) -> dict[str, int]:
    from tests.fakes.leverage_data import FAKE_NOW, ms

    return {"start": ms(FAKE_NOW - timedelta(hours=hours)), "end": ms(FAKE_NOW)}


def _binance_futures(path: str, **params: Any) -> Any:
    from tests.fakes.binance_futures import handler

    return served(handler, "binance_futures", path, symbol="BTCUSDT", **params)


def _okx_swap(path: str, **params: Any) -> Any:
    from tests.fakes.okx_derivatives import swap

    return served(swap, "okx", path, **params)


def _bybit(path: str, **params: Any) -> Any:
    from tests.fakes.bybit_derivatives import handler

    return served(handler, "bybit", path, category="linear", symbol="BTCUSDT", limit=24, **params)


def _coinglass_oi() -> Any:
    from tests.fakes.coinglass_derivatives import futures

    w = _fake_window_ms(24 * 10)
    path = "/api/futures/open-interest/aggregated-history"
    headers = {"CG-API-KEY": "k"}
    return served(
        futures, "coinglass", path, headers, symbol="BTC", interval="1d", start_time=w["start"], end_time=w["end"]
    )


def _coinglass_balance(path: str) -> Any:
    from tests.fakes.coinglass_exchange import KEY, wrap

    return served(wrap(None), "coinglass", path, {"CG-API-KEY": KEY}, symbol="BTC")


def _cryptoquant(path: str) -> Any:
    from tests.fakes.cryptoquant import KEY, handle

    headers = {"Authorization": f"Bearer {KEY}"}
    params = {"exchange": "all_exchange", "window": "day", "from": "20251101", "to": "20251125", "limit": 25}
    return served(handle, "cryptoquant", path, headers, **params)


def _esplora_txs() -> Any:
    from tests.fakes.esplora import make_tx

    wallet, other = "bc1qwallet00000000000000000000000000000000", "bc1qother000000000000000000000000000000000"
    t0 = 1763164800  # 2025-11-15
    return [
        make_tx("aa" * 32, t0 + 3600, 924_001, [(wallet, 7000), (other, 3000)], [(other, 4000), (wallet, 5500)]),
        make_tx("bb" * 32, t0, 924_000, [(other, 10**8)], [(wallet, 25_000), (other, 10**8 - 26_000)]),
    ]


WALLET = "bc1qwallet00000000000000000000000000000000"


def _yahoo() -> Any:
    from tests.fakes.yahoo import chart

    return served(chart, "yahoo", "/v8/finance/chart/^GSPC", period1=1761955200, period2=1764115200, interval="1d")


def _kalshi() -> Any:
    from tests.fakes.kalshi import default_markets

    return {"cursor": "", "markets": default_markets()}


def _polymarket() -> Any:
    from tests.fakes.polymarket import fed_event

    return [fed_event()]


def _paprika() -> Any:
    from tests.fakes.coingecko import PAPRIKA_GLOBAL

    return dict(PAPRIKA_GLOBAL)


def _stream(make: str) -> Any:
    from datetime import UTC, datetime

    from tests import test_liquidation_streams as t

    at = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)
    if make == "binance":
        return json.loads(t.binance_msg("BTCUSDT", "SELL", "0.014", "86000.5", at))
    return json.loads(t.bybit_msg("BTCUSDT", [("Buy", "0.5", "86000", at), ("Sell", "1.25", "86100", at)]))


def _spot(handler_name: str, source: str, path: str, **params: Any) -> Any:
    from tests.fakes import exchanges, orderbooks

    handler = getattr(exchanges, handler_name, None) or getattr(orderbooks, handler_name)
    return served(handler, source, path, **params)


POLY_OPTIONAL = frozenset(
    {"bestBid", "bestAsk", "lastTradePrice", "oneDayPriceChange", "groupItemTitle", "endDate", "outcomePrices"}
    | {"clobTokenIds"}
)

CASES = [
    # -- spot venues ------------------------------------------------------------------------------------------------
    JsonCase(
        "binance klines",
        "binance",
        binance.parse_klines,
        lambda: recorded("binance", "binance_api_v3_klines_BTCUSDT_1m_2021-10-22.json"),
    ),
    JsonCase(
        "binance depth",
        "binance",
        binance.parse_depth,
        lambda: recorded("binance", "binance_api_v3_depth_BTCUSDT_limit10_2021-10.json"),
    ),
    JsonCase(
        "binance ticker",
        "binance",
        binance.parse_ticker_price,
        lambda: recorded("binance", "binance_api_v3_ticker_price_BTCUSDT_2026-07-04.json"),
    ),
    JsonCase(
        "coinbase candles",
        "coinbase",
        coinbase.parse_candles,
        lambda: recorded("coinbase", "coinbase_exchange_candles_BTC-USD_1d_2026-08-01_to_08-10.json"),
    ),
    JsonCase(
        "coinbase ticker",
        "coinbase",
        coinbase.parse_ticker,
        lambda: recorded("coinbase", "coinbase_exchange_ticker_BTC-USD_2026-07-04.json"),
    ),
    JsonCase(
        "coinbase book",
        "coinbase",
        coinbase.parse_book,
        lambda: recorded("coinbase", "coinbase_exchange_book_level1_DOT-USD_2026-09-14.json"),
    ),
    JsonCase(
        "kraken ohlc",
        "kraken",
        kraken.parse_ohlc,
        lambda: recorded("kraken", "kraken_public_OHLC_XBTUSD_1440_2026-08.json"),
    ),
    JsonCase(
        "kraken ticker",
        "kraken",
        kraken.parse_ticker,
        lambda: recorded("kraken", "kraken_public_Ticker_XBTUSDT_2025-11-11.json"),
    ),
    JsonCase(
        "kraken depth",
        "kraken",
        kraken.parse_depth,
        lambda: recorded("kraken", "kraken_public_Depth_XBTUSDT_count5_2025-11-11.json"),
    ),
    JsonCase(
        "okx candles",
        "okx",
        okx.parse_candles,
        lambda: recorded("okx", "okx_v5_market_candles_BTC-USDT-SWAP_1m_2025-05-13.json"),
    ),
    JsonCase(
        "okx ticker (fake)",
        "okx",
        okx.parse_ticker,
        lambda: _spot("okx", "okx", "/api/v5/market/ticker", instId="BTC-USDT"),
    ),
    JsonCase(
        "okx books (fake)",
        "okx",
        okx.parse_books,
        lambda: _spot("okx_books", "okx", "/api/v5/market/books", instId="BTC-USDT", sz=15),
    ),
    JsonCase(
        "bitstamp ohlc (fake)",
        "bitstamp",
        bitstamp.parse_ohlc,
        lambda: _spot("bitstamp", "bitstamp", "/api/v2/ohlc/btcusdt/", step=86400, start=1763251200, end=1764028800),
    ),
    # -- derivatives ------------------------------------------------------------------------------------------------
    JsonCase(
        "binance funding",
        "binance_futures",
        binance_futures.parse_funding_rates,
        lambda: recorded("binance", "binance_fapi_fundingRate_BTCUSDT_limit21_2026-07-04.json"),
    ),
    JsonCase(
        "binance premium index",
        "binance_futures",
        binance_futures.parse_premium_index,
        lambda: recorded("binance", "binance_fapi_premiumIndex_BTCUSDT_2026-07-04.json"),
    ),
    JsonCase(
        "binance open interest (fake)",
        "binance_futures",
        binance_futures.parse_open_interest,
        lambda: _binance_futures("/fapi/v1/openInterest"),
    ),
    JsonCase(
        "binance open interest history (fake)",
        "binance_futures",
        binance_futures.parse_open_interest_hist,
        lambda: _binance_futures(
            "/futures/data/openInterestHist",
            period="1h",
            startTime=_fake_window_ms(12)["start"],
            endTime=_fake_window_ms(12)["end"],
        ),
        either_form=frozenset({"timestamp"}),
    ),
    JsonCase(
        "okx funding",
        "okx",
        okx.parse_funding_history,
        lambda: recorded("okx", "okx_v5_public_funding-rate-history_DOT-USDT-SWAP_limit10_2026-09-20.json"),
    ),
    JsonCase(
        "okx open interest",
        "okx",
        okx.parse_open_interest,
        lambda: recorded("okx", "okx_v5_public_open-interest_DOT-USDT-SWAP_2026-09-20.json"),
    ),
    JsonCase(
        "okx instrument (fake)",
        "okx",
        okx.parse_instrument,
        lambda: _okx_swap("/api/v5/public/instruments", instType="SWAP", instId="BTC-USDT-SWAP"),
    ),
    JsonCase(
        "okx liquidations (fake)",
        "okx",
        okx.parse_liquidations,
        lambda: _okx_swap("/api/v5/public/liquidation-orders", instFamily="BTC-USDT", state="filled", limit=6),
    ),
    JsonCase(
        "okx rubik open interest (fake)",
        "okx",
        okx.parse_open_interest_history,
        lambda: _okx_swap(
            "/api/v5/rubik/stat/contracts/open-interest-history",
            instId="BTC-USDT-SWAP",
            period="1H",
            end=_fake_window_ms(0)["end"],
            limit=12,
        ),
    ),
    JsonCase(
        "bybit open interest (fake)",
        "bybit",
        bybit.parse_open_interest,
        lambda: _bybit("/v5/market/open-interest", intervalTime="1h", **_bybit_window()),
    ),
    JsonCase(
        "bybit kline (fake)",
        "bybit",
        bybit.parse_kline_opens,
        lambda: _bybit("/v5/market/kline", interval="60", **_fake_window_ms(12)),
    ),
    JsonCase(
        "bybit funding (fake)",
        "bybit",
        bybit.parse_funding_history,
        lambda: _bybit("/v5/market/funding/history", endTime=_fake_window_ms(0)["end"]),
    ),
    JsonCase(
        "coinglass liquidations",
        "coinglass",
        coinglass_derivatives.parse_liquidation_history,
        lambda: recorded("coinglass", "coinglass_v4_futures_liquidation_aggregated-history_BTC_1d_2026-08-12.json"),
    ),
    JsonCase(
        "coinglass open interest (fake)",
        "coinglass",
        coinglass_derivatives.parse_open_interest_history,
        _coinglass_oi,
        either_form=frozenset({"open", "high", "low", "close"}),
    ),
    JsonCase(
        "binance forceOrder stream",
        "binance_futures_ws",
        lambda r: streams.parse_binance_force_order(r.text),
        lambda: _stream("binance"),
    ),
    JsonCase(
        "bybit allLiquidation stream",
        "bybit_ws",
        lambda r: streams.parse_bybit_all_liquidation(r.text),
        lambda: _stream("bybit"),
    ),
    # -- ETF flows and reserves -------------------------------------------------------------------------------------
    JsonCase(
        "coinglass etf flows",
        "coinglass",
        coinglass.parse_etf_flow_history,
        lambda: recorded("coinglass", "coinglass_v4_etf_bitcoin_flow-history_2026-07-04.json"),
        nullable=frozenset({"flow_usd"}),
    ),
    JsonCase(
        "sosovalue summary",
        "sosovalue",
        sosovalue.parse_summary_history,
        lambda: recorded("sosovalue", "sosovalue_openapi_v1_etfs_summary-history_BTC_US_2026-07-31.json"),
        nullable=frozenset({"total_net_inflow", "total_net_assets"}),
    ),
    JsonCase(
        "sosovalue fund",
        "sosovalue",
        sosovalue.parse_fund_history,
        lambda: recorded("sosovalue", "sosovalue_openapi_v1_etfs_IBIT_history_2026-08-03.json"),
        nullable=frozenset({"net_inflow", "net_assets"}),
    ),
    JsonCase(
        "coinglass balance list (fake)",
        "coinglass",
        coinglass_exchange.parse_balance_list,
        lambda: _coinglass_balance("/api/exchange/balance/list"),
        nullable=frozenset({"balance_change_1d", "balance_change_7d", "balance_change_30d"}),
    ),
    JsonCase(
        "coinglass balance chart (fake)",
        "coinglass",
        coinglass_exchange.parse_balance_chart,
        lambda: _coinglass_balance("/api/exchange/balance/chart"),
        nullable=frozenset({"coinbase", "binance"}),
        maps=frozenset({"data_map"}),
    ),
    JsonCase(
        "cryptoquant reserve (fake)",
        "cryptoquant",
        cryptoquant.daily_parser(cryptoquant.RESERVE_FIELD),
        lambda: _cryptoquant(cryptoquant.RESERVE_PATH),
    ),
    JsonCase(
        "esplora address",
        "mempool",
        esplora.address_parser("mempool"),
        lambda: recorded("mempool", "mempool_api_address_bc1qgdjq_compact.json"),
    ),
    JsonCase(
        "esplora txs (fake)",
        "mempool",
        esplora.txs_parser("mempool", WALLET),
        _esplora_txs,
        optional=frozenset({"scriptpubkey_address"}),
    ),
    # -- macro ------------------------------------------------------------------------------------------------------
    JsonCase(
        "fred api",
        "fred_api",
        lambda r: fred.parse_observations("DFII10", r),
        lambda: recorded("fred", "fred_api_series_observations_DFII10_desc_limit25_2026-07-04.json"),
    ),
    JsonCase("yahoo chart (fake)", "yahoo", yahoo.parse_chart, _yahoo, nullable=frozenset({"close"})),
    JsonCase("kalshi fed markets (fake)", "kalshi", kalshi.parse_markets, _kalshi),
    JsonCase(
        "kalshi markets",
        "kalshi",
        kalshi.parse_markets,
        lambda: recorded("kalshi", "kalshi_v2_markets_limit3_2026-07-25.json"),
    ),
    JsonCase(
        "polymarket events",
        "polymarket",
        polymarket.parse_events,
        lambda: recorded("polymarket", "polymarket_gamma_events_limit2_2026-07.json"),
        optional=POLY_OPTIONAL,
    ),
    JsonCase("polymarket fed event (fake)", "polymarket", polymarket.parse_events, _polymarket, optional=POLY_OPTIONAL),
    JsonCase(
        "polymarket price history",
        "polymarket_clob",
        polymarket.parse_price_history,
        lambda: recorded("polymarket", "polymarket_clob_prices-history_5pts_2026-09.json"),
    ),
    JsonCase(
        "coingecko global",
        "coingecko",
        coingecko.parse_global,
        lambda: recorded("coingecko", "coingecko_api_v3_global_2026-09-12.json"),
    ),
    JsonCase("coinpaprika global (fake)", "coinpaprika", coingecko.parse_paprika_global, _paprika),
    JsonCase(
        "alternative.me fng",
        "alternative_me",
        alternative_me.parse_fng,
        lambda: recorded("alternative_me", "alternative_me_fng_limit2_2026-09-08.json"),
    ),
]


def _bybit_window() -> dict[str, int]:
    w = _fake_window_ms(12)
    return {"startTime": w["start"], "endTime": w["end"]}


ROW_CASES = [c for c in CASES if c.name.split(" (")[0] in {
    "binance klines", "binance depth", "coinbase candles", "coinbase book", "kraken ohlc", "kraken ticker",
    "kraken depth", "okx candles", "okx books", "okx rubik open interest", "bybit kline", "coinglass balance chart",
    "yahoo chart",
}]  # fmt: skip
KEYED_CASES = [c for c in CASES if c.name not in {"binance klines", "coinbase candles"}]  # bodies with no keys


@pytest.mark.parametrize("case", CASES, ids=str)
def test_healthy_body_parses(case: JsonCase) -> None:
    assert case.healthy is not None


@pytest.mark.parametrize("case", CASES, ids=str)
@DRIFT_SETTINGS
@given(data=st.data())
def test_truncated_body_is_refused(case: JsonCase, data: st.DataObject) -> None:
    case.check(None, body=data.draw(truncations(case.text)))


@pytest.mark.parametrize("case", ROW_CASES, ids=str)
@DRIFT_SETTINGS
@given(data=st.data())
def test_row_with_one_column_dropped_is_refused(case: JsonCase, data: st.DataObject) -> None:
    case.check(*data.draw(column_dropped(case)))


@pytest.mark.parametrize("case", CASES, ids=str)
@DRIFT_SETTINGS
@given(data=st.data())
def test_field_of_another_type_is_refused(case: JsonCase, data: st.DataObject) -> None:
    case.check(*data.draw(retyped(case)))


@pytest.mark.parametrize("case", KEYED_CASES, ids=str)
@DRIFT_SETTINGS
@given(data=st.data())
def test_renamed_key_is_refused(case: JsonCase, data: st.DataObject) -> None:
    case.check(*data.draw(renamed(case)))
