"""Section (4), liquidity: exchange reserves in total, by category (institutional vs retail) and per exchange."""

from __future__ import annotations

from schemas.reserves import ExchangeReserves
from server.brief import labels
from server.brief.document import Row, Section
from server.brief.figures import btc, na, pct
from server.brief.gather import BriefInputs
from server.brief.rows import absent, reason


def liquidity(inp: BriefInputs) -> Section:
    title = "4. Liquidity"
    res = inp.reserves
    if res is None:
        return Section(title, absent(("Exchange reserves, tracked",), inp.missing("exchange_reserve_trend")))
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
