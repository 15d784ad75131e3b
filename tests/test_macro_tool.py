"""get_macro_backdrop end to end: real index and candle history served in FRED's and Coinbase's formats, exact-format
prediction-market payloads, the history store for now-only sources, and faults that must degrade one part only."""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from fetchers.http import Http
from server.runtime import http_config
from server.settings import Settings
from store.base import Observation, SeriesKey
from store.sqlite import SqliteStore
from tests.conftest import FROZEN_NOW, make_settings
from tests.fakes import FakeUpstream
from tests.fakes import fred as fake_fred
from tests.fakes import kalshi as fake_kalshi
from tests.fakes import polymarket as fake_polymarket
from tests.fakes.coingecko import GLOBAL, PAPRIKA_GLOBAL
from tests.fakes.data import DATA
from tools.deps import Deps
from tools.macro.tool import collect, compute_macro
from tools.point_in_time import PointInTime

pytestmark = pytest.mark.anyio

TOOL = "get_macro_backdrop"


async def call(make_client: Callable[..., Any], args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    async with make_client(**kwargs) as client:
        result = await client.call_tool(TOOL, args)
    assert not result.is_error, result.content
    out: dict[str, Any] = result.structured_content
    return out


def down(status: int = 503) -> Callable[[httpx.Request, str], httpx.Response]:
    return lambda request, path: httpx.Response(status, text="upstream down")


@asynccontextmanager
async def direct_deps(fake: FakeUpstream, settings: Settings, now: datetime = FROZEN_NOW) -> AsyncIterator[Deps]:
    async def no_sleep(_: float) -> None:
        return None

    async with httpx.AsyncClient(transport=fake.transport()) as client:
        store = SqliteStore(settings.db_path or Path(":memory:"))
        try:
            yield Deps(http=Http(client, http_config(settings), sleep=no_sleep), store=store, clock=lambda: now)
        finally:
            await store.close()


async def seed(settings: Settings, rows: list[tuple[SeriesKey, datetime, float]]) -> None:
    store = SqliteStore(settings.db_path or Path(":memory:"))
    await store.upsert([Observation(key, ts, value, ts) for key, ts, value in rows])
    await store.close()


def fred_closes(series: str) -> dict[date, float]:
    return {date.fromisoformat(d): float(v) for d, v in fake_fred.rows(series) if v}


def coinbase_closes() -> dict[date, float]:
    path = DATA / "02_coinbase_btcusd_candles" / "coinbase_btcusd_1d.csv"
    with path.open() as fh:
        return {datetime.fromisoformat(r["timestamp"]).date(): float(r["close"]) for r in csv.DictReader(fh)}


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- real data: indices, correlation, beta, drawdown -----------------------------------------------------------------


async def test_index_closes_and_changes_equal_the_fred_files(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-21"})
    by = {i["symbol"]: i for i in out["indices"]}
    assert by["SP500"]["close"] == 6602.99
    assert by["SP500"]["date"] == "2025-11-21"
    assert by["SP500"]["change_pct"] == pytest.approx(100 * (6602.99 / 6538.76 - 1), abs=1e-4)
    assert by["NASDAQCOM"]["close"] == 22273.08
    assert by["NASDAQCOM"]["previous_close"] == 22078.05
    assert by["NASDAQCOM"]["change_pct"] == pytest.approx(100 * (22273.08 / 22078.05 - 1), abs=1e-4)
    assert by["DJIA"]["close"] == 46245.41
    assert by["DJIA"]["change_pct"] == pytest.approx(100 * (46245.41 / 45752.26 - 1), abs=1e-4)
    assert {i["source"] for i in out["indices"]} == {"fred"}
    assert {i["name"] for i in out["indices"]} == {"S&P 500", "Nasdaq Composite", "Dow Jones Industrial Average"}


async def test_holiday_is_skipped_for_the_change(make_client) -> None:
    # 2025-11-27 (Thanksgiving) is an empty FRED cell: 11-28's change is against 11-26.
    out = await call(make_client, {"as_of": "2025-11-28"}, now=datetime(2025, 12, 1, tzinfo=UTC))
    sp = next(i for i in out["indices"] if i["symbol"] == "SP500")
    assert sp["date"] == "2025-11-28"
    assert sp["previous_close"] == 6812.61
    assert sp["change_pct"] == pytest.approx(100 * (6849.09 / 6812.61 - 1), abs=1e-4)


async def test_a_close_is_not_used_before_the_market_closed(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-21T15:00:00Z"})
    sp = next(i for i in out["indices"] if i["symbol"] == "SP500")
    assert sp["date"] == "2025-11-20"
    assert sp["close"] == 6538.76


def independent_returns(as_of: date) -> tuple[np.ndarray, np.ndarray, date]:
    """Aligned daily log returns computed here from the raw files, without windvane's code."""
    nasdaq = fred_closes("NASDAQCOM")
    btc = coinbase_closes()
    days = sorted(d for d in nasdaq if d <= as_of and d in btc)
    b = np.log(np.array([btc[d] for d in days]))
    n = np.log(np.array([nasdaq[d] for d in days]))
    return np.diff(b), np.diff(n), days[-1]


async def test_correlation_and_beta_equal_an_independent_numpy_computation(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-24"})
    got = out["btc_nasdaq"]
    b, n, last = independent_returns(date(2025, 11, 24))
    assert got["through"] == last.isoformat() == "2025-11-24"
    assert got["correlation_30d"] == pytest.approx(np.corrcoef(b[-30:], n[-30:])[0, 1], abs=1e-6)
    assert got["correlation_90d"] == pytest.approx(np.corrcoef(b[-90:], n[-90:])[0, 1], abs=1e-6)
    beta = np.cov(b[-90:], n[-90:], ddof=1)[0, 1] / np.var(n[-90:], ddof=1)
    assert got["beta_90d"] == pytest.approx(beta, abs=1e-6)
    assert got["returns_available"] >= 90


async def test_btc_drawdown_on_2025_11_24_from_the_october_high(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-24"})
    assert out["btc_drawdown"] == {
        "close_usd": 88266.20,
        "close_date": "2025-11-24",
        "high_usd": 124720.09,
        "high_date": "2025-10-06",
    }
    assert out["btc_drawdown_from_high_pct"] == pytest.approx(100 * (88266.20 / 124720.09 - 1), abs=1e-4)
    assert out["btc_drawdown_from_high_pct"] == pytest.approx(-29.23, abs=0.01)


# -- Fed odds ---------------------------------------------------------------------------------------------------------


async def test_fed_cut_odds_from_kalshi_with_previous_day_change(make_client, settings: Settings) -> None:
    out = await call(make_client, {})
    fed = out["fed"]
    assert fed["next_meeting"] == "2025-12-10"
    assert fed["meeting_start"] == "2025-12-09"
    assert fed["source"] == "kalshi"
    assert fed["market"] == "KXFEDDECISION-25DEC"
    # C25 mid (0.68+0.70)/2 + C26 mid (0.00+0.02)/2; a day earlier 0.43 + 0.01.
    assert fed["cut_probability"] == pytest.approx(0.70)
    assert fed["cut_probability_change_1d"] == pytest.approx(0.26)
    assert fed["change_basis"] == "venue_previous_day"
    assert fed["hold_probability"] == pytest.approx(0.31)
    assert [o["bp"] for o in fed["outcomes"]] == [-26, -25, 0, 25, 26]
    assert "federalreserve.gov" in fed["schedule_source"]
    store = SqliteStore(settings.db_path or Path(":memory:"))
    rows = await store.read(SeriesKey("kalshi", "fed_cut_probability", "FOMC", "2025-12-10"))
    await store.close()
    assert [r.value for r in rows] == [pytest.approx(0.70)]


async def test_wide_spread_uses_last_price(make_client, monkeypatch: pytest.MonkeyPatch) -> None:
    markets = [m for m in fake_kalshi.default_markets() if m["event_ticker"].endswith("26JAN")]
    monkeypatch.setattr(fake_kalshi, "MARKETS", markets)
    # After the December meeting the next one is January 2026.
    out = await call(make_client, {}, now=datetime(2025, 12, 15, 12, tzinfo=UTC))
    fed = out["fed"]
    assert fed["next_meeting"] == "2026-01-28"
    c25 = next(o for o in fed["outcomes"] if o["bp"] == -25)
    assert (c25["probability"], c25["basis"]) == (pytest.approx(0.41), "last")
    assert fed["cut_probability"] == pytest.approx(0.41 + 0.02)


async def test_polymarket_is_the_fallback_when_kalshi_fails(make_client, fake: FakeUpstream) -> None:
    fake.faults["kalshi"] = down(403)
    out = await call(make_client, {})
    fed = out["fed"]
    assert fed["source"] == "polymarket"
    assert fed["market"] == "fed-decision-in-december"
    assert fed["cut_probability"] == pytest.approx(0.011 + 0.805)
    assert fed["cut_probability_change_1d"] == pytest.approx(0.35)
    assert any("kalshi geo_blocked" in w for w in out["warnings"])


async def test_no_fed_market_nulls_only_the_odds(make_client, fake: FakeUpstream) -> None:
    fake.faults["kalshi"] = down()
    fake.faults["polymarket"] = down()
    out = await call(make_client, {})
    assert out["fed"]["cut_probability"] is None
    assert out["fed"]["next_meeting"] == "2025-12-10"  # the schedule still answers
    assert any("Fed cut probability unavailable" in w for w in out["warnings"])
    assert out["indices"][0]["close"] is not None
    assert out["btc_drawdown_from_high_pct"] is not None


async def test_past_as_of_reads_stored_odds_never_todays(make_client, fake: FakeUpstream, settings: Settings) -> None:
    key = SeriesKey("kalshi", "fed_cut_probability", "FOMC", "2025-12-10")
    await seed(
        settings,
        [
            (key, dt("2025-11-23T12:00:00"), 0.40),
            (key, dt("2025-11-24T12:00:00"), 0.71),
            (key, dt("2025-11-25T12:00:00"), 0.80),  # after as_of: must not be used
        ],
    )
    out = await call(make_client, {"as_of": "2025-11-24"})
    fed = out["fed"]
    assert fed["cut_probability"] == pytest.approx(0.71)
    assert fed["cut_probability_change_1d"] == pytest.approx(0.31)
    assert fed["change_basis"] == "stored_snapshot"
    assert fake.count("kalshi") == 0
    assert fake.count("polymarket") == 0


async def test_past_as_of_odds_from_polymarket_price_history(make_client, fake: FakeUpstream) -> None:
    out = await call(make_client, {"as_of": "2025-11-20T12:00:00Z"})
    fed = out["fed"]
    assert fed["source"] == "polymarket"
    assert fed["market"] == "fed-decision-in-december"
    # The 11-20 00:00 daily points of the two cut brackets; the day before for the change.
    now = fake_polymarket.cut25_path(date(2025, 11, 20)) + 0.01
    before = fake_polymarket.cut25_path(date(2025, 11, 19)) + 0.01
    assert fed["cut_probability"] == pytest.approx(now)
    assert fed["cut_probability_change_1d"] == pytest.approx(now - before)
    assert fed["change_basis"] == "venue_price_history"
    assert fed["observed_at"].startswith("2025-11-20T00:00")
    assert fake.count("kalshi") == 0


async def test_past_as_of_without_snapshots_is_unavailable(make_client, fake: FakeUpstream) -> None:
    fake.faults["polymarket_clob"] = down()
    out = await call(make_client, {"as_of": "2025-11-24"})
    assert out["fed"]["cut_probability"] is None
    assert out["crypto_market_cap"]["usd"] is None
    assert out["halving"]["next_eta"] is None
    assert fake.count("kalshi") == fake.count("coingecko") == fake.count("mempool") == 0
    text = " ".join(out["warnings"])
    assert "Kalshi reports only current odds" in text
    assert "report only the current value" in text


async def test_past_the_known_schedule_next_meeting_is_not_guessed(make_client) -> None:
    out = await call(make_client, {}, now=datetime(2027, 1, 5, 12, tzinfo=UTC))
    assert out["fed"]["next_meeting"] is None
    assert any("covers 2024-2026 only" in w for w in out["warnings"])


async def test_as_of_today_is_now_and_uses_live_odds(make_client, fake: FakeUpstream) -> None:
    out = await call(make_client, {"as_of": "2025-11-26"})
    assert out["fed"]["source"] == "kalshi"
    assert out["crypto_market_cap"]["source"] == "coingecko"
    assert out["as_of"].startswith("2025-11-26T12:00")


async def test_before_the_known_schedule_next_meeting_is_not_guessed(make_client) -> None:
    out = await call(make_client, {"as_of": "2023-11-24"})
    assert out["fed"]["next_meeting"] is None
    assert any("next FOMC meeting unknown for 2023-11-24" in w for w in out["warnings"])


async def test_an_index_that_stopped_updating_is_flagged(make_client) -> None:
    # The served FRED files end on 2026-04-14.
    out = await call(make_client, {"as_of": "2026-05-01"}, now=datetime(2026, 5, 2, tzinfo=UTC))
    sp = next(i for i in out["indices"] if i["symbol"] == "SP500")
    assert sp["date"] == "2026-04-14"
    assert any("S&P 500: the latest close available is from 2026-04-14 (17 days" in w for w in out["warnings"])


# -- market cap, halving, Fear & Greed ---------------------------------------------------------------------------------


def derived_total(day: str) -> float:
    path = DATA / "08_crypto_market_cap" / "derived_total_crypto_market_cap_daily.csv"
    with path.open() as fh:
        return next(float(r["total_from_btc_dominance_usd"]) for r in csv.DictReader(fh) if r["date"] == day)


async def test_market_cap_now_is_snapshotted_and_six_week_change_needs_history(make_client, settings: Settings) -> None:
    usd = json.loads(GLOBAL.read_text())["data"]["total_market_cap"]["usd"]
    out = await call(make_client, {})
    cap = out["crypto_market_cap"]
    assert cap["usd"] == usd
    assert cap["source"] == "coingecko"
    assert cap["change_6w_pct"] is None
    assert any("change_6w_pct unavailable" in w for w in out["warnings"])

    earlier = derived_total("2025-10-15")
    await seed(
        settings, [(SeriesKey("coingecko", "total_market_cap_usd", "ALL"), FROZEN_NOW - timedelta(days=42), earlier)]
    )
    out = await call(make_client, {})
    cap = out["crypto_market_cap"]
    assert cap["change_6w_pct"] == pytest.approx(100 * (usd / earlier - 1), abs=1e-4)
    assert cap["compared_to_usd"] == earlier
    store = SqliteStore(settings.db_path or Path(":memory:"))
    rows = await store.read(SeriesKey("coingecko", "total_market_cap_usd", "ALL"))
    await store.close()
    assert rows[0].ts == FROZEN_NOW - timedelta(days=42)
    assert rows[0].value == earlier
    assert [r.value for r in rows[1:]] == [usd] * (len(rows) - 1)  # every live call recorded its snapshot
    assert all(abs(r.ts - FROZEN_NOW) < timedelta(seconds=5) for r in rows[1:])


async def test_market_cap_as_of_from_stored_real_totals(make_client, settings: Settings) -> None:
    key = SeriesKey("coingecko", "total_market_cap_usd", "ALL")
    now_total, then_total = derived_total("2025-11-24"), derived_total("2025-10-13")
    await seed(settings, [(key, dt("2025-11-24T10:00:00"), now_total), (key, dt("2025-10-13T10:00:00"), then_total)])
    out = await call(make_client, {"as_of": "2025-11-24"})
    cap = out["crypto_market_cap"]
    assert cap["usd"] == now_total
    assert cap["source"] == "store"
    assert cap["change_6w_pct"] == pytest.approx(100 * (now_total / then_total - 1), abs=1e-4)
    assert cap["change_6w_pct"] == pytest.approx(-22.86, abs=0.01)
    cited = {s["endpoint"]: s for s in out["sources"]}
    assert "windvane-store:coingecko/total_market_cap_usd/ALL" in cited


async def test_coinpaprika_fallback_for_market_cap(make_client, fake: FakeUpstream) -> None:
    fake.faults["coingecko"] = down(429)
    out = await call(make_client, {})
    assert out["crypto_market_cap"]["usd"] == PAPRIKA_GLOBAL["market_cap_usd"]
    assert out["crypto_market_cap"]["source"] == "coinpaprika"
    assert any("coingecko rate_limited" in w for w in out["warnings"])


async def test_halving_now_from_the_tip(make_client) -> None:
    out = await call(make_client, {})
    halving = out["halving"]
    assert (halving["last_height"], halving["last_date"], halving["next_height"]) == (840000, "2024-04-20", 1050000)
    assert halving["months_since"] == pytest.approx(
        (date(2025, 11, 26) - date(2024, 4, 20)).days / (365.25 / 12), abs=0.01
    )
    assert halving["tip_height"] == 925000
    assert halving["blocks_remaining"] == 125000
    assert halving["next_eta"] == (FROZEN_NOW + timedelta(seconds=125000 * 600)).date().isoformat()


async def test_blockstream_fallback_for_the_tip(make_client, fake: FakeUpstream) -> None:
    fake.faults["mempool"] = lambda request, path: httpx.Response(200, text="<html>busy</html>")
    out = await call(make_client, {})
    assert out["halving"]["tip_source"] == "blockstream"
    assert any("mempool bad_payload" in w for w in out["warnings"])


async def test_past_halving_uses_the_date_and_a_stored_tip(make_client, settings: Settings) -> None:
    await seed(settings, [(SeriesKey("mempool", "tip_height", "BTC"), dt("2025-11-24T08:00:00"), 924700.0)])
    out = await call(make_client, {"as_of": "2025-11-24"})
    halving = out["halving"]
    assert halving["months_since"] == pytest.approx(583 / (365.25 / 12), abs=0.01)
    assert halving["tip_source"] == "store"
    assert halving["next_eta"] == (dt("2025-11-24T08:00:00") + timedelta(seconds=125300 * 600)).date().isoformat()


async def test_before_the_first_halving_there_is_no_last_one(make_client) -> None:
    out = await call(make_client, {"as_of": "2011-06-01"})
    halving = out["halving"]
    assert (halving["last_date"], halving["months_since"], halving["next_height"]) == (None, None, 210000)
    assert any("no halving happened before 2011-06-01" in w for w in out["warnings"])


async def test_fear_and_greed_from_the_real_history(make_client) -> None:
    out = await call(make_client, {"as_of": "2025-11-21"})
    assert out["fear_greed"] == {
        "value": 14,
        "classification": "Extreme Fear",
        "date": "2025-11-21",
        "change_7d": 14 - 16,
    }
    old = await call(make_client, {"as_of": "2025-10-06"})  # older than 30 days: read from the full history
    assert old["fear_greed"]["value"] == 71
    assert old["fear_greed"]["classification"] == "Greed"
    now = await call(make_client, {})
    assert now["fear_greed"]["value"] == 15
    assert now["fear_greed"]["change_7d"] == 15 - 15  # 2025-11-19 was also 15


# -- faults -----------------------------------------------------------------------------------------------------------


async def test_fred_down_falls_back_to_yahoo_with_the_same_closes(make_client, fake: FakeUpstream) -> None:
    fake.faults["fred"] = down()
    out = await call(make_client, {"as_of": "2025-11-21"})
    by = {i["symbol"]: i for i in out["indices"]}
    assert by["SP500"]["source"] == "yahoo"
    assert by["SP500"]["close"] == 6602.99
    assert by["NASDAQCOM"]["change_pct"] == pytest.approx(100 * (22273.08 / 22078.05 - 1), abs=1e-4)
    assert any("fred unavailable" in w for w in out["warnings"])
    # One call and two retries for each of the first two series; two failed requests open FRED's circuit, so the
    # third series goes straight to Yahoo.
    assert fake.count("fred") == 2 * 3


async def test_fred_html_challenge_is_bad_payload_not_retried(make_client, fake: FakeUpstream) -> None:
    fake.faults["fred"] = lambda request, path: httpx.Response(200, text="<!DOCTYPE html><title>Just a moment</title>")
    out = await call(make_client, {"as_of": "2025-11-21"})
    assert fake.count("fred") == 3
    assert any("fred bad_payload" in w for w in out["warnings"])
    assert out["indices"][0]["source"] == "yahoo"


async def test_fred_old_csv_format_gives_the_same_answer(make_client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(fake_fred.OLD_FORMAT, "on", True)
    out = await call(make_client, {"as_of": "2025-11-28"}, now=datetime(2025, 12, 1, tzinfo=UTC))
    sp = next(i for i in out["indices"] if i["symbol"] == "SP500")
    assert (sp["close"], sp["previous_close"], sp["source"]) == (6849.09, 6812.61, "fred")


async def test_last_good_value_is_served_stale_when_the_upstream_fails(
    make_client, fake: FakeUpstream, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, ttl_scale=0.0)  # nothing stays fresh: the second call must go upstream
    async with make_client(settings_=settings) as client:
        first = (await client.call_tool(TOOL, {})).structured_content
        fake.faults["coingecko"] = down()
        fake.faults["kalshi"] = down()
        second = (await client.call_tool(TOOL, {})).structured_content
    assert second["crypto_market_cap"]["usd"] == first["crypto_market_cap"]["usd"]
    assert second["fed"]["cut_probability"] == first["fed"]["cut_probability"]
    stale = {s["name"] for s in second["sources"] if s["stale"]}
    assert {"coingecko", "kalshi"} <= stale
    assert any(w.startswith("coingecko is stale") for w in second["warnings"])


async def test_every_upstream_down_gives_nulls_with_reasons_not_an_error(make_client, fake: FakeUpstream) -> None:
    for source in list(fake.handlers):
        fake.faults[source] = down()
    out = await call(make_client, {})
    assert all(i["close"] is None for i in out["indices"])
    assert out["fed"]["cut_probability"] is None
    assert out["btc_nasdaq"]["correlation_30d"] is None
    assert out["btc_drawdown_from_high_pct"] is None
    assert out["crypto_market_cap"]["usd"] is None
    assert out["halving"]["next_eta"] is None
    assert out["halving"]["last_date"] == "2024-04-20"  # known from the date alone
    assert out["fear_greed"]["value"] is None
    text = " ".join(out["warnings"])
    for source in ("fred", "yahoo", "coinbase", "kalshi", "polymarket", "coingecko", "coinpaprika", "mempool"):
        assert source in text


async def test_timeout_on_fear_and_greed_degrades_that_part_only(make_client, fake: FakeUpstream) -> None:
    def timeout(request: httpx.Request, path: str) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    fake.faults["alternative_me"] = timeout
    out = await call(make_client, {"as_of": "2025-11-24"})
    assert out["fear_greed"]["value"] is None
    assert any("alternative_me unavailable (timed out" in w for w in out["warnings"])
    assert out["btc_drawdown_from_high_pct"] is not None


@pytest.mark.parametrize(
    ("args", "needle"),
    [({"as_of": "yesterday"}, "not an ISO date"), ({"as_of": "2031-01-01"}, "in the future")],
)
async def test_bad_input_is_a_clear_tool_error(make_client, args: dict[str, Any], needle: str) -> None:
    async with make_client() as client:
        result = await client.call_tool(TOOL, args)
    assert result.is_error
    assert needle in result.content[0].text


async def test_listing_and_methodology(make_client) -> None:
    async with make_client() as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == TOOL)
        text = (await client.read_resource("windvane://methodology")).contents[0].text
    assert tool.annotations.read_only_hint is True
    assert tool.output_schema["properties"]["fed"]["type"] == "object"  # nested fields: see test_schema_compact
    assert "btc_drawdown_from_high_pct" in str(tool.output_schema)
    assert "beta_90d = cov/var(Nasdaq)" in text


# -- the FRED key: used, but never exposed ----------------------------------------------------------------------------


async def test_fred_api_key_is_used_and_never_exposed(
    fake: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # configure_logging (run by CLI tests) quiets httpx; this test needs its request lines to check the redaction.
    caplog.set_level(logging.INFO, logger="httpx")
    key = fake_fred.API_KEY
    settings = make_settings(tmp_path, api_keys={"fred": key})
    async with direct_deps(fake, settings) as deps:
        result = await compute_macro(deps, PointInTime.parse("2025-11-21", deps.clock()))
        cache_keys = " ".join(str(k) for k in deps.http.cache._fresh)  # type: ignore[attr-defined]
    by = {i.symbol: i for i in result.indices}
    assert by["SP500"].source == "fred_api"
    assert by["SP500"].close == 6602.99
    assert by["NASDAQCOM"].change_pct == pytest.approx(100 * (22273.08 / 22078.05 - 1), abs=1e-4)
    api_requests = [r for r in fake.requests if r.url.path.startswith("/fred_api/")]
    assert len(api_requests) == 3
    assert all(r.url.params["api_key"] == key for r in api_requests)  # sent, as FRED requires
    assert key not in result.model_dump_json()
    assert "fred_api" in cache_keys
    assert key not in cache_keys
    assert "api_key=[REDACTED]" in caplog.text  # httpx logged the request, masked
    assert key not in caplog.text


async def test_fred_api_key_rejected_falls_back_to_csv_without_leaking(fake: FakeUpstream, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_keys={"fred": "wrong-key-0000"})
    async with direct_deps(fake, settings) as deps:
        result = await compute_macro(deps, PointInTime.parse("2025-11-21", deps.clock()))
    assert {i.source for i in result.indices} == {"fred"}
    assert any("fred_api" in w for w in result.warnings)
    assert "wrong-key-0000" not in result.model_dump_json()


# -- collect -----------------------------------------------------------------------------------------------------------


async def test_collect_records_the_now_only_sources(fake: FakeUpstream, settings: Settings) -> None:
    async with direct_deps(fake, settings) as deps:
        written = await collect(deps)
        assert deps.store is not None
        series = {s.key.label(): s.rows for s in await deps.store.summary()}
    assert written == 4
    assert series == {
        "alternative_me/fear_greed/ALL": 1,
        "coingecko/total_market_cap_usd/ALL": 1,
        "kalshi/fed_cut_probability/FOMC/2025-12-10": 1,
        "mempool/tip_height/BTC": 1,
    }


def test_independent_series_is_long_enough() -> None:
    b, n, _ = independent_returns(date(2025, 11, 24))
    assert len(b) == len(n) > 90
    assert all(math.isfinite(x) for x in b)


def test_log_redaction_covers_url_encoded_secrets(caplog: pytest.LogCaptureFixture) -> None:
    from fetchers.http import redact_in_logs

    secret = "k3y/with+odd=chars"
    redact_in_logs([secret])
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            "HTTP Request: GET %s", httpx.URL("http://x.test/a", params={"api_key": secret})
        )
    assert "k3y" not in caplog.text
    assert "[REDACTED]" in caplog.text
