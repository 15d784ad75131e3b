"""Output of get_macro_backdrop. Every part is nullable: an unavailable part is null with a reason in `warnings`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.common import ToolResult


class IndexClose(BaseModel):
    name: str = Field(description="S&P 500, Nasdaq Composite or Dow Jones Industrial Average.")
    symbol: str = Field(description="FRED series id: SP500, NASDAQCOM, DJIA.")
    close: float | None = Field(description="Last daily close at or before as_of, index points.")
    change_pct: float | None = Field(description="100*(close/previous trading day's close - 1).")
    date: str | None = Field(description="Trading day of `close` (New York).")
    previous_close: float | None = None
    source: str | None = Field(default=None, description="fred, fred_api or yahoo.")


class FedOutcomeOdds(BaseModel):
    label: str
    bracket: str = Field(description="cut, hold or hike.")
    bp: int = Field(description="Signed size in basis points; 26 / -26 mean 'more than 25'.")
    probability: float | None = Field(description="0..1: bid/ask mid when the spread is tight, else last price.")
    basis: str | None = Field(description="mid or last.")


class FedOdds(BaseModel):
    next_meeting: str | None = Field(description="Decision day of the next scheduled FOMC meeting (ISO date).")
    meeting_start: str | None = None
    cut_probability: float | None = Field(
        description="0..1: market-implied probability of any cut at that meeting (sum of the cut brackets)."
    )
    cut_probability_change_1d: float | None = Field(
        default=None, description="Change of cut_probability since about a day earlier, in probability units."
    )
    change_basis: str | None = Field(
        default=None, description="venue_previous_day, venue_price_history or stored_snapshot."
    )
    hold_probability: float | None = None
    source: str | None = Field(description="kalshi or polymarket.")
    market: str | None = Field(default=None, description="Kalshi event ticker or Polymarket event slug.")
    outcomes: list[FedOutcomeOdds] = Field(default_factory=list)
    observed_at: datetime | None = Field(default=None, description="When the odds were read.")
    schedule_source: str = Field(description="Where the meeting date comes from.")


class BtcNasdaq(BaseModel):
    correlation_30d: float | None = Field(description="Pearson correlation of the last 30 daily log returns.")
    correlation_90d: float | None = Field(description="Pearson correlation of the last 90 daily log returns.")
    beta_90d: float | None = Field(description="cov(BTC, Nasdaq)/var(Nasdaq) over the last 90 daily log returns.")
    through: str | None = Field(default=None, description="Last trading day in the window.")
    returns_available: int | None = Field(
        default=None, description="Aligned daily returns available (at most 90 used); null without both series."
    )


class BtcDrawdown(BaseModel):
    close_usd: float | None = Field(description="Last closed Coinbase BTC-USD daily close.")
    close_date: str | None
    high_usd: float | None = Field(description="Highest daily close over the last 365 days.")
    high_date: str | None


class CryptoMarketCap(BaseModel):
    usd: float | None = Field(description="Total crypto market capitalisation, USD.")
    change_6w_pct: float | None = Field(description="100*(usd/usd six weeks earlier - 1), from the history store.")
    observed_at: datetime | None = None
    compared_to_usd: float | None = None
    compared_to_at: datetime | None = None
    btc_dominance_pct: float | None = None
    source: str | None = Field(default=None, description="coingecko, coinpaprika, or store (as_of answers).")


class Halving(BaseModel):
    last_height: int | None = Field(description="Height of the last halving at or before as_of (null before 2012).")
    last_date: str | None
    months_since: float | None = Field(description="Months (of 30.44 days) from the last halving to as_of.")
    next_height: int
    next_eta: str | None = Field(description="Estimated date of the next halving at ~600 s per block from the tip.")
    blocks_remaining: int | None = None
    tip_height: int | None = None
    tip_source: str | None = None


class FearGreed(BaseModel):
    value: int | None = Field(description="Crypto Fear & Greed Index 0 (extreme fear) .. 100 (extreme greed).")
    classification: str | None
    date: str | None
    change_7d: int | None = Field(description="value minus the value seven days earlier, index points.")


class MacroBackdrop(ToolResult):
    indices: list[IndexClose]
    fed: FedOdds
    btc_nasdaq: BtcNasdaq
    btc_drawdown_from_high_pct: float | None = Field(
        description="100*(last BTC daily close / highest daily close of the last 365 days - 1); <= 0."
    )
    btc_drawdown: BtcDrawdown
    crypto_market_cap: CryptoMarketCap
    halving: Halving
    fear_greed: FearGreed
