"""assess_rebound_vs_reversal through the in-memory MCP client on real history from ../shared/data.

The evidence values must equal what the indicator tools themselves return for the same as_of. Tests for tools built
on other branches skip only while their module is absent (pytest.importorskip).
"""

from __future__ import annotations

from datetime import UTC, datetime
from statistics import fmean
from typing import Any

import httpx
import pytest

from tests.fakes import FakeUpstream
from tests.fakes.data import coinbase_daily

pytestmark = pytest.mark.anyio

AS_OF_DATES = ["2024-03-14", "2024-08-05", "2025-04-08", "2025-10-06", "2025-11-24"]


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in items if item["name"] == name)


def closes_until(day: str) -> list[tuple[str, float, float]]:
    """(day, high, close) of Coinbase daily bars up to `day`, computed straight from the CSV."""
    out = []
    for t, bar in sorted(coinbase_daily().items()):
        d = datetime.fromtimestamp(t, UTC).date().isoformat()
        if d <= day:
            out.append((d, bar[1], bar[3]))
    return out[-300:]


async def assess(client: Any, as_of: str) -> dict[str, Any]:
    result = await client.call_tool("assess_rebound_vs_reversal", {"as_of": as_of})
    assert not result.is_error, result.content
    return dict(result.structured_content)


@pytest.mark.parametrize("as_of", AS_OF_DATES)
async def test_premium_and_trend_evidence_equal_the_tools_outputs(make_client, as_of: str) -> None:
    async with make_client() as client:
        out = await assess(client, as_of)
        premium = (await client.call_tool("get_coinbase_premium", {"as_of": as_of})).structured_content
    signals = out["signals"]
    level = by_name(signals, "premium_level")
    assert level["value"] == pytest.approx(premium["current"]["premium_pct"], abs=1e-9)
    assert level["reading"] != "unavailable"
    assert level["source"].startswith("get_coinbase_premium")
    streak = by_name(signals, "premium_streak")
    sign = {"positive": 1, "negative": -1, "zero": 0}[premium["streak"]["sign"]]
    assert streak["value"] == sign * premium["streak"]["days"]

    # Trend figures, recomputed independently from the CSV.
    rows = closes_until(as_of)
    close = rows[-1][2]
    ma50 = fmean(r[2] for r in rows[-50:])
    ma200 = fmean(r[2] for r in rows[-200:])
    assert by_name(signals, "price_vs_ma50")["value"] == pytest.approx(100 * (close / ma50 - 1), abs=1e-5)
    assert by_name(signals, "price_vs_ma200")["value"] == pytest.approx(100 * (close / ma200 - 1), abs=1e-5)
    # The prior swing high: the latest daily high above the 5 highs before and not below the 5 after.
    highs = [r[1] for r in rows]
    pivots = [
        highs[i] for i in range(5, len(highs) - 5) if max(highs[i - 5 : i]) < highs[i] >= max(highs[i + 1 : i + 6])
    ]
    flip = by_name(out["flip_signals"], "price_breaks_swing_high")
    assert flip["threshold"] == pytest.approx(pivots[-1])
    assert flip["current"] == pytest.approx(close)
    assert flip["met"] is (close > pivots[-1])
    assert flip["distance"] == pytest.approx(0.0 if close > pivots[-1] else pivots[-1] - close, abs=1e-6)
    swing = by_name(signals, "price_vs_swing_high")
    assert swing["value"] == pytest.approx(100 * (close / pivots[-1] - 1), abs=1e-5)

    # Contract fields and invariants.
    assert out["verdict"] in {"reversal", "rebound_in_downtrend", "undetermined"}
    assert -1 <= out["score"] <= 1
    assert 0 <= out["evidence_agreement"] <= out["coverage"] <= 1
    assert out["summary"].startswith("BTC: ")
    for s in signals:
        assert set(s) >= {"name", "value", "unit", "reading", "weight", "evidence", "source", "as_of", "stale"}
        if s["reading"] == "unavailable":
            assert s["value"] is None
            assert any(w.startswith(s["name"]) for w in out["warnings"])


async def test_late_november_2025_reads_as_rebound_in_downtrend(make_client) -> None:
    async with make_client() as client:
        out = await assess(client, "2025-11-24")
    signals = out["signals"]
    # 2025-11-24: Coinbase below Binance for 26 days, price far below its 50- and 200-day averages.
    assert by_name(signals, "premium_streak")["value"] == -26
    for name in ("premium_streak", "price_vs_ma50", "price_vs_ma200", "price_vs_swing_high"):
        assert by_name(signals, name)["reading"] == "bearish", name
    assert out["score"] < 0
    premium_flip = by_name(out["flip_signals"], "premium_turns_positive")
    assert premium_flip["met"] is False
    assert premium_flip["distance"] == pytest.approx(-by_name(signals, "premium_level")["value"], abs=1e-9)


