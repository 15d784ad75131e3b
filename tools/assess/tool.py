"""assess_rebound_vs_reversal: gathers every indicator tool concurrently and scores the evidence (tools/scoring.py).

Each indicator tool is imported lazily: a tool that is not installed, raises, or lacks a field makes its signals
`unavailable` with the reason, which lowers coverage and confidence but never fails the assessment. Small adapters,
one per tool, map each tool's output (the minimum fields of contract.md) onto `ScoringInputs`.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import TYPE_CHECKING, Any

import anyio

from fetchers import coinbase
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from schemas.assess import Assessment
from schemas.common import SourceRef
from schemas.market import Candle
from tools.args import AsOfArg, AssetArg
from tools.assess.scoring import Observed, ScoreResult, ScoringInputs, methodology_markdown, score
from tools.assess.trend import LOOKBACK_DAYS, DailyBar, trend_stats
from tools.deps import Deps
from tools.errors import InputError
from tools.history import candle_store
from tools.point_in_time import PointInTime
from tools.provenance import Provenance
from tools.registry import ToolArgs, ToolSpec

if TYPE_CHECKING:
    pass

DESCRIPTION = """After a sharp drop, is the bounce a rebound inside a downtrend or a real reversal? Gathers ETF
flows, Coinbase premium, leverage, exchange reserves, macro and trend, reads each signal bullish/bearish/neutral/
unavailable against published thresholds, and returns verdict (reversal | rebound_in_downtrend | undetermined),
score (-1..1), confidence and coverage (0..1), per-signal evidence with source and as-of, flip_signals (what would
change the verdict: current, threshold, met, distance) and a one-paragraph summary. Missing data lowers coverage."""

METHODOLOGY = methodology_markdown()

# An adapter maps each ScoringInputs field it fills to an Observed value, or to the reason it has none.
Fields = dict[str, Observed | str]


class MissingField(LookupError):
    """The tool's output lacks a field the adapter needs (an older or different tool version)."""


_ABSENT = object()


def _pick(obj: Any, path: str) -> Any:
    """The value at a dotted path; None when a step is null; MissingField when a step does not exist."""
    for part in path.split("."):
        if obj is None:
            return None
        obj = obj.get(part, _ABSENT) if isinstance(obj, dict) else getattr(obj, part, _ABSENT)
        if obj is _ABSENT:
            raise MissingField(path)
    return obj


def _read(out: Any, path: str, src: str, at: datetime | None, stale: bool, scale: float = 1.0) -> Observed | str:
    try:
        value = _pick(out, path)
    except MissingField:
        return f"its output has no field {path}"
    if value is None:
        return f"{path} is null (see its warnings)"
    return Observed(float(value) * scale, src, at, stale)


def _source(tool: str, out: Any) -> tuple[str, bool]:
    refs = getattr(out, "sources", None) or []
    names = sorted({str(getattr(r, "name", r)) for r in refs})
    stale = any(bool(getattr(r, "stale", False)) for r in refs)
    return (f"{tool} ({', '.join(names)})" if names else tool), stale


def _date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# -- adapters: one per tool, output model -> ScoringInputs fields ---------------------------------------------------


def adapt_premium(out: Any) -> Fields:
    src, stale = _source("get_coinbase_premium", out)
    at = _date(_pick(out, "current.ts")) or out.as_of
    fields: Fields = {"premium_pct": _read(out, "current.premium_pct", src, at, stale)}
    sign, days = _pick(out, "streak.sign"), _pick(out, "streak.days")
    if sign is None or days is None:
        fields["premium_streak_days"] = "streak.sign is null (no daily bars)"
    else:
        signed = days if sign == "positive" else -days if sign == "negative" else 0
        fields["premium_streak_days"] = Observed(float(signed), src, out.as_of, stale)
    return fields


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def adapt_etf(out: Any) -> Fields:
    src, stale = _source("get_etf_flows", out)
    days = sorted(_pick(out, "days") or [], key=lambda d: str(_field(d, "date")))
    fields: Fields = {"etf_mtd_usd": _read(out, "month_to_date_usd", src, out.as_of, stale)}
    if not days:
        fields["etf_latest_day_usd"] = fields["etf_5d_avg_usd"] = "no trading days in its window"
        return fields
    at = _date(str(_field(days[-1], "date")))
    total = _field(days[-1], "total_usd")
    fields["etf_latest_day_usd"] = (
        Observed(float(total), src, at, stale) if total is not None else "the latest day's total_usd is null"
    )
    # A missing day is never a zero: the 5-day mean needs five reported days.
    totals = [float(v) for v in (_field(d, "total_usd") for d in days[-5:]) if v is not None]
    fields["etf_5d_avg_usd"] = (
        Observed(fmean(totals), src, at, stale)
        if len(totals) == 5
        else f"only {len(totals)} of the last 5 days reported"
    )
    return fields


