"""Daily US spot ETF net flows as bars (top) and the as_of month's running total against the record (bottom)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from schemas.etf_flows import EtfFlowDay, EtfFlows
from server.brief.figures import usd
from server.charts.canvas import DOWN, MISSING, UP, date_axis, date_numbers, figure, png

if TYPE_CHECKING:
    from matplotlib.axes import Axes

LINE = "#1565c0"


def etf_chart(out: EtfFlows) -> bytes:
    days = [d for d in out.days if d.total_usd is not None]
    if not days:
        raise ValueError("no ETF flow days to draw")
    mtd = f"{usd(out.month_to_date_usd)} month to date" if out.month_to_date_usd is not None else "month to date n/a"
    record = ""
    if out.month_to_date_pct_of_record is not None:
        record = f", {out.month_to_date_pct_of_record:.1f} % of the record month"
    title = f"US spot {out.asset} ETF flows: {mtd}{record}"
    subtitle = "Net flow per trading day, US$M (hatched: provisional); below: the month's running total, US$M"
    with figure(title, subtitle, out, note="provisional days may still change", panels=(3, 2)) as (fig, axes):
        daily, running = axes
        x = date_numbers([date.fromisoformat(d.date) for d in days])
        values = [(d.total_usd or 0.0) / 1e6 for d in days]  # the filter above left no None
        colors = [MISSING if d.provisional else (UP if v >= 0 else DOWN) for d, v in zip(days, values, strict=True)]
        bars = daily.bar(x, values, width=0.8, color=colors)
        for bar, day, value in zip(bars, days, values, strict=True):
            if day.provisional:
                bar.set_hatch("///")
                bar.set_edgecolor(UP if value >= 0 else DOWN)
        daily.axhline(0, color="#212121", linewidth=0.8)
        daily.set_ylabel("daily, US$M")
        _month_to_date(running, out, days)
        date_axis(running)
        return png(fig)


def _month_to_date(ax: Axes, out: EtfFlows, days: list[EtfFlowDay]) -> None:
    """The as_of month's running total, drawn only when every trading day of the month is in view."""
    month = out.as_of.strftime("%Y-%m")
    in_month = [d for d in days if d.date.startswith(month)]
    ax.set_ylabel("month to date, US$M")
    ax.axhline(0, color="#212121", linewidth=0.8)
    if not in_month or out.month_to_date_days is None or len(in_month) < out.month_to_date_days:
        ax.text(0.5, 0.5, "month to date n/a: the window does not cover the whole month", transform=ax.transAxes,
                ha="center", va="center", color="#616161")  # fmt: skip
        return  # a running total over part of the month would understate it
    running, total = [], 0.0
    for day in in_month:
        total += day.total_usd or 0.0
        running.append(total / 1e6)
    x = date_numbers([date.fromisoformat(d.date) for d in in_month])
    ax.plot(
        x, running, color=LINE, linewidth=2.2, marker="o", markersize=3, label=f"{month} month to date: {usd(total)}"
    )
    record = out.record_monthly_outflow if total < 0 else out.record_monthly_inflow
    if record is not None:
        kind = "outflow" if total < 0 else "inflow"
        ax.axhline(record.total_usd / 1e6, color="#616161", linestyle="--", linewidth=1.2,
                   label=f"record {kind} month: {usd(record.total_usd)} ({record.month})")  # fmt: skip
    ax.legend(loc="center left", frameon=False, fontsize=9)  # the month sits at the right, the record low
