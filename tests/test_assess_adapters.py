"""Adapters from each indicator tool's output to scoring inputs, and the gathering.

Tool outputs are stood in by plain namespaces carrying the output fields each adapter reads, so every mapping rule
is tested on its own; tests/test_assess_tool.py checks the real tools end to end.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace as NS
from typing import Any

import anyio
import pytest

import tools.assess.gather as assess
from tools.assess.adapters import (
    adapt_etf,
    adapt_leverage,
    adapt_macro,
    adapt_premium,
    adapt_reserves_7d,
    adapt_reserves_30d,
)
from tools.assess.gather import Gathered, SubTool
from tools.assess.scoring import Observed
from tools.deps import ToolConfig
from tools.point_in_time import PointInTime

AS_OF = datetime(2025, 11, 21, 23, 59, tzinfo=UTC)
SOURCES = [NS(name="farside", endpoint="https://farside.co.uk/x", stale=False)]


def out(**fields: Any) -> NS:
    return NS(as_of=AS_OF, sources=SOURCES, warnings=[], **fields)


def value(fields: dict[str, Any], name: str) -> float:
    got = fields[name]
    assert isinstance(got, Observed), got
    return got.value


def test_premium() -> None:
    fields = adapt_premium(out(current=NS(premium_pct=-0.071, ts=AS_OF), streak=NS(sign="negative", days=23)))
    assert value(fields, "premium_pct") == -0.071
    assert value(fields, "premium_streak_days") == -23
    assert fields["premium_pct"].source == "get_coinbase_premium (farside)"  # type: ignore[union-attr]


def test_premium_without_history() -> None:
    fields = adapt_premium(out(current=NS(premium_pct=None, ts=None), streak=NS(sign=None, days=0)))
    assert fields["premium_pct"] == "current.premium_pct is null (see its warnings)"
    assert isinstance(fields["premium_streak_days"], str)


def etf_days(totals: list[float | None], provisional_last: bool = False) -> list[NS]:
    days = [NS(date=f"2025-11-{17 + i:02d}", total_usd=t, provisional=False) for i, t in enumerate(totals)]
    days[-1].provisional = provisional_last
    return days


def etf_out(days: list[NS], **fields: Any) -> NS:
    """The ETF tool's output as it reports its completed days: latest and 5-day mean over non-provisional rows."""
    completed = sorted((d for d in days if not d.provisional and d.total_usd is not None), key=lambda d: d.date)
    last5 = [d.total_usd for d in completed[-5:]]
    latest = NS(date=completed[-1].date, total_usd=completed[-1].total_usd) if completed else None
    avg = sum(last5) / len(last5) if last5 else None
    return out(days=days, latest_completed_day=latest, avg_5d_usd=avg, **fields)


def test_etf() -> None:
    days = etf_days([-254.5e6, -372.8e6, -903.2e6, 75.4e6, 238.4e6])
    fields = adapt_etf(etf_out(list(reversed(days)), month_to_date_usd=-3_536.9e6))  # order does not matter
    assert value(fields, "etf_latest_day_usd") == 238.4e6
    assert value(fields, "etf_5d_avg_usd") == pytest.approx((-254.5 - 372.8 - 903.2 + 75.4 + 238.4) * 1e6 / 5)
    assert value(fields, "etf_mtd_usd") == -3_536.9e6
    assert fields["etf_latest_day_usd"].as_of == datetime(2025, 11, 21, tzinfo=UTC)  # type: ignore[union-attr]


def test_etf_provisional_latest_row_feeds_no_signal() -> None:
    # The as_of day's own row (11-22 here) is provisional: the signals read the tool's latest completed day.
    days = etf_days([-254.5e6, -372.8e6, -903.2e6, 75.4e6, 238.4e6, -151.0e6], provisional_last=True)
    fields = adapt_etf(etf_out(days, month_to_date_usd=-3_687.9e6))
    assert value(fields, "etf_latest_day_usd") == 238.4e6
    assert value(fields, "etf_5d_avg_usd") == pytest.approx((-254.5 - 372.8 - 903.2 + 75.4 + 238.4) * 1e6 / 5)
    assert fields["etf_latest_day_usd"].as_of == datetime(2025, 11, 21, tzinfo=UTC)  # type: ignore[union-attr]


def test_etf_missing_day_is_not_zero() -> None:
    fields = adapt_etf(etf_out(etf_days([-254.5e6, None, -903.2e6, 75.4e6, 238.4e6]), month_to_date_usd=None))
    assert fields["etf_5d_avg_usd"] == "only 4 completed days for the 5-day average"
    assert fields["etf_mtd_usd"] == "month_to_date_usd is null (see its warnings)"
    assert value(fields, "etf_latest_day_usd") == 238.4e6


def test_etf_without_a_completed_day() -> None:
    fields = adapt_etf(etf_out(etf_days([-151.0e6], provisional_last=True), month_to_date_usd=-151.0e6))
    assert fields["etf_latest_day_usd"] == "latest_completed_day is null (no completed day)"
    assert isinstance(fields["etf_5d_avg_usd"], str)


