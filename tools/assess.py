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
from mcp.server.mcpserver import Context

from fetchers import coinbase
from fetchers.errors import UpstreamError
from schemas.assess import Assessment
from schemas.common import SourceRef
from tools.common import AsOfArg, AssetArg, Deps, InputError, Provenance, bar_cutoff, deps_from, parse_as_of, tool_error
from tools.scoring import Observed, ScoreResult, ScoringInputs, methodology_markdown, score
from tools.trend import LOOKBACK_DAYS, DailyBar, trend_stats

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

TOOL_NAME = "assess_rebound_vs_reversal"
TITLE = "Rebound or reversal?"
DESCRIPTION = """After a sharp drop, is the bounce a rebound inside a downtrend or a real reversal? Gathers ETF
flows, Coinbase premium, leverage, exchange reserves, macro and trend, reads each signal bullish/bearish/neutral/
unavailable against published thresholds, and returns verdict (reversal | rebound_in_downtrend | undetermined),
score (-1..1), confidence and coverage (0..1), per-signal evidence with source and as-of, flip_signals (what would
change the verdict: current, threshold, met, distance) and a one-paragraph summary. Missing data lowers coverage."""

METHODOLOGY = methodology_markdown()

Fields = dict[str, Observed]


class MissingField(LookupError):
    """The tool's output lacks a field the adapter needs (an older or different tool version)."""


def _pick(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
        if obj is None:
            raise MissingField(path)
    return obj


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
    fields: Fields = {}
    at = _date(getattr(out.current, "ts", None)) or out.as_of
    if out.current.premium_pct is not None:
        fields["premium_pct"] = Observed(float(out.current.premium_pct), src, at, stale)
    sign, days = out.streak.sign, out.streak.days
    if sign is not None:
        signed = days if sign == "positive" else -days if sign == "negative" else 0
        fields["premium_streak_days"] = Observed(float(signed), src, out.as_of, stale)
    return fields


def adapt_etf(out: Any) -> Fields:
    src, stale = _source("get_etf_flows", out)
    days = sorted(_pick(out, "days"), key=lambda d: str(_pick(d, "date")))
    fields: Fields = {}
    if days:
        last = days[-1]
        at = _date(str(_pick(last, "date")))
        total = last.get("total_usd") if isinstance(last, dict) else getattr(last, "total_usd", None)
        if total is not None:
            fields["etf_latest_day_usd"] = Observed(float(total), src, at, stale)
        window = [d.get("total_usd") if isinstance(d, dict) else getattr(d, "total_usd", None) for d in days[-5:]]
        # A missing day is never a zero: the 5-day mean needs five reported days.
        totals = [float(v) for v in window if v is not None]
        if len(totals) == 5:
            fields["etf_5d_avg_usd"] = Observed(fmean(totals), src, at, stale)
    mtd = getattr(out, "month_to_date_usd", None)
    if mtd is not None:
        fields["etf_mtd_usd"] = Observed(float(mtd), src, out.as_of, stale)
    return fields


def adapt_leverage(out: Any) -> Fields:
    src, stale = _source("get_leverage_state", out)
    fields: Fields = {}
    paths = {
        "oi_change_7d_pct": "open_interest.change_7d_pct",
        "liq_long_7d_usd": "liquidations.long_usd_7d",
        "liq_short_7d_usd": "liquidations.short_usd_7d",
    }
    for name, path in paths.items():
        try:
            fields[name] = Observed(float(_pick(out, path)), src, out.as_of, stale)
        except MissingField:
            continue
    rates = [getattr(f, "rate_8h_pct", None) for f in getattr(out, "funding", None) or []]
    present = [float(r) for r in rates if r is not None]
    if present:
        fields["funding_8h_pct"] = Observed(fmean(present), src, out.as_of, stale)
    return fields


def adapt_reserves_7d(out: Any) -> Fields:
    src, stale = _source("exchange_reserve_trend", out)
    return {"exchange_netflow_7d_btc": Observed(float(_pick(out, "change_btc")), src, out.as_of, stale)}


def adapt_reserves_30d(out: Any) -> Fields:
    src, stale = _source("exchange_reserve_trend", out)
    return {"reserve_change_30d_pct": Observed(float(_pick(out, "change_pct")), src, out.as_of, stale)}


# Field names a macro tool may use for the weekly change in cut odds (not in the contract's minimum).
CUT_ODDS_CHANGE_FIELDS = ("fed.cut_probability_change_7d_pp", "fed.cut_probability_change_7d")


def adapt_macro(out: Any) -> Fields:
    src, stale = _source("get_macro_backdrop", out)
    fields: Fields = {}
    for path in CUT_ODDS_CHANGE_FIELDS:
        try:
            fields["cut_odds_change_7d_pp"] = Observed(float(_pick(out, path)), src, out.as_of, stale)
            break
        except MissingField:
            continue
    for name, path in (
        ("btc_nasdaq_beta_90d", "btc_nasdaq.beta_90d"),
        ("crypto_mcap_change_6w_pct", "crypto_market_cap.change_6w_pct"),
    ):
        try:
            fields[name] = Observed(float(_pick(out, path)), src, out.as_of, stale)
        except MissingField:
            continue
    for index in getattr(out, "indices", None) or []:
        if "nasdaq" in str(getattr(index, "name", "")).lower() and getattr(index, "change_pct", None) is not None:
            at = _date(getattr(index, "date", None)) or out.as_of
            fields["nasdaq_change_pct"] = Observed(float(index.change_pct), src, at, stale)
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
    str, str, Callable[[Any, Deps, str, str | None], Awaitable[Any]], Callable[[Any], Fields], tuple[str, ...]
]

