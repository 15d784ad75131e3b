"""The verdicts' historical outcomes, from a backtest, as the packaged calibration file the assessment reads.

`windvane backtest ... --write-calibration` writes it (tools/assess/data/calibration.json); a test regenerates it
from ../shared and compares, so the file cannot drift from the code and data that made it. For each verdict: the
days it was given, and per horizon the hit rate with a Wilson score interval, beside the 50-day-average baseline
of the same direction over the same days range. The file holds no timestamp, so the same inputs give the same bytes.
"""

from __future__ import annotations

from math import sqrt
from pathlib import Path

from schemas.calibration import CalibrationFile, HorizonCalibration, VerdictCalibration
from server.backtest.report import HORIZONS, BacktestReport, DayResult

# Where the assessment reads it (tools/assess/calibration.py): in the source tree, next to that module.
PACKAGED = Path(__file__).resolve().parents[2] / "tools" / "assess" / "data" / "calibration.json"

CONFIDENCE_LEVEL = 0.95
Z_95 = 1.959964  # two-sided 95 % normal quantile
DECIMALS = 4

# verdict -> (direction it expects, the baseline rule of the same direction)
VERDICTS: dict[str, tuple[str, str]] = {
    "reversal": ("up", "close above its 50-day average"),
    "rebound_in_downtrend": ("down", "close below its 50-day average"),
    "undetermined": ("", ""),
}
METHOD = (
    "Hit rate: share of graded days whose forward close-to-close return had the verdict's sign (up for reversal, "
    "down for rebound_in_downtrend); interval: Wilson score, 95 %. Consecutive days share most of their forward "
    "window, so the days are not independent and the true uncertainty is wider than the interval. Edge: the "
    "interval's lower bound is above the baseline's hit rate at that horizon."
)


def wilson(hits: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion hits/n (n > 0)."""
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _hit(value: float, expects: str) -> bool:
    return value > 0 if expects == "up" else value < 0


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _horizon(days: list[DayResult], baseline: list[DayResult], expects: str, h: int) -> HorizonCalibration:
    values = [v for v in (d.forward_pct[h] for d in days) if v is not None]
    mean = sum(values) / len(values) if values else None
    if not expects:
        return HorizonCalibration(graded_days=len(values), mean_return_pct=_rounded(mean))
    base = [v for v in (d.forward_pct[h] for d in baseline) if v is not None]
    hits = sum(1 for v in values if _hit(v, expects))
    low, high = wilson(hits, len(values)) if values else (None, None)
    base_rate = sum(1 for v in base if _hit(v, expects)) / len(base) if base else None
    return HorizonCalibration(
        graded_days=len(values),
        mean_return_pct=_rounded(mean),
        hit_rate=_rounded(hits / len(values)) if values else None,
        ci_low=_rounded(low),
        ci_high=_rounded(high),
        baseline_graded_days=len(base),
        baseline_hit_rate=_rounded(base_rate),
        edge=None if low is None or base_rate is None else low > base_rate,
    )


def command_line(report: BacktestReport, history: str) -> str:
    """The command that regenerates the file; `history` is the backtest's source flag as the user would type it."""
    return f"windvane backtest --from {report.start} --to {report.end} {history} --write-calibration".replace("  ", " ")


def calibration(report: BacktestReport, command: str) -> CalibrationFile:
    verdicts: dict[str, VerdictCalibration] = {}
    for verdict, (expects, baseline_rule) in VERDICTS.items():
        days = [d for d in report.days if d.verdict == verdict]
        want_above = expects == "up"
        baseline = [d for d in report.days if d.above_ma50 is not None and d.above_ma50 == want_above]
        horizons = {str(h): _horizon(days, baseline if expects else [], expects, h) for h in HORIZONS}
        verdicts[verdict] = VerdictCalibration(
            days=len(days),
            expects="up" if expects == "up" else "down" if expects == "down" else None,
            baseline=baseline_rule or None,
            horizons=horizons,
            edge=None if not expects else any(v.edge is True for v in horizons.values()),
        )
    return CalibrationFile(
        generated_by=command,
        start=report.start.isoformat(),
        end=report.end.isoformat(),
        confidence_level=CONFIDENCE_LEVEL,
        method=METHOD,
        verdicts=verdicts,
    )


def calibration_text(report: BacktestReport, command: str) -> str:
    return calibration(report, command).model_dump_json(indent=2) + "\n"


def write_calibration(report: BacktestReport, command: str, path: Path) -> None:
    path.write_text(calibration_text(report, command), encoding="utf-8")
