"""Output of get_leverage_state."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.common import ToolResult


class StreamLiquidations(BaseModel):
    venue: str = Field(description="binance or bybit.")
    stream: str = Field(description="forceOrder (Binance) or allLiquidation (Bybit).")
    long_usd_24h: float = Field(description="Long USD liquidated in the recorded minutes of the last 24h only.")
    short_usd_24h: float
    minutes_24h: int = Field(description="Minutes of the rolling 24h window recorded in full by windvane collect.")
    window_minutes_24h: int = Field(description="Minutes in the 24h window (1,440); the sums are partial below this.")
    long_usd_7d: float
    short_usd_7d: float
    minutes_7d: int
    window_minutes_7d: int
    last_minute: datetime = Field(description="Start of the latest recorded minute.")
    note: str | None = Field(description="Why the stream itself undercounts, when it does (Binance samples).")


class Liquidations(BaseModel):
    long_usd_24h: float | None = Field(description="USD of long positions force-closed in the 24h window.")
    short_usd_24h: float | None = Field(description="USD of short positions force-closed in the 24h window.")
    long_usd_7d: float | None
    short_usd_7d: float | None
    coverage: str = Field(description="Which venues the figures cover, e.g. 'all venues (CoinGlass)' or 'OKX only'.")
    source: str | None = Field(description="coinglass (aggregated, complete) or okx (keyless, one venue).")
    window_end: datetime | None = Field(
        description="End of both windows. CoinGlass daily bars: the end of the last complete UTC day."
    )
    streams: list[StreamLiquidations] = Field(
        default_factory=list,
        description="Binance/Bybit stream sums over the minutes `windvane collect` recorded (rolling windows ending"
        " at as_of). Partial unless minutes equal window minutes; never included in the figures above.",
    )


class VenueOpenInterest(BaseModel):
    venue: str
    usd: float | None
    time: datetime | None = Field(description="Time of the current reading.")
    change_24h_pct: float | None
    change_7d_pct: float | None


class AggregatedOpenInterest(BaseModel):
    usd: float | None = Field(description="All-venue open interest at the close of the last complete UTC day.")
    change_24h_pct: float | None = Field(description="Against the close one day earlier.")
    change_7d_pct: float | None = Field(description="Against the close seven days earlier.")
    day: str = Field(description="The UTC day whose close `usd` is.")
    source: str


class OpenInterest(BaseModel):
    usd: float | None = Field(description="Sum of current open interest (USD) over the venues that answered.")
    change_24h_pct: float | None = Field(description="Change of the sum over venues with both readings.")
    change_7d_pct: float | None
    venues: list[str] = Field(description="Venues summed in `usd`. A venue that did not answer is left out, not 0.")
    partial: bool = Field(description="True when a venue (Binance, OKX, Bybit) is missing from the sum.")
    by_venue: list[VenueOpenInterest]
    all_venues: AggregatedOpenInterest | None = Field(
        default=None, description="CoinGlass all-venue daily OI (only with WINDVANE_COINGLASS_API_KEY)."
    )


class FundingRow(BaseModel):
    venue: str
    rate_pct: float = Field(description="Latest settled rate per funding interval, in percent.")
    interval_hours: int = Field(description="Detected from the gap between the two latest settlements.")
    rate_8h_pct: float = Field(description="rate_pct scaled to an 8-hour period: rate_pct * 8 / interval_hours.")
    annualized_pct: float = Field(description="rate_pct * 24 / interval_hours * 365.")
    funding_time: datetime


class RoundLevel(BaseModel):
    price: float = Field(description="Round number below the price (multiple of 5,000 for BTC, 250 for ETH).")
    depth_usd: float | None = Field(description="Bid USD within ±0.5% of price, summed over `venues`.")
    venues: list[str]


class VenueDepth(BaseModel):
    venue: str
    pair: str
    mid: float | None
    depth_0_5pct_usd: float | None = Field(description="Bids+asks within ±0.5% of mid; null if the book stops short.")
    depth_1pct_usd: float | None
    depth_2pct_usd: float | None
    bid_depth_1pct_usd: float | None
    ask_depth_1pct_usd: float | None
    time: datetime | None


class OrderBookState(BaseModel):
    mid_price: float | None
    depth_0_5pct_usd: float | None = Field(description="Sum over venues whose book covers the band.")
    depth_1pct_usd: float | None
    depth_2pct_usd: float | None
    depth_1pct_venues: list[str]
    round_levels: list[RoundLevel]
    venues: list[VenueDepth]
    thin_book: bool | None = Field(description="depth_1pct below half its 30-day median; null until history exists.")
    thin_book_reason: str | None
    depth_1pct_vs_median: float | None = Field(description="Current ±1% depth / its 30-day median (same venues).")


class LeverageState(ToolResult):
    asset: str
    liquidations: Liquidations
    open_interest: OpenInterest
    funding: list[FundingRow]
    funding_avg_8h_pct: float | None = Field(description="Mean rate_8h_pct over the venues in `funding`.")
    order_book: OrderBookState
