"""get_leverage_state through the in-memory MCP client, on real series served in each upstream's exact format."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from server.settings import Settings
from store.base import Observation, SeriesKey
from store.sqlite import SqliteStore
from tests.conftest import FROZEN_NOW, make_settings
from tests.fakes import FakeUpstream, orderbooks
from tests.fakes import binance_futures as binance_futures_fake
from tests.fakes import bybit_derivatives as bybit_fake
from tests.fakes import coinglass_derivatives as coinglass_fake
from tests.fakes import okx_derivatives as okx_fake
from tests.fakes.data import PAYLOADS
from tests.fakes.leverage_data import VENUE_SHARE, funding_pct, long_liquidations, open_interest, short_liquidations

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def derivative_routes(fake: FakeUpstream) -> None:
    """Layer this tool's routes on top again, in case a fake registered later replaced a shared source's handler."""
    for module in (binance_futures_fake, bybit_fake, coinglass_fake, okx_fake, orderbooks):
        module.register(fake)


KEY = "cg-test-key-7f3a"


def keyed(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, api_keys={"coinglass": KEY})


async def call(make_client, args: dict, **kwargs) -> dict:
    async with make_client(**kwargs) as client:
        result = await client.call_tool("get_leverage_state", args)
    assert not result.is_error, result.content
    return result.structured_content


def window(d: date, days: int) -> list[date]:
    return [d - timedelta(days=i) for i in range(days)]


# -- liquidations: the real-data check against CryptoQuant's daily CSVs ------------------------------------------


@pytest.mark.parametrize("day", ["2025-11-21", "2025-11-14", "2025-10-10", "2025-09-30", "2025-06-15"])
async def test_coinglass_24h_and_7d_equal_csv_sums(make_client, tmp_path: Path, day: str) -> None:
    out = await call(make_client, {"as_of": day}, settings_=keyed(tmp_path))
    liq = out["liquidations"]
    d = date.fromisoformat(day)
    assert liq["source"] == "coinglass"
    assert liq["coverage"].startswith("all major venues")
    assert liq["long_usd_24h"] == pytest.approx(long_liquidations()[d], abs=0.01)
    assert liq["short_usd_24h"] == pytest.approx(short_liquidations()[d], abs=0.01)
    assert liq["long_usd_7d"] == pytest.approx(sum(long_liquidations()[x] for x in window(d, 7)), abs=0.01)
    assert liq["short_usd_7d"] == pytest.approx(sum(short_liquidations()[x] for x in window(d, 7)), abs=0.01)
    assert liq["window_end"].startswith((d + timedelta(days=1)).isoformat())


async def test_2025_11_21_figures_from_the_data_readme(make_client, tmp_path: Path) -> None:
    out = await call(make_client, {"as_of": "2025-11-21"}, settings_=keyed(tmp_path))
    liq = out["liquidations"]
    assert round(liq["long_usd_24h"] / 1e6, 1) == 868.5
    assert round(liq["short_usd_24h"] / 1e6, 1) == 105.9
    assert round((liq["long_usd_24h"] + liq["short_usd_24h"]) / 1e6, 1) == 974.4
    agg = out["open_interest"]["all_venues"]
    assert round(agg["usd"] / 1e9, 2) == 29.40  # CoinGlass OI format, CryptoQuant's US$29.40bn
    oi = open_interest()
    assert agg["change_24h_pct"] == pytest.approx(100 * (oi[date(2025, 11, 21)] / oi[date(2025, 11, 20)] - 1), abs=1e-4)
    assert agg["change_7d_pct"] == pytest.approx(100 * (oi[date(2025, 11, 21)] / oi[date(2025, 11, 14)] - 1), abs=1e-4)


async def test_key_never_leaves_the_header(make_client, tmp_path: Path, fake: FakeUpstream) -> None:
    out = await call(make_client, {"as_of": "2025-11-21"}, settings_=keyed(tmp_path))
    assert KEY not in json.dumps(out)
    cg = [r for r in fake.requests if r.url.path.startswith("/coinglass/")]
    assert cg
    assert all(r.headers["CG-API-KEY"] == KEY and KEY not in str(r.url) for r in cg)


async def test_keyless_okx_liquidations_convert_contracts(make_client) -> None:
    out = await call(make_client, {})
    liq = out["liquidations"]
    assert liq["source"] == "okx"
    assert "OKX" in liq["coverage"]
    assert "only" in liq["coverage"]
    long24, short24 = okx_fake.expected_liquidations(FROZEN_NOW - timedelta(hours=24), FROZEN_NOW)
    long7, short7 = okx_fake.expected_liquidations(FROZEN_NOW - timedelta(days=7), FROZEN_NOW)
    assert liq["long_usd_24h"] == pytest.approx(long24, rel=1e-9)
    assert liq["short_usd_24h"] == pytest.approx(short24, rel=1e-9)
    assert liq["long_usd_7d"] == pytest.approx(long7, rel=1e-9)
    assert liq["short_usd_7d"] == pytest.approx(short7, rel=1e-9)
    # Contracts of 0.01 BTC: reading `sz` as BTC would inflate the totals 100-fold.
    assert liq["long_usd_7d"] < 0.2 * sum(long_liquidations()[d] for d in window(date(2025, 11, 26), 8))


async def test_okx_lookback_shorter_than_7d_gives_null_not_partial_sum(make_client, monkeypatch) -> None:
    monkeypatch.setattr(okx_fake, "LIQUIDATION_LOOKBACK", timedelta(days=3))
    out = await call(make_client, {})
    liq = out["liquidations"]
    assert liq["long_usd_24h"] is not None
    assert liq["long_usd_7d"] is None
    assert liq["short_usd_7d"] is None
    assert any("reach back only" in w and "7d" in w for w in out["warnings"])


async def test_keyless_past_date_beyond_okx_history_is_null_with_reason(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-10"})
    liq = out["liquidations"]
    assert liq["source"] == "okx"
    assert liq["long_usd_24h"] is None
    assert liq["short_usd_7d"] is None
    assert any("okx returned no liquidations at or before as_of" in w for w in out["warnings"])


async def test_coinglass_down_falls_back_to_okx_with_warning(make_client, tmp_path: Path, fake: FakeUpstream) -> None:
    fake.faults["coinglass"] = lambda request, path: httpx.Response(500, text="upstream error")
    out = await call(make_client, {}, settings_=keyed(tmp_path))
    assert out["liquidations"]["source"] == "okx"
    assert any("coinglass" in w and "falling back" in w for w in out["warnings"])
    assert out["open_interest"]["all_venues"] is None


# -- open interest -------------------------------------------------------------------------------------------


async def test_open_interest_sums_three_venues_and_matches_csv_changes(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-21"})
    oi = out["open_interest"]
    d = date(2025, 11, 21)
    series = open_interest()
    assert oi["venues"] == ["binance_futures", "okx", "bybit"]
    assert oi["partial"] is False
    assert oi["usd"] == pytest.approx(sum(VENUE_SHARE.values()) * series[d], rel=1e-9)
    assert oi["change_24h_pct"] == pytest.approx(100 * (series[d] / series[d - timedelta(days=1)] - 1), abs=1e-4)
    assert oi["change_7d_pct"] == pytest.approx(100 * (series[d] / series[d - timedelta(days=7)] - 1), abs=1e-4)
    bybit = next(v for v in oi["by_venue"] if v["venue"] == "bybit")
    assert bybit["usd"] == pytest.approx(VENUE_SHARE["bybit"] * series[d], rel=1e-9)  # BTC x kline open
    assert oi["all_venues"] is None  # no CoinGlass key


async def test_binance_history_older_than_30_days_is_left_out_not_zero(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-10-10"})
    oi = out["open_interest"]
    assert oi["venues"] == ["okx", "bybit"]
    assert oi["partial"] is True
    expected = (VENUE_SHARE["okx"] + VENUE_SHARE["bybit"]) * open_interest()[date(2025, 10, 10)]
    assert oi["usd"] == pytest.approx(expected, rel=1e-9)
    assert any("binance_futures" in w and "30 days" in w for w in out["warnings"])


@pytest.mark.parametrize(
    ("source", "status", "payload"),
    [
        ("binance_futures", 451, (PAYLOADS / "binance" / "binance_451_restricted_location_body.json").read_text()),
        ("bybit", 403, '{"retCode":10009,"retMsg":"The IP is from a restricted country"}'),
    ],
)
async def test_geo_blocked_venue_is_left_out_of_sums_with_warning(
    make_client, fake: FakeUpstream, source: str, status: int, payload: str
) -> None:
    fake.faults[source] = lambda request, path: httpx.Response(status, text=payload)
    out = await call(make_client, {})
    oi = out["open_interest"]
    assert source not in oi["venues"]
    assert oi["partial"] is True
    others = [v for v in VENUE_SHARE if v != source]
    assert oi["venues"] == others
    assert sum(v["usd"] for v in oi["by_venue"]) == pytest.approx(oi["usd"])
    assert oi["usd"] == pytest.approx(
        sum(VENUE_SHARE[v] for v in others) * open_interest()[date(2025, 11, 26)], rel=1e-6
    )
    assert source not in [row["venue"] for row in out["funding"]]
    assert any(source in w and "geo_blocked" in w for w in out["warnings"])
    # A geo-block is not retried and opens the venue's circuit: each endpoint asked in the first round (every part
    # of the tool starts at once) is sent once, and nothing after.
    paths = [r.url.path for r in fake.requests if r.url.path.startswith(f"/{source}/")]
    assert paths
    assert len(paths) == len(set(paths))


# -- funding -------------------------------------------------------------------------------------------------


async def test_funding_rows_normalise_8h_1h_and_4h_venues_to_one_rate(make_client) -> None:
    out = await call(make_client, {})
    rows = {r["venue"]: r for r in out["funding"]}
    assert {v: r["interval_hours"] for v, r in rows.items()} == {"binance_futures": 8, "okx": 1, "bybit": 4}
    cq = funding_pct()[date(2025, 11, 26)]  # percent per 8h
    for row in rows.values():
        assert row["rate_8h_pct"] == pytest.approx(cq, rel=1e-4)
        assert row["annualized_pct"] == pytest.approx(cq * 3 * 365, rel=1e-4)
    assert rows["okx"]["rate_pct"] == pytest.approx(cq / 8, rel=1e-4)  # raw per-interval rates differ 8-fold
    assert rows["bybit"]["rate_pct"] == pytest.approx(cq / 2, rel=1e-4)
    assert out["funding_avg_8h_pct"] == pytest.approx(cq, rel=1e-4)


async def test_funding_for_past_date_uses_settlements_before_it(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-21T12:00:00Z"})
    for row in out["funding"]:
        assert datetime.fromisoformat(row["funding_time"]) <= datetime(2025, 11, 21, 12, tzinfo=UTC)
        assert row["rate_8h_pct"] == pytest.approx(funding_pct()[date(2025, 11, 21)], rel=1e-4)


# -- order book ----------------------------------------------------------------------------------------------


def expected_band(venue: str, pct: float) -> float:
    bids, asks = orderbooks.served(venue)
    lo, hi = orderbooks.BOOK_MID * (1 - pct / 100), orderbooks.BOOK_MID * (1 + pct / 100)
    return sum(p * s for p, s in bids if p >= lo) + sum(p * s for p, s in asks if p <= hi)


async def test_order_book_depth_and_round_levels_on_built_books(make_client) -> None:
    out = await call(make_client, {})
    book = out["order_book"]
    venues = {v["venue"]: v for v in book["venues"]}
    assert book["mid_price"] == orderbooks.BOOK_MID
    assert venues["coinbase"]["depth_1pct_usd"] == pytest.approx(expected_band("coinbase", 1.0))
    assert venues["okx"]["depth_0_5pct_usd"] == pytest.approx(expected_band("okx", 0.5))
    assert venues["okx"]["depth_1pct_usd"] is None  # 400 levels of $2 stop 0.92% below mid
    assert book["depth_1pct_venues"] == ["coinbase", "kraken", "binance"]
    assert book["depth_1pct_usd"] == pytest.approx(
        sum(expected_band(v, 1.0) for v in ("coinbase", "kraken", "binance"))
    )
    levels = {lv["price"]: lv for lv in book["round_levels"]}
    assert list(levels) == [85_000.0, 80_000.0]

    def near(venue: str, level: float) -> float:
        bids, _ = orderbooks.served(venue)
        return sum(p * s for p, s in bids if level * 0.995 <= p <= level * 1.005)

    assert levels[85_000.0]["venues"] == ["coinbase", "kraken", "binance"]
    assert levels[85_000.0]["depth_usd"] == pytest.approx(
        sum(near(v, 85_000) for v in ("coinbase", "kraken", "binance"))
    )
    assert levels[85_000.0]["depth_usd"] > 3 * 3.0 * 85_000  # the three walls of 3 BTC are inside the band
    assert levels[80_000.0]["venues"] == ["coinbase"]  # Kraken's 500 levels stop near 84,500, Binance's near 82,000
    assert any("kraken" in w and "80,000" in w for w in out["warnings"])


async def test_as_of_today_is_answered_live(make_client, fake: FakeUpstream) -> None:
    out = await call(make_client, {"as_of": "2025-11-26"})
    assert out["as_of"].startswith("2025-11-26T12:00")
    assert out["order_book"]["depth_1pct_usd"] is not None
    assert fake.count("coinbase", "/book") == 1


async def test_thin_book_null_with_reason_until_history_exists(make_client) -> None:
    out = await call(make_client, {})
    assert out["order_book"]["thin_book"] is None
    assert "windvane collect" in out["order_book"]["thin_book_reason"]


@pytest.mark.parametrize(("multiple", "thin"), [(2.5, True), (1.0, False)])
async def test_thin_book_against_30_day_median(make_client, settings: Settings, multiple: float, thin: bool) -> None:
    store = SqliteStore(settings.resolved_db_path())
    rows = []
    for venue in ("coinbase", "kraken"):
        key = SeriesKey("windvane", "book_depth_1pct_usd", "BTC", venue)
        for i in range(1, 31):
            ts = FROZEN_NOW - timedelta(days=i)
            rows.append(Observation(key, ts, multiple * expected_band(venue, 1.0), ts))
    await store.upsert(rows)
    await store.close()
    out = await call(make_client, {})
    book = out["order_book"]
    assert book["thin_book"] is thin
    assert book["depth_1pct_vs_median"] == pytest.approx(1 / multiple, rel=1e-6)


async def test_past_date_depth_only_if_collected(make_client, settings: Settings, fake: FakeUpstream) -> None:
    out = await call(make_client, {"as_of": "2025-11-20"})
    assert out["order_book"]["depth_1pct_usd"] is None
    assert out["order_book"]["round_levels"] == []
    assert any("only if `windvane collect` recorded it" in w for w in out["warnings"])
    assert fake.count("coinbase", "/book") == 0  # a live book is never passed off as a past one


async def test_collect_records_depth_then_past_query_reads_it(
    make_client, settings: Settings, fake: FakeUpstream
) -> None:
    from fetchers.http import Http
    from server.runtime import http_config
    from tools.deps import Deps
    from tools.leverage.tool import collect

    store = SqliteStore(settings.resolved_db_path())
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        deps = Deps(http=Http(client, http_config(settings)), store=store, clock=lambda: FROZEN_NOW)
        written = await collect(deps)
    await store.close()
    # Book: 4 mids + bands (coinbase 3, kraken 3, okx 1: its book stops inside ±1%, binance 3) + round levels
    # (coinbase 2, kraken 1, binance 1). Open interest: the last 24h of hourly rows (25 readings) from 3 venues.
    # OKX liquidations: every BTC order of the last 7 days, one row each (the fake serves no ETH swap).
    week_start_ms = (FROZEN_NOW - timedelta(days=7)).timestamp() * 1000
    okx_orders = sum(1 for o in okx_fake.liquidation_orders() if int(o["ts"]) >= week_start_ms)
    assert written == 4 + 10 + 4 + 3 * 25 + okx_orders
    out = await call(make_client, {"as_of": "2025-11-26T13:00:00Z"}, now=FROZEN_NOW + timedelta(hours=2))
    book = out["order_book"]
    assert book["depth_1pct_usd"] == pytest.approx(
        sum(expected_band(v, 1.0) for v in ("coinbase", "kraken", "binance"))
    )
    assert {lv["price"] for lv in book["round_levels"]} == {85_000.0, 80_000.0}
    assert fake.count("coinbase", "/book") == 2  # the collector's (BTC, ETH); the past query read the store


# -- faults and input ----------------------------------------------------------------------------------------


async def test_everything_down_gives_nulls_with_reasons_not_an_error(make_client, fake: FakeUpstream) -> None:
    for source in ("binance_futures", "binance", "okx", "bybit", "coinbase", "kraken", "coinglass"):
        fake.faults[source] = lambda request, path: httpx.Response(503, text="down")
    out = await call(make_client, {})
    assert out["liquidations"]["long_usd_24h"] is None
    assert out["open_interest"]["usd"] is None
    assert out["open_interest"]["venues"] == []
    assert out["funding"] == []
    assert out["funding_avg_8h_pct"] is None
    assert out["order_book"]["depth_1pct_usd"] is None
    assert any("okx" in w and "unavailable" in w for w in out["warnings"])
    assert any("no venue answered for open interest" in w for w in out["warnings"])


async def test_html_instead_of_json_degrades_one_signal(make_client, fake: FakeUpstream) -> None:
    swap = fake.handlers["okx"]

    def okx(request: httpx.Request, path: str) -> httpx.Response:
        if path == "/api/v5/public/liquidation-orders":
            return httpx.Response(200, text="<html>Just a moment...</html>")
        return swap(request, path)

    fake.handlers["okx"] = okx
    out = await call(make_client, {})
    assert out["liquidations"]["long_usd_24h"] is None
    assert any("bad_payload" in w and "HTML" in w for w in out["warnings"])
    assert out["open_interest"]["venues"] == ["binance_futures", "okx", "bybit"]


async def test_upstream_failure_after_success_serves_stale_with_warning(
    make_client, tmp_path: Path, fake: FakeUpstream
) -> None:
    settings = make_settings(tmp_path, ttl_scale=0.0)  # nothing stays fresh, so the second call goes upstream
    async with make_client(settings_=settings) as client:
        first = (await client.call_tool("get_leverage_state", {})).structured_content
        fake.faults["bybit"] = lambda request, path: httpx.Response(502, text="bad gateway")
        second = (await client.call_tool("get_leverage_state", {})).structured_content
    assert second["open_interest"]["usd"] == pytest.approx(first["open_interest"]["usd"])
    bybit = [s for s in second["sources"] if s["name"] == "bybit"]
    assert bybit
    assert all(s["stale"] for s in bybit)
    assert any("bybit is stale" in w for w in second["warnings"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"asset": "DOGE"}, "BTC"),
        ({"as_of": "last week"}, "not an ISO date"),
        ({"as_of": "2031-01-01"}, "in the future"),
    ],
)
async def test_bad_input_is_a_clear_tool_error(make_client, args: dict, needle: str) -> None:
    async with make_client() as client:
        result = await client.call_tool("get_leverage_state", args)
    assert result.is_error
    assert needle in result.content[0].text


async def test_listing_and_methodology(make_client) -> None:
    async with make_client() as client:
        tools = (await client.list_tools()).tools
        text = (await client.read_resource("windvane://methodology")).contents[0].text
    tool = next(t for t in tools if t.name == "get_leverage_state")
    assert tool.annotations.read_only_hint is True
    assert "rate_8h_pct" in str(tool.output_schema)
    assert "rate * 8 / interval_hours" in text


def test_fake_now_matches_frozen_clock() -> None:
    assert datetime(2025, 11, 26, 12, tzinfo=UTC) == FROZEN_NOW


# -- the history store behind past dates -----------------------------------------------------------------------


async def test_recorded_open_interest_answers_dates_beyond_venue_lookback(make_client, settings: Settings) -> None:
    """Binance serves 30 days of OI history; hourly rows recorded back then by `collect` stand in for it."""
    store = SqliteStore(settings.resolved_db_path())
    key = SeriesKey("binance_futures", "open_interest_usd", "BTC")
    start = datetime(2025, 10, 2, tzinfo=UTC)
    hours = [start + timedelta(hours=i) for i in range(9 * 24)]
    await store.upsert(
        [Observation(key, h, VENUE_SHARE["binance_futures"] * open_interest()[h.date()], h) for h in hours]
    )
    await store.close()
    out = await call(make_client, {"as_of": "2025-10-10"})
    oi = out["open_interest"]
    assert oi["venues"] == ["binance_futures", "okx", "bybit"]
    assert oi["partial"] is False
    series = open_interest()
    d = date(2025, 10, 10)
    assert oi["usd"] == pytest.approx(sum(VENUE_SHARE.values()) * series[d], rel=1e-9)
    assert oi["change_7d_pct"] == pytest.approx(100 * (series[d] / series[d - timedelta(days=7)] - 1), abs=1e-4)
    assert any("binance_futures open interest read from the history store" in w for w in out["warnings"])


async def test_backfill_records_hourly_oi_and_coinglass_days(tmp_path: Path, fake: FakeUpstream) -> None:
    from fetchers.http import Http
    from server.runtime import http_config
    from tools.deps import Deps
    from tools.leverage.tool import backfill

    settings = keyed(tmp_path)
    store = SqliteStore(settings.resolved_db_path())
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        deps = Deps(http=Http(client, http_config(settings)), store=store, clock=lambda: FROZEN_NOW)
        written = await backfill(deps, date(2025, 11, 1), date(2025, 11, 26))
    assert written > 0
    rows = await store.read(SeriesKey("binance_futures", "open_interest_usd", "BTC"))
    assert rows[0].ts == datetime(2025, 11, 1, tzinfo=UTC)
    assert rows[-1].ts == FROZEN_NOW
    assert len(rows) == 25 * 24 + 13  # every hour from 11-01 00:00 to 11-26 12:00, none twice
    sample = next(r for r in rows if r.ts == datetime(2025, 11, 21, 5, tzinfo=UTC))
    assert sample.value == pytest.approx(VENUE_SHARE["binance_futures"] * open_interest()[date(2025, 11, 21)])
    bybit = await store.read(SeriesKey("bybit", "open_interest_usd", "BTC"))
    assert len(bybit) == len(rows)
    longs = await store.read(SeriesKey("coinglass", "liquidations_long_usd", "BTC"))
    assert {r.ts.date(): r.value for r in longs}[date(2025, 11, 21)] == pytest.approx(868515897.4307395)
    await store.close()


# -- liquidation streams recorded by `windvane collect` -------------------------------------------------------


async def store_stream_minutes(settings: Settings, rows: list[tuple[str, str, datetime, float, float]]) -> None:
    """(venue, asset, minute, long USD, short USD) rows as `collect_streams` writes them."""
    from tools.leverage.streams import LONG_METRIC, SHORT_METRIC, series
    from tools.venues import BINANCE_STREAM as BINANCE
    from tools.venues import BYBIT_STREAM as BYBIT

    venues = {"binance": BINANCE, "bybit": BYBIT}
    store = SqliteStore(settings.resolved_db_path())
    obs = []
    for venue, asset, minute, long_usd, short_usd in rows:
        recorded = minute + timedelta(seconds=65)  # collect writes a minute a few seconds after it ends
        obs.append(Observation(series(venues[venue], LONG_METRIC, asset), minute, long_usd, recorded))
        obs.append(Observation(series(venues[venue], SHORT_METRIC, asset), minute, short_usd, recorded))
    await store.upsert(obs)
    await store.close()


async def test_stream_minutes_are_reported_apart_with_minutes_covered(make_client, settings: Settings) -> None:
    before = (await call(make_client, {}))["liquidations"]
    assert before["streams"] == []
    assert before["coverage"].startswith("OKX BTC-USDT-SWAP only")
    assert "streams" not in before["coverage"]
    now = FROZEN_NOW
    await store_stream_minutes(
        settings,
        [
            ("bybit", "BTC", now - timedelta(minutes=4), 1000.0, 10.0),
            ("bybit", "BTC", now - timedelta(minutes=3), 0.0, 0.0),
            ("bybit", "BTC", now - timedelta(minutes=2), 500.5, 20.0),
            ("bybit", "BTC", now - timedelta(days=3), 7000.0, 300.0),
            ("bybit", "ETH", now - timedelta(minutes=5), 99999.0, 99999.0),  # another asset
            ("binance", "BTC", now - timedelta(days=2), 40.0, 4.0),
            ("binance", "BTC", now - timedelta(days=8), 123456.0, 0.0),  # outside the week
        ],
    )
    out = await call(make_client, {})
    liq = out["liquidations"]
    # The OKX figures are untouched: the stream sums are never added in.
    for field in ("long_usd_24h", "short_usd_24h", "long_usd_7d", "short_usd_7d", "source"):
        assert liq[field] == before[field]
    streams = {s["venue"]: s for s in liq["streams"]}
    assert set(streams) == {"binance", "bybit"}
    bybit = streams["bybit"]
    assert (bybit["long_usd_24h"], bybit["short_usd_24h"], bybit["minutes_24h"]) == (1500.5, 30.0, 3)
    assert (bybit["long_usd_7d"], bybit["short_usd_7d"], bybit["minutes_7d"]) == (8500.5, 330.0, 4)
    assert (bybit["window_minutes_24h"], bybit["window_minutes_7d"]) == (1440, 10080)
    assert bybit["note"] is None
    binance = streams["binance"]
    assert (binance["minutes_24h"], binance["long_usd_24h"]) == (0, 0.0)
    assert (binance["minutes_7d"], binance["long_usd_7d"], binance["short_usd_7d"]) == (1, 40.0, 4.0)
    assert "at most 1 liquidation per symbol per second" in binance["note"]
    assert liq["coverage"].startswith("OKX BTC-USDT-SWAP only")
    assert "bybit allLiquidation 3 of 1440 min in 24h" in liq["coverage"]
    assert "binance forceOrder 0 of 1440 min in 24h (sampled, undercounts" in liq["coverage"]
    assert "not summed" in liq["coverage"]
    assert {"binance_futures_ws", "bybit_ws"} <= {s["name"] for s in out["sources"]}


async def test_streams_sit_beside_the_complete_coinglass_figure(make_client, tmp_path: Path) -> None:
    settings = keyed(tmp_path)
    day_end = datetime(2025, 11, 22, tzinfo=UTC)
    await store_stream_minutes(settings, [("bybit", "BTC", day_end - timedelta(minutes=10), 2.5e6, 1.0e5)])
    out = await call(make_client, {"as_of": "2025-11-21"}, settings_=settings)
    liq = out["liquidations"]
    assert liq["source"] == "coinglass"
    assert liq["long_usd_24h"] == pytest.approx(long_liquidations()[date(2025, 11, 21)], abs=0.01)
    assert liq["coverage"].startswith("all major venues")
    [bybit] = liq["streams"]
    assert (bybit["long_usd_24h"], bybit["minutes_24h"]) == (2.5e6, 1)


async def test_a_stream_minute_recorded_after_as_of_is_not_used(make_client, settings: Settings) -> None:
    """Point in time: a minute before as_of that collect wrote only later was not known at as_of."""
    minute = datetime(2025, 11, 20, 23, 59, tzinfo=UTC)  # recorded at 00:00:05 on the 21st
    await store_stream_minutes(settings, [("bybit", "BTC", minute, 10.0, 1.0)])
    assert (await call(make_client, {"as_of": "2025-11-20"}))["liquidations"]["streams"] == []
    [bybit] = (await call(make_client, {"as_of": "2025-11-21"}))["liquidations"]["streams"]
    assert bybit["minutes_7d"] == 1
