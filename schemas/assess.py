"""Output of assess_rebound_vs_reversal: verdict, per-signal evidence and the signals that would flip it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from schemas.common import ToolResult

Reading = Literal["bullish", "bearish", "neutral", "unavailable"]
Verdict = Literal["reversal", "rebound_in_downtrend", "undetermined"]


class SignalEvidence(BaseModel):
    name: str
    group: str = Field(description="macro, flows, premium, leverage, liquidity, trend or breadth.")
    value: float | None = Field(description="The reading's input value; null when unavailable (never imputed).")
    unit: str
    reading: Reading
    weight: float = Field(description="Weight in the score; unavailable signals count only in coverage.")
    evidence: str = Field(description="One sentence: the value against its thresholds, or why it is unavailable.")
    source: str | None = Field(description="Tool and upstream(s) the value came from.")
    as_of: datetime | None = Field(description="Time the value describes.")
    stale: bool | None = Field(description="True when an upstream failed and a cached value was served.")


class FlipSignal(BaseModel):
    name: str
    condition: str = Field(description="What would have to happen, in words.")
    current: float | None
    threshold: float | None = Field(description="Null when the threshold itself (e.g. the swing high) is unknown.")
    unit: str
    met: bool | None = Field(description="Whether the condition holds now; null when `current` is unavailable.")
    distance: float | None = Field(
        description="How far `current` must still move to meet the condition, in `unit`; 0 when met."
    )


class SignalChange(BaseModel):
    name: str
    unit: str
    reading_then: Reading
    reading_now: Reading
    value_then: float | None
    value_now: float | None


class FlipChange(BaseModel):
    name: str
    unit: str
    distance_then: float | None
    distance_now: float | None
    met_then: bool | None
    met_now: bool | None


class Changes(BaseModel):
    """The assessment at `since` against the one at as_of, both computed in full."""

    since: datetime = Field(description="The earlier point in time (a date means the end of that UTC day).")
    verdict_then: Verdict
    verdict_now: Verdict
    score_then: float
    score_now: float
    signals_changed: list[SignalChange] = Field(description="Signals whose reading changed, e.g. bearish -> neutral.")
    flip_signals: list[FlipChange] = Field(description="Every flip signal's distance then and now.")
    summary: str


class HorizonRecord(BaseModel):
    horizon_days: int
    graded_days: int = Field(description="Days of the verdict with a known forward return at this horizon.")
    hit_rate: float | None = Field(description="Share of them whose forward return had the verdict's sign.")
    ci_low: float | None = Field(description="Wilson 95% interval of hit_rate (days overlap: the truth is wider).")
    ci_high: float | None
    baseline_hit_rate: float | None = Field(description="The 50-day-average rule of the same direction.")
    mean_return_pct: float | None
    edge: bool | None = Field(default=None, description="ci_low above baseline_hit_rate.")


class TrackRecord(BaseModel):
    """What followed this verdict in the backtest over the shared history (the packaged calibration file); the
    assessment's summary says it in words."""

    period: str
    days: int = Field(description="Days the backtest gave this verdict.")
    expects: Literal["up", "down"] | None = Field(description="Direction the verdict implies; null: undetermined.")
    baseline: str | None = Field(description="The rule it is compared with.")
    horizons: list[HorizonRecord]
    edge: bool | None = Field(description="False: no better than the baseline at any horizon; null: no direction.")
    source: str = Field(description="The command that regenerates the calibration file.")


class Assessment(ToolResult):
    asset: str
    verdict: Verdict
    score: float = Field(description="Weighted mean of available readings: bullish +1, neutral 0, bearish -1.")
    evidence_agreement: float = Field(description="One-sidedness of the evidence (0..1), not a probability.")
    coverage: float = Field(description="Available signal weight / total signal weight (0..1).")
    signals: list[SignalEvidence]
    flip_signals: list[FlipSignal]
    track_record: TrackRecord | None = None  # the verdict's backtest hit rates (schemas get no description: tools/list)
    summary: str
    changes: Changes | None = None  # only with since
