"""ETF flow days in the history store: completed days are written after a fetch and read back for `as_of` answers.

Series: SeriesKey(<source>, "net_flow_usd", <ASSET>, <TICKER>) per fund and venue "TOTAL" for the day's total, USD,
timestamped at 00:00 UTC of the US trading day. Only days that can no longer change are written: Farside posts a
day's last issuers late in the evening US time, so a day counts as completed two UTC days after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from schemas.etf_flows import FlowRow, FlowTable
from store.base import Observation, SeriesKey, Store, Vintage

METRIC = "net_flow_usd"
TOTAL_VENUE = "TOTAL"
SETTLE_DAYS = 2
# The longest run of calendar days without a trading day (a long weekend around a holiday) is 4; a wider hole means
# days the store never saw, so the store cannot answer alone.
MAX_GAP_DAYS = 5


def _ts(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def completed(row: FlowRow, fetched_at: datetime) -> bool:
    return row.reported and row.day <= fetched_at.date() - timedelta(days=SETTLE_DAYS)


async def write_completed(store: Store, source: str, asset: str, table: FlowTable, fetched_at: datetime) -> int:
    observations = []
    for row in table.rows:
        if not completed(row, fetched_at):
            continue
        ts = _ts(row.day)
        if row.total_usd is not None:
            observations.append(
                Observation(SeriesKey(source, METRIC, asset, TOTAL_VENUE), ts, row.total_usd, fetched_at)
            )
        for ticker, value in row.funds.items():
            if value is not None:
                observations.append(Observation(SeriesKey(source, METRIC, asset, ticker), ts, value, fetched_at))
    seen = fetched_vintages(source, asset, table, fetched_at)
    return await store.upsert(observations, vintages=seen) if observations or seen else 0


async def read_table(
    store: Store, source: str, asset: str, launch: date, until: date
) -> tuple[FlowTable, datetime] | None:
    """The stored days up to `until` and when the newest was fetched, when the store covers launch..until."""
    total_key = SeriesKey(source, METRIC, asset, TOTAL_VENUE)
    totals = await store.read(total_key)
    if not totals or totals[0].ts.date() > launch or totals[-1].ts.date() < until:
        # A stored day at or after `until` proves every earlier trading day was already published.
        return None
    if any((b.ts - a.ts).days > MAX_GAP_DAYS for a, b in pairwise(totals)):
        return None
    tickers = sorted(
        s.key.venue
        for s in await store.summary(source)
        if s.key.metric == METRIC and s.key.asset == asset and s.key.venue != TOTAL_VENUE
    )
    end = _ts(until)
    if totals[0].ts > end:  # `until` before the first stored day (before launch): nothing stored to serve
        return None
    by_fund: dict[str, dict[date, float]] = {}
    for ticker in tickers:
        rows = await store.read(SeriesKey(source, METRIC, asset, ticker), end=end)
        by_fund[ticker] = {o.ts.date(): o.value for o in rows}
    kept = [o for o in totals if o.ts <= end]
    if not kept:  # `until` before the first stored day: nothing the store can say
        return None
    rows_out = [
        FlowRow(day=o.ts.date(), funds={t: by_fund[t].get(o.ts.date()) for t in tickers}, total_usd=o.value)
        for o in kept
    ]
    fetched_at = max(o.fetched_at for o in kept)
    return FlowTable(tickers=tuple(tickers), rows=rows_out, since_launch=True), fetched_at


def fetched_vintages(source: str, asset: str, table: FlowTable, fetched_at: datetime) -> list[Vintage]:
    """Every figure of every reported day of a fetch, as seen at `fetched_at` (the store keeps only changes).

    Completed days alone would not do: a day is revised while it is still settling (Farside's capture of
    2025-10-07 had 2025-10-06 at US$1,190.1m with one fund still '-', final US$1,205.2m), so its first figures must be
    recorded before SETTLE_DAYS pass, or an as_of read would see only the final one again. A '-' records nothing:
    a fund's absence on an as-known day is read from the day's other figures (tools/history/etf_vintages.py), and
    an unreported day (all '-', a holiday) is not a figure at all.
    """
    seen = []
    for row in table.rows:
        if not row.reported:
            continue
        ts = _ts(row.day)
        if row.total_usd is not None:
            seen.append(Vintage(SeriesKey(source, METRIC, asset, TOTAL_VENUE), ts, row.total_usd, fetched_at))
        seen.extend(
            Vintage(SeriesKey(source, METRIC, asset, ticker), ts, value, fetched_at)
            for ticker, value in row.funds.items()
            if value is not None
        )
    return seen
