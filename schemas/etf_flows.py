"""Spot ETF flows: the parsed daily table every ETF source is reduced to, and the output of get_etf_flows.

All money is in USD (Farside publishes US$m; its fetcher converts). A fund value of None means the source had no
figure for that fund on that day (not listed yet, or not reported yet): it is never read as a zero flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel, Field

from schemas.common import Streak, ToolResult


@dataclass(frozen=True)
class FlowRow:
    """One trading day of one source: net creations (+) / redemptions (-) per fund and in total, in USD."""

    day: date
    funds: dict[str, float | None]
    total_usd: float | None
    known_at: datetime | None = None  # set on a day read as known at a past instant: when these figures were seen

    @property
    def reported(self) -> bool:
        """The day has figures. Farside prints Total 0.0 beside an all-`-` row for a day nobody has reported yet
        (or a holiday), so a zero total with no fund figure is not a report; a total-only source's total is."""
        if any(v is not None for v in self.funds.values()):
            return True
        return self.total_usd is not None and (not self.funds or self.total_usd != 0)


@dataclass(frozen=True)
class FlowTable:
    """A source's daily flows, ascending by day, with optional net assets per fund (USD) at the latest day."""

    tickers: tuple[str, ...]
    rows: list[FlowRow]
    since_launch: bool = False  # True when the table starts at the first trading day of the ETFs
    net_assets_usd: dict[str, float] = field(default_factory=dict)


# -- tool output ---------------------------------------------------------------------------------------------------


class EtfFlowDay(BaseModel):
    date: str = Field(description="US trading day, ISO date.")
    total_usd: float | None = Field(description="Net flow of all funds that day, USD (negative = outflow).")
    funds: dict[str, float | None] = Field(description="Net flow per fund ticker, USD; null = no figure that day.")
    provisional: bool = Field(description="True for the as_of trading day or a day some issuers have not reported.")
    known_at: datetime | None = Field(
        default=None,
        description="as_of answers: when windvane first saw these figures; null: final figures, maybe revised later.",
    )


class MonthFlow(BaseModel):
    month: str = Field(description="Calendar month, YYYY-MM.")
    total_usd: float = Field(description="Sum of daily net flows in that month, USD.")


class LargestFund(BaseModel):
    ticker: str
    cumulative_net_inflow_usd: float = Field(description="Sum of the fund's daily net flows over the history used.")
    share_pct: float = Field(
        description="Fund's cumulative net inflow as % of the summed cumulative inflow of all funds with net inflows."
    )
    share_of_net_total_pct: float | None = Field(
        description="Fund's cumulative net inflow as % of all funds' net total (can exceed 100 after GBTC outflows)."
    )
    share_of_assets_pct: float | None = Field(
        default=None, description="Fund's net assets as % of all funds' net assets, when a source gives holdings."
    )


class LatestDay(BaseModel):
    date: str
    total_usd: float


class EtfFlows(ToolResult):
    asset: str
    source_used: str | None = Field(description="farside (default), sosovalue or coinglass; null when none answered.")
    days: list[EtfFlowDay] = Field(description="Latest trading days, oldest first.")
    month_to_date_usd: float | None = Field(description="Net flow in the as_of month so far, USD.")
    month_to_date_by_fund_usd: dict[str, float] = Field(description="Month-to-date net flow per fund, USD.")
    month_to_date_days: int | None = Field(
        description="Trading days reported in the as_of month; null when no source answered."
    )
    previous_month: MonthFlow | None = None
    previous_month_by_fund_usd: dict[str, float] = Field(default_factory=dict)
    record_monthly_outflow: MonthFlow | None = Field(description="Largest net outflow of any earlier month.")
    record_monthly_inflow: MonthFlow | None = Field(description="Largest net inflow of any earlier month.")
    month_to_date_pct_of_record: float | None = Field(description="Month-to-date as % of the same-sign record.")
    streak: Streak = Field(description="Consecutive completed days of net inflow (positive) or outflow (negative).")
    avg_5d_usd: float | None = Field(description="Mean net flow of the last 5 completed days, USD.")
    latest_completed_day: LatestDay | None = None
    outflow_below_100m: bool | None = Field(
        description="Latest completed day's net outflow is under US$100M (an inflow day counts as true)."
    )
    largest_fund: LargestFund | None = None
    price_impact_estimate_pct: float | None = Field(
        description="Rule of thumb: coefficient x month-to-date net flow in US$B. Approximate, not a forecast."
    )
    impact_coefficient_pct_per_busd: float = Field(description="Coefficient used, % price per US$1B net flow.")
