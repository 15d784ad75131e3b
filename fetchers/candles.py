"""Candle rows shared by every venue: one array row -> a Candle, and the page merge every fetch_candles ends with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from fetchers.parsing import Check, row
from schemas.market import Candle


@dataclass(frozen=True)
class RowLayout:
    """Every column a venue documents for its candle array, in order, and where the OHLCV values sit.

    Column 0 is the bar's open time; its check (ts_seconds or ts_millis in the venue's form) returns a datetime.
    A row must have exactly these columns: see fetchers.parsing.row.
    """

    label: str  # names the row in errors: "candle 3 has 5 fields, expected 6 (...)"
    columns: tuple[tuple[str, Check], ...]
    open: int = 1
    high: int = 2
    low: int = 3
    close: int = 4
    volume: int = 5


def candle_values(source: str, raw: Any, index: int, layout: RowLayout) -> list[Any]:
    """The checked values of one candle row (for venues that read more than OHLCV from it)."""
    return row(source, raw, f"{layout.label} {index}", layout.columns)


def candle_row(source: str, raw: Any, index: int, layout: RowLayout, *, closed: bool = True) -> Candle:
    return candle_from(candle_values(source, raw, index, layout), layout, closed=closed)


def candle_from(values: list[Any], layout: RowLayout, *, closed: bool = True) -> Candle:
    return Candle(
        open_time=values[0],
        open=values[layout.open],
        high=values[layout.high],
        low=values[layout.low],
        close=values[layout.close],
        volume=values[layout.volume],
        closed=closed,
    )


def window_bars(
    pages: Iterable[Iterable[Candle]], start: datetime, end: datetime, step: timedelta, closed_by: datetime
) -> list[Candle]:
    """Bars opening in [start, end], one per open time, ascending.

    A bar is closed only if the venue did not flag it as forming and it ended by `closed_by`.
    """
    by_time: dict[datetime, Candle] = {}
    for page in pages:
        for candle in page:
            if start <= candle.open_time <= end:
                by_time[candle.open_time] = candle
    return [
        replace(c, closed=c.closed and c.open_time + step <= closed_by)
        for c in sorted(by_time.values(), key=lambda c: c.open_time)
    ]
