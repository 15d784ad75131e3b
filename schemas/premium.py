"""Output of get_coinbase_premium."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.common import Streak, ToolResult


class PremiumNow(BaseModel):
    premium_pct: float | None = Field(
        description="100*(coinbase/reference - 1). Negative: Coinbase trades below the world."
    )
    premium_usd: float | None = Field(
        description="coinbase - reference, in USD (reference quoted in USDT, as vendors do)."
    )
    coinbase_price: float | None
    reference_price: float | None = Field(description="Reference venue price in USDT.")
    reference_venue: str | None = Field(description="binance, or the fallback used: okx, kraken, bitstamp.")
    usdt_usd: float | None = Field(description="USDT priced in USD on Coinbase (USDT-USD).")
    premium_usdt_adjusted_pct: float | None = Field(
        description="100*(coinbase/(reference*usdt_usd) - 1): the premium with any USDT depeg removed."
    )
    ts: datetime | None = Field(description="Time of the prices (ticker time now; bar open for as_of answers).")


class PremiumBar(BaseModel):
    ts: datetime = Field(description="Bar open time, UTC.")
    premium_pct: float
    premium_usd: float
    coinbase_close: float
    reference_close: float
    premium_usdt_adjusted_pct: float | None = None


class CoinbasePremium(ToolResult):
    asset: str
    interval: str
    current: PremiumNow
    history: list[PremiumBar] = Field(
        description="Closed bars, oldest first. A bar missing on either venue is skipped."
    )
    streak: Streak = Field(description="Run of consecutive daily closes with the same premium sign, ending at as_of.")
    avg_7d_pct: float | None = Field(description="Mean daily premium_pct over the last 7 daily bars.")
    avg_30d_pct: float | None = Field(description="Mean daily premium_pct over the last 30 daily bars.")
