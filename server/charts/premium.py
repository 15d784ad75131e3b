"""Coinbase premium history: one bar per closed bar, green above zero and red below, with the 7-bar mean."""

from __future__ import annotations

from schemas.premium import CoinbasePremium
from server.brief import labels
from server.charts.canvas import DOWN, UP, date_axis, date_numbers, figure, png


def premium_chart(out: CoinbasePremium) -> bytes:
    bars = out.history
    if not bars:
        raise ValueError("no premium history to draw")
    now = out.current
    level = f"{now.premium_pct:+.3f} %" if now.premium_pct is not None else "n/a"
    streak = ""
    if out.streak.days is not None and out.streak.sign is not None:
        streak = f", {out.streak.sign} for {out.streak.days} days since {out.streak.since}"
    reference = labels.source(now.reference_venue) or "the reference"
    title = f"Coinbase premium, {out.asset}: {level} now{streak}"
    subtitle = f"Coinbase {out.asset}-USD vs {reference} {out.asset}USDT, % per {out.interval} close"
    with figure(title, subtitle, out) as (fig, (ax,)):
        times = date_numbers([b.ts for b in bars])
        values = [b.premium_pct for b in bars]
        width = 0.8 if out.interval == "1d" else 0.8 / 24
        ax.bar(times, values, width=width, color=[UP if v >= 0 else DOWN for v in values])
        if len(values) >= 7:
            mean = [sum(values[i - 6 : i + 1]) / 7 for i in range(6, len(values))]
            ax.plot(times[6:], mean, color="#212121", linewidth=1.6, label="7-bar mean")
            ax.legend(loc="lower left", frameon=False)
        ax.axhline(0, color="#212121", linewidth=0.8)
        date_axis(ax)
        ax.set_ylabel("premium, %")
        return png(fig)
