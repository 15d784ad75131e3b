"""Typed rows the macro fetchers produce (indices, prediction markets, market cap, sentiment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class DailyClose:
    day: date  # the trading day (exchange local date)
    close: float


@dataclass(frozen=True, slots=True)
class FedOutcome:
    """One outcome of a Fed-decision market: its bracket and the prices needed to read a probability."""

    ticker: str  # Kalshi market ticker, or the Polymarket market slug
    event: str  # Kalshi event ticker (KXFEDDECISION-25DEC), or the Polymarket event slug
    bracket: str  # "hold", "cut" or "hike"
    bp: int  # signed size in basis points: 0, -25, -26 (more than 25), 25, 26
    label: str
    yes_bid: float | None  # dollars per $1 contract = probability
    yes_ask: float | None
    last_price: float | None
    previous_yes_bid: float | None = None  # as of ~24 hours earlier, when the venue reports it
    previous_yes_ask: float | None = None
    previous_price: float | None = None
    close_time: datetime | None = None
    token_id: str | None = None  # Polymarket: the Yes token, whose price history the CLOB serves


@dataclass(frozen=True, slots=True)
class MarketCapSnapshot:
    total_usd: float
    updated_at: datetime | None
    btc_dominance_pct: float | None


@dataclass(frozen=True, slots=True)
class FearGreedReading:
    day: date  # alternative.me stamps each value at 00:00 UTC of its day
    value: int
    classification: str
