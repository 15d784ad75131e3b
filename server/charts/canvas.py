"""The one figure style of windvane's charts: 1200x675 px PNG, Agg, a title, and source and as-of in the caption.

Charts are drawn on `matplotlib.figure.Figure` with the Agg canvas directly, never through pyplot: no global
figure state, no GUI backend, safe to draw from a worker thread (one at a time, under a lock).
"""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from schemas.common import ToolResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.625, 120  # 1200 x 675 px
UP, DOWN, NEUTRAL, MISSING = "#2e7d32", "#c62828", "#757575", "#bdbdbd"
CAPTION_CHARS = 160  # about the figure's width at the caption's font size
_LOCK = threading.Lock()


def caption(result: ToolResult, extra: str = "") -> str:
    from server.brief import labels

    names = sorted({labels.source(ref.name) for ref in result.sources}) or ["no upstream answered"]
    stale = " (some STALE)" if any(ref.stale for ref in result.sources) else ""
    as_of = result.as_of.strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"Source: {', '.join(names)}{stale}", f"as of {as_of}", *([extra] if extra else []), "windvane"]
    return textwrap.fill(" · ".join(parts), CAPTION_CHARS)


@contextmanager
def figure(
    title: str, subtitle: str, result: ToolResult, note: str = "", panels: tuple[float, ...] = (1.0,)
) -> Iterator[tuple[Figure, list[Axes]]]:
    """A styled figure with one axes per entry of `panels` (their relative heights, stacked, sharing x).

    The caller draws and returns `png(fig)` inside the block, so drawing happens under the lock."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    # "US$3.5B ... US$1B" must stay text: with math parsing on, two dollar signs start a formula.
    with _LOCK, rc_context({"text.parse_math": False}):
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
        axes = list(fig.subplots(len(panels), 1, sharex=True, height_ratios=panels, squeeze=False)[:, 0])
        fig.suptitle(title, x=0.01, ha="left", fontsize=15, fontweight="bold")
        axes[0].set_title(subtitle, loc="left", fontsize=10.5, color="#424242")
        for ax in axes:
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.grid(axis="y", color="#e0e0e0", linewidth=0.8)
            ax.set_axisbelow(True)
        fig.supxlabel(caption(result, note), x=0.01, ha="left", fontsize=8.5, color="#616161")
        yield fig, axes


def date_axis(ax: Axes) -> None:
    """Dates on x without overlapping labels: matplotlib's concise formatter picks the ticks."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)  # the png format draws on Agg whatever backend is configured
    return buffer.getvalue()


def date_numbers(values: Sequence[date]) -> list[float]:
    """matplotlib's date numbers, so bars and lines can sit on a date axis (`ax.xaxis_date()`)."""
    from matplotlib.dates import date2num

    return [float(x) for x in date2num(values)]  # type: ignore[no-untyped-call]
