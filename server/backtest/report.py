"""Backtest of the rebound-or-reversal scoring: day by day, out of sample once the thresholds were fixed.

A `HistoryProvider` supplies, for each day, the `ScoringInputs` known at the end of that UTC day, and daily closes
for the forward returns (used only to grade a verdict, never to form it). Providers: the user's history store read
directly (tools/backtest_store.py, the default), every tool replayed with `as_of` (tools/backtest_replay.py), and
daily CSV history in the shared-data layout (tools/backtest_csv.py: the published table and the tests).

A day without a close is not scored (the price signals would be guessed and its forward return cannot be graded);
it is counted and listed as skipped. "In sample" means before `THRESHOLDS_FIXED` (the scoring table's constant), so a
range wholly after it is wholly out of sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean, median
from typing import Protocol

from tools.assess.scoring import THRESHOLDS_FIXED, ScoringInputs, score

HORIZONS = (7, 30)


class HistoryProvider(Protocol):
    name: str

    async def inputs_at(self, day: date) -> ScoringInputs:
        """What was known by the end of UTC `day`; nothing timestamped later."""
        ...

    async def closes(self, start: date, end: date) -> dict[date, float]:
        """Daily closes (UTC days) in [start, end], for forward returns."""
        ...


@dataclass(frozen=True, slots=True)
class DayResult:
    day: date
    verdict: str
    score: float
    coverage: float
    above_ma50: bool | None
    forward_pct: dict[int, float | None]


@dataclass(frozen=True, slots=True)
class GroupStats:
    label: str
    expects: str  # "up", "down" or "" (no direction, so no hit rate)
    count: int
    mean_pct: dict[int, float | None]
    median_pct: dict[int, float | None]
    hit_rate: dict[int, float | None]


@dataclass(frozen=True, slots=True)
class BacktestReport:
    provider: str
    start: date
    end: date
    split: date  # first out-of-sample day: THRESHOLDS_FIXED
    days: list[DayResult]  # scored days
    skipped: list[date]  # days of the range without a close: not scored
    in_sample: list[GroupStats]
    out_of_sample: list[GroupStats]


def forward_return_pct(closes: dict[date, float], day: date, horizon: int) -> float | None:
    now, later = closes.get(day), closes.get(day + timedelta(days=horizon))
    if now is None or later is None or now <= 0:
        return None
    return 100 * (later / now - 1)


def _stats(label: str, expects: str, rows: Sequence[DayResult]) -> GroupStats:
    mean: dict[int, float | None] = {}
    med: dict[int, float | None] = {}
    hit: dict[int, float | None] = {}
    for h in HORIZONS:
        values = [r.forward_pct[h] for r in rows if r.forward_pct[h] is not None]
        present = [v for v in values if v is not None]
        mean[h] = fmean(present) if present else None
        med[h] = median(present) if present else None
        if not present or not expects:
            hit[h] = None
        else:
            wins = sum(1 for v in present if (v > 0 if expects == "up" else v < 0))
            hit[h] = wins / len(present)
    return GroupStats(label, expects, len(rows), mean, med, hit)


GROUPS: tuple[tuple[str, str, Callable[[DayResult], bool]], ...] = (
    ("verdict: reversal", "up", lambda r: r.verdict == "reversal"),
    ("verdict: rebound_in_downtrend", "down", lambda r: r.verdict == "rebound_in_downtrend"),
    ("verdict: undetermined", "", lambda r: r.verdict == "undetermined"),
    ("baseline: close above 50-day average", "up", lambda r: r.above_ma50 is True),
    ("baseline: close below 50-day average", "down", lambda r: r.above_ma50 is False),
    ("all days", "", lambda r: True),
)


def summarize(rows: Sequence[DayResult]) -> list[GroupStats]:
    return [_stats(label, expects, [r for r in rows if keep(r)]) for label, expects, keep in GROUPS]


async def run_backtest(
    provider: HistoryProvider, start: date, end: date, progress: Callable[[date], None] | None = None
) -> BacktestReport:
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    closes = await provider.closes(start, end + timedelta(days=max(HORIZONS)))
    days: list[DayResult] = []
    skipped: list[date] = []
    day = start
    while day <= end:
        if day not in closes:
            skipped.append(day)
            day += timedelta(days=1)
            continue
        result = score(await provider.inputs_at(day))
        ma50 = next((s for s in result.signals if s.name == "price_vs_ma50"), None)
        above = None if ma50 is None or ma50.value is None else ma50.value > 0
        forward = {h: forward_return_pct(closes, day, h) for h in HORIZONS}
        days.append(DayResult(day, result.verdict, result.score, result.coverage, above, forward))
        if progress is not None:
            progress(day)
        day += timedelta(days=1)
    return BacktestReport(
        provider=provider.name,
        start=start,
        end=end,
        split=THRESHOLDS_FIXED,
        days=days,
        skipped=skipped,
        in_sample=summarize([d for d in days if d.day < THRESHOLDS_FIXED]),
        out_of_sample=summarize([d for d in days if d.day >= THRESHOLDS_FIXED]),
    )


def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.2f}%" if signed else f"{100 * value:.0f}%"


def render_table(groups: Sequence[GroupStats]) -> list[str]:
    lines = [
        "| group | days | mean 7d | median 7d | hit 7d | mean 30d | median 30d | hit 30d |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for g in groups:
        cells = [g.label, str(g.count)]
        for h in HORIZONS:
            hit = "n/a" if not g.expects else _pct(g.hit_rate[h], signed=False)
            cells += [_pct(g.mean_pct[h]), _pct(g.median_pct[h]), hit]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _spans(days: Sequence[date]) -> str:
    """Consecutive days folded into ranges: 2026-01-01..2026-01-03, 2026-02-10."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs)


def _part(title: str, first: date, last: date, groups: Sequence[GroupStats], note: str = "") -> list[str]:
    if first > last:
        return []
    return [f"**{title}** ({first} to {last}{note}):", "", *render_table(groups), ""]


def render_markdown(report: BacktestReport) -> str:
    coverage = fmean(d.coverage for d in report.days) if report.days else None
    lines = [
        f"Backtest of `assess_rebound_vs_reversal` scoring ({report.provider}), "
        f"{report.start} to {report.end}: {len(report.days)} days scored"
        + ("" if coverage is None else f", mean coverage {coverage:.0%}")
        + (f", {len(report.skipped)} skipped (no close)" if report.skipped else "")
        + ".",
        "Forward returns are close-to-close on Coinbase daily closes. Hit rate: share of days whose forward return "
        "had the expected sign (up for reversal / above the 50-day average, down for rebound_in_downtrend / below).",
        f"The thresholds were fixed on {report.split}: days before it are in sample, days from it on out of sample.",
        "",
        *_part("In sample", report.start, min(report.end, report.split - timedelta(days=1)), report.in_sample),
        *_part(
            "Out of sample",
            max(report.start, report.split),
            report.end,
            report.out_of_sample,
            "; thresholds were not tuned on this part",
        ),
    ]
    if report.skipped:
        lines.append(f"Skipped, no close to score or grade: {_spans(report.skipped)}.")
    return "\n".join(lines).rstrip("\n")
