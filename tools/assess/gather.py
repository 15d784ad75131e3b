"""Gathering the assessment's evidence: every indicator tool through its registry spec, and the trend candles.

Each sub-tool runs with the assessment's own `PointInTime`, within a time budget; its typed output goes through
its adapter (tools/assess/adapters.py) into `ScoringInputs`. A sub-tool that fails, is too slow or returns nulls
makes only its own signals unavailable, with the reason, which lowers coverage and never fails the assessment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

import anyio

from fetchers.call_context import call_context
from fetchers.concurrency import gather, gather_all
from fetchers.errors import UpstreamError
from schemas.common import SourceRef, ToolResult
from tools.args import Asset
from tools.assess.adapters import (
    Fields,
    adapt_etf,
    adapt_leverage,
    adapt_macro,
    adapt_premium,
    adapt_reserves_7d,
    adapt_reserves_30d,
    day_start,
)
from tools.assess.scoring import INPUT_FIELDS, Observed, ScoringInputs
from tools.assess.trend import LOOKBACK_DAYS, DailyBar, TrendStats, trend_stats
from tools.deps import Deps
from tools.errors import InputError
from tools.etf.tool import SPEC as ETF
from tools.etf.tool import EtfArgs
from tools.history import candle_store
from tools.leverage.tool import SPEC as LEVERAGE
from tools.leverage.tool import LeverageArgs
from tools.macro.tool import SPEC as MACRO
from tools.macro.tool import MacroArgs
from tools.point_in_time import PointInTime
from tools.premium.tool import SPEC as PREMIUM
from tools.premium.tool import PremiumArgs
from tools.provenance import Provenance
from tools.reserves.tool import SPEC as RESERVES
from tools.reserves.tool import ReservesArgs
from tools.venues import COINBASE

OutT = TypeVar("OutT", bound=ToolResult)

# Sub-tool warnings copied into the assessment, per tool: enough to explain a gap without flooding the answer.
MAX_WARNINGS_PER_TOOL = 5

# A sub-tool whose requests all ended at its deadline still has this long to assemble its answer.
STRAGGLER_GRACE_S = 2.0

TREND_FIELDS = ("close_usd", "prior_swing_high_usd", "price_vs_ma50_pct", "price_vs_ma200_pct", "swing_high_sequence")


@dataclass(frozen=True)
class SubTool(Generic[OutT]):
    """One indicator tool as the assessment calls it: with which arguments, and which inputs its adapter fills."""

    label: str
    run: Callable[[Deps, Asset, PointInTime], Awaitable[OutT]]  # (deps, asset, point in time)
    adapt: Callable[[OutT], Fields]
    fills: tuple[str, ...]  # ScoringInputs fields; checked when this module loads


SUB_TOOLS: tuple[SubTool[Any], ...] = (
    SubTool(
        "get_coinbase_premium",
        lambda d, a, p: PREMIUM.run(d, PremiumArgs(asset=a, days=30, interval="1d"), p),
        adapt_premium,
        ("premium_pct", "premium_streak_days"),
    ),
    SubTool(
        "get_etf_flows",
        lambda d, a, p: ETF.run(d, EtfArgs(asset=a, days=30), p),
        adapt_etf,
        ("etf_5d_avg_usd", "etf_mtd_usd", "etf_latest_day_usd"),
    ),
    SubTool(
        "get_leverage_state",
        lambda d, a, p: LEVERAGE.run(d, LeverageArgs(asset=a), p),
        adapt_leverage,
        ("oi_change_7d_pct", "funding_8h_pct", "liq_long_7d_usd", "liq_short_7d_usd"),
    ),
    SubTool(
        "exchange_reserve_trend (7d)",
        lambda d, a, p: RESERVES.run(d, ReservesArgs(asset=a, window_days=7), p),
        adapt_reserves_7d,
        ("exchange_netflow_7d_btc",),
    ),
    SubTool(
        "exchange_reserve_trend (30d)",
        lambda d, a, p: RESERVES.run(d, ReservesArgs(asset=a, window_days=30), p),
        adapt_reserves_30d,
        ("reserve_change_30d_pct",),
    ),
    SubTool(
        "get_macro_backdrop",
        lambda d, a, p: MACRO.run(d, MacroArgs(), p),
        adapt_macro,
        ("cut_odds_change_1d_pp", "btc_nasdaq_beta_90d", "nasdaq_change_pct", "crypto_mcap_change_6w_pct"),
    ),
)


def _check_fills() -> None:
    filled = [name for tool in SUB_TOOLS for name in tool.fills] + list(TREND_FIELDS)
    unknown = sorted(set(filled) - set(INPUT_FIELDS))
    if unknown:
        raise RuntimeError(f"assessment sub-tools fill unknown ScoringInputs fields: {', '.join(unknown)}")


_check_fills()


@dataclass
class Gathered:
    """What the concurrent gatherers collect: scoring inputs, plus the sub-tools' sources and warnings."""

    inputs: ScoringInputs = field(default_factory=ScoringInputs)
    prov: Provenance = field(default_factory=Provenance)
    tool_sources: dict[str, SourceRef] = field(default_factory=dict)
    seen_warnings: dict[str, str] = field(default_factory=dict)  # warning -> the label it was given

    def absorb(self, label: str, out: ToolResult) -> None:
        for ref in out.sources:
            self.tool_sources.setdefault(ref.endpoint, ref)
        for warning in out.warnings[:MAX_WARNINGS_PER_TOOL]:
            # The reserve tool runs twice (7 and 30 days) and says the same about its coverage both times: said
            # once, under the tool's name without the window, whichever run finished first.
            first = self.seen_warnings.get(warning)
            if first is None:
                self.seen_warnings[warning] = label
                self.prov.warn(f"{label}: {warning}")
            elif first != label and f"{first}: {warning}" in self.prov.warnings:
                tool = label.split(" (")[0]
                self.prov.warnings[self.prov.warnings.index(f"{first}: {warning}")] = f"{tool}: {warning}"
                self.seen_warnings[warning] = tool
        if len(out.warnings) > MAX_WARNINGS_PER_TOOL:
            more = len(out.warnings) - MAX_WARNINGS_PER_TOOL
            self.prov.warn(f"{label}: {more} more warning(s); call the tool itself for all of them")

    def sources(self) -> list[SourceRef]:
        merged = dict(self.tool_sources)
        merged.update({ref.endpoint: ref for ref in self.prov.sources})
        return list(merged.values())


