"""The backtest: engine statistics on a hand-built history, no look-ahead, and the shared-CSV provider on real data."""

from __future__ import annotations

import csv
import dataclasses
from datetime import date, timedelta
from statistics import fmean, median

import pytest

from server.backtest.report import forward_return_pct, render_markdown, run_backtest
from server.backtest.shared_data import Series, SharedDataProvider
from tests.fakes.data import DATA
from tools.assess.scoring import THRESHOLDS_FIXED, Observed, ScoringInputs

pytestmark = pytest.mark.anyio


class HandBuilt:
    """Bearish inputs on even days, bullish on odd days; closes rise 1% a day."""

    name = "hand-built"

    async def inputs_at(self, day: date) -> ScoringInputs:
        sign = -1.0 if day.toordinal() % 2 == 0 else 1.0
        obs = lambda v: Observed(v, "hand", None)  # noqa: E731
        return ScoringInputs(
            premium_pct=obs(sign * 0.1),
            etf_5d_avg_usd=obs(sign * 300e6),
            price_vs_ma50_pct=obs(sign * 5.0),
            price_vs_ma200_pct=obs(sign * 5.0),
            close_usd=obs(100.0),
            prior_swing_high_usd=obs(110.0 if sign < 0 else 90.0),
        )

    async def closes(self, start: date, end: date) -> dict[date, float]:
        return {start + timedelta(days=i): 100 * 1.01**i for i in range((end - start).days + 1)}


async def test_engine_groups_returns_and_hit_rates() -> None:
    # 20 days before the thresholds were fixed, 10 from then on
    start = THRESHOLDS_FIXED - timedelta(days=20)
    end = start + timedelta(days=29)
    report = await run_backtest(HandBuilt(), start, end)
    assert len(report.days) == 30
    assert report.split == THRESHOLDS_FIXED
    by_label = {g.label: g for g in report.in_sample}
    reversal, rebound = by_label["verdict: reversal"], by_label["verdict: rebound_in_downtrend"]
    assert reversal.count + rebound.count == 20
    assert reversal.count == sum(1 for d in report.days if d.day < report.split and d.day.toordinal() % 2 == 1)
    # Closes rise 1%/day: every 7-day forward return is 1.01^7 - 1; reversal always hits, rebound never does.
    assert reversal.mean_pct[7] == pytest.approx(100 * (1.01**7 - 1))
    assert reversal.median_pct[7] == pytest.approx(100 * (1.01**7 - 1))
    assert reversal.hit_rate[7] == 1.0
    assert rebound.hit_rate[7] == 0.0
    assert by_label["verdict: undetermined"].hit_rate[7] is None
    # Baseline: above the 50-day average on exactly the bullish days.
    assert by_label["baseline: close above 50-day average"].count == reversal.count
    assert sum(g.count for g in report.out_of_sample if g.label.startswith("verdict")) == 10


class Gapped(HandBuilt):
    """No close on two days of a run and on one day alone: those days cannot be scored or graded."""

    name = "gapped"
    missing = frozenset({date(2025, 8, 3), date(2025, 8, 4), date(2025, 8, 9)})

    async def closes(self, start: date, end: date) -> dict[date, float]:
        return {d: c for d, c in (await super().closes(start, end)).items() if d not in self.missing}


async def test_days_without_a_close_are_skipped_counted_and_named() -> None:
    report = await run_backtest(Gapped(), date(2025, 8, 1), date(2025, 8, 10))
    assert [d.day for d in report.days] == [date(2025, 8, d) for d in (1, 2, 5, 6, 7, 8, 10)]
    assert report.skipped == sorted(Gapped.missing)
    text = render_markdown(report)
    assert "7 days scored" in text
    assert "3 skipped (no close)" in text
    assert "Skipped, no close to score or grade: 2025-08-03..2025-08-04, 2025-08-09." in text


async def test_a_range_after_the_thresholds_were_fixed_is_all_out_of_sample() -> None:
    report = await run_backtest(HandBuilt(), date(2026, 1, 1), date(2026, 3, 31))
    assert {g.label: g.count for g in report.in_sample}["all days"] == 0
    assert {g.label: g.count for g in report.out_of_sample}["all days"] == 90
    text = render_markdown(report)
    assert "**In sample**" not in text
    assert "**Out of sample** (2026-01-01 to 2026-03-31" in text
    before = render_markdown(await run_backtest(HandBuilt(), date(2024, 6, 1), date(2024, 6, 30)))
    assert "**Out of sample**" not in before
    assert "**In sample** (2024-06-01 to 2024-06-30)" in before


