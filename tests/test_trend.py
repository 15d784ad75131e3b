"""Swing highs, moving averages and the lower-highs run, table-driven on hand-built bars."""

from __future__ import annotations

import pytest

from tools.assess.trend import DailyBar, swing_highs, trend_stats


def bars(highs: list[float], closes: list[float] | None = None) -> list[DailyBar]:
    closes = closes or highs
    return [DailyBar(f"2025-01-{i + 1:02d}", h, c) for i, (h, c) in enumerate(zip(highs, closes, strict=True))]


def test_swing_high_needs_five_lower_days_each_side() -> None:
    highs = [1, 2, 3, 4, 5, 10, 5, 4, 3, 2, 1]
    assert [b.high for b in swing_highs(bars(highs))] == [10]
    # Only four days after the peak: not yet confirmed, so never used before it could be known.
    assert swing_highs(bars(highs[:-1])) == []


@pytest.mark.parametrize(
    ("peaks", "expected"),
    [
        ([10, 9, 8], -2),  # two lower highs in a row
        ([10, 9], -1),
        ([8, 9, 10], 2),  # two higher highs
        ([10, 8, 9], 1),  # the latest swing high broke the one before
        ([10], None),  # one swing: no sequence yet
    ],
)
def test_swing_high_sequence(peaks: list[float], expected: int | None) -> None:
    highs: list[float] = [1.0] * 5
    for peak in peaks:
        highs += [float(peak)] + [1.0] * 5
    assert trend_stats(bars(highs)).swing_high_sequence == expected


def test_moving_averages_need_full_windows() -> None:
    closes = [100.0] * 49 + [110.0]
    stats = trend_stats(bars(closes))
    assert stats.price_vs_ma50_pct == pytest.approx(100 * (110 / (100 * 49 / 50 + 110 / 50) - 1))
    assert stats.price_vs_ma200_pct is None
    assert stats.close == 110.0
    assert stats.close_day == bars(closes)[-1].day


def test_empty_history() -> None:
    stats = trend_stats([])
    assert stats.close is None
    assert stats.prior_swing_high is None
    assert stats.swing_high_sequence is None
