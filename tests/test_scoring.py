"""Table-driven tests of the pure scoring: each reading, coverage, evidence agreement, verdicts and flip distances."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tools.assess.scoring import (
    FLIPS,
    INPUT_FIELDS,
    MIN_COVERAGE,
    SIGNALS,
    THRESHOLDS_FIXED,
    TOTAL_WEIGHT,
    Observed,
    ScoringInputs,
    methodology_markdown,
    score,
)

AT = datetime(2025, 11, 24, tzinfo=UTC)


def obs(value: float, source: str = "test", stale: bool = False) -> Observed:
    return Observed(value, source, AT, stale)


def inputs(**values: float) -> ScoringInputs:
    return ScoringInputs(**{k: obs(v) for k, v in values.items()})  # type: ignore[arg-type]


def signal(result_signals: list, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in result_signals if s.name == name)


# (signal, inputs, expected reading, expected value)
READINGS = [
    ("premium_level", {"premium_pct": 0.05}, "bullish", 0.05),
    ("premium_level", {"premium_pct": -0.05}, "bearish", -0.05),
    ("premium_level", {"premium_pct": 0.03}, "neutral", 0.03),  # thresholds are strict
    ("premium_streak", {"premium_streak_days": 5}, "bullish", 5),
    ("premium_streak", {"premium_streak_days": -26}, "bearish", -26),
    ("premium_streak", {"premium_streak_days": -4}, "neutral", -4),
    ("etf_flow_5d", {"etf_5d_avg_usd": 250e6}, "bullish", 250e6),
    ("etf_flow_5d", {"etf_5d_avg_usd": -236e6}, "bearish", -236e6),
    ("etf_flow_5d", {"etf_5d_avg_usd": -50e6}, "neutral", -50e6),
    ("etf_flow_mtd", {"etf_mtd_usd": -3_466.7e6}, "bearish", -3_466.7e6),
    ("etf_flow_mtd", {"etf_mtd_usd": 600e6}, "bullish", 600e6),
    ("etf_outflow_easing", {"etf_latest_day_usd": 238e6, "etf_5d_avg_usd": -200e6}, "bullish", 438e6),
    ("etf_outflow_easing", {"etf_latest_day_usd": -903e6, "etf_5d_avg_usd": -300e6}, "bearish", -603e6),
    ("etf_outflow_easing", {"etf_latest_day_usd": -100e6, "etf_5d_avg_usd": -150e6}, "neutral", 50e6),
    ("open_interest_7d", {"oi_change_7d_pct": -9.0}, "bullish", -9.0),
    ("open_interest_7d", {"oi_change_7d_pct": 6.0}, "bearish", 6.0),
    ("open_interest_7d", {"oi_change_7d_pct": 1.0}, "neutral", 1.0),
    ("funding", {"funding_8h_pct": -0.004}, "bullish", -0.004),
    ("funding", {"funding_8h_pct": 0.03}, "bearish", 0.03),
    ("funding", {"funding_8h_pct": 0.01}, "neutral", 0.01),
    ("liquidation_flush", {"liq_long_7d_usd": 868.5e6, "liq_short_7d_usd": 105.9e6}, "bullish", 89.1317),
    ("liquidation_flush", {"liq_long_7d_usd": 30e6, "liq_short_7d_usd": 70e6}, "bearish", 30.0),
    ("liquidation_flush", {"liq_long_7d_usd": 50e6, "liq_short_7d_usd": 50e6}, "neutral", 50.0),
    ("exchange_netflow_7d", {"exchange_netflow_7d_btc": -23_000}, "bullish", -23_000),
    ("exchange_netflow_7d", {"exchange_netflow_7d_btc": 15_000}, "bearish", 15_000),
    ("exchange_netflow_7d", {"exchange_netflow_7d_btc": 2_000}, "neutral", 2_000),
    ("exchange_reserve_30d", {"reserve_change_30d_pct": -2.0}, "bullish", -2.0),
    ("exchange_reserve_30d", {"reserve_change_30d_pct": 1.1}, "bearish", 1.1),
    ("price_vs_swing_high", {"close_usd": 110.0, "prior_swing_high_usd": 100.0}, "bullish", 10.0),
    ("price_vs_swing_high", {"close_usd": 80.0, "prior_swing_high_usd": 100.0}, "bearish", -20.0),
    ("price_vs_swing_high", {"close_usd": 97.0, "prior_swing_high_usd": 100.0}, "neutral", -3.0),
    ("price_vs_ma50", {"price_vs_ma50_pct": 3.0}, "bullish", 3.0),
    ("price_vs_ma50", {"price_vs_ma50_pct": -12.0}, "bearish", -12.0),
    ("price_vs_ma200", {"price_vs_ma200_pct": 0.5}, "neutral", 0.5),
    ("price_vs_ma200", {"price_vs_ma200_pct": -15.0}, "bearish", -15.0),
    ("lower_highs", {"swing_high_sequence": 1}, "bullish", 1),
    ("lower_highs", {"swing_high_sequence": -3}, "bearish", -3),
    ("lower_highs", {"swing_high_sequence": -1}, "neutral", -1),
    ("cut_odds_change", {"cut_odds_change_1d_pp": 8}, "bullish", 8),
    ("cut_odds_change", {"cut_odds_change_1d_pp": 3}, "neutral", 3),
    ("cut_odds_change", {"cut_odds_change_1d_pp": -25}, "bearish", -25),
    ("nasdaq_implied_move", {"btc_nasdaq_beta_90d": 1.5, "nasdaq_change_pct": 2.0}, "bullish", 3.0),
    ("nasdaq_implied_move", {"btc_nasdaq_beta_90d": 1.2, "nasdaq_change_pct": -2.16}, "bearish", -2.592),
    ("crypto_market_cap_6w", {"crypto_mcap_change_6w_pct": -25.0}, "bearish", -25.0),
    ("crypto_market_cap_6w", {"crypto_mcap_change_6w_pct": 8.0}, "bullish", 8.0),
    ("crypto_market_cap_6w", {"crypto_mcap_change_6w_pct": 0.0}, "neutral", 0.0),
]


def test_every_signal_has_a_reading_case() -> None:
    covered = {row[0] for row in READINGS}
    assert covered == {s.name for s in SIGNALS}


@pytest.mark.parametrize(("name", "values", "reading", "value"), READINGS)
def test_reading(name: str, values: dict[str, float], reading: str, value: float) -> None:
    result = score(inputs(**values))
    got = signal(result.signals, name)
    assert got.reading == reading
    assert got.value == pytest.approx(value, rel=1e-6)
    assert got.source == "test"
    assert got.as_of == AT
    assert reading in got.evidence
    # Coverage counts every signal whose inputs were all given (etf_outflow_easing also feeds etf_flow_5d).
    expected = sum(s.weight for s in SIGNALS if set(s.inputs) <= set(values))
    assert result.coverage == pytest.approx(round(expected / TOTAL_WEIGHT, 4))


def test_all_unavailable_is_undetermined_with_zero_coverage() -> None:
    result = score(ScoringInputs(reasons={"premium_pct": "coinbase unavailable: geo-blocked"}))
    assert result.verdict == "undetermined"
    assert result.coverage == 0
    assert result.evidence_agreement == 0
    assert result.score == 0
    assert all(s.reading == "unavailable" and s.value is None for s in result.signals)
    premium = signal(result.signals, "premium_level")
    assert "geo-blocked" in premium.evidence
    assert all(f.met is None and f.distance is None for f in result.flip_signals)


def test_missing_signals_lower_coverage_not_score() -> None:
    bearish = {"premium_pct": -0.1, "price_vs_ma50_pct": -10.0, "price_vs_ma200_pct": -10.0}
    full = score(inputs(**bearish, etf_5d_avg_usd=-300e6, etf_mtd_usd=-3e9, etf_latest_day_usd=-900e6))
    thin = score(inputs(**bearish))
    assert full.score == thin.score == -1.0
    assert thin.coverage < full.coverage
    assert thin.evidence_agreement < full.evidence_agreement
    assert thin.coverage == pytest.approx(round((1.0 + 0.75 + 0.5) / TOTAL_WEIGHT, 4))


def test_below_min_coverage_is_undetermined_even_if_unanimous() -> None:
    result = score(inputs(premium_pct=-0.2, premium_streak_days=-30))
    assert result.coverage < MIN_COVERAGE
    assert result.score == -1.0
    assert result.verdict == "undetermined"


def test_one_missing_input_of_a_two_input_signal_makes_it_unavailable() -> None:
    got = score(ScoringInputs(close_usd=obs(90.0), reasons={"prior_swing_high_usd": "too few bars"}))
    swing = signal(got.signals, "price_vs_swing_high")
    assert swing.reading == "unavailable"
    assert "too few bars" in swing.evidence
    flip = next(f for f in got.flip_signals if f.name == "price_breaks_swing_high")
    assert flip.current == 90.0
    assert flip.threshold is None
    assert flip.met is None


def test_zero_liquidations_are_unavailable_not_neutral() -> None:
    got = signal(score(inputs(liq_long_7d_usd=0.0, liq_short_7d_usd=0.0)).signals, "liquidation_flush")
    assert got.reading == "unavailable"


FULL_BEARISH = {
    "premium_pct": -0.2, "premium_streak_days": -26, "etf_5d_avg_usd": -300e6, "etf_mtd_usd": -3e9,
    "etf_latest_day_usd": -500e6, "exchange_netflow_7d_btc": 15_000, "reserve_change_30d_pct": 2.0,
    "oi_change_7d_pct": 8.0, "funding_8h_pct": 0.04, "liq_long_7d_usd": 10e6, "liq_short_7d_usd": 90e6,
    "close_usd": 80.0, "prior_swing_high_usd": 100.0, "price_vs_ma50_pct": -10.0, "price_vs_ma200_pct": -10.0,
    "swing_high_sequence": -3, "cut_odds_change_1d_pp": -20.0, "btc_nasdaq_beta_90d": 1.0,
    "nasdaq_change_pct": -3.0, "crypto_mcap_change_6w_pct": -20.0,
}  # fmt: skip


def test_full_bearish_and_full_bullish() -> None:
    assert set(FULL_BEARISH) == set(INPUT_FIELDS)
    bear = score(inputs(**FULL_BEARISH))
    assert (bear.verdict, bear.score, bear.coverage, bear.evidence_agreement) == (
        "rebound_in_downtrend",
        -1.0,
        1.0,
        1.0,
    )
    # Flip every signal: each signal has opposite rules, so negate where symmetric and set the rest explicitly.
    bullish = {k: -v for k, v in FULL_BEARISH.items()}
    bullish.update(liq_long_7d_usd=90e6, liq_short_7d_usd=10e6, close_usd=110.0, prior_swing_high_usd=100.0,
                   btc_nasdaq_beta_90d=1.0, nasdaq_change_pct=3.0, funding_8h_pct=-0.01)  # fmt: skip
    bull = score(inputs(**bullish))
    assert (bull.verdict, bull.score, bull.coverage, bull.evidence_agreement) == ("reversal", 1.0, 1.0, 1.0)


def test_mixed_evidence_score_and_agreement_maths() -> None:
    # premium bearish (1.0), ma50 bullish (0.75), ma200 neutral (0.5): score = (0.75 - 1.0) / 2.25
    result = score(inputs(premium_pct=-0.1, price_vs_ma50_pct=5.0, price_vs_ma200_pct=0.0))
    assert result.score == pytest.approx(round(-0.25 / 2.25, 4))
    coverage = 2.25 / TOTAL_WEIGHT
    assert result.coverage == pytest.approx(round(coverage, 4))
    assert result.evidence_agreement == pytest.approx(round(coverage * 0.25 / 1.75, 4))


def test_stale_input_marks_the_signal_stale() -> None:
    result = score(ScoringInputs(premium_pct=obs(-0.1, stale=True)))
    assert signal(result.signals, "premium_level").stale is True


# (flip, inputs, met, distance)
FLIP_CASES = [
    ("premium_turns_positive", {"premium_pct": -0.0383}, False, 0.0383),
    ("premium_turns_positive", {"premium_pct": 0.01}, True, 0.0),
    ("etf_outflow_under_100m", {"etf_latest_day_usd": -903.2e6}, False, 803.2e6),
    ("etf_outflow_under_100m", {"etf_latest_day_usd": -40e6}, True, 0.0),
    ("exchange_netflow_turns_inflow", {"exchange_netflow_7d_btc": -4_000.0}, False, 4_000.0),
    ("exchange_netflow_turns_inflow", {"exchange_netflow_7d_btc": 8_294.7}, True, 0.0),
    ("price_breaks_swing_high", {"close_usd": 87_000.0, "prior_swing_high_usd": 94_000.0}, False, 7_000.0),
    ("price_breaks_swing_high", {"close_usd": 95_000.0, "prior_swing_high_usd": 94_000.0}, True, 0.0),
]


def test_required_flips_exist() -> None:
    assert {f.name for f in FLIPS} == {row[0] for row in FLIP_CASES}


@pytest.mark.parametrize(("name", "values", "met", "distance"), FLIP_CASES)
def test_flip(name: str, values: dict[str, float], met: bool, distance: float) -> None:
    flip = next(f for f in score(inputs(**values)).flip_signals if f.name == name)
    assert flip.met is met
    assert flip.distance == pytest.approx(distance)
    assert flip.current is not None


def test_methodology_is_generated_from_the_table() -> None:
    text = methodology_markdown()
    for s in SIGNALS:
        assert f"`{s.name}`" in text
        assert s.rationale in text
    for f in FLIPS:
        assert f"`{f.name}`" in text
    assert f"before {THRESHOLDS_FIXED}" in text
    assert "out of sample" in text
