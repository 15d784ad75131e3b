"""Pure computations behind get_macro_backdrop: return alignment, correlation and beta, drawdown, market odds, halving.

No I/O here, so each formula is tested on its own with table-driven cases.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import correlation, covariance, variance

from schemas.macro_rows import DailyClose, FedOutcome

# A spread this narrow (in dollars per $1 contract) makes the bid/ask mid a fair probability; a wider one is a thin
# book whose mid means little, so the last traded price is used instead.
TIGHT_SPREAD = 0.05

DAYS_PER_MONTH = 365.25 / 12
SECONDS_PER_BLOCK = 600
HALVING_INTERVAL = 210_000
# Height and UTC date of each past halving (block 840,000 was mined 2024-04-20 00:09 UTC).
HALVINGS: tuple[tuple[int, date], ...] = (
    (210_000, date(2012, 11, 28)),
    (420_000, date(2016, 7, 9)),
    (630_000, date(2020, 5, 11)),
    (840_000, date(2024, 4, 20)),
)


def aligned_log_returns(
    index: Sequence[DailyClose], btc_close_by_day: Mapping[date, float]
) -> list[tuple[date, float, float]]:
    """(day, btc_return, index_return) on consecutive index trading days that also have a BTC close.

    BTC trades every day, so the pair is sampled on the index's trading days: a Monday return spans the weekend for
    both. A trading day with no BTC close is dropped, and the next return spans the gap for both series alike.
    """
    pairs = [(row.day, btc_close_by_day[row.day], row.close) for row in index if row.day in btc_close_by_day]
    returns = []
    for (_, btc_prev, idx_prev), (day, btc, idx) in itertools.pairwise(pairs):
        if btc_prev > 0 and idx_prev > 0 and btc > 0 and idx > 0:
            returns.append((day, math.log(btc / btc_prev), math.log(idx / idx_prev)))
    return returns


def correlation_and_beta(returns: Sequence[tuple[date, float, float]], n: int) -> tuple[float | None, float | None]:
    """Pearson correlation and beta (cov/var of the index) of the last `n` returns; None when fewer exist."""
    if len(returns) < n or n < 3:
        return None, None
    window = returns[-n:]
    btc = [r[1] for r in window]
    idx = [r[2] for r in window]
    if variance(idx) == 0 or variance(btc) == 0:
        return None, None
    return correlation(btc, idx), covariance(btc, idx) / variance(idx)


@dataclass(frozen=True, slots=True)
class Drawdown:
    pct: float
    close: float
    close_day: date
    high: float
    high_day: date


def drawdown_from_high(closes: Sequence[tuple[date, float]], days: int = 365) -> Drawdown | None:
    """Drawdown of the last close from the highest close of the trailing `days` days (the last day included)."""
    if not closes:
        return None
    last_day, last = closes[-1]
    window = [(d, c) for d, c in closes if d > last_day - timedelta(days=days)]
    high_day, high = max(window, key=lambda item: (item[1], item[0]))
    if high <= 0:
        return None
    return Drawdown(100 * (last / high - 1), last, last_day, high, high_day)


def outcome_probability(bid: float | None, ask: float | None, last: float | None) -> tuple[float | None, str | None]:
    """Probability (0..1) of one outcome: the mid of a tight book, else the last trade; (None, None) if neither."""
    if bid is not None and ask is not None and ask > 0 and bid <= ask and ask - bid <= TIGHT_SPREAD + 1e-9:
        return (bid + ask) / 2, "mid"
    if last is not None and last > 0:  # 0 means "never traded": Kalshi's minimum price is 1 cent
        return last, "last"
    return None, None


@dataclass(frozen=True, slots=True)
class CutOdds:
    cut: float | None
    hold: float | None
    previous_cut: float | None
    per_outcome: list[tuple[FedOutcome, float | None, str | None]]
    missing_cut: list[str]


def cut_odds(outcomes: Sequence[FedOutcome]) -> CutOdds:
    """Sum the cut brackets' probabilities now, and a day earlier when every cut bracket reports its previous prices."""
    per = [(o, *outcome_probability(o.yes_bid, o.yes_ask, o.last_price)) for o in outcomes]
    cuts = [(o, p) for o, p, _ in per if o.bracket == "cut"]
    known = [p for _, p in cuts if p is not None]
    missing = [o.label for o, p in cuts if p is None]
    holds = [p for o, p, _ in per if o.bracket == "hold" and p is not None]
    previous: list[float] = []
    for o, _ in cuts:
        prob, _basis = outcome_probability(o.previous_yes_bid, o.previous_yes_ask, o.previous_price)
        if prob is not None:
            previous.append(prob)
    return CutOdds(
        cut=sum(known) if known else None,
        hold=holds[0] if holds else None,
        previous_cut=sum(previous) if cuts and len(previous) == len(cuts) else None,
        per_outcome=per,
        missing_cut=missing,
    )


@dataclass(frozen=True, slots=True)
class HalvingState:
    last_height: int
    last_date: date
    months_since: float
    next_height: int


def halving_state(on: date) -> HalvingState | None:
    past = [(h, d) for h, d in HALVINGS if d <= on]
    if not past:
        return None
    height, when = past[-1]
    return HalvingState(height, when, (on - when).days / DAYS_PER_MONTH, height + HALVING_INTERVAL)


def halving_eta(tip: int, tip_time: datetime, next_height: int) -> datetime | None:
    if tip >= next_height:
        return None
    return (tip_time + timedelta(seconds=(next_height - tip) * SECONDS_PER_BLOCK)).astimezone(UTC)
