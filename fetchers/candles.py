"""Candle rows shared by every venue: one array row -> a Candle, and the page merge every fetch_candles ends with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from fetchers.errors import BadPayloadError
from fetchers.parsing import expect_list, num
from schemas.market import Candle


@dataclass(frozen=True)
class RowLayout:
    """Where a venue puts each value in its candle array, and how it stamps time."""

    label: str  # names the row in errors: "candle 3 has 2 fields, expected 6"
    expected_fields: int
    min_fields: int
    time_field: str
    timestamp: Callable[[str, Any, str], datetime]  # fetchers.parsing.ts_seconds or ts_millis
    open: int = 1
    high: int = 2
    low: int = 3
    close: int = 4
    volume: int = 5


def candle_row(source: str, raw: Any, index: int, layout: RowLayout, *, closed: bool = True) -> Candle:
    row = expect_list(source, raw, f"{layout.label} {index}")
    if len(row) < layout.min_fields:
        raise BadPayloadError(
            source, f"{layout.label} {index} has {len(row)} fields, expected {layout.expected_fields}"
        )
    return Candle(
        open_time=layout.timestamp(source, row[0], layout.time_field),
        open=num(source, row[layout.open], "open"),
        high=num(source, row[layout.high], "high"),
        low=num(source, row[layout.low], "low"),
        close=num(source, row[layout.close], "close"),
        volume=num(source, row[layout.volume], "volume"),
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
