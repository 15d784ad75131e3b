"""ETF flow days as known at a past instant: the figures windvane had seen by then, from the store's vintages.

`tools.history.etf_store` records every fetched figure as a vintage (a value with the time first seen). A day with
a vintage at or before the instant is replaced by what was seen then, carrying `known_at`; a fund with no vintage
by then was still '-' in those fetches, so it is None. A day with none keeps the table's (final) figures and
`known_at` None: imported archives, days stored before vintages were kept, or first fetched after the instant.
Nothing is invented for them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from schemas.etf_flows import FlowRow, FlowTable
from store.base import SeriesKey, Store, Vintage
from tools.history.etf_store import METRIC, TOTAL_VENUE


async def as_known(store: Store, source: str, asset: str, table: FlowTable, at: datetime) -> FlowTable:
    """`table` with each day's figures as windvane knew them at `at`, where vintages exist."""
    days = [r.day for r in table.rows if r.day <= at.date()]
    if not days:
        return table
    start, end = (datetime.combine(d, time(), tzinfo=UTC) for d in (days[0], days[-1]))
    seen: dict[str, dict[date, Vintage]] = {}
    for venue in (TOTAL_VENUE, *table.tickers):
        found = await store.read_vintages(SeriesKey(source, METRIC, asset, venue), start, end, known_at=at)
        seen[venue] = {v.ts.date(): v for v in found}
    rows = [_known_row(row, table.tickers, seen) for row in table.rows]
    return replace(table, rows=rows)


def _known_row(row: FlowRow, tickers: tuple[str, ...], seen: dict[str, dict[date, Vintage]]) -> FlowRow:
    cells = {venue: by_day[row.day] for venue, by_day in seen.items() if row.day in by_day}
    if not cells:
        return row
    total = cells.get(TOTAL_VENUE)
    return replace(
        row,
        funds={t: (cells[t].value if t in cells else None) for t in tickers},
        total_usd=total.value if total is not None else None,
        # the figures served are the newest seen by `at`: the day is known as of the latest of them
        known_at=max(v.known_at for v in cells.values()),
    )