async def gather_tool(tool: SubTool[Any], deps: Deps, asset: Asset, pit: PointInTime, got: Gathered) -> None:
    fields: Fields = {}
    deadline = deps.config.tool_deadline_s
    try:
        out = None
        # Its requests end by the sub-tool deadline; the guard only catches work that is not a request.
        with call_context(deadline), anyio.move_on_after(deadline + STRAGGLER_GRACE_S):
            out = await tool.run(deps, asset, pit)
        if out is None:
            reason = f"{tool.label} not answered within {deadline:g} s; left out so the assessment is not held up"
        else:
            got.absorb(tool.label, out)
            fields = tool.adapt(out)
            reason = f"{tool.label} returned no value (see its warnings)"
    except InputError as exc:
        reason = f"{tool.label} rejected the request: {exc}"
    except Exception as exc:  # one tool failing must degrade its signals only, never the assessment
        reason = f"{tool.label} failed: {type(exc).__name__}: {exc}"
    stray = set(fields) - set(tool.fills)
    if stray:
        raise RuntimeError(f"{tool.label}'s adapter filled {sorted(stray)}, which it does not declare")
    for name in tool.fills:
        value = fields.get(name)
        if isinstance(value, Observed):
            setattr(got.inputs, name, value)
        else:
            got.inputs.reasons.setdefault(name, f"{tool.label}: {value}" if isinstance(value, str) else reason)


def adapt_trend(stats: TrendStats, src: str, stale: bool) -> Fields:
    at = day_start(stats.close_day)
    values = {
        "close_usd": stats.close,
        "prior_swing_high_usd": stats.prior_swing_high,
        "price_vs_ma50_pct": stats.price_vs_ma50_pct,
        "price_vs_ma200_pct": stats.price_vs_ma200_pct,
        "swing_high_sequence": stats.swing_high_sequence,
    }
    return {name: Observed(float(value), src, at, stale) for name, value in values.items() if value is not None}


def _daily_window(cutoff: datetime, bars: int) -> tuple[datetime, datetime]:
    # The same window arithmetic as the premium tool's daily fetch, so both hit one cached Coinbase request.
    day = 86400
    last_open = datetime.fromtimestamp((int(cutoff.timestamp()) // day) * day, UTC) - timedelta(days=1)
    return last_open - timedelta(days=bars - 1), last_open


async def gather_trend(deps: Deps, asset: str, cutoff: datetime, got: Gathered) -> None:
    inputs, prov = got.inputs, got.prov
    start, end = _daily_window(cutoff, LOOKBACK_DAYS)
    try:
        # Through the history store, as the premium tool reads the same bars: stored closed bars are not refetched.
        rows, fetches = await candle_store.fetch_candles(
            deps.store, COINBASE, deps.http, f"{asset}-USD", "1d", start, end, closed_by=cutoff
        )
    except UpstreamError as exc:
        prov.failed("Coinbase daily candles (trend)", exc)
        for name in TREND_FIELDS:
            inputs.reasons[name] = f"Coinbase daily candles unavailable: {exc.kind} ({exc.message})"
        return
    prov.add(fetches)
    bars = [DailyBar(c.open_time.date().isoformat(), c.high, c.close) for c in rows if c.closed]
    stats = trend_stats(bars)
    stale = any(f.stale for f in fetches)
    for name, value in adapt_trend(stats, "coinbase daily candles", stale).items():
        setattr(inputs, name, value)
    for name in TREND_FIELDS:
        inputs.reasons.setdefault(name, f"too few Coinbase daily bars ({len(bars)}) for {name}")


async def gather_inputs(deps: Deps, asset: Asset, pit: PointInTime) -> Gathered:
    """Every indicator tool and the trend candles at once, so the call waits only for the slowest upstream.

    Every sub-tool answers for the same `pit`: one parse of `as_of`, one clock reading."""
    got = Gathered()
    await gather(
        lambda: gather_all(partial(gather_tool, tool, deps, asset, pit, got) for tool in SUB_TOOLS),
        lambda: gather_trend(deps, asset, pit.bar_cutoff, got),
    )
    return got
