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


class Assessment(ToolResult):
    asset: str
    verdict: Verdict
    score: float = Field(description="Weighted mean of available readings: bullish +1, neutral 0, bearish -1.")
    confidence: float = Field(description="coverage * |bullish weight - bearish weight| / directional weight.")
    coverage: float = Field(description="Available signal weight / total signal weight (0..1).")
    signals: list[SignalEvidence]
    flip_signals: list[FlipSignal]
    summary: str
