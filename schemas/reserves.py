"""Output of exchange_reserve_trend."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.common import ToolResult


def _absent(value: object) -> bool:
    return value is None


class ExchangeReserve(BaseModel):
    exchange: str
    btc: float | None = Field(description="BTC held at as_of (null when unavailable).")
    change_btc: float | None = Field(description="btc minus the balance window_days earlier.")
    change_pct: float | None
    category: str | None = Field(description="institutional, retail or derivatives (null when unknown).")
    source: str = Field(description="defillama (keyless), coinglass, or onchain (collected wallet snapshots).")
    # The on-chain fields are left out of other sources' rows (not figures, so nothing is null for a reason).
    addresses_ok: int | None = Field(
        default=None, exclude_if=_absent, description="On-chain snapshot: wallets behind it (absent for other sources)."
    )
    addresses_total: int | None = Field(
        default=None, exclude_if=_absent, description="On-chain: wallets listed in the address book."
    )
    snapshot_at: datetime | None = Field(
        default=None, exclude_if=_absent, description="On-chain: the time of the `windvane collect` snapshot."
    )


class PeriodChange(BaseModel):
    label: str = Field(description="What the period is, e.g. '2025-11' or 'since 2024-12-31'.")
    start_date: str = Field(description="Reserve taken at the end of this UTC day.")
    end_date: str
    start_btc: float | None
    end_btc: float | None
    change_btc: float | None
    change_pct: float | None


class MonthOverMonth(BaseModel):
    this_month: PeriodChange = Field(description="Month of as_of, to as_of (month-to-date when as_of is mid-month).")
    previous_month: PeriodChange
    difference_btc: float | None = Field(
        description="this_month.change_btc - previous_month.change_btc (negative: more left this month)."
    )


class CategoryShare(BaseModel):
    category: str
    exchanges: list[str]
    btc: float | None
    share_pct: float | None = Field(description="Share of the tracked per-exchange total.")
    change_btc: float | None


class CoverageExchange(BaseModel):
    exchange: str
    source: str
    btc: float | None
    share_pct: float | None = Field(description="Share of the tracked per-exchange total.")


class Coverage(BaseModel):
    source: str = Field(description="Source of total_btc: cryptoquant (all exchanges), coinglass or defillama.")
    exchanges: list[CoverageExchange]
    tracked_total_btc: float | None = Field(
        description="Sum of the per-exchange figures in by_exchange; null when any of them is unknown."
    )
    share_of_all_exchanges_pct: float | None = Field(
        description="tracked_total_btc / CryptoQuant all-exchange reserve, when both are known."
    )
    not_covered: dict[str, str] = Field(description="Exchanges known to be missing, with the reason.")
    addresses_total: int = Field(description="Labelled wallets in the address book.")
    addresses_ok: int = Field(description="Labelled wallets behind the cross-checks (collected snapshots used).")
    complete: bool = Field(description="False when any exchange's figure is unknown.")


class CrossCheck(BaseModel):
    exchange: str
    onchain_btc: float
    keyed_btc: float
    keyed_source: str = Field(description="The per-exchange source compared: coinglass, or defillama keyless.")
    diff_pct: float = Field(description="100*(onchain/keyed - 1); the packaged wallet list is a subset.")


class ExchangeReserves(ToolResult):
    asset: str
    window_days: int
    source: str = Field(description="Source of total/change: cryptoquant, coinglass or defillama.")
    total_btc: float | None = Field(description="BTC on exchanges at as_of (source's coverage, see coverage).")
    change_btc: float | None = Field(description="Change over window_days; negative = coins left exchanges.")
    change_pct: float | None
    window_start: str | None = Field(description="UTC day whose end-of-day reserve is the window's start.")
    window_end: str | None
    net_flow_btc: float | None = Field(description="Net exchange flow over the window (inflow - outflow), BTC.")
    net_flow_positive: bool | None = Field(description="True: the latest window's net flow is an inflow.")
    by_exchange: list[ExchangeReserve]
    categories: list[CategoryShare] = Field(description="Institutional vs retail vs derivatives split.")
    month_over_month: MonthOverMonth | None
    year_to_date: PeriodChange | None = Field(description="Change since the end of the previous year.")
    since: PeriodChange | None = Field(description="Change since the `since` date, when given.")
    coverage: Coverage
    cross_checks: list[CrossCheck]
