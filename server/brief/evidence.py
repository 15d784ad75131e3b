"""Section (2), the evidence: ETF flows against the record, the premium's streak, leverage and the order book."""

from __future__ import annotations

from schemas.etf_flows import EtfFlows
from schemas.leverage import LeverageState
from schemas.premium import CoinbasePremium
from server.brief import labels
from server.brief.document import Row, Section
from server.brief.figures import days, na, pct, usd
from server.brief.gather import BriefInputs
from server.brief.rows import absent, on_day, reason


def evidence(inp: BriefInputs) -> Section:
    rows = _etf_rows(inp.etf, inp) + _premium_rows(inp.premium, inp) + _leverage_rows(inp.leverage, inp)
    return Section("2. The evidence", rows)


def _etf_rows(etf: EtfFlows | None, inp: BriefInputs) -> list[Row]:
    if etf is None or etf.month_to_date_usd is None:
        why = (
            inp.missing("get_etf_flows") if etf is None else reason(etf.warnings, "month", default="no source answered")
        )
        return absent(("ETF flows, month to date", "Largest fund"), why)
    mtd, as_of = etf.month_to_date_usd, etf.as_of.date()
    month = as_of.strftime("%Y-%m")
    provisional = any(d.provisional for d in etf.days if d.date.startswith(month))
    source = labels.source(etf.source_used) + (", latest day provisional" if provisional else "")
    rows = [Row("ETF flows, month to date", f"{usd(mtd)} over {etf.month_to_date_days} trading days",
                f"{month}-01 to {as_of}", source)]  # fmt: skip
    record = etf.record_monthly_outflow if mtd < 0 else etf.record_monthly_inflow
    kind = "outflow" if mtd < 0 else "inflow"
    if record is not None and etf.month_to_date_pct_of_record is not None:
        value = f"{etf.month_to_date_pct_of_record:.1f} % of the record {kind} ({usd(record.total_usd)})"
        rows.append(Row(f"Vs the record {kind} month", value, record.month))
    else:
        rows.append(Row(f"Vs the record {kind} month", na(f"no earlier {kind} month in the history")))
    rows.append(_largest_fund(etf, mtd))
    if etf.latest_completed_day is not None:
        day = etf.latest_completed_day
        flag = etf.outflow_below_100m
        easing = "" if flag is None else "outflow under US$100M" if flag else "outflow over US$100M"
        note = "an inflow day" if day.total_usd >= 0 else easing
        rows.append(Row("Latest completed day", usd(day.total_usd), day.date, note))
    if etf.avg_5d_usd is not None:
        # The mean runs over completed days (tools/etf/days.py), so it ends at the latest completed day, not as_of.
        end = etf.latest_completed_day.date if etf.latest_completed_day is not None else as_of.isoformat()
        rows.append(Row("ETF flows, 5-day average", f"{usd(etf.avg_5d_usd)} a day", f"to {end}"))
    return rows


def _largest_fund(etf: EtfFlows, mtd: float) -> Row:
    fund = etf.largest_fund
    if fund is None:
        return Row("Largest fund", na(reason(etf.warnings, "largest", default="no fund history")))
    cumulative = usd(fund.cumulative_net_inflow_usd, signed=False)
    value = f"{fund.ticker}, {fund.share_pct:.1f} % of cumulative net inflow ({cumulative})"
    fund_mtd = etf.month_to_date_by_fund_usd.get(fund.ticker)
    if fund_mtd is not None:
        share = f", {100 * fund_mtd / mtd:.0f} % of the month" if mtd != 0 and fund_mtd * mtd > 0 else ""
        value += f"; {usd(fund_mtd)} this month{share}"
    return Row("Largest fund", value, f"since launch to {etf.as_of.date()}")


