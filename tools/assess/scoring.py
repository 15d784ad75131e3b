"""Rebound-or-reversal scoring: one declarative table of signals, pure functions, no I/O.

Every figure enters as an `Observed` (value, source, as_of, stale) in `ScoringInputs`; a missing figure is `None`
with a reason in `ScoringInputs.reasons`. The table `SIGNALS` says how each reading is derived, its thresholds,
weight and rationale. `score()` turns inputs into readings, a score, coverage, evidence agreement, a verdict and
the flip signals. The methodology text is generated from the same table (`methodology_markdown`), so docs cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Literal

from schemas.assess import FlipSignal, Reading, SignalEvidence, Verdict
from tools.numbers import human

# Below this share of the total weight the evidence is too thin to call a verdict.
MIN_COVERAGE = 0.4
# |score| needed for a verdict; between the two the evidence is mixed and the verdict is undetermined.
REVERSAL_MIN_SCORE = 0.2
REBOUND_MAX_SCORE = -0.2


@dataclass(frozen=True, slots=True)
class Observed:
    value: float
    source: str
    as_of: datetime | None
    stale: bool = False


@dataclass
class ScoringInputs:
    """One optional field per figure the scoring reads. `None` means unavailable; `reasons[field]` says why."""

    premium_pct: Observed | None = None
    premium_streak_days: Observed | None = None  # signed: +n for n positive days in a row, -n for negative
    etf_5d_avg_usd: Observed | None = None
    etf_mtd_usd: Observed | None = None
    etf_latest_day_usd: Observed | None = None
    exchange_netflow_7d_btc: Observed | None = None  # + = coins moved onto exchanges
    reserve_change_30d_pct: Observed | None = None
    oi_change_7d_pct: Observed | None = None
    funding_8h_pct: Observed | None = None
    liq_long_7d_usd: Observed | None = None
    liq_short_7d_usd: Observed | None = None
    close_usd: Observed | None = None
    prior_swing_high_usd: Observed | None = None
    price_vs_ma50_pct: Observed | None = None
    price_vs_ma200_pct: Observed | None = None
    swing_high_sequence: Observed | None = None  # signed: +n higher highs in a row, -n lower highs in a row
    cut_odds_change_1d_pp: Observed | None = None  # next-meeting cut odds now minus about a day earlier
    btc_nasdaq_beta_90d: Observed | None = None
    nasdaq_change_pct: Observed | None = None
    crypto_mcap_change_6w_pct: Observed | None = None
    reasons: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Observed | None:
        value = getattr(self, name)
        assert value is None or isinstance(value, Observed)
        return value

    def reason(self, name: str) -> str:
        return self.reasons.get(name, f"{name} not provided")


INPUT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ScoringInputs) if f.name != "reasons")

Op = Literal[">", "<"]


@dataclass(frozen=True, slots=True)
class Rule:
    op: Op
    threshold: float

    def holds(self, value: float) -> bool:
        return value > self.threshold if self.op == ">" else value < self.threshold

    def text(self, unit: str = "") -> str:
        return f"{self.op} {_fmt(self.threshold)} {unit}".rstrip()


Derive = Callable[[dict[str, float]], float | None]


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    group: str
    inputs: tuple[str, ...]
    unit: str
    bullish: Rule
    bearish: Rule
    weight: float
    rationale: str
    how: str = ""  # how the value is derived from the inputs, when it is not one input as is
    derive: Derive | None = None

    def value(self, values: dict[str, float]) -> float | None:
        if self.derive is None:
            return values[self.inputs[0]]
        return self.derive(values)


def _ratio_pct(numerator: str, denominator: str) -> Derive:
    def derive(v: dict[str, float]) -> float | None:
        return None if v[denominator] <= 0 else 100 * (v[numerator] / v[denominator] - 1)

    return derive


def _long_share(v: dict[str, float]) -> float | None:
    total = v["liq_long_7d_usd"] + v["liq_short_7d_usd"]
    return None if total <= 0 else 100 * v["liq_long_7d_usd"] / total


# The day the thresholds below were fixed: they were set a priori from market conventions and checked against the
# distribution of 2024-01-01..2025-05-01 only. Every day from this one on is out of sample for any backtest, whatever
# range it covers; changing a threshold means moving this date to the day of the change.
THRESHOLDS_FIXED = date(2025, 5, 2)

# The table. Direction lives in the rules: a signal is bullish when its bullish rule holds, bearish when its bearish
# rule holds, neutral otherwise.
SIGNALS: tuple[Signal, ...] = (
    Signal(
        name="cut_odds_change",
        group="macro",
        inputs=("cut_odds_change_1d_pp",),
        unit="pp",
        bullish=Rule(">", 5),
        bearish=Rule("<", -5),
        weight=0.5,
        rationale="A jump in the odds of a Fed cut eases financial conditions; a drop removes a tailwind.",
        how="change of the next-meeting cut probability over about a day (percentage points)",
    ),
    Signal(
        name="nasdaq_implied_move",
        group="macro",
        inputs=("btc_nasdaq_beta_90d", "nasdaq_change_pct"),
        unit="%",
        bullish=Rule(">", 1),
        bearish=Rule("<", -1),
        weight=0.25,
        rationale="With a high BTC-Nasdaq beta, the equity tape drives the bounce.",
        how="beta_90d * Nasdaq Composite change_pct",
        derive=lambda v: v["btc_nasdaq_beta_90d"] * v["nasdaq_change_pct"],
    ),
    Signal(
        name="etf_flow_5d",
        group="flows",
        inputs=("etf_5d_avg_usd",),
        unit="USD/day",
        bullish=Rule(">", 100e6),
        bearish=Rule("<", -100e6),
        weight=1.0,
        rationale="Sustained US spot ETF buying is the marginal demand a reversal needs; outflows cap bounces.",
        how="mean daily net flow over the last 5 trading days",
    ),
    Signal(
        name="etf_flow_mtd",
        group="flows",
        inputs=("etf_mtd_usd",),
        unit="USD",
        bullish=Rule(">", 500e6),
        bearish=Rule("<", -500e6),
        weight=0.5,
        rationale="Month-to-date flow says whether allocators are adding or redeeming this month.",
    ),
    Signal(
        name="etf_outflow_easing",
        group="flows",
        inputs=("etf_latest_day_usd", "etf_5d_avg_usd"),
        unit="USD",
        bullish=Rule(">", 100e6),
        bearish=Rule("<", -100e6),
        weight=0.5,
        rationale="A latest day much better than the 5-day mean shows selling pressure fading.",
        how="latest day net flow - 5-day mean",
        derive=lambda v: v["etf_latest_day_usd"] - v["etf_5d_avg_usd"],
    ),
    Signal(
        name="premium_level",
        group="premium",
        inputs=("premium_pct",),
        unit="%",
        bullish=Rule(">", 0.03),
        bearish=Rule("<", -0.03),
        weight=1.0,
        rationale="Coinbase above the world means US buyers lead; a discount means US selling into the bounce.",
    ),
    Signal(
        name="premium_streak",
        group="premium",
        inputs=("premium_streak_days",),
        unit="days",
        bullish=Rule(">", 4),
        bearish=Rule("<", -4),
        weight=0.5,
        rationale="A premium sign held for 5+ days is a regime, not noise.",
        how="consecutive daily closes with the same premium sign (+ positive, - negative)",
    ),
    Signal(
        name="open_interest_7d",
        group="leverage",
        inputs=("oi_change_7d_pct",),
        unit="%",
        bullish=Rule("<", -5),
        bearish=Rule(">", 5),
        weight=0.5,
        rationale="A bounce on rising open interest is leverage-fed and fragile; falling OI means leverage flushed.",
    ),
    Signal(
        name="funding",
        group="leverage",
        inputs=("funding_8h_pct",),
        unit="%/8h",
        bullish=Rule("<", 0.0),
        bearish=Rule(">", 0.025),
        weight=0.5,
        rationale="Negative funding (shorts pay) is fuel for a squeeze higher; rich funding means crowded longs.",
        how="mean 8-hour funding rate across venues",
    ),
    Signal(
        name="liquidation_flush",
        group="leverage",
        inputs=("liq_long_7d_usd", "liq_short_7d_usd"),
        unit="% long",
        bullish=Rule(">", 75),
        bearish=Rule("<", 35),
        weight=0.5,
        rationale="A week dominated by long liquidations is a completed flush; a short squeeze is borrowed strength.",
        how="100 * long / (long + short) liquidations over 7 days",
        derive=_long_share,
    ),
    Signal(
        name="exchange_netflow_7d",
        group="liquidity",
        inputs=("exchange_netflow_7d_btc",),
        unit="BTC",
        bullish=Rule("<", -10_000),
        bearish=Rule(">", 10_000),
        weight=0.75,
        rationale="Coins moving onto exchanges are supply for sale; coins leaving are held.",
        how="exchange reserve change over 7 days (net inflow +)",
    ),
    Signal(
        name="exchange_reserve_30d",
        group="liquidity",
        inputs=("reserve_change_30d_pct",),
        unit="%",
        bullish=Rule("<", -1),
        bearish=Rule(">", 1),
        weight=0.5,
        rationale="A shrinking exchange float over a month supports a durable move up.",
    ),
    Signal(
        name="price_vs_swing_high",
        group="trend",
        inputs=("close_usd", "prior_swing_high_usd"),
        unit="%",
        bullish=Rule(">", 0),
        bearish=Rule("<", -5),
        weight=1.0,
        rationale="A reversal breaks the prior swing high; a rebound stalls beneath it.",
        how="100 * (close / prior swing high - 1); swing high = last daily high above the 5 days either side",
        derive=_ratio_pct("close_usd", "prior_swing_high_usd"),
    ),
    Signal(
        name="price_vs_ma50",
        group="trend",
        inputs=("price_vs_ma50_pct",),
        unit="%",
        bullish=Rule(">", 1),
        bearish=Rule("<", -1),
        weight=0.75,
        rationale="Trading below the 50-day average keeps the medium-term trend down.",
        how="100 * (close / 50-day simple mean of closes - 1)",
    ),
    Signal(
        name="price_vs_ma200",
        group="trend",
        inputs=("price_vs_ma200_pct",),
        unit="%",
        bullish=Rule(">", 1),
        bearish=Rule("<", -1),
        weight=0.5,
        rationale="The 200-day average separates bull and bear regimes.",
        how="100 * (close / 200-day simple mean of closes - 1)",
    ),
    Signal(
        name="lower_highs",
        group="trend",
        inputs=("swing_high_sequence",),
        unit="swings",
        bullish=Rule(">", 0),
        bearish=Rule("<", -1),
        weight=0.75,
        rationale="Two or more lower swing highs in a row define a downtrend; a higher high breaks it.",
        how="run of swing highs each above (+) or below (-) the one before",
    ),
    Signal(
        name="crypto_market_cap_6w",
        group="breadth",
        inputs=("crypto_mcap_change_6w_pct",),
        unit="%",
        bullish=Rule(">", 5),
        bearish=Rule("<", -10),
        weight=0.5,
        rationale="A broad market-cap drawdown means the whole asset class is de-risking, not just BTC.",
    ),
)

TOTAL_WEIGHT = sum(s.weight for s in SIGNALS)


@dataclass(frozen=True, slots=True)
class Flip:
    name: str
    input: str  # a Signal name (its value) or an input field
    condition: str
    rule: Rule
    threshold_from: str | None = None  # an input field holding the threshold (e.g. the swing high)


FLIPS: tuple[Flip, ...] = (
    Flip("premium_turns_positive", "premium_level", "Coinbase premium turns positive", Rule(">", 0.0)),
    Flip(
        "etf_outflow_under_100m",
        "etf_latest_day_usd",
        "latest daily US spot ETF net flow better than -US$100M",
        Rule(">", -100e6),
    ),
    Flip(
        "exchange_netflow_turns_inflow",
        "exchange_netflow_7d",
        "7-day exchange net flow turns to net inflow",
        Rule(">", 0.0),
    ),
    Flip(
        "price_breaks_swing_high",
        "close_usd",
        "daily close above the prior swing high",
        Rule(">", 0.0),
        threshold_from="prior_swing_high_usd",
    ),
)


@dataclass(frozen=True, slots=True)
class ScoreResult:
    verdict: Verdict
    score: float
    evidence_agreement: float
    coverage: float
    signals: list[SignalEvidence]
    flip_signals: list[FlipSignal]


def _fmt(value: float) -> str:
    return human(value, thousands_decimals=0)


def _check_table() -> None:
    """Every name the table reads must be a ScoringInputs field (or, for a flip, a signal): caught at import."""
    signals = {s.name for s in SIGNALS}
    unknown = [f"{s.name}.inputs: {name}" for s in SIGNALS for name in s.inputs if name not in INPUT_FIELDS]
    for flip in FLIPS:
        if flip.input not in INPUT_FIELDS and flip.input not in signals:
            unknown.append(f"{flip.name}.input: {flip.input}")
        if flip.threshold_from is not None and flip.threshold_from not in INPUT_FIELDS:
            unknown.append(f"{flip.name}.threshold_from: {flip.threshold_from}")
    if unknown:
        raise RuntimeError(f"scoring table names unknown inputs: {'; '.join(unknown)}")


_check_table()


def _evaluate(signal: Signal, inputs: ScoringInputs) -> SignalEvidence:
    observed = [inputs.get(name) for name in signal.inputs]
    missing = [name for name, obs in zip(signal.inputs, observed, strict=True) if obs is None]
    present = [obs for obs in observed if obs is not None]
    source = "; ".join(dict.fromkeys(o.source for o in present)) or None
    as_ofs = [o.as_of for o in present if o.as_of is not None]
    as_of = min(as_ofs) if as_ofs else None
    stale = any(o.stale for o in present) if present else None

    def unavailable(why: str) -> SignalEvidence:
        return SignalEvidence(
            name=signal.name, group=signal.group, value=None, unit=signal.unit, reading="unavailable",
            weight=signal.weight, evidence=f"unavailable: {why}", source=source, as_of=as_of, stale=stale,
        )  # fmt: skip

    if missing:
        return unavailable("; ".join(dict.fromkeys(inputs.reason(name) for name in missing)))
    value = signal.value({name: obs.value for name, obs in zip(signal.inputs, present, strict=True)})
    if value is None:
        return unavailable(f"{signal.how or signal.name} is undefined for these inputs")
    reading: Reading = (
        "bullish" if signal.bullish.holds(value) else "bearish" if signal.bearish.holds(value) else "neutral"
    )
    # The signal's name and unit sit beside the sentence in the same object: said once, not three times.
    evidence = (
        f"{_fmt(value)} {signal.unit}: {reading} (bullish {signal.bullish.text()}, bearish {signal.bearish.text()})"
    )
    return SignalEvidence(
        name=signal.name, group=signal.group, value=round(value, 6), unit=signal.unit, reading=reading,
        weight=signal.weight, evidence=evidence, source=source, as_of=as_of, stale=stale,
    )  # fmt: skip


def _flip(flip: Flip, inputs: ScoringInputs, by_name: dict[str, SignalEvidence]) -> FlipSignal:
    unit = ""
    current: float | None
    if flip.input in by_name:
        current, unit = by_name[flip.input].value, by_name[flip.input].unit
    else:
        obs = inputs.get(flip.input)
        current = None if obs is None else obs.value
        unit = next((s.unit for s in SIGNALS if flip.input in s.inputs), "")
    threshold: float | None = flip.rule.threshold
    if flip.threshold_from is not None:
        obs = inputs.get(flip.threshold_from)
        threshold = None if obs is None else obs.value
        unit = "USD"
    if current is None or threshold is None:
        return FlipSignal(
            name=flip.name, condition=flip.condition, current=current, threshold=threshold,
            unit=unit, met=None, distance=None,
        )  # fmt: skip
    rule = Rule(flip.rule.op, threshold)
    met = rule.holds(current)
    gap = threshold - current if rule.op == ">" else current - threshold
    return FlipSignal(
        name=flip.name, condition=flip.condition, current=round(current, 6), threshold=threshold, unit=unit,
        met=met, distance=0.0 if met else round(gap, 6),
    )  # fmt: skip


def score(inputs: ScoringInputs) -> ScoreResult:
    evidence = [_evaluate(signal, inputs) for signal in SIGNALS]
    available = [e for e in evidence if e.reading != "unavailable"]
    available_weight = sum(e.weight for e in available)
    bull = sum(e.weight for e in available if e.reading == "bullish")
    bear = sum(e.weight for e in available if e.reading == "bearish")
    coverage = available_weight / TOTAL_WEIGHT
    value = (bull - bear) / available_weight if available_weight else 0.0
    agreement = abs(bull - bear) / (bull + bear) if bull + bear else 0.0
    verdict: Verdict = "undetermined"
    if coverage >= MIN_COVERAGE:
        if value >= REVERSAL_MIN_SCORE:
            verdict = "reversal"
        elif value <= REBOUND_MAX_SCORE:
            verdict = "rebound_in_downtrend"
    by_name = {e.name: e for e in evidence}
    return ScoreResult(
        verdict=verdict,
        score=round(value, 4),
        evidence_agreement=round(coverage * agreement, 4),
        coverage=round(coverage, 4),
        signals=evidence,
        flip_signals=[_flip(f, inputs, by_name) for f in FLIPS],
    )


def methodology_markdown() -> str:
    lines = [
        "## Rebound or reversal (`assess_rebound_vs_reversal`)",
        "Each signal reads **bullish** (+1) when its bullish rule holds, **bearish** (-1) when its bearish rule "
        "holds, else **neutral** (0); a signal whose inputs are missing is **unavailable** and is never imputed.",
        "- `score` = sum(weight * reading) / sum(weight) over *available* signals, in -1..1.",
        f"- `coverage` = available weight / total weight ({_fmt(TOTAL_WEIGHT)}).",
        "- `evidence_agreement` = coverage * |bullish weight - bearish weight| / (bullish + bearish weight): how "
        "one-sided the available evidence is. It is not a probability that the verdict is right; the result's "
        "`track_record` says how the verdict fared in the backtest against the 50-day-average rule.",
        f"- `verdict`: `undetermined` when coverage < {MIN_COVERAGE}; else `reversal` when score >= "
        f"{REVERSAL_MIN_SCORE}, `rebound_in_downtrend` when score <= {REBOUND_MAX_SCORE}, otherwise `undetermined`.",
        f"- Thresholds were set a priori and checked only against days before {THRESHOLDS_FIXED}: days from then "
        "on are out of sample (`windvane backtest` reports the two parts apart); a change of threshold moves that "
        "date.",
        "",
        "| signal | group | value | bullish | bearish | weight | why |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in SIGNALS:
        value = s.how or ", ".join(s.inputs)
        lines.append(
            f"| `{s.name}` | {s.group} | {value} ({s.unit}) | {s.bullish.text(s.unit)} | {s.bearish.text(s.unit)} "
            f"| {s.weight} | {s.rationale} |"
        )
    lines += ["", "Flip signals (each with current value, threshold, met flag and distance still to go):", ""]
    for f in FLIPS:
        threshold = f.threshold_from or _fmt(f.rule.threshold)
        lines.append(f"- `{f.name}`: {f.condition} (`{f.input}` {f.rule.op} {threshold}).")
    return "\n".join(lines)