def adapt_leverage(out: Any) -> Fields:
    src, stale = _source("get_leverage_state", out)
    fields: Fields = {
        "oi_change_7d_pct": _read(out, "open_interest.change_7d_pct", src, out.as_of, stale),
        "liq_long_7d_usd": _read(out, "liquidations.long_usd_7d", src, out.as_of, stale),
        "liq_short_7d_usd": _read(out, "liquidations.short_usd_7d", src, out.as_of, stale),
    }
    # Rates are already normalised to 8 hours per venue (venues settle every 1, 4 or 8 hours).
    rates = [_field(f, "rate_8h_pct") for f in _pick(out, "funding") or []]
    present = [float(r) for r in rates if r is not None]
    fields["funding_8h_pct"] = Observed(fmean(present), src, out.as_of, stale) if present else "no venue reported"
    return fields


def adapt_reserves_7d(out: Any) -> Fields:
    src, stale = _source("exchange_reserve_trend", out)
    at = _date(_pick(out, "window_end")) if hasattr(out, "window_end") else None
    # net_flow_btc (inflow - outflow) when the tool reports it; else the reserve change, which is the same flow.
    flow = _read(out, "net_flow_btc", src, at or out.as_of, stale) if hasattr(out, "net_flow_btc") else None
    if not isinstance(flow, Observed):
        flow = _read(out, "change_btc", src, at or out.as_of, stale)
    return {"exchange_netflow_7d_btc": flow}


def adapt_reserves_30d(out: Any) -> Fields:
    src, stale = _source("exchange_reserve_trend", out)
    return {"reserve_change_30d_pct": _read(out, "change_pct", src, out.as_of, stale)}


def adapt_macro(out: Any) -> Fields:
    src, stale = _source("get_macro_backdrop", out)
    fields: Fields = {
        # cut_probability is 0..1, so its change is in probability units: x100 for percentage points.
        "cut_odds_change_1d_pp": _read(out, "fed.cut_probability_change_1d", src, out.as_of, stale, scale=100.0),
        "btc_nasdaq_beta_90d": _read(out, "btc_nasdaq.beta_90d", src, out.as_of, stale),
        "crypto_mcap_change_6w_pct": _read(out, "crypto_market_cap.change_6w_pct", src, out.as_of, stale),
        "nasdaq_change_pct": "no Nasdaq entry in its indices",
    }
    for index in _pick(out, "indices") or []:
        if "nasdaq" in str(_field(index, "name")).lower():
            at = _date(_field(index, "date")) or out.as_of
            change = _field(index, "change_pct")
            fields["nasdaq_change_pct"] = (
                Observed(float(change), src, at, stale) if change is not None else "Nasdaq change_pct is null"
            )
            break
    return fields


def adapt_trend(stats: Any, src: str, stale: bool) -> Fields:
    at = _date(stats.close_day)
    fields: Fields = {}
    for name, attr in (
        ("close_usd", "close"),
        ("prior_swing_high_usd", "prior_swing_high"),
        ("price_vs_ma50_pct", "price_vs_ma50_pct"),
        ("price_vs_ma200_pct", "price_vs_ma200_pct"),
        ("swing_high_sequence", "swing_high_sequence"),
    ):
        value = getattr(stats, attr)
        if value is not None:
            fields[name] = Observed(float(value), src, at, stale)
    return fields


# -- gathering ------------------------------------------------------------------------------------------------------


# (label, module, function, adapter, the ScoringInputs fields the adapter fills)
Gatherer = tuple[
    str, str, Callable[[Any, Deps, str, PointInTime], Awaitable[Any]], Callable[[Any], Fields], tuple[str, ...]
]