async def test_missing_tools_lower_coverage_and_never_fail(make_client, fake: FakeUpstream) -> None:
    fake.faults["coinbase"] = lambda request, path: httpx.Response(503, json={"message": "down"})
    # The reserve signals missing too, as they always were on the fake before the keyless reserve tool moved to
    # DefiLlama (its wallet scan left the change null); with them, 8 signals give a verdict (coverage 0.45).
    fake.faults["defillama"] = lambda request, path: httpx.Response(503, text="down")
    async with make_client() as client:
        out = await assess(client, "2025-11-24")
    assert by_name(out["signals"], "exchange_reserve_30d")["reading"] == "unavailable"
    trend = by_name(out["signals"], "price_vs_ma50")
    assert trend["reading"] == "unavailable"
    assert "coinbase" in trend["evidence"].lower()
    level = by_name(out["signals"], "premium_level")
    assert level["reading"] == "unavailable"
    assert out["verdict"] == "undetermined"
    assert out["coverage"] < 0.4


async def test_one_tool_raising_degrades_only_its_signals(make_client, monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.premium.tool

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(tools.premium.tool, "compute_premium", broken)
    async with make_client() as client:
        out = await assess(client, "2025-11-24")
    level = by_name(out["signals"], "premium_level")
    assert level["reading"] == "unavailable"
    assert "RuntimeError: boom" in level["evidence"]
    assert by_name(out["signals"], "price_vs_ma50")["reading"] == "bearish"


async def test_bad_as_of_is_a_tool_error(make_client) -> None:
    async with make_client() as client:
        result = await client.call_tool("assess_rebound_vs_reversal", {"as_of": "yesterday"})
    assert result.is_error
    assert "ISO date" in result.content[0].text


async def test_prompt_and_methodology_are_served(make_client) -> None:
    async with make_client() as client:
        prompts = await client.list_prompts()
        assert "market_brief" in [p.name for p in prompts.prompts]
        got = await client.get_prompt("market_brief", {"asset": "eth"})
        text = got.messages[0].content.text
        assert 'asset="ETH"' in text
        sections = ["Global risk assets", "The evidence", "re-rating", "Liquidity", "Outlook"]
        assert [text.index(s) for s in sections] == sorted(text.index(s) for s in sections)
        resource = await client.read_resource("windvane://methodology")
        body = resource.contents[0].text
    assert "`price_vs_swing_high`" in body
    assert "out of sample" in body


# -- evidence from tools built on other branches: these run once the tool module is merged -------------------------


def assert_same(signal: dict[str, Any], expected: float | None) -> None:
    """The assessment's value equals the tool's (to the 1e-6 the evidence is rounded to), or both are missing."""
    if expected is None:
        assert signal["reading"] == "unavailable"
        assert signal["value"] is None
    else:
        assert signal["value"] == pytest.approx(expected, abs=1e-6)


async def etf_and_assessment(client: Any, as_of: str) -> tuple[dict[str, Any], dict[str, Any]]:
    out = await assess(client, as_of)
    etf = (await client.call_tool("get_etf_flows", {"as_of": as_of, "days": 30, "detail": "full"})).structured_content
    return etf, out


def assert_etf_evidence_is_the_tools(etf: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """The assessment's ETF signals and flip read the tool's own completed days; returns the flip."""
    assert_same(by_name(out["signals"], "etf_flow_mtd"), etf["month_to_date_usd"])
    assert_same(by_name(out["signals"], "etf_flow_5d"), etf["avg_5d_usd"])
    flip = by_name(out["flip_signals"], "etf_outflow_under_100m")
    assert flip["current"] == pytest.approx(etf["latest_completed_day"]["total_usd"])
    assert flip["met"] is etf["outflow_below_100m"]
    return flip


async def test_etf_evidence_equals_the_etf_tool(make_client) -> None:
    pytest.importorskip("tools.etf.tool")
    async with make_client() as client:
        etf, out = await etf_and_assessment(client, "2025-11-21")
    days = sorted(etf["days"], key=lambda d: d["date"])
    completed = [d for d in days if not d["provisional"]]
    assert days[-1]["date"] == "2025-11-21"
    assert days[-1]["provisional"] is True  # the as_of day's own row
    assert etf["avg_5d_usd"] == pytest.approx(fmean(d["total_usd"] for d in completed[-5:]), abs=0.01)
    flip = assert_etf_evidence_is_the_tools(etf, out)
    # shared/data: 1-21 Nov 2025 net flow -3,536.9 US$m; 2025-11-20 -903.2 US$m (11-21 is still provisional).
    assert etf["month_to_date_usd"] == pytest.approx(-3_536.9e6, rel=1e-4)
    assert etf["latest_completed_day"]["date"] == "2025-11-20"
    assert flip["current"] == pytest.approx(-903.2e6)
    assert flip["met"] is False


async def test_etf_tool_and_assessment_agree_on_the_latest_completed_day(make_client) -> None:
    # 2025-11-24 replayed from the real Farside history: the tool and the assessment both read 11-21 (+238.4 US$m),
    # not the provisional 11-24 row (-151.0 US$m) that the as_of day already shows.
    async with make_client() as client:
        etf, out = await etf_and_assessment(client, "2025-11-24")
    assert etf["days"][-1]["date"] == "2025-11-24"
    assert etf["days"][-1]["total_usd"] == pytest.approx(-151.0e6)
    assert etf["days"][-1]["provisional"] is True
    assert etf["latest_completed_day"] == {"date": "2025-11-21", "total_usd": pytest.approx(238.4e6)}
    flip = assert_etf_evidence_is_the_tools(etf, out)
    assert flip["current"] == pytest.approx(238.4e6)
    assert flip["met"] is True


@pytest.mark.parametrize(
    ("as_of", "latest", "total_m"),
    [
        ("2025-11-24T20:59:00Z", "2025-11-21", 238.4),  # before the close: no 11-24 row at all
        ("2025-11-24T23:59:59Z", "2025-11-21", 238.4),  # after the close, not yet published: provisional
        ("2025-11-25T00:00:00Z", "2025-11-24", -151.0),  # published (its UTC day is over): it feeds the signals
        ("2025-11-25T12:00:00Z", "2025-11-24", -151.0),
    ],
)
async def test_the_as_of_days_row_feeds_signals_only_once_published(
    make_client, as_of: str, latest: str, total_m: float
) -> None:
    async with make_client() as client:
        etf, out = await etf_and_assessment(client, as_of)
    assert etf["latest_completed_day"] == {"date": latest, "total_usd": pytest.approx(total_m * 1e6)}
    flip = assert_etf_evidence_is_the_tools(etf, out)
    assert flip["met"] is (total_m > -100)


async def test_leverage_evidence_equals_the_leverage_tool(make_client) -> None:
    pytest.importorskip("tools.leverage.tool")
    async with make_client() as client:
        out = await assess(client, "2025-11-21")
        lev = (await client.call_tool("get_leverage_state", {"as_of": "2025-11-21"})).structured_content
    assert_same(by_name(out["signals"], "open_interest_7d"), lev["open_interest"]["change_7d_pct"])
    rates = [f["rate_8h_pct"] for f in lev["funding"] if f["rate_8h_pct"] is not None]
    assert_same(by_name(out["signals"], "funding"), fmean(rates) if rates else None)
    liq = lev["liquidations"]
    long_7d, short_7d = liq["long_usd_7d"], liq["short_usd_7d"]
    share = None if long_7d is None or short_7d is None else 100 * long_7d / (long_7d + short_7d)
    assert_same(by_name(out["signals"], "liquidation_flush"), share)


async def test_reserve_evidence_equals_the_reserve_tool(make_client) -> None:
    pytest.importorskip("tools.reserves.tool")
    async with make_client() as client:
        out = await assess(client, "2025-11-21")
        week = await client.call_tool("exchange_reserve_trend", {"as_of": "2025-11-21", "window_days": 7})
        month = await client.call_tool("exchange_reserve_trend", {"as_of": "2025-11-21", "window_days": 30})
    w, m = week.structured_content, month.structured_content
    flow = w.get("net_flow_btc")
    assert_same(by_name(out["signals"], "exchange_netflow_7d"), flow if flow is not None else w["change_btc"])
    assert_same(by_name(out["signals"], "exchange_reserve_30d"), m["change_pct"])


async def test_macro_evidence_equals_the_macro_tool(make_client) -> None:
    pytest.importorskip("tools.macro.tool")
    async with make_client() as client:
        out = await assess(client, "2025-11-21")
        macro = (await client.call_tool("get_macro_backdrop", {"as_of": "2025-11-21"})).structured_content
    assert_same(by_name(out["signals"], "crypto_market_cap_6w"), macro["crypto_market_cap"]["change_6w_pct"])
    change = macro["fed"].get("cut_probability_change_1d")
    assert_same(by_name(out["signals"], "cut_odds_change"), None if change is None else 100 * change)
    nasdaq = next(i for i in macro["indices"] if "nasdaq" in i["name"].lower())
    beta = macro["btc_nasdaq"]["beta_90d"]
    implied = None if beta is None or nasdaq["change_pct"] is None else beta * nasdaq["change_pct"]
    assert_same(by_name(out["signals"], "nasdaq_implied_move"), implied)
