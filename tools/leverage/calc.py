"""Pure computations behind get_leverage_state: funding normalisation, open-interest changes, book depth.

Nothing here does I/O, so each function is table-tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import median

from schemas.derivatives import FundingPoint, Liquidation, OpenInterestPoint, OrderBook

HOURS_PER_YEAR = 24 * 365
# Round-number spacing per asset: BTC stops cluster at multiples of 5,000; ETH's price is ~1/20 of BTC's and its
# psychological levels sit at multiples of 250 (3,000, 3,250, ...).
ROUND_STEP_USD = {"BTC": 5000.0, "ETH": 250.0}
DEPTH_BANDS_PCT = (0.5, 1.0, 2.0)
ROUND_LEVEL_BAND_PCT = 0.5
THIN_BOOK_RATIO = 0.5
THIN_BOOK_MIN_SNAPSHOTS = 24
THIN_BOOK_MIN_SPAN = timedelta(days=3)


# -- funding -------------------------------------------------------------------------------------------------


def funding_interval_hours(points: Sequence[FundingPoint]) -> int | None:
    """The venue's current interval: the gap between the two latest settlements, rounded to whole hours.

    Venues stamp settlements a few ms late (Binance: ...000013), and switch between 8h and 1-4h, so only the
    latest gap counts, and rounding removes the jitter.
    """
    if len(points) < 2:
        return None
    ordered = sorted(points, key=lambda p: p.time)
    gap_h = (ordered[-1].time - ordered[-2].time).total_seconds() / 3600
    hours = round(gap_h)
    return hours if hours >= 1 else None


def normalise_funding(rate: float, interval_hours: int) -> tuple[float, float]:
    """(rate per 8 hours in %, annualised rate in %) from a fractional rate per `interval_hours`."""
    per_hour_pct = 100 * rate / interval_hours
    return per_hour_pct * 8, per_hour_pct * HOURS_PER_YEAR


# -- open interest -------------------------------------------------------------------------------------------


def at_or_before(points: Sequence[OpenInterestPoint], when: datetime, tolerance: timedelta) -> OpenInterestPoint | None:
    """The latest point at or before `when`, if it is no older than `tolerance`; otherwise None (a gap)."""
    best = None
    for p in points:
        if p.time <= when and p.usd is not None and (best is None or p.time > best.time):
            best = p
    if best is None or when - best.time > tolerance:
        return None
    return best


def pct_change(now: float, then: float) -> float | None:
    return None if then <= 0 else 100 * (now / then - 1)


def last_complete_day_end(cutoff: datetime) -> datetime:
    """Midnight UTC ending the last UTC day that closed at or before `cutoff`."""
    return datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=cutoff.tzinfo)


# -- liquidations --------------------------------------------------------------------------------------------


def liquidation_totals(rows: Sequence[Liquidation], start: datetime, end: datetime) -> tuple[float, float]:
    """(long USD, short USD) liquidated with start < time <= end."""
    long_usd = sum(r.usd for r in rows if start < r.time <= end and r.long_liquidated)
    short_usd = sum(r.usd for r in rows if start < r.time <= end and not r.long_liquidated)
    return long_usd, short_usd


# -- order book ----------------------------------------------------------------------------------------------


def mid_price(book: OrderBook) -> float | None:
    if not book.bids or not book.asks:
        return None
    return (book.bids[0].price + book.asks[0].price) / 2


def depth_within(book: OrderBook, mid: float, pct: float) -> tuple[float, float] | None:
    """(bid USD, ask USD) resting within ±pct% of mid, or None when a truncated book stops inside the band.

    A venue that returns only its top N levels cannot say what rests beyond them; summing what it did return
    would understate depth, so the band counts only when the book reaches past its edge (or is complete).
    """
    low, high = mid * (1 - pct / 100), mid * (1 + pct / 100)
    if book.truncated and (not book.bids or book.bids[-1].price > low or not book.asks or book.asks[-1].price < high):
        return None
    bid_usd = sum(lv.price * lv.size for lv in book.bids if lv.price >= low)
    ask_usd = sum(lv.price * lv.size for lv in book.asks if lv.price <= high)
    return bid_usd, ask_usd


def round_levels_below(price: float, step: float, count: int = 2) -> list[float]:
    """The `count` multiples of `step` strictly below `price`, nearest first."""
    first = math.floor(price / step) * step
    if first >= price:
        first -= step
    return [first - i * step for i in range(count) if first - i * step > 0]


def bid_depth_near(book: OrderBook, level: float, band_pct: float = ROUND_LEVEL_BAND_PCT) -> float | None:
    """USD of bids within ±band_pct% of `level`, or None when a truncated book does not reach the band."""
    low, high = level * (1 - band_pct / 100), level * (1 + band_pct / 100)
    if book.truncated and (not book.bids or book.bids[-1].price > low):
        return None
    return sum(lv.price * lv.size for lv in book.bids if low <= lv.price <= high)


def thin_book_ratio(current: float, history: Sequence[tuple[datetime, float]]) -> tuple[float, float] | str:
    """(current / median, median) over recorded snapshots, or the reason there is not enough history."""
    if len(history) < THIN_BOOK_MIN_SNAPSHOTS:
        return f"{len(history)} recorded depth snapshots; at least {THIN_BOOK_MIN_SNAPSHOTS} are needed"
    span = max(t for t, _ in history) - min(t for t, _ in history)
    if span < THIN_BOOK_MIN_SPAN:
        return f"recorded depth spans {span.total_seconds() / 86400:.1f} days; at least 3 days are needed"
    typical = median(v for _, v in history)
    if typical <= 0:
        return "recorded depth history is all zero"
    return current / typical, typical
