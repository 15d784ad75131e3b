"""Backtest of the rebound-or-reversal scoring: day by day, no look-ahead, with an out-of-sample third.

A `HistoryProvider` supplies, for each day, the `ScoringInputs` known at the end of that UTC day, and daily closes
for the forward returns (used only to grade a verdict, never to form it). Providers: the user's history store read
directly (tools/backtest_store.py, the default), every tool replayed with `as_of` (tools/backtest_replay.py), and
daily CSV history in the shared-data layout (tools/backtest_csv.py: the published table and the tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean, median
from typing import Protocol

from tools.assess.scoring import ScoringInputs, score

HORIZONS = (7, 30)
# The last third of the range is held out: thresholds may be tuned only on the first two thirds.
IN_SAMPLE_SHARE = 2 / 3


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
    split: date  # first out-of-sample day
    days: list[DayResult]
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


def split_day(start: date, end: date) -> date:
    span = (end - start).days + 1
    return start + timedelta(days=int(span * IN_SAMPLE_SHARE))


async def run_backtest(
    provider: HistoryProvider, start: date, end: date, progress: Callable[[date], None] | None = None
) -> BacktestReport:
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    closes = await provider.closes(start, end + timedelta(days=max(HORIZONS)))
    days: list[DayResult] = []
    day = start
    while day <= end:
        result = score(await provider.inputs_at(day))
        ma50 = next((s for s in result.signals if s.name == "price_vs_ma50"), None)
        above = None if ma50 is None or ma50.value is None else ma50.value > 0
        forward = {h: forward_return_pct(closes, day, h) for h in HORIZONS}
        days.append(DayResult(day, result.verdict, result.score, result.coverage, above, forward))
        if progress is not None:
            progress(day)
        day += timedelta(days=1)
    split = split_day(start, end)
    return BacktestReport(
        provider=provider.name,
        start=start,
        end=end,
        split=split,
        days=days,
        in_sample=summarize([d for d in days if d.day < split]),
        out_of_sample=summarize([d for d in days if d.day >= split]),
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


def render_markdown(report: BacktestReport) -> str:
    last_in = report.split - timedelta(days=1)
    coverage = fmean(d.coverage for d in report.days) if report.days else 0.0
    lines = [
        f"Backtest of `assess_rebound_vs_reversal` scoring ({report.provider}), "
        f"{report.start} to {report.end}: {len(report.days)} days, mean coverage {coverage:.0%}.",
        "Forward returns are close-to-close on Coinbase daily closes. Hit rate: share of days whose forward return "
        "had the expected sign (up for reversal / above the 50-day average, down for rebound_in_downtrend / below).",
        "",
        f"**In sample** ({report.start} to {last_in}):",
        "",
        *render_table(report.in_sample),
        "",
        f"**Out of sample** ({report.split} to {report.end}; thresholds were not tuned on this part):",
        "",
        *render_table(report.out_of_sample),
    ]
    return "\n".join(lines)
