"""Sign streaks over a time series: shared by the premium, ETF-flow and reserve tools."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from schemas.common import Sign, Streak


def _sign(value: float) -> Sign:
    return "positive" if value > 0 else "negative" if value < 0 else "zero"


def sign_streak(points: Sequence[tuple[datetime, float]], *, date_only: bool = True) -> Streak:
    """The run of consecutive points with the latest point's sign. `points` must be ascending."""
    if not points:
        return Streak(sign=None, days=None, since=None, complete=False)  # no data is not a run of 0
    sign = _sign(points[-1][1])
    count = 0
    for _, value in reversed(points):
        if _sign(value) != sign:
            break
        count += 1
    first = points[len(points) - count][0]
    return Streak(
        sign=sign,
        days=count,
        since=first.date().isoformat() if date_only else first.isoformat(),
        complete=count < len(points),
    )
