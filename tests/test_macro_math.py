"""Table-driven tests of the pure macro formulas."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import pytest

from schemas.macro_rows import DailyClose, FedOutcome
from tools.macro.calc import (
    aligned_log_returns,
    correlation_and_beta,
    cut_odds,
    drawdown_from_high,
    halving_eta,
    halving_state,
    outcome_probability,
)
from tools.macro.fomc import load_schedule


@pytest.mark.parametrize(
    ("bid", "ask", "last", "expected"),
    [
        (0.68, 0.70, 0.50, (0.69, "mid")),  # tight: mid, whatever the last trade
        (0.30, 0.35, 0.50, (0.325, "mid")),  # exactly $0.05 is still tight
        (0.30, 0.50, 0.41, (0.41, "last")),  # wide: last price
        (None, 0.50, 0.41, (0.41, "last")),  # one side missing: last price
        (0.00, 0.01, 0.00, (0.005, "mid")),
        (0.30, 0.50, 0.00, (None, None)),  # wide and never traded: unknown, not zero
        (0.50, 0.40, 0.45, (0.45, "last")),  # crossed book is not a usable mid
        (None, None, None, (None, None)),
    ],
)
def test_outcome_probability_rule(bid, ask, last, expected) -> None:
    prob, basis = outcome_probability(bid, ask, last)
    assert basis == expected[1]
    assert prob == (None if expected[0] is None else pytest.approx(expected[0]))


def outcome(bracket: str, bp: int, bid: float, ask: float, last: float, prev: tuple | None = None) -> FedOutcome:
    pb, pa, pl = prev or (None, None, None)
    return FedOutcome(f"T-{bp}", "E", bracket, bp, f"{bp}", bid, ask, last, pb, pa, pl)


def test_cut_odds_sums_cut_brackets_and_previous_day() -> None:
    odds = cut_odds(
        [
            outcome("hold", 0, 0.30, 0.32, 0.31, (0.55, 0.57, 0.56)),
            outcome("cut", -25, 0.68, 0.70, 0.69, (0.42, 0.44, 0.43)),
            outcome("cut", -26, 0.00, 0.02, 0.01, (0.00, 0.02, 0.01)),
        ]
    )
    assert odds.cut == pytest.approx(0.70)
    assert odds.previous_cut == pytest.approx(0.44)
    assert odds.hold == pytest.approx(0.31)
    assert odds.missing_cut == []


def test_cut_odds_without_previous_prices_has_no_previous() -> None:
    odds = cut_odds([outcome("cut", -25, 0.68, 0.70, 0.69), outcome("cut", -26, 0.0, 0.5, 0.0)])
    assert odds.cut == pytest.approx(0.69)
    assert odds.missing_cut == ["-26"]
    assert odds.previous_cut is None


@pytest.mark.parametrize(
    ("on", "height", "when", "months"),
    [
        (date(2025, 11, 24), 840_000, date(2024, 4, 20), 583 / (365.25 / 12)),
        (date(2024, 4, 20), 840_000, date(2024, 4, 20), 0.0),
        (date(2024, 4, 19), 630_000, date(2020, 5, 11), 1439 / (365.25 / 12)),
        (date(2013, 1, 1), 210_000, date(2012, 11, 28), 34 / (365.25 / 12)),
    ],
)
def test_halving_state_from_the_date(on: date, height: int, when: date, months: float) -> None:
    state = halving_state(on)
    assert state is not None
    assert (state.last_height, state.last_date, state.next_height) == (height, when, height + 210_000)
    assert state.months_since == pytest.approx(months)


def test_halving_state_before_the_first_halving_is_none() -> None:
    assert halving_state(date(2011, 1, 1)) is None


def test_halving_eta_is_600_seconds_per_block() -> None:
    tip_time = datetime(2025, 11, 26, 12, tzinfo=UTC)
    eta = halving_eta(925_000, tip_time, 1_050_000)
    assert eta is not None
    assert (eta - tip_time).total_seconds() == 125_000 * 600
    assert halving_eta(1_050_000, tip_time, 1_050_000) is None


def test_drawdown_from_high_uses_only_the_trailing_year() -> None:
    closes = [
        (date(2024, 1, 1), 200.0),
        (date(2024, 6, 1), 120.0),
        (date(2024, 12, 1), 150.0),
        (date(2025, 1, 2), 90.0),
    ]
    dd = drawdown_from_high(closes, 365)
    assert dd is not None
    assert (dd.high, dd.high_day, dd.close, dd.close_day) == (150.0, date(2024, 12, 1), 90.0, date(2025, 1, 2))
    assert dd.pct == pytest.approx(-40.0)
    assert drawdown_from_high([]) is None


def test_aligned_returns_sample_btc_on_index_trading_days() -> None:
    index = [DailyClose(date(2025, 11, d), v) for d, v in ((20, 100.0), (21, 101.0), (24, 99.0), (25, 100.0))]
    btc = {date(2025, 11, d): v for d, v in ((20, 50.0), (21, 51.0), (22, 60.0), (23, 40.0), (24, 52.0))}
    returns = aligned_log_returns(index, btc)
    # 11-25 has no BTC close: dropped; the Monday return spans the weekend for both.
    assert [r[0] for r in returns] == [date(2025, 11, 21), date(2025, 11, 24)]
    assert returns[1][1] == pytest.approx(math.log(52 / 51))
    assert returns[1][2] == pytest.approx(math.log(99 / 101))


def test_correlation_and_beta_match_numpy() -> None:
    rng = np.random.default_rng(7)
    idx = rng.normal(0, 0.01, 120)
    btc = 1.5 * idx + rng.normal(0, 0.02, 120)
    returns = [(date(2025, 1, 1), float(b), float(i)) for b, i in zip(btc, idx, strict=True)]
    corr, beta = correlation_and_beta(returns, 90)
    assert corr == pytest.approx(np.corrcoef(btc[-90:], idx[-90:])[0, 1], abs=1e-12)
    assert beta == pytest.approx(np.cov(btc[-90:], idx[-90:])[0, 1] / np.var(idx[-90:], ddof=1), abs=1e-12)
    assert correlation_and_beta(returns[:89], 90) == (None, None)


def test_fomc_schedule_is_the_feds_2025_and_2026_calendar() -> None:
    schedule = load_schedule()
    assert schedule.source_url == "https://www.federalreserve.gov/monetarypolicy/fomccalendars.htm"
    assert {2025, 2026} <= set(schedule.years)
    ends = {m.end.isoformat() for m in schedule.meetings}
    assert {"2025-10-29", "2025-12-10", "2026-01-28", "2026-12-09"} <= ends
    assert "2025-08-22" not in ends  # a notation vote, not a scheduled meeting
    assert len([m for m in schedule.meetings if m.end.year == 2025]) == 8
    assert len([m for m in schedule.meetings if m.end.year == 2026]) == 8
    next_dec = schedule.next_meeting(date(2025, 11, 24))
    assert next_dec is not None
    assert next_dec.start == date(2025, 12, 9)
    assert schedule.next_meeting(date(2025, 12, 10)) == next_dec  # decision day itself: still "next"
    assert schedule.next_meeting(date(2026, 12, 10)) is None  # past the known years: unknown, not guessed


def test_fomc_schedule_matches_shared_crosscheck() -> None:
    from tests.fakes.data import DATA

    lines = (DATA / "10_fed_policy_rates" / "fomc_meeting_dates_2021_2027.csv").read_text().splitlines()[1:]
    regular = {
        (row[0], row[1])
        for row in (line.split(",") for line in lines)
        if row[2] == "regular" and row[0][:4] in {"2024", "2025", "2026"}
    }
    ours = {(m.start.isoformat(), m.end.isoformat()) for m in load_schedule().meetings}
    assert ours == regular