GATHERERS: tuple[Gatherer, ...] = (
    (
        "get_coinbase_premium", "tools.premium.tool",
        lambda m, d, a, t: m.compute_premium(d, a, 30, "1d", t), adapt_premium,
        ("premium_pct", "premium_streak_days"),
    ),
    (
        "get_etf_flows", "tools.etf.tool", lambda m, d, a, t: m.compute_etf_flows(d, a, 30, t), adapt_etf,
        ("etf_5d_avg_usd", "etf_mtd_usd", "etf_latest_day_usd"),
    ),
    (
        "get_leverage_state", "tools.leverage.tool", lambda m, d, a, t: m.compute_leverage(d, a, t), adapt_leverage,
        ("oi_change_7d_pct", "funding_8h_pct", "liq_long_7d_usd", "liq_short_7d_usd"),
    ),
    (
        "exchange_reserve_trend (7d)", "tools.reserves.tool", lambda m, d, a, t: m.compute_reserves(d, a, 7, t),
        adapt_reserves_7d, ("exchange_netflow_7d_btc",),
    ),
    (
        "exchange_reserve_trend (30d)", "tools.reserves.tool", lambda m, d, a, t: m.compute_reserves(d, a, 30, t),
        adapt_reserves_30d, ("reserve_change_30d_pct",),
    ),
    (
        "get_macro_backdrop", "tools.macro.tool", lambda m, d, a, t: m.compute_macro(d, t), adapt_macro,
        ("cut_odds_change_1d_pp", "btc_nasdaq_beta_90d", "nasdaq_change_pct", "crypto_mcap_change_6w_pct"),
    ),
)  # fmt: skip


# Sub-tool warnings copied into the assessment, per tool: enough to explain a gap without flooding the answer.
MAX_WARNINGS_PER_TOOL = 5

TREND_FIELDS = ("close_usd", "prior_swing_high_usd", "price_vs_ma50_pct", "price_vs_ma200_pct", "swing_high_sequence")


@dataclass
class Gathered:
    """What the concurrent gatherers collect: scoring inputs, plus the sub-tools' sources and warnings."""

    inputs: ScoringInputs = field(default_factory=ScoringInputs)
    prov: Provenance = field(default_factory=Provenance)
    tool_sources: dict[str, SourceRef] = field(default_factory=dict)

    def absorb(self, label: str, out: Any) -> None:
        for ref in getattr(out, "sources", None) or []:
            if isinstance(ref, SourceRef):
                self.tool_sources.setdefault(ref.endpoint, ref)
        warnings = list(getattr(out, "warnings", None) or [])
        for warning in warnings[:MAX_WARNINGS_PER_TOOL]:
            self.prov.warn(f"{label}: {warning}")
        if len(warnings) > MAX_WARNINGS_PER_TOOL:
            more = len(warnings) - MAX_WARNINGS_PER_TOOL
            self.prov.warn(f"{label}: {more} more warning(s); call the tool itself for all of them")

    def sources(self) -> list[SourceRef]:
        merged = dict(self.tool_sources)
        merged.update({ref.endpoint: ref for ref in self.prov.sources})
        return list(merged.values())


async def _gather_tool(gatherer: Gatherer, deps: Deps, asset: str, pit: PointInTime, got: Gathered) -> None:
    label, module_name, call, adapt, targets = gatherer
    fields: Fields = {}
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        reason = f"{label}: tool not installed"
    else:
        budget = deps.config.assess_tool_budget_s
        try:
            out = None
            with anyio.move_on_after(budget):
                out = await call(module, deps, asset, pit)
            if out is None:
                reason = f"{label} took longer than {budget:g}s; left out so the assessment is not held up"
            else:
                got.absorb(label, out)
                fields = adapt(out)
                reason = f"{label} returned no value (see its warnings)"
        except MissingField as exc:
            reason = f"{label}: its output has no field {exc.args[0]}"
        except InputError as exc:
            reason = f"{label} rejected the request: {exc}"
        except Exception as exc:  # one tool failing must degrade its signals only, never the assessment
            reason = f"{label} failed: {type(exc).__name__}: {exc}"
    for name in targets:
        value = fields.get(name)
        if isinstance(value, Observed):
            setattr(got.inputs, name, value)
        else:
            got.inputs.reasons.setdefault(name, f"{label}: {value}" if isinstance(value, str) else reason)