def test_forward_return_needs_both_closes() -> None:
    closes = {date(2025, 1, 1): 100.0, date(2025, 1, 8): 110.0}
    assert forward_return_pct(closes, date(2025, 1, 1), 7) == pytest.approx(10.0)
    assert forward_return_pct(closes, date(2025, 1, 1), 30) is None


@pytest.fixture(scope="module")
def shared() -> SharedDataProvider:
    return SharedDataProvider(DATA)


def truncated(provider: SharedDataProvider, day: date) -> SharedDataProvider:
    """A copy that knows nothing after `day`."""
    cut = SharedDataProvider.__new__(SharedDataProvider)
    cut.__dict__.update(provider.__dict__)
    for name, value in provider.__dict__.items():
        if isinstance(value, Series):
            n = value.upto(day)
            setattr(cut, name, Series(value.days[:n], value.values[:n], value.source))
    n = sum(1 for d in provider.bar_days if d <= day)
    cut.bars, cut.bar_days = provider.bars[:n], provider.bar_days[:n]
    cut.closes_by_day = {d: c for d, c in provider.closes_by_day.items() if d <= day}
    return cut


@pytest.mark.parametrize("day", [date(2024, 3, 14), date(2024, 8, 5), date(2025, 4, 8), date(2025, 11, 21)])
async def test_no_look_ahead(shared: SharedDataProvider, day: date) -> None:
    full = await shared.inputs_at(day)
    blind = await truncated(shared, day).inputs_at(day)
    assert dataclasses.asdict(full) == dataclasses.asdict(blind)
    assert sum(1 for f in dataclasses.fields(full) if getattr(full, f.name) is not None) >= 15


def farside_totals() -> dict[str, float]:
    with (DATA / "01_us_spot_btc_etf_flows_farside" / "farside_btc_etf_flows_daily.csv").open() as fh:
        return {row["date"]: float(row["Total"]) for row in csv.DictReader(fh) if row["Total"]}


async def test_shared_inputs_on_2025_11_21_match_the_files(shared: SharedDataProvider) -> None:
    got = await shared.inputs_at(date(2025, 11, 21))
    totals = farside_totals()
    november = [v for d, v in totals.items() if d.startswith("2025-11-") and d <= "2025-11-21"]
    # shared/data/README.md: 1-21 Nov 2025 total net flow -3,536.9 US$m over 15 trading days.
    assert len(november) == 15
    assert got.etf_mtd_usd is not None
    assert got.etf_mtd_usd.value == pytest.approx(-3_536.9e6)
    # 11-21's own row is not published by the end of 11-21: the latest completed day is 11-20, as in get_etf_flows
    last5 = [totals[d] for d in sorted(d for d in totals if d < "2025-11-21")[-5:]]
    assert got.etf_5d_avg_usd is not None
    assert got.etf_5d_avg_usd.value == pytest.approx(fmean(last5) * 1e6)
    assert got.etf_latest_day_usd is not None
    assert got.etf_latest_day_usd.value == pytest.approx(totals["2025-11-20"] * 1e6)
    assert got.close_usd is not None
    assert got.close_usd.value == pytest.approx(85_068.88)
    assert got.cut_odds_change_1d_pp is None
    assert "cut-odds" in got.reasons["cut_odds_change_1d_pp"]


async def test_farside_holiday_rows_are_not_zero_flow_days(shared: SharedDataProvider) -> None:
    # 2025-01-09 is a US market-holiday row with empty fund cells and Total 0.0 in the Farside export.
    assert date(2025, 1, 9) not in shared.etf.days
    got = await shared.inputs_at(date(2025, 1, 9))
    assert got.etf_latest_day_usd is not None
    assert got.etf_latest_day_usd.as_of is not None
    assert got.etf_latest_day_usd.as_of.date() == date(2025, 1, 8)