def test_leverage_means_funding_over_venues() -> None:
    fields = adapt_leverage(
        out(
            open_interest=NS(change_7d_pct=-7.6),
            liquidations=NS(long_usd_7d=None, short_usd_7d=105.9e6),
            funding=[NS(venue="okx", rate_8h_pct=0.004), NS(venue="bybit", rate_8h_pct=0.008)],
        )
    )
    assert value(fields, "oi_change_7d_pct") == -7.6
    assert value(fields, "funding_8h_pct") == pytest.approx(0.006)
    assert fields["liq_long_7d_usd"] == "liquidations.long_usd_7d is null (see its warnings)"
    assert value(fields, "liq_short_7d_usd") == 105.9e6


def test_reserves_prefer_net_flow() -> None:
    with_flow = adapt_reserves_7d(out(change_btc=-900.0, net_flow_btc=-793.2, window_end="2025-11-21"))
    assert value(with_flow, "exchange_netflow_7d_btc") == -793.2
    no_flow = adapt_reserves_7d(out(change_btc=-900.0, net_flow_btc=None, window_end=None))
    assert value(no_flow, "exchange_netflow_7d_btc") == -900.0
    assert value(adapt_reserves_30d(out(change_pct=0.33)), "reserve_change_30d_pct") == 0.33


def test_macro() -> None:
    fields = adapt_macro(
        out(
            fed=NS(cut_probability=0.7, cut_probability_change_1d=0.12),
            btc_nasdaq=NS(beta_90d=1.3),
            crypto_market_cap=NS(change_6w_pct=-22.5),
            indices=[NS(name="S&P 500", change_pct=0.98, date="2025-11-21"),
                     NS(name="Nasdaq Composite", change_pct=0.88, date="2025-11-21")],
        )
    )  # fmt: skip
    assert value(fields, "cut_odds_change_1d_pp") == pytest.approx(12.0)
    assert value(fields, "btc_nasdaq_beta_90d") == 1.3
    assert value(fields, "nasdaq_change_pct") == 0.88
    assert value(fields, "crypto_mcap_change_6w_pct") == -22.5


def test_macro_without_a_change() -> None:
    fields = adapt_macro(
        out(fed=NS(cut_probability=0.7, cut_probability_change_1d=None), btc_nasdaq=NS(beta_90d=None),
            crypto_market_cap=NS(change_6w_pct=None), indices=[])
    )  # fmt: skip
    assert fields["cut_odds_change_1d_pp"] == "fed.cut_probability_change_1d is null (see its warnings)"
    assert fields["nasdaq_change_pct"] == "no Nasdaq entry in its indices"


@pytest.mark.anyio
async def test_a_tool_whose_upstream_fails_is_unavailable() -> None:
    from fetchers.errors import GeoBlockedError

    async def blocked(*args: object) -> None:
        raise GeoBlockedError("farside", "HTTP 403: blocked by a Cloudflare challenge")

    tool = SubTool("get_nothing", blocked, adapt_etf, ("etf_mtd_usd",))
    got = Gathered()
    await assess.gather_tool(tool, NS(config=ToolConfig()), "BTC", None, got)  # type: ignore[arg-type]
    assert got.inputs.etf_mtd_usd is None
    assert got.inputs.reasons["etf_mtd_usd"] == (
        "get_nothing failed: GeoBlockedError: farside: HTTP 403: blocked by a Cloudflare challenge"
    )


@pytest.mark.anyio
async def test_tools_are_gathered_concurrently(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each stand-in tool waits until every other one has started: run one after another, this would hang."""
    started = 0
    all_started = anyio.Event()
    count = len(assess.SUB_TOOLS)

    async def tool(*args: object) -> NS:
        nonlocal started
        started += 1
        if started == count:
            all_started.set()
        await all_started.wait()
        raise RuntimeError("stand-in")

    fake = [SubTool(t.label, lambda d, a, p: tool(), t.adapt, t.fills) for t in assess.SUB_TOOLS]
    monkeypatch.setattr(assess, "SUB_TOOLS", tuple(fake))

    async def no_trend(*args: object) -> None:
        return None

    monkeypatch.setattr(assess, "gather_trend", no_trend)
    deps = NS(clock=lambda: AS_OF, config=ToolConfig())
    with anyio.fail_after(10):  # a deadlock guard, not a timing assertion
        got = await assess.gather_inputs(deps, "BTC", PointInTime.parse("2025-11-21", AS_OF))  # type: ignore[arg-type]
    assert started == count
    assert "RuntimeError: stand-in" in got.inputs.reasons["etf_mtd_usd"]


@pytest.mark.anyio
async def test_a_tool_over_its_time_budget_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    never = anyio.Event()

    async def stuck(*args: object) -> None:
        await never.wait()  # never set: only the budget ends this call

    tool = SubTool("get_stuck", lambda d, a, p: stuck(), adapt_premium, ("premium_pct",))
    deps = NS(config=NS(tool_deadline_s=0.0))
    monkeypatch.setattr(assess, "STRAGGLER_GRACE_S", 0.0)
    got = Gathered()
    with anyio.fail_after(10):  # a deadlock guard, not a timing assertion
        await assess.gather_tool(tool, deps, "BTC", None, got)  # type: ignore[arg-type]
    assert got.inputs.premium_pct is None
    assert got.inputs.reasons["premium_pct"].startswith("get_stuck not answered within 0 s")