def _daily_window(cutoff: datetime, bars: int) -> tuple[datetime, datetime]:
    # The same window arithmetic as the premium tool's daily fetch, so both hit one cached Coinbase request.
    day = 86400
    last_open = datetime.fromtimestamp((int(cutoff.timestamp()) // day) * day, UTC) - timedelta(days=1)
    return last_open - timedelta(days=bars - 1), last_open


async def _daily_candles(
    deps: Deps, product: str, start: datetime, end: datetime, cutoff: datetime
) -> tuple[list[Candle], list[Fetched[list[Candle]]]]:
    # Through the history store, as the premium tool reads the same bars: stored closed bars are not fetched again.
    return await candle_store.fetch_candles(deps.store, coinbase, deps.http, product, "1d", start, end, now=cutoff)


async def _gather_trend(deps: Deps, asset: str, cutoff: datetime, got: Gathered) -> None:
    inputs, prov = got.inputs, got.prov
    start, end = _daily_window(cutoff, LOOKBACK_DAYS)
    try:
        rows, fetches = await _daily_candles(deps, f"{asset}-USD", start, end, cutoff)
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


async def gather_inputs(deps: Deps, asset: str, pit: PointInTime) -> Gathered:
    """Every indicator tool and the trend candles at once, so the call waits only for the slowest upstream.

    Every sub-tool answers for the same `pit`: one parse of `as_of`, one clock reading."""
    got = Gathered()
    async with anyio.create_task_group() as tg:
        for gatherer in GATHERERS:
            tg.start_soon(_gather_tool, gatherer, deps, asset, pit, got)
        tg.start_soon(_gather_trend, deps, asset, pit.bar_cutoff, got)
    return got


def _num(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f}M"
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"


def summarize(asset: str, result: ScoreResult) -> str:
    verdict = result.verdict.replace("_", " ")
    head = (
        f"{asset}: {verdict} (score {result.score:+.2f}, confidence {result.confidence:.2f}, "
        f"coverage {result.coverage:.0%} of signal weight)."
    )

    def names(reading: str) -> str:
        chosen = [s.name for s in result.signals if s.reading == reading]
        return ", ".join(chosen) if chosen else "none"

    parts = [head, f"Bullish: {names('bullish')}.", f"Bearish: {names('bearish')}."]
    missing = names("unavailable")
    if missing != "none":
        parts.append(f"Unavailable: {missing}.")
    watch = [
        f"{f.name} (now {_num(f.current)} {f.unit}, threshold {_num(f.threshold)}, {_num(f.distance)} to go)"
        for f in result.flip_signals
        if f.met is False and f.current is not None and f.threshold is not None and f.distance is not None
    ]
    met = [f.name for f in result.flip_signals if f.met]
    if met:
        parts.append(f"Flip conditions already met: {', '.join(met)}.")
    if watch:
        parts.append(f"Watch: {'; '.join(watch)}.")
    return " ".join(parts)


async def compute_assessment(deps: Deps, asset: str, pit: PointInTime) -> Assessment:
    got = await gather_inputs(deps, asset, pit)
    result = score(got.inputs)
    for signal in result.signals:
        if signal.reading == "unavailable":
            got.prov.warn(f"{signal.name} {signal.evidence}")
    return Assessment(
        as_of=pit.at,
        asset=asset,
        verdict=result.verdict,
        score=result.score,
        confidence=result.confidence,
        coverage=result.coverage,
        signals=result.signals,
        flip_signals=result.flip_signals,
        summary=summarize(asset, result),
        sources=got.sources(),
        warnings=got.prov.warnings,
    )


class AssessArgs(ToolArgs):
    asset: AssetArg = "BTC"
    as_of: AsOfArg = None


async def run(deps: Deps, args: AssessArgs, pit: PointInTime) -> Assessment:
    return await compute_assessment(deps, args.asset, pit)


SPEC = ToolSpec(
    name="assess_rebound_vs_reversal",
    title="Rebound or reversal?",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=AssessArgs,
    output=Assessment,
    run=run,
)
