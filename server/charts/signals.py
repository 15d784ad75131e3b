"""The assessment's signals: each one's signed weight in the score (bullish right, bearish left, n/a greyed)."""

from __future__ import annotations

from schemas.assess import Assessment
from server.brief import labels
from server.charts.canvas import DOWN, MISSING, NEUTRAL, UP, figure, png
from tools.numbers import human

DIRECTION = {"bullish": 1.0, "bearish": -1.0, "neutral": 0.0}


def signals_chart(out: Assessment) -> bytes:
    signals = list(reversed(out.signals))  # barh draws bottom-up; the table's order reads top-down
    if not signals:
        raise ValueError("no signals to draw")
    title = f"{out.asset}: {labels.verdict(out.verdict)} (score {out.score:+.2f}, coverage {out.coverage:.0%})"
    subtitle = "Each signal's weight, signed by its reading: bullish right, bearish left; neutral and n/a at 0"
    with figure(title, subtitle, out, note="thresholds: windvane://methodology") as (fig, (ax,)):
        names = [labels.signal(s.name) for s in signals]
        values = [DIRECTION.get(s.reading, 0.0) * s.weight for s in signals]
        colors = [{"bullish": UP, "bearish": DOWN, "neutral": NEUTRAL}.get(s.reading, MISSING) for s in signals]
        ax.barh(names, values, color=colors)
        ax.axvline(0, color="#212121", linewidth=0.8)
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.8)
        limit = max([abs(v) for v in values] + [1.0]) * 1.9
        ax.set_xlim(-limit, limit)
        ax.set_xlabel("signed weight in the score")
        ax.tick_params(axis="y", labelsize=9)
        for name, value, s in zip(names, values, signals, strict=True):
            text = "n/a" if s.reading == "unavailable" or s.value is None else f"{s.reading}: {human(s.value)} {s.unit}"
            offset = 4 if value >= 0 else -4
            ax.annotate(text, (value, name), xytext=(offset, 0), textcoords="offset points", va="center",
                        ha="left" if value >= 0 else "right", fontsize=8.5, color="#424242")  # fmt: skip
        return png(fig)
