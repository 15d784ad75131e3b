"""Trend figures from daily bars: prior swing high, the 50/200-day averages, and the run of lower/higher highs.

Pure functions over (high, close) rows, oldest first, so the live assessment and the backtest compute them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

# A swing high is a daily high above the highs of the SWING_SIDE days either side. It is confirmed only once those
# later days exist, so a swing high is never known before SWING_SIDE days after it printed (no look-ahead).
SWING_SIDE = 5
# Daily bars the trend figures need: the 200-day average plus room to find earlier swing highs.
LOOKBACK_DAYS = 300


@dataclass(frozen=True, slots=True)
class DailyBar:
    day: str  # ISO date of the UTC day
    high: float
    close: float


@dataclass(frozen=True, slots=True)
class TrendStats:
    close: float | None
    close_day: str | None
    prior_swing_high: float | None
    prior_swing_high_day: str | None
    price_vs_ma50_pct: float | None
    price_vs_ma200_pct: float | None
    swing_high_sequence: int | None  # +n higher highs in a row, -n lower highs in a row; None below 2 swings


def swing_highs(bars: Sequence[DailyBar], side: int = SWING_SIDE) -> list[DailyBar]:
    found = []
    for i in range(side, len(bars) - side):
        high = bars[i].high
        if all(bars[j].high < high for j in range(i - side, i)) and all(
            bars[j].high <= high for j in range(i + 1, i + side + 1)
        ):
            found.append(bars[i])
    return found


def _vs_mean_pct(bars: Sequence[DailyBar], n: int) -> float | None:
    if len(bars) < n:
        return None
    return round(100 * (bars[-1].close / fmean(b.close for b in bars[-n:]) - 1), 6)


def _sequence(highs: Sequence[DailyBar]) -> int | None:
    if len(highs) < 2:
        return None
    rising = highs[-1].high > highs[-2].high
    run = 0
    for newer, older in zip(reversed(highs[1:]), reversed(highs[:-1]), strict=True):
        if (newer.high > older.high) != rising or newer.high == older.high:
            break
        run += 1
    return run if rising else -run


def trend_stats(bars: Sequence[DailyBar]) -> TrendStats:
    """Figures as of the last bar in `bars` (closed daily bars, ascending)."""
    if not bars:
        return TrendStats(None, None, None, None, None, None, None)
    highs = swing_highs(bars)
    prior = highs[-1] if highs else None
    return TrendStats(
        close=bars[-1].close,
        close_day=bars[-1].day,
        prior_swing_high=None if prior is None else prior.high,
        prior_swing_high_day=None if prior is None else prior.day,
        price_vs_ma50_pct=_vs_mean_pct(bars, 50),
        price_vs_ma200_pct=_vs_mean_pct(bars, 200),
        swing_high_sequence=_sequence(highs),
    )
