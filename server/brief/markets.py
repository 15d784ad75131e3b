"""Sections (1) global risk assets and (3) BTC's re-rating: both read the macro backdrop."""

from __future__ import annotations

from datetime import date

from schemas.macro import MacroBackdrop
from server.brief import labels
from server.brief.document import Row, Section
from server.brief.figures import days, na, pct, points, pp, price, probability, usd
from server.brief.gather import BriefInputs
from server.brief.rows import absent, on_day, reason


def global_risk(inp: BriefInputs) -> Section:
    title = "1. Global risk assets"
    macro = inp.macro
    if macro is None:
        why = inp.missing("get_macro_backdrop")
        return Section(
            title, absent(("Dow", "S&P 500", "Nasdaq", "Fed cut odds, next FOMC", "Next FOMC decision"), why)
        )
    rows = _index_rows(macro) + _fed_rows(macro, inp.assessment.as_of.date())
    fg = macro.fear_greed
    if fg.value is None:
        rows.append(Row("Fear & Greed", na(reason(macro.warnings, "fear"))))
    else:
        change = f", {fg.change_7d:+d} over 7 days" if fg.change_7d is not None else ""
        rows.append(
            Row("Fear & Greed", f"{fg.value} of 100, {fg.classification}{change}", on_day(fg.date), "alternative.me")
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
            Row(label, f"{pct(idx.change_pct)} to {points(idx.close)}", on_day(idx.date), labels.source(idx.source))
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
        odds = Row("Fed cut odds, next FOMC", value, on_day(fed.observed_at), market)
    if fed.next_meeting is None:
        meeting = Row("Next FOMC decision", na(reason(macro.warnings, "FOMC", default="outside the packaged calendar")))
    else:
        until = (date.fromisoformat(fed.next_meeting) - as_of).days
        start = f"meeting from {fed.meeting_start}" if fed.meeting_start else ""
        meeting = Row("Next FOMC decision", f"{fed.next_meeting}, in {days(until)}", start, "Federal Reserve calendar")
    return [odds, meeting]


def rerating(inp: BriefInputs) -> Section:
    title = "3. BTC's re-rating"
    macro = inp.macro
    if macro is None:
        return Section(
            title,
            absent(("Correlation to the Nasdaq", "BTC drawdown from 1-year high"), inp.missing("get_macro_backdrop")),
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
        rows.append(Row("BTC drawdown from 1-year high", value, on_day(dd.close_date), "Coinbase daily closes"))
    return Section(title, rows + _market_cap_rows(macro))


def _market_cap_rows(macro: MacroBackdrop) -> list[Row]:
    cap = macro.crypto_market_cap
    why = reason(macro.warnings, "market cap", default="no market-cap reading")
    if cap.usd is None:
        return [Row("Total crypto market cap", na(why)), Row("Market cap, 6-week change", na("no market-cap reading"))]
    rows = [
        Row("Total crypto market cap", usd(cap.usd, signed=False), on_day(cap.observed_at), labels.source(cap.source))
    ]
    if cap.change_6w_pct is None:
        rows.append(
            Row("Market cap, 6-week change", na(reason(macro.warnings, "6w", default="no snapshot 6 weeks back")))
        )
    else:
        rows.append(Row("Market cap, 6-week change", pct(cap.change_6w_pct), f"since {on_day(cap.compared_to_at)}"))
    if cap.btc_dominance_pct is not None:
        rows.append(Row("BTC dominance", f"{cap.btc_dominance_pct:.1f} %", on_day(cap.observed_at)))
    return rows
