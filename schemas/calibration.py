"""The packaged calibration file: each verdict's outcome in a backtest (written by `windvane backtest
--write-calibration`, read by the assessment's track record)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HorizonCalibration(BaseModel):
    graded_days: int  # days of the verdict with a known forward return at this horizon
    mean_return_pct: float | None
    hit_rate: float | None = None  # null for a verdict with no direction
    ci_low: float | None = None
    ci_high: float | None = None
    baseline_graded_days: int | None = None
    baseline_hit_rate: float | None = None
    edge: bool | None = None  # ci_low above baseline_hit_rate


class VerdictCalibration(BaseModel):
    days: int
    expects: Literal["up", "down"] | None
    baseline: str | None
    horizons: dict[str, HorizonCalibration]  # keyed by the horizon in days, as JSON keys are strings
    edge: bool | None


class CalibrationFile(BaseModel):
    generated_by: str
    start: str
    end: str
    confidence_level: float
    method: str
    verdicts: dict[str, VerdictCalibration]
