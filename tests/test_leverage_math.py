"""Table tests for the pure leverage computations: funding intervals, depth bands, round levels, OI baselines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.derivatives import BookLevel, FundingPoint, Liquidation, OpenInterestPoint, OrderBook
from tools.leverage.calc import (
    at_or_before,
    bid_depth_near,
    depth_within,
    funding_interval_hours,
    liquidation_totals,
    mid_price,
    normalise_funding,
    pct_change,
    round_levels_below,
    thin_book_ratio,
)

T0 = datetime(2025, 11, 26, tzinfo=UTC)


def settlements(hours: list[float], rate: float = 0.0001) -> list[FundingPoint]:
    return [FundingPoint(T0 + timedelta(hours=h), rate) for h in hours]


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ([0, 8, 16], 8),
        ([0, 4, 8], 4),
        ([0, 1, 2], 1),
        ([0, 8, 16, 20, 24], 4),  # the venue switched from 8h to 4h: the latest gap wins
        ([0, 8, 8 + 13 / 3_600_000], None),  # a duplicate 13 ms apart is not an interval
        ([0, 8.0000036], 8),  # Binance's ms jitter (…000013) rounds away
        ([0], None),
    ],
)
def test_interval_detection(hours: list[float], expected: int | None) -> None:
    assert funding_interval_hours(settlements(hours)) == expected


@pytest.mark.parametrize(
    ("rate", "interval", "rate_8h_pct", "annual_pct"),
    [
        (0.0001, 8, 0.01, 10.95),  # 0.01% per 8h = 3 x 365 x 0.01%
        (0.00005, 4, 0.01, 10.95),  # half the rate twice as often: the same 8h rate
        (0.0000125, 1, 0.01, 10.95),
        (-0.0002, 1, -0.16, -175.2),
    ],
)
def test_normalisation_to_8h_and_annual(rate: float, interval: int, rate_8h_pct: float, annual_pct: float) -> None:
    got_8h, got_annual = normalise_funding(rate, interval)
    assert got_8h == pytest.approx(rate_8h_pct)
    assert got_annual == pytest.approx(annual_pct)


def built_book(truncated: bool = False) -> OrderBook:
    # Mid 100,000. Bids: 99,990 (1 BTC), 99,600 (2), 99,400 (4), 95,200 (1), 95,000 (3), 94,600 (5), 90,100 (2)
    bids = [(99_990, 1), (99_600, 2), (99_400, 4), (95_200, 1), (95_000, 3), (94_600, 5), (90_100, 2)]
    asks = [(100_010, 1), (100_400, 2), (100_600, 4)]
    return OrderBook(
        bids=tuple(BookLevel(p, s) for p, s in bids),
        asks=tuple(BookLevel(p, s) for p, s in asks),
        time=None,
        truncated=truncated,
    )


def test_depth_bands_on_built_book() -> None:
    book = built_book()
    assert mid_price(book) == 100_000
    assert depth_within(book, 100_000, 0.5) == (99_990 + 2 * 99_600, 100_010 + 2 * 100_400)
    bid, ask = depth_within(book, 100_000, 1.0) or (0, 0)
    assert bid == 99_990 + 2 * 99_600 + 4 * 99_400
    assert ask == 100_010 + 2 * 100_400 + 4 * 100_600


def test_round_levels_and_bid_depth_near_them_on_built_book() -> None:
    book = built_book()
    assert round_levels_below(100_000, 5000) == [95_000, 90_000]  # exactly on a level: that level is not "below"
    assert round_levels_below(97_321.5, 5000) == [95_000, 90_000]
    assert round_levels_below(3_130, 250) == [3_000, 2_750]
    # ±0.5% of 95,000 is 94,525..95,475: 95,200, 95,000 and 94,600 count.
    assert bid_depth_near(book, 95_000) == pytest.approx(95_200 + 3 * 95_000 + 5 * 94_600)
    # ±0.5% of 90,000 is 89,550..90,450: only 90,100.
    assert bid_depth_near(book, 90_000) == pytest.approx(2 * 90_100)


def test_truncated_book_that_stops_inside_a_band_gives_none_not_a_partial_sum() -> None:
    book = built_book(truncated=True)
    assert depth_within(book, 100_000, 0.5) is not None  # the book reaches 99,400 < 99,500 and 100,600 > 100,500
    assert depth_within(book, 100_000, 1.0) is None  # asks stop at 100,600 < 101,000
    assert bid_depth_near(book, 95_000) is not None  # bids reach 90,100, past the band's floor 94,525
    assert bid_depth_near(book, 90_000) is None  # bids stop at 90,100, inside 89,550..90,450
    short = OrderBook(bids=book.bids[:3], asks=book.asks, time=None, truncated=True)
    assert bid_depth_near(short, 95_000) is None


def test_oi_baseline_within_tolerance_only() -> None:
    points = [OpenInterestPoint(T0 + timedelta(hours=h), 100.0 + h) for h in range(0, 48, 1) if h != 20]
    hit = at_or_before(points, T0 + timedelta(hours=24, minutes=30), timedelta(hours=2))
    assert hit is not None
    assert hit.usd == 124.0
    gap = at_or_before(points[:5], T0 + timedelta(hours=24), timedelta(hours=2))
    assert gap is None  # the nearest reading is 20h old: a gap, not a baseline
    assert pct_change(110, 100) == pytest.approx(10)
    assert pct_change(110, 0) is None


def test_liquidation_windows_are_half_open() -> None:
    rows = [
        Liquidation(T0, True, 5.0),
        Liquidation(T0 + timedelta(hours=1), True, 7.0),
        Liquidation(T0 + timedelta(hours=2), False, 11.0),
    ]
    assert liquidation_totals(rows, T0, T0 + timedelta(hours=2)) == (7.0, 11.0)


def test_thin_book_needs_history_then_compares_with_median() -> None:
    few = [(T0 + timedelta(hours=i), 10.0) for i in range(5)]
    assert "at least 24" in str(thin_book_ratio(5.0, few))
    short_span = [(T0 + timedelta(minutes=i), 10.0) for i in range(30)]
    assert "at least 3 days" in str(thin_book_ratio(5.0, short_span))
    month = [(T0 - timedelta(days=i), 10.0 + (i % 3)) for i in range(30)]
    assert thin_book_ratio(4.4, month) == (pytest.approx(0.4), 11.0)
