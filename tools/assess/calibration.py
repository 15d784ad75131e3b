"""Each verdict's historical outcome, read from the packaged calibration file (tools/assess/data/calibration.json).

`windvane backtest --write-calibration` writes the file from a backtest over the shared history, and a test
regenerates it and compares, so what the assessment reports is what the backtest found. The statement says in plain
words when a verdict has shown no edge over the 50-day-average rule of the same direction.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from schemas.assess import HorizonRecord, TrackRecord, Verdict
from schemas.calibration import CalibrationFile

FILE = "calibration.json"


@cache
def load_calibration() -> CalibrationFile:
    raw = resources.files("tools.assess.data").joinpath(FILE).read_text(encoding="utf-8")
    return CalibrationFile.model_validate_json(raw)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def statement(record: TrackRecord, verdict: str) -> str:
    """The track record in plain words, saying so when the verdict has shown no edge over the baseline rule."""
    head = f"Track record {record.period}: {verdict} on {record.days} days"
    if record.expects is None:
        return f"{head}; it calls no direction, so it has no hit rate."
    moved = "lower" if record.expects == "down" else "higher"
    rates = " and ".join(
        f"{h.horizon_days} days later after {_pct(h.hit_rate)} ({_pct(h.ci_low)}-{_pct(h.ci_high)})"
        for h in record.horizons
    )
    bases = " and ".join(_pct(h.baseline_hit_rate) for h in record.horizons)
    if record.edge:
        better = ", ".join(f"{h.horizon_days}" for h in record.horizons if h.edge)
        judged = f"better than that rule at {better} days"
    else:
        judged = "no edge over that simple rule; read the evidence, not the verdict"
    return f"{head}; BTC was {moved} {rates}, vs {bases} after a {record.baseline}: {judged}."


def track_record(verdict: Verdict) -> TrackRecord | None:
    """The verdict's historical outcome; None when the packaged file has no entry for it."""
    data = load_calibration()
    entry = data.verdicts.get(verdict)
    if entry is None:
        return None
    horizons = [
        HorizonRecord(
            horizon_days=int(h),
            graded_days=v.graded_days,
            hit_rate=v.hit_rate,
            ci_low=v.ci_low,
            ci_high=v.ci_high,
            baseline_hit_rate=v.baseline_hit_rate,
            mean_return_pct=v.mean_return_pct,
            edge=v.edge,
        )
        for h, v in entry.horizons.items()
    ]
    return TrackRecord(
        period=f"{data.start} to {data.end}",
        days=entry.days,
        expects=entry.expects,
        baseline=entry.baseline,
        horizons=horizons,
        edge=entry.edge,
        source=data.generated_by,
    )
