"""get_coinbase_premium through the SDK's in-memory client, on real shared candles served in the APIs' formats."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.fakes import FakeUpstream
from tests.fakes.data import DATA, binance_daily, coinbase_daily, day_ts

pytestmark = pytest.mark.anyio


def expected_gap(day: str) -> float:
    cb = coinbase_daily()[day_ts(day)][3]
    bn = float(binance_daily()[day_ts(day) * 1000][4])
    return cb - bn


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_real_data_matches_coinbase_minus_binance_day_by_day(make_client, mode: str) -> None:
    async with make_client(mode=mode) as client:
        result = await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24", "days": 60, "detail": "full"})
    assert not result.is_error, result.content
    out = result.structured_content
    history = out["history"]
    assert len(history) == 60
    assert history[-1]["ts"].startswith("2025-11-24")
    assert history[0]["ts"].startswith("2025-09-26")
    for bar in history:
        day = bar["ts"][:10]
        assert bar["premium_usd"] == pytest.approx(expected_gap(day), abs=1e-6)
        bn = float(binance_daily()[day_ts(day) * 1000][4])
        assert bar["premium_pct"] == pytest.approx(100 * expected_gap(day) / bn, abs=1e-6)
    # Coinbase closed below Binance on all 25 days from 2025-10-31 to 2025-11-24 (shared/data/README.md), and on
    # 2025-10-30 too (-14.70 USD); 2025-10-29 was positive, so the run is 26 days.
    assert out["streak"]["sign"] == "negative"
    assert out["streak"]["since"] == "2025-10-30"
    assert out["streak"]["days"] == 26
    assert out["streak"]["complete"] is True
    assert out["current"]["reference_venue"] == "binance"
    assert out["current"]["coinbase_price"] == pytest.approx(88266.20)
    assert out["current"]["premium_usd"] == pytest.approx(88266.20 - 88300.01, abs=1e-6)


async def test_independent_crosscheck_with_cryptoquant_gap(make_client) -> None:
    path = DATA / "05_coinbase_premium" / "cryptoquant_btc_coinbase_premium_gap_daily.csv"
    with path.open() as fh:
        reader = csv.reader(fh)
        header = next(reader)
        gaps = {row[0][:10]: float(row[1]) for row in reader if row[1]}
    async with make_client() as client:
        result = await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24", "days": 60, "detail": "full"})
    checked = 0
    for bar in result.structured_content["history"]:
        day = bar["ts"][:10]
        if day in gaps:
            assert bar["premium_usd"] == pytest.approx(gaps[day], abs=0.01), (day, header)
            checked += 1
    assert checked >= 55


async def test_averages_are_means_of_daily_premiums(make_client) -> None:
    async with make_client() as client:
        out = (
            await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24", "days": 30, "detail": "full"})
        ).structured_content
    daily = [b["premium_pct"] for b in out["history"]]
    assert out["avg_7d_pct"] == pytest.approx(sum(daily[-7:]) / 7, abs=1e-6)
    assert out["avg_30d_pct"] == pytest.approx(sum(daily[-30:]) / 30, abs=1e-6)


async def test_no_future_bar_leaks_into_as_of_answer(make_client) -> None:
    async with make_client(now=datetime(2026, 1, 1, tzinfo=UTC)) as client:
        out = (
            await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-21T12:00:00Z", "days": 5})
        ).structured_content
    assert out["history"][-1]["ts"].startswith("2025-11-20")  # the 11-21 bar had not closed at noon
    assert out["as_of"].startswith("2025-11-21T12:00")


async def test_binance_geo_blocked_falls_back_to_okx(make_client, fake: FakeUpstream) -> None:
    body = (DATA.parent / "payloads" / "binance" / "binance_451_restricted_location_body.json").read_text()
    fake.faults["binance"] = lambda request, path: httpx.Response(451, text=body)
    async with make_client() as client:
        out = (await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24", "days": 10})).structured_content
    assert out["current"]["reference_venue"] == "okx"
    assert any("binance" in w and "geo_blocked" in w for w in out["warnings"])
    assert out["history"][-1]["premium_usd"] == pytest.approx(expected_gap("2025-11-24"), abs=1e-6)
    assert fake.count("binance") == 1  # 451 is not retried


async def test_all_reference_venues_down_gives_nulls_with_reasons(make_client, fake: FakeUpstream) -> None:
    for venue in ("binance", "okx", "kraken", "bitstamp"):
        fake.faults[venue] = lambda request, path: httpx.Response(503, text="down")
    async with make_client() as client:
        result = await client.call_tool("get_coinbase_premium", {"as_of": "2025-11-24"})
    assert not result.is_error
    out = result.structured_content
    assert out["current"]["premium_pct"] is None
    assert out["history"] == []
    assert out["avg_7d_pct"] is None
    assert out["streak"]["sign"] is None
    assert any("okx" in w for w in out["warnings"])


async def test_now_mode_uses_live_tickers(make_client) -> None:
    async with make_client() as client:
        out = (await client.call_tool("get_coinbase_premium", {})).structured_content
    cur = out["current"]
    assert cur["coinbase_price"] == pytest.approx(63118.97)  # recorded Coinbase ticker payload
    assert cur["reference_price"] == pytest.approx(
        float(
            __import__("json").loads(
                (
                    DATA.parent / "payloads" / "binance" / "binance_api_v3_ticker_price_BTCUSDT_2026-07-04.json"
                ).read_text()
            )["price"]
        )
    )
    assert {s["name"] for s in out["sources"]} >= {"coinbase", "binance"}
    for source in out["sources"]:
        assert "?" not in source["endpoint"]
        assert source["stale"] is False


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"asset": "DOGE"}, "BTC"),
        ({"days": 0}, "greater than or equal to 1"),
        ({"days": 400}, "less than or equal to 365"),
        ({"as_of": "yesterday"}, "not an ISO date"),
        ({"as_of": "2031-01-01"}, "in the future"),
        ({"interval": "1h", "days": 200}, "too long for interval"),
        ({"interval": "4h"}, "'1d' or '1h'"),
    ],
)
async def test_bad_input_is_a_clear_tool_error(make_client, args: dict, needle: str) -> None:
    async with make_client() as client:
        result = await client.call_tool("get_coinbase_premium", args)
    assert result.is_error
    text = result.content[0].text
    assert needle in text
    assert "Traceback" not in text


async def test_lowercase_asset_is_accepted(make_client) -> None:
    async with make_client() as client:
        result = await client.call_tool("get_coinbase_premium", {"asset": "btc", "as_of": "2025-11-24", "days": 3})
    assert not result.is_error
    assert result.structured_content["asset"] == "BTC"


async def test_tool_listing_has_schemas_and_annotations(make_client) -> None:
    async with make_client() as client:
        tools = (await client.list_tools()).tools
    tool = next(t for t in tools if t.name == "get_coinbase_premium")
    assert tool.annotations.read_only_hint is True
    assert tool.annotations.open_world_hint is True
    assert "premium_pct" in str(tool.output_schema)
    assert tool.input_schema["properties"]["asset"]["enum"] == ["BTC", "ETH"]


async def test_methodology_resource_documents_formula(make_client) -> None:
    async with make_client() as client:
        res = await client.read_resource("windvane://methodology")
    assert "premium_pct = 100 * (coinbase" in res.contents[0].text


def test_window_is_sixty_days() -> None:
    assert datetime(2025, 11, 24) - timedelta(days=59) == datetime(2025, 9, 26)


async def test_now_mode_current_uses_the_history_venue(make_client, fake: FakeUpstream) -> None:
    # Live tickers are fetched alongside the candles; when the candles had to fall back to another venue, the
    # current premium is re-priced on that venue so current and history compare like with like.
    normal = fake.handlers["binance"]

    def klines_blocked(request: httpx.Request, path: str) -> httpx.Response:
        if path == "/api/v3/klines":
            return httpx.Response(451, json={"code": 0, "msg": "Service unavailable from a restricted location"})
        return normal(request, path)

    fake.faults["binance"] = klines_blocked
    async with make_client() as client:
        out = (await client.call_tool("get_coinbase_premium", {})).structured_content
    assert out["history"][-1]["reference_close"] > 0
    assert out["current"]["reference_venue"] == "okx"
    assert fake.count("okx", "/api/v5/market/ticker") == 1


async def test_hourly_history_pages_coinbase_and_aligns_bars(make_client, fake: FakeUpstream) -> None:
    """15 days of 1h bars = 360 bars: Coinbase must be paged (300 max per call), Binance in one call."""
    from tests.fakes import exchanges

    def coinbase_hourly(request: httpx.Request, path: str) -> httpx.Response:
        params = request.url.params
        if path == "/products/BTC-USD/candles" and params["granularity"] == "3600":
            start = int(datetime.fromisoformat(params["start"].replace("Z", "+00:00")).timestamp())
            end = int(datetime.fromisoformat(params["end"].replace("Z", "+00:00")).timestamp())
            if (end - start) // 3600 + 1 > 300:
                return httpx.Response(400, json={"message": "granularity too small for the requested time range"})
            rows = [[t, 1.0, 2.0, 1.5, 100000.0 + (t // 3600) % 7, 3.0] for t in range(end, start - 1, -3600)]
            return httpx.Response(200, json=rows)
        return exchanges.coinbase(request, path)

    def binance_hourly(request: httpx.Request, path: str) -> httpx.Response:
        params = request.url.params
        if path == "/api/v3/klines" and params["interval"] == "1h":
            start, end = int(params["startTime"]), int(params["endTime"])
            rows = [
                [t, "1", "2", "1", str(100010.0 + (t // 3600000) % 7), "3", t + 3599999, "0", 1, "0", "0", "0"]
                for t in range(start - start % 3600000, end + 1, 3600000)
                if t >= start
            ]
            return httpx.Response(200, json=rows[: int(params["limit"])])
        return exchanges.binance(request, path)

    fake.handlers["coinbase"] = coinbase_hourly
    fake.handlers["binance"] = binance_hourly
    async with make_client() as client:
        result = await client.call_tool(
            "get_coinbase_premium", {"as_of": "2025-11-24", "days": 15, "interval": "1h", "detail": "full"}
        )
    out = result.structured_content
    assert len(out["history"]) == 360
    assert out["history"][-1]["ts"].startswith("2025-11-24T23:00")
    assert all(bar["premium_usd"] == pytest.approx(-10.0) for bar in out["history"])
    hourly_pages = [
        r for r in fake.requests if r.url.path.endswith("/BTC-USD/candles") and r.url.params["granularity"] == "3600"
    ]
    assert len(hourly_pages) == 2
    assert out["streak"]["sign"] == "negative"  # the streak always comes from daily bars
