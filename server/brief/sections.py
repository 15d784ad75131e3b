"""The brief's five sections, in the order a market commentary reads: each figure with its unit, date and source.

Every row comes from a tool's typed output. A figure that is null there is written "n/a (reason)", the reason
taken from the tool's own warnings where one mentions it; nothing is computed here that the tools do not report,
except plain arithmetic on their figures (a fund's share of the month, days until a date).
"""

from __future__ import annotations

from datetime import date

from schemas.assess import Assessment, FlipSignal
from schemas.etf_flows import EtfFlows
from schemas.leverage import LeverageState
from schemas.macro import MacroBackdrop
from schemas.premium import CoinbasePremium
from schemas.reserves import ExchangeReserves
from server.brief import labels
from server.brief.document import Row, Section
from server.brief.figures import MINUS as MINUS_SIGN
from server.brief.figures import btc, days, na, pct, points, pp, price, probability, usd
from server.brief.gather import BriefInputs


def reason(warnings: list[str], *keywords: str, default: str = "not reported") -> str:
    """The first warning that mentions every keyword (case-insensitive), else `default`."""
    for warning in warnings:
        if all(k.lower() in warning.lower() for k in keywords):
            return warning
    return default


def _day(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)[:10]


def _absent(labels_: tuple[str, ...], why: str) -> list[Row]:
    return [Row(label, na(why)) for label in labels_]


# (1) Global risk assets ------------------------------------------------------------------------------------------


def global_risk(inp: BriefInputs) -> Section:
    title = "1. Global risk assets"
    macro = inp.macro
    if macro is None:
        why = inp.missing("get_macro_backdrop")
        return Section(
            title, _absent(("Dow", "S&P 500", "Nasdaq", "Fed cut odds, next FOMC", "Next FOMC decision"), why)
        )
    rows = _index_rows(macro) + _fed_rows(macro, inp.assessment.as_of.date())
    fg = macro.fear_greed
    if fg.value is None:
        rows.append(Row("Fear & Greed", na(reason(macro.warnings, "fear"))))
    else:
        change = f", {fg.change_7d:+d} over 7 days" if fg.change_7d is not None else ""
        rows.append(
            Row("Fear & Greed", f"{fg.value} of 100, {fg.classification}{change}", _day(fg.date), "alternative.me")
        )
    return Section(title, rows)


def _index_rows(macro: MacroBackdrop) -> list[Row]:
    order = list(labels.INDICES)
    rows = []
    for idx in sorted(macro.indices, key=lambda i: order.index(i.symbol) if i.symbol in order else len(order)):
        label = labels.INDICES.get(idx.symbol, idx.name)
        if idx.change_pct is None or idx.close is None:
            rows.append(Row(label, na(reason(macro.warnings, idx.symbol, default=f"no {idx.name} close"))))
            continue
        rows.append(
            Row(label, f"{pct(idx.change_pct)} to {points(idx.close)}", _day(idx.date), labels.source(idx.source))
        )
    return rows


def _fed_rows(macro: MacroBackdrop, as_of: date) -> list[Row]:
    fed = macro.fed
    if fed.cut_probability is None:
        odds = Row(
            "Fed cut odds, next FOMC", na(reason(macro.warnings, "fed", default="no prediction market answered"))
        )
    else:
        change = (
            f", {pp(fed.cut_probability_change_1d)} over 1 day" if fed.cut_probability_change_1d is not None else ""
        )
        market = f"{labels.source(fed.source)} {fed.market}" if fed.market else labels.source(fed.source)
        value = f"{probability(fed.cut_probability)} for a cut{change}"
        odds = Row("Fed cut odds, next FOMC", value, _day(fed.observed_at), market)
    if fed.next_meeting is None:
        meeting = Row("Next FOMC decision", na(reason(macro.warnings, "FOMC", default="outside the packaged calendar")))
    else:
        until = (date.fromisoformat(fed.next_meeting) - as_of).days
        start = f"meeting from {fed.meeting_start}" if fed.meeting_start else ""
        meeting = Row("Next FOMC decision", f"{fed.next_meeting}, in {days(until)}", start, "Federal Reserve calendar")
    return [odds, meeting]


# (2) The evidence ------------------------------------------------------------------------------------------------


def evidence(inp: BriefInputs) -> Section:
    rows = _etf_rows(inp.etf, inp) + _premium_rows(inp.premium, inp) + _leverage_rows(inp.leverage, inp)
    return Section("2. The evidence", rows)


