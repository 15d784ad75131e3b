"""BTC held on each tracked exchange, as horizontal bars coloured by category, labelled with the window's change."""

from __future__ import annotations

from schemas.reserves import ExchangeReserves
from server.brief import labels
from server.charts.canvas import figure, png

CATEGORY_COLORS = {"institutional": "#1565c0", "retail": "#ef6c00", "derivatives": "#6a1b9a"}


def reserves_chart(out: ExchangeReserves) -> bytes:
    rows = sorted((r for r in out.by_exchange if r.btc is not None), key=lambda r: r.btc or 0.0)
    if not rows:
        raise ValueError("no exchange reserves to draw")
    total = f"{out.total_btc:,.0f} BTC tracked" if out.total_btc is not None else "tracked total n/a"
    change = f", {out.change_pct:+.2f} % over {out.window_days} days" if out.change_pct is not None else ""
    title = f"Exchange {out.asset} reserves: {total}{change}"
    subtitle = (
        f"BTC held per exchange at {out.window_end or out.as_of.date()}; label: change over {out.window_days} days"
    )
    missing = ", ".join(labels.exchange(n) for n in out.coverage.not_covered)
    unread = ", ".join(labels.exchange(r.exchange) for r in out.by_exchange if r.btc is None)
    notes = [f"no reading for this date: {unread}" if unread else "", f"not covered: {missing}" if missing else ""]
    note = " · ".join(n for n in notes if n)
    with figure(title, subtitle, out, note=note) as (fig, (ax,)):
        names = [labels.exchange(r.exchange) for r in rows]
        values = [(r.btc or 0.0) / 1e3 for r in rows]
        colors = [CATEGORY_COLORS.get(r.category or "", "#757575") for r in rows]
        ax.barh(names, values, color=colors)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.8)
        ax.set_xlabel("thousand BTC")
        ax.set_xlim(0, max(values) * 1.22)
        for name, value, row in zip(names, values, rows, strict=True):
            text = f"{row.change_pct:+.2f} %" if row.change_pct is not None else "change n/a"
            ax.annotate(text, (value, name), xytext=(4, 0), textcoords="offset points", va="center", fontsize=9)
        from matplotlib.patches import Patch

        present = sorted({r.category for r in rows if r.category})
        handles = [Patch(color=CATEGORY_COLORS.get(c, "#757575"), label=labels.category(c)) for c in present]
        ax.legend(handles=handles, loc="lower right", frameon=False)
        return png(fig)