@pytest.mark.parametrize("as_of", ["2024-08-05", "2025-04-08", "2025-11-24"])
async def test_shared_premium_and_trend_equal_the_live_tools(
    make_client, shared: SharedDataProvider, as_of: str
) -> None:
    """The backtest's CSV inputs and the live assessment agree where both read the same history."""
    got = await shared.inputs_at(date.fromisoformat(as_of))
    async with make_client() as client:
        out = (await client.call_tool("assess_rebound_vs_reversal", {"as_of": as_of})).structured_content
    live = {s["name"]: s["value"] for s in out["signals"]}
    assert got.premium_pct is not None
    assert got.premium_pct.value == pytest.approx(live["premium_level"], abs=1e-6)
    assert got.premium_streak_days is not None
    # The CSV premium history starts in 2021 while the live tool looks back 300 days, so compare runs under 300.
    if abs(got.premium_streak_days.value) < 300:
        assert got.premium_streak_days.value == live["premium_streak"]
    for field, name in (("price_vs_ma50_pct", "price_vs_ma50"), ("price_vs_ma200_pct", "price_vs_ma200")):
        value = getattr(got, field)
        assert value is not None
        assert value.value == pytest.approx(live[name], abs=1e-6)
    flips = {f["name"]: f for f in out["flip_signals"]}
    assert got.prior_swing_high_usd is not None
    assert got.prior_swing_high_usd.value == pytest.approx(flips["price_breaks_swing_high"]["threshold"])
    # one latest-completed-day rule: the backtest's ETF day and 5-day average are get_etf_flows'
    async with make_client() as client:
        etf = (await client.call_tool("get_etf_flows", {"as_of": as_of})).structured_content
    assert got.etf_latest_day_usd is not None
    assert got.etf_latest_day_usd.as_of is not None
    assert got.etf_latest_day_usd.as_of.date().isoformat() == etf["latest_completed_day"]["date"]
    assert got.etf_latest_day_usd.value == pytest.approx(etf["latest_completed_day"]["total_usd"])
    assert got.etf_5d_avg_usd is not None
    assert got.etf_5d_avg_usd.value == pytest.approx(etf["avg_5d_usd"], abs=0.01)


async def test_full_range_runs_on_shared_data(shared: SharedDataProvider) -> None:
    report = await run_backtest(shared, date(2024, 1, 1), date(2025, 12, 31))
    assert len(report.days) == 731
    assert report.split == date(2025, 5, 2)
    everything = {g.label: g for g in report.in_sample}["all days"]
    returns = [d.forward_pct[30] for d in report.days if d.day < report.split and d.forward_pct[30] is not None]
    assert everything.count == len([d for d in report.days if d.day < report.split])
    assert everything.median_pct[30] == pytest.approx(median(returns))


async def test_store_provider_reads_backfilled_series_like_the_csvs(tmp_path, shared: SharedDataProvider) -> None:
    """Candles and ETF days written to a real SQLite store give the same premium, trend and ETF inputs."""
    from datetime import UTC, datetime, time

    from server.backtest.store_history import store_provider
    from store.base import Observation, SeriesKey
    from store.sqlite import SqliteStore
    from tests.fakes.data import binance_daily, coinbase_daily
    from tools.history.candle_store import series_key

    fetched = datetime(2026, 1, 1, tzinfo=UTC)  # backfilled long after the days it describes
    since = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
    rows = []
    for t, bar in coinbase_daily().items():
        if t >= since:
            ts = datetime.fromtimestamp(t, UTC)
            rows.append(Observation(series_key("coinbase", "BTC-USD", "1d", "close"), ts, bar[3], fetched))
            rows.append(Observation(series_key("coinbase", "BTC-USD", "1d", "high"), ts, bar[1], fetched))
    for t_ms, kline in binance_daily().items():
        if t_ms // 1000 >= since:
            ts = datetime.fromtimestamp(t_ms // 1000, UTC)
            rows.append(Observation(series_key("binance", "BTC-USDT", "1d", "close"), ts, float(kline[4]), fetched))
    for day, total in zip(shared.etf.days, shared.etf.values, strict=True):
        ts = datetime.combine(day, time(), UTC)
        rows.append(Observation(SeriesKey("farside", "net_flow_usd", "BTC", "TOTAL"), ts, total, fetched))
    store = SqliteStore(tmp_path / "history.sqlite3")
    try:
        await store.upsert(rows)
        provider = await store_provider(store, "BTC")
    finally:
        await store.close()
    for day in (date(2024, 8, 5), date(2025, 4, 8), date(2025, 11, 21)):
        got, want = await provider.inputs_at(day), await shared.inputs_at(day)
        for name in ("premium_pct", "etf_5d_avg_usd", "etf_mtd_usd", "etf_latest_day_usd", "price_vs_ma50_pct",
                     "price_vs_ma200_pct", "prior_swing_high_usd", "swing_high_sequence", "close_usd"):  # fmt: skip
            g, w = getattr(got, name), getattr(want, name)
            assert g is not None, (day, name)
            assert w is not None, (day, name)
            assert g.value == pytest.approx(w.value, abs=1e-6), (day, name)
        assert got.oi_change_7d_pct is None
        assert got.reasons["oi_change_7d_pct"] == f"missing daily rows around {day}"
    report = await run_backtest(provider, date(2025, 10, 1), date(2025, 10, 31))
    assert len(report.days) == 31
