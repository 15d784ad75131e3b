"""Adapters, one per indicator tool: the tool's typed output -> the `ScoringInputs` fields it fills.

Each adapter reads its tool's pydantic output by attribute and maps every field it fills to an `Observed` value,
or to the reason it has none (a null figure stays missing, never 0). The label in a reason names the output
field, so a reader can find it in the tool's own answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from statistics import fmean

from schemas.common import ToolResult
from schemas.etf_flows import EtfFlows
from schemas.leverage import LeverageState
from schemas.macro import MacroBackdrop
from schemas.premium import CoinbasePremium
from schemas.reserves import ExchangeReserves
from tools.assess.scoring import Observed

# Each ScoringInputs field an adapter fills -> its Observed value, or the reason it has none.
Fields = dict[str, Observed | str]


def source_of(tool: str, out: ToolResult) -> tuple[str, bool]:
    """'tool (upstream, ...)' and whether any upstream was served stale."""
    names = sorted({ref.name for ref in out.sources})
    stale = any(ref.stale for ref in out.sources)
    return (f"{tool} ({', '.join(names)})" if names else tool), stale


def observed(value: float | None, field: str, src: str, at: datetime | None, stale: bool) -> Observed | str:
    if value is None:
        return f"{field} is null (see its warnings)"
    return Observed(float(value), src, at, stale)


def day_start(iso: str | None) -> datetime | None:
    """An ISO date or datetime from a tool's output as an aware UTC datetime (a date means its 00:00 UTC)."""
    if iso is None:
        return None
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def adapt_premium(out: CoinbasePremium) -> Fields:
    src, stale = source_of("get_coinbase_premium", out)
    at = out.current.ts or out.as_of
    fields: Fields = {"premium_pct": observed(out.current.premium_pct, "current.premium_pct", src, at, stale)}
    sign, days = out.streak.sign, out.streak.days
    if sign is None or days is None:
        fields["premium_streak_days"] = "streak.sign is null (no daily bars)"
    else:
        signed = days if sign == "positive" else -days if sign == "negative" else 0
        fields["premium_streak_days"] = Observed(float(signed), src, out.as_of, stale)
    return fields


def adapt_etf(out: EtfFlows) -> Fields:
    src, stale = source_of("get_etf_flows", out)
    fields: Fields = {"etf_mtd_usd": observed(out.month_to_date_usd, "month_to_date_usd", src, out.as_of, stale)}
    # The tool's own latest completed day (tools/etf/days.py): a provisional row, the as_of day's own included,
    # never feeds a signal, so this and get_etf_flows' outflow_below_100m read the same day.
    latest = out.latest_completed_day
    if latest is None:
        fields["etf_latest_day_usd"] = fields["etf_5d_avg_usd"] = "latest_completed_day is null (no completed day)"
        return fields
    at = day_start(latest.date)
    fields["etf_latest_day_usd"] = Observed(float(latest.total_usd), src, at, stale)
    # The tool's mean of its last 5 completed days; a missing day is never a zero, so fewer than five is no signal.
    completed = sum(1 for d in out.days if not d.provisional and d.total_usd is not None and d.date <= latest.date)
    fields["etf_5d_avg_usd"] = (
        observed(out.avg_5d_usd, "avg_5d_usd", src, at, stale)
        if completed >= 5
        else f"only {completed} completed days for the 5-day average"
    )
    return fields


def adapt_leverage(out: LeverageState) -> Fields:
    src, stale = source_of("get_leverage_state", out)
    liq = out.liquidations
    fields: Fields = {
        "oi_change_7d_pct": observed(
            out.open_interest.change_7d_pct, "open_interest.change_7d_pct", src, out.as_of, stale
        ),
        "liq_long_7d_usd": observed(liq.long_usd_7d, "liquidations.long_usd_7d", src, out.as_of, stale),
        "liq_short_7d_usd": observed(liq.short_usd_7d, "liquidations.short_usd_7d", src, out.as_of, stale),
    }
    # Rates are already normalised to 8 hours per venue (venues settle every 1, 4 or 8 hours).
    rates = [float(row.rate_8h_pct) for row in out.funding if row.rate_8h_pct is not None]
    fields["funding_8h_pct"] = Observed(fmean(rates), src, out.as_of, stale) if rates else "no venue reported"
    return fields


def adapt_reserves_7d(out: ExchangeReserves) -> Fields:
    src, stale = source_of("exchange_reserve_trend", out)
    at = day_start(out.window_end) or out.as_of
    # net_flow_btc (inflow - outflow) when the tool reports it; else the reserve change, which is the same flow.
    flow = observed(out.net_flow_btc, "net_flow_btc", src, at, stale)
    if not isinstance(flow, Observed):
        flow = observed(out.change_btc, "change_btc", src, at, stale)
    return {"exchange_netflow_7d_btc": flow}


def adapt_reserves_30d(out: ExchangeReserves) -> Fields:
    src, stale = source_of("exchange_reserve_trend", out)
    return {"reserve_change_30d_pct": observed(out.change_pct, "change_pct", src, out.as_of, stale)}


def adapt_macro(out: MacroBackdrop) -> Fields:
    src, stale = source_of("get_macro_backdrop", out)
    change = out.fed.cut_probability_change_1d
    fields: Fields = {
        # cut_probability is 0..1, so its change is in probability units: x100 for percentage points.
        "cut_odds_change_1d_pp": observed(
            None if change is None else 100.0 * change, "fed.cut_probability_change_1d", src, out.as_of, stale
        ),
        "btc_nasdaq_beta_90d": observed(out.btc_nasdaq.beta_90d, "btc_nasdaq.beta_90d", src, out.as_of, stale),
        "crypto_mcap_change_6w_pct": observed(
            out.crypto_market_cap.change_6w_pct, "crypto_market_cap.change_6w_pct", src, out.as_of, stale
        ),
        "nasdaq_change_pct": "no Nasdaq entry in its indices",
    }
    nasdaq = next((index for index in out.indices if "nasdaq" in index.name.lower()), None)
    if nasdaq is not None:
        at = day_start(nasdaq.date) or out.as_of
        fields["nasdaq_change_pct"] = (
            Observed(float(nasdaq.change_pct), src, at, stale)
            if nasdaq.change_pct is not None
            else "Nasdaq change_pct is null"
        )
    return fields