GATHERERS: tuple[Gatherer, ...] = (
    (
        "get_coinbase_premium", "tools.premium",
        lambda m, d, a, t: m.compute_premium(d, a, 30, "1d", t), adapt_premium,
        ("premium_pct", "premium_streak_days"),
    ),
    (
        "get_etf_flows", "tools.etf_flows", lambda m, d, a, t: m.compute_etf_flows(d, a, 30, t), adapt_etf,
        ("etf_5d_avg_usd", "etf_mtd_usd", "etf_latest_day_usd"),
    ),
    (
        "get_leverage_state", "tools.leverage", lambda m, d, a, t: m.compute_leverage(d, a, t), adapt_leverage,
        ("oi_change_7d_pct", "funding_8h_pct", "liq_long_7d_usd", "liq_short_7d_usd"),
    ),
    (
        "exchange_reserve_trend (7d)", "tools.reserves", lambda m, d, a, t: m.compute_reserves(d, a, 7, t),
        adapt_reserves_7d, ("exchange_netflow_7d_btc",),
    ),
    (
        "exchange_reserve_trend (30d)", "tools.reserves", lambda m, d, a, t: m.compute_reserves(d, a, 30, t),
        adapt_reserves_30d, ("reserve_change_30d_pct",),
    ),
    (
        "get_macro_backdrop", "tools.macro", lambda m, d, a, t: m.compute_macro(d, t), adapt_macro,
        ("cut_odds_change_7d_pp", "btc_nasdaq_beta_90d", "nasdaq_change_pct", "crypto_mcap_change_6w_pct"),
    ),
)  # fmt: skip

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
        for warning in getattr(out, "warnings", None) or []:
            self.prov.warn(f"{label}: {warning}")

    def sources(self) -> list[SourceRef]:
        merged = dict(self.tool_sources)
        merged.update({ref.endpoint: ref for ref in self.prov.sources})
        return list(merged.values())