def _etf_rows(etf: EtfFlows | None, inp: BriefInputs) -> list[Row]:
    if etf is None or etf.month_to_date_usd is None:
        why = (
            inp.missing("get_etf_flows") if etf is None else reason(etf.warnings, "month", default="no source answered")
        )
        return _absent(("ETF flows, month to date", "Largest fund"), why)
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
        rows.append(Row("ETF flows, 5-day average", f"{usd(etf.avg_5d_usd)} a day", f"to {as_of}"))
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
        why = inp.missing("get_coinbase_premium") if premium is None else reason(premium.warnings, "premium")
        return _absent(("Coinbase premium", "Premium streak"), why)
    now = premium.current
    level = pct(now.premium_pct, 3) if now.premium_pct is not None else na("no premium")
    usd_gap = f" ({usd(now.premium_usd)} a coin)" if now.premium_usd is not None else ""
    rows = [Row("Coinbase premium", f"{level}{usd_gap}", _day(now.ts),
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


LEVERAGE_STATE = {"bullish": "flushed", "bearish": "building", "neutral": "steady"}


def _leverage_rows(lev: LeverageState | None, inp: BriefInputs) -> list[Row]:
    if lev is None:
        return _absent(("Leverage", "Order book near round levels"), inp.missing("get_leverage_state"))
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
            Row("Funding", f"{lev.funding_avg_8h_pct:+.4f} % per 8 h, {payer}", as_of, f"{len(lev.funding)} venues")
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


# (3) BTC's re-rating ---------------------------------------------------------------------------------------------


def rerating(inp: BriefInputs) -> Section:
    title = "3. BTC's re-rating"
    macro = inp.macro
    if macro is None:
        return Section(
            title,
            _absent(("Correlation to the Nasdaq", "BTC drawdown from 1-year high"), inp.missing("get_macro_backdrop")),
        )
    bn = macro.btc_nasdaq
    through = f"through {bn.through}" if bn.through else ""
    count = f"{bn.returns_available} daily returns" if bn.returns_available is not None else ""
    if bn.correlation_30d is None or bn.correlation_90d is None:
        rows = [Row("Correlation to the Nasdaq", na(reason(macro.warnings, "correlation")))]
    else:
        value = f"{bn.correlation_30d:.2f} over 30 days, {bn.correlation_90d:.2f} over 90 days"
        rows = [Row("Correlation to the Nasdaq", value, through, count)]
    if bn.beta_90d is None:
        rows.append(Row("Beta to the Nasdaq", na(reason(macro.warnings, "beta"))))
    else:
        note = f"a 1 % Nasdaq day ~ {bn.beta_90d:.2f} % in BTC"
        rows.append(Row("Beta to the Nasdaq", f"{bn.beta_90d:.2f} over 90 days", through, note))
    dd = macro.btc_drawdown
    if macro.btc_drawdown_from_high_pct is None or dd.high_usd is None or dd.close_usd is None:
        rows.append(Row("BTC drawdown from 1-year high", na(reason(macro.warnings, "drawdown"))))
    else:
        value = (
            f"{pct(macro.btc_drawdown_from_high_pct)}: {price(dd.close_usd)} vs {price(dd.high_usd)} on {dd.high_date}"
        )
        rows.append(Row("BTC drawdown from 1-year high", value, _day(dd.close_date), "Coinbase daily closes"))
    return Section(title, rows + _market_cap_rows(macro))


def _market_cap_rows(macro: MacroBackdrop) -> list[Row]:
    cap = macro.crypto_market_cap
    why = reason(macro.warnings, "market cap", default="no market-cap reading")
    if cap.usd is None:
        return [Row("Total crypto market cap", na(why)), Row("Market cap, 6-week change", na("no market-cap reading"))]
    rows = [
        Row("Total crypto market cap", usd(cap.usd, signed=False), _day(cap.observed_at), labels.source(cap.source))
    ]
    if cap.change_6w_pct is None:
        rows.append(
            Row("Market cap, 6-week change", na(reason(macro.warnings, "6w", default="no snapshot 6 weeks back")))
        )
    else:
        rows.append(Row("Market cap, 6-week change", pct(cap.change_6w_pct), f"since {_day(cap.compared_to_at)}"))
    if cap.btc_dominance_pct is not None:
        rows.append(Row("BTC dominance", f"{cap.btc_dominance_pct:.1f} %", _day(cap.observed_at)))
    return rows


# (4) Liquidity ---------------------------------------------------------------------------------------------------


def liquidity(inp: BriefInputs) -> Section:
    title = "4. Liquidity"
    res = inp.reserves
    if res is None:
        return Section(title, _absent(("Exchange reserves, tracked",), inp.missing("exchange_reserve_trend")))
    window = f"{res.window_start} to {res.window_end}" if res.window_start else ""
    src = labels.source(res.source)
    if res.total_btc is None:
        rows = [Row("Exchange reserves, tracked", na(reason(res.warnings, "total", default="an exchange is unknown")))]
    else:
        change = ""
        if res.change_btc is not None and res.change_pct is not None:
            change = f" ({btc(res.change_btc, signed=True)}, {pct(res.change_pct)} over {res.window_days} days)"
        rows = [
            Row(
                "Exchange reserves, tracked",
                f"{btc(res.total_btc)}{change}",
                window,
                f"{src}, {len(res.by_exchange)} exchanges",
            )
        ]
    for cat in res.categories:
        change = f", {btc(cat.change_btc, signed=True)}" if cat.change_btc is not None else ""
        if cat.btc is None:
            rows.append(Row(labels.category(cat.category), na(reason(res.warnings, cat.category, default="unknown"))))
            continue
        share = f", {cat.share_pct:.1f} % of tracked" if cat.share_pct is not None else ""
        value = f"{btc(cat.btc)}{share}{change}"
        rows.append(
            Row(labels.category(cat.category), value, window, ", ".join(labels.exchange(e) for e in cat.exchanges))
        )
    for ex in sorted(res.by_exchange, key=lambda e: -(e.btc or 0)):
        if ex.btc is None:
            rows.append(Row(f"  {labels.exchange(ex.exchange)}", na(reason(res.warnings, ex.exchange))))
            continue
        change = (
            f" ({btc(ex.change_btc, signed=True)}, {pct(ex.change_pct)})"
            if ex.change_btc is not None and ex.change_pct is not None
            else ""
        )
        rows.append(Row(f"  {labels.exchange(ex.exchange)}", f"{btc(ex.btc)}{change}", "", ex.category or ""))
    return Section(title, rows + _flow_rows(res))


def _flow_rows(res: ExchangeReserves) -> list[Row]:
    rows = []
    if res.net_flow_btc is not None:
        kind = "inflow" if res.net_flow_btc > 0 else "outflow"
        rows.append(Row("Net exchange flow", f"{kind} of {btc(abs(res.net_flow_btc))} over {res.window_days} days",
                        f"to {res.window_end}"))  # fmt: skip
    mom = res.month_over_month
    if mom is not None and mom.this_month.change_btc is not None and mom.previous_month.change_btc is not None:
        this, previous = btc(mom.this_month.change_btc, True), btc(mom.previous_month.change_btc, True)
        value = f"{this} vs {previous} in {mom.previous_month.label}"
        rows.append(Row("This month vs last", value, f"{mom.this_month.start_date} to {mom.this_month.end_date}"))
    if res.coverage.not_covered:
        missing = ", ".join(labels.exchange(name) for name in res.coverage.not_covered)
        rows.append(Row("Not covered", missing, "", "see warnings"))
    return rows


# (5) Outlook -----------------------------------------------------------------------------------------------------


def _figure(value: float, unit: str, signed: bool = True) -> str:
    if unit == "USD":
        return usd(value, signed) if abs(value) >= 1e6 else (MINUS_SIGN if value < 0 else "") + price(abs(value))
    sign = "+" if signed and value > 0 else ""
    if unit == "BTC":
        return f"{sign}{value:,.0f} BTC"
    if unit == "%":
        return f"{sign}{value:.3f} %" if value != 0 else "0 %"
    return f"{sign}{value:,.4g} {unit}".strip()


def flip_row(flip: FlipSignal) -> Row:
    label = flip.condition[:1].upper() + flip.condition[1:]
    if flip.current is None:
        return Row(label, na("its input is unavailable"))
    now = f"now {_figure(flip.current, flip.unit)}"
    if flip.threshold is None:
        return Row(label, f"{now}, threshold n/a (unknown)")
    threshold = _figure(flip.threshold, flip.unit, signed=False)
    if flip.met:
        return Row(label, f"{now}: met (threshold {threshold})")
    distance = "n/a" if flip.distance is None else _figure(abs(flip.distance), flip.unit, signed=False)
    return Row(label, f"{now}, threshold {threshold}: {distance} to go")


def outlook(inp: BriefInputs) -> Section:
    out = inp.assessment
    rows = [Row("Verdict", verdict_line(out), str(out.as_of.date()))]
    for reading in ("bullish", "bearish", "unavailable"):
        names = [labels.signal(s.name) for s in out.signals if s.reading == reading]
        if names:
            rows.append(Row(f"{reading.capitalize()} signals", "; ".join(names)))
    rows += [flip_row(flip) for flip in out.flip_signals]
    return Section("5. Outlook", rows + _catalyst_rows(inp))


def verdict_line(out: Assessment) -> str:
    return (
        f"{labels.verdict(out.verdict)}, score {out.score:+.2f} (-1..+1), coverage {out.coverage:.0%} of signal weight"
    )


def _catalyst_rows(inp: BriefInputs) -> list[Row]:
    as_of = inp.assessment.as_of.date()
    rows = []
    macro = inp.macro
    if macro is not None and macro.fed.next_meeting is not None:
        odds = f", cut odds {probability(macro.fed.cut_probability)}" if macro.fed.cut_probability is not None else ""
        until = (date.fromisoformat(macro.fed.next_meeting) - as_of).days
        rows.append(Row("Catalyst: FOMC decision", f"{macro.fed.next_meeting}, in {days(until)}{odds}"))
    etf = inp.etf
    if etf is not None and etf.month_to_date_pct_of_record is not None:
        next_month = date(as_of.year + as_of.month // 12, as_of.month % 12 + 1, 1)
        month_end = date.fromordinal(next_month.toordinal() - 1)
        value = f"{month_end}: ETF month closes at {etf.month_to_date_pct_of_record:.1f} % of the record so far"
        rows.append(Row("Catalyst: month end", value))
    if macro is not None:
        halving = macro.halving
        eta = halving.next_eta or na(reason(macro.warnings, "halving", default="no chain tip"))
        rows.append(Row(f"Catalyst: halving at block {halving.next_height:,}", eta))
    return rows