def _premium_rows(premium: CoinbasePremium | None, inp: BriefInputs) -> list[Row]:
    if premium is None or premium.current.premium_pct is None:
        why = inp.missing("get_coinbase_premium") if premium is None else _premium_gap(premium.warnings)
        return absent(("Coinbase premium", "Premium streak"), why)
    now = premium.current
    level = pct(now.premium_pct, 3) if now.premium_pct is not None else na("no premium")
    usd_gap = f" ({usd(now.premium_usd)} a coin)" if now.premium_usd is not None else ""
    rows = [Row("Coinbase premium", f"{level}{usd_gap}", on_day(now.ts),
                f"Coinbase vs {labels.source(now.reference_venue)}")]  # fmt: skip
    streak = premium.streak
    if streak.days is None or streak.sign is None:
        rows.append(Row("Premium streak", na(reason(premium.warnings, "streak", default="no daily closes"))))
    else:
        at_least = "" if streak.complete else "at least "
        rows.append(Row("Premium streak", f"{streak.sign} for {at_least}{days(streak.days)}", f"since {streak.since}"))
    if premium.avg_7d_pct is not None and premium.avg_30d_pct is not None:
        value = f"{pct(premium.avg_7d_pct, 3)} over 7 days, {pct(premium.avg_30d_pct, 3)} over 30 days"
        rows.append(Row("Premium averages", value, f"to {premium.as_of.date()}"))
    return rows


def _premium_gap(warnings: list[str]) -> str:
    """Why there is no premium: a venue's candles failing, else the missing bars; never the USDT-adjusted note."""
    for keywords in (("coinbase", "candles unavailable"), ("no daily bars",), ("reference", "unavailable")):
        found = reason(warnings, *keywords, default="")
        if found:
            return found
    return "see the Coinbase premium warnings"


LEVERAGE_STATE = {"bullish": "flushed", "bearish": "building", "neutral": "steady"}


def _leverage_rows(lev: LeverageState | None, inp: BriefInputs) -> list[Row]:
    if lev is None:
        return absent(("Leverage", "Order book near round levels"), inp.missing("get_leverage_state"))
    as_of = str(lev.as_of.date())
    oi = lev.open_interest
    signal = next((s for s in inp.assessment.signals if s.name == "open_interest_7d"), None)
    if oi.change_7d_pct is None or oi.usd is None:
        rows = [Row("Leverage", na(reason(lev.warnings, "open interest")))]
    else:
        state = LEVERAGE_STATE.get(signal.reading, "n/a") if signal is not None else "n/a"
        value = f"{state}: open interest {pct(oi.change_7d_pct)} over 7 days, to {usd(oi.usd, signed=False)}"
        venues = ", ".join(labels.exchange(v) for v in oi.venues) + (" only (partial)" if oi.partial else "")
        rows = [Row("Leverage", value, as_of, venues)]
    if lev.funding_avg_8h_pct is not None:
        payer = "shorts pay longs" if lev.funding_avg_8h_pct < 0 else "longs pay shorts"
        rows.append(
            Row(
                "Funding",
                f"{lev.funding_avg_8h_pct:+.4f} % per 8 h, {payer}",
                as_of,
                "1 venue" if len(lev.funding) == 1 else f"{len(lev.funding)} venues",
            )
        )
    liq = lev.liquidations
    if liq.long_usd_7d is not None and liq.short_usd_7d is not None:
        value = f"longs {usd(liq.long_usd_7d, False)}, shorts {usd(liq.short_usd_7d, False)}"
        rows.append(Row("Liquidations, 7 days", value, f"to {as_of}", labels.source(liq.source)))
    else:
        rows.append(Row("Liquidations, 7 days", na(reason(lev.warnings, "7d", default="no 7-day totals"))))
    return rows + _book_rows(lev)


def _book_rows(lev: LeverageState) -> list[Row]:
    book = lev.order_book
    if not book.round_levels:
        why = book.thin_book_reason or reason(lev.warnings, "order-book", default="no order-book depth")
        return [Row("Order book near round levels", na(why))]
    rows = []
    for level in book.round_levels:
        value = na("no depth") if level.depth_usd is None else f"{usd(level.depth_usd, False)} of bids within 0.5 %"
        venues = ", ".join(labels.exchange(v) for v in level.venues)
        rows.append(Row(f"Bids near US${level.price:,.0f}", value, str(lev.as_of.date()), venues))
    if book.thin_book is None:
        rows.append(Row("Thin book", na(book.thin_book_reason or "no depth history")))
    else:
        ratio = (
            f", 1 % depth at {book.depth_1pct_vs_median:.2f}x its 30-day median" if book.depth_1pct_vs_median else ""
        )
        rows.append(Row("Thin book", ("yes" if book.thin_book else "no") + ratio, str(lev.as_of.date())))
    return rows