async def _gather_tool(gatherer: Gatherer, deps: Deps, asset: str, as_of_raw: str | None, got: Gathered) -> None:
    label, module_name, call, adapt, targets = gatherer
    fields: Fields = {}
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        reason = f"{label}: tool not installed"
    else:
        try:
            out = await call(module, deps, asset, as_of_raw)
            got.absorb(label, out)
            fields = adapt(out)
            reason = f"{label} returned no value (see its warnings)"
        except MissingField as exc:
            reason = f"{label} output has no field {exc.args[0]}"
        except InputError as exc:
            reason = f"{label} rejected the request: {exc}"
        except Exception as exc:  # one tool failing must degrade its signals only, never the assessment
            reason = f"{label} failed: {type(exc).__name__}: {exc}"
    for name in targets:
        if name in fields:
            setattr(got.inputs, name, fields[name])
        else:
            got.inputs.reasons.setdefault(name, reason)


def _daily_window(cutoff: datetime, bars: int) -> tuple[datetime, datetime]:
    # The same window arithmetic as the premium tool's daily fetch, so both hit one cached Coinbase request.
    day = 86400
    last_open = datetime.fromtimestamp((int(cutoff.timestamp()) // day) * day, UTC) - timedelta(days=1)
    return last_open - timedelta(days=bars - 1), last_open


async def _gather_trend(deps: Deps, asset: str, cutoff: datetime, got: Gathered) -> None:
    inputs, prov = got.inputs, got.prov
    start, end = _daily_window(cutoff, LOOKBACK_DAYS)
    try:
        rows, fetches = await coinbase.fetch_candles(deps.http, f"{asset}-USD", "1d", start, end, now=cutoff)
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


async def gather_inputs(deps: Deps, asset: str, as_of_raw: str | None) -> tuple[Gathered, datetime]:
    """Every indicator tool and the trend candles at once, so the call waits only for the slowest upstream."""
    now = deps.clock()
    as_of = parse_as_of(as_of_raw, now)
    cutoff = bar_cutoff(as_of, now)
    got = Gathered()
    async with anyio.create_task_group() as tg:
        for gatherer in GATHERERS:
            tg.start_soon(_gather_tool, gatherer, deps, asset, as_of_raw, got)
        tg.start_soon(_gather_trend, deps, asset, cutoff, got)
    return got, as_of or now


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


async def compute_assessment(deps: Deps, asset: str, as_of_raw: str | None) -> Assessment:
    got, as_of = await gather_inputs(deps, asset, as_of_raw)
    result = score(got.inputs)
    for signal in result.signals:
        if signal.reading == "unavailable":
            got.prov.warn(f"{signal.name} {signal.evidence}")
    return Assessment(
        as_of=as_of,
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


async def assess_rebound_vs_reversal(
    ctx: Context[Any, Any], asset: AssetArg = "BTC", as_of: AsOfArg = None
) -> Assessment:
    try:
        return await compute_assessment(deps_from(ctx), asset, as_of)
    except InputError as exc:
        raise tool_error(exc) from None


BRIEF_PROMPT = """Write a sourced market brief for {asset} answering: is the current bounce a rebound inside a
downtrend or a real reversal?

Call the windvane tools (get_macro_backdrop, get_etf_flows, get_coinbase_premium, get_leverage_state,
exchange_reserve_trend, assess_rebound_vs_reversal) with asset="{asset}", then write, in this order:
1. Macro backdrop: equity indices, Fed cut odds, BTC-Nasdaq correlation/beta, market-cap drawdown.
2. Evidence: ETF flows (5-day, month-to-date, streak), the Coinbase premium (level and streak), leverage
   (open interest, funding, liquidations).
3. Liquidity: exchange reserves and net flow.
4. Verdict and what to watch: the assessment's verdict with its score, confidence and coverage, then each flip
   signal with its current value, threshold and distance.
Cite the source and as-of time of every figure. Say which figures were unavailable or stale (see `warnings`);
never fill a gap with a guess."""


def register_prompts(mcp: MCPServer[Any]) -> None:
    @mcp.prompt(
        name="market_brief",
        title="Market brief",
        description="Sourced brief: macro backdrop, evidence, liquidity, then verdict and what to watch.",
    )
    def market_brief(asset: str = "BTC") -> str:
        return BRIEF_PROMPT.format(asset=asset.strip().upper() or "BTC")
