"""ETF flow days in the history store: completed days are written after a fetch and read back for `as_of` answers.

Series: SeriesKey(<source>, "net_flow_usd", <ASSET>, <TICKER>) per fund and venue "TOTAL" for the day's total, USD,
timestamped at 00:00 UTC of the US trading day. Only days that can no longer change are written: Farside posts a
day's last issuers late in the evening US time, so a day counts as completed two UTC days after it.

Farside also lists US market holidays, as a row of '-' (its Total prints 0.0). Such a settled row is recorded as a
marker, SeriesKey(<source>, "not_reported_day", <ASSET>, "TOTAL") with value 1 ("listed, no fund reported"), never
as a flow, so `read_table` rebuilds the same rows the page had and an answer served from the store equals the one
computed from the page as it stood on the day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from weakref import WeakKeyDictionary

from schemas.etf_flows import FlowRow, FlowTable
from store.base import Observation, SeriesKey, Store, Vintage

METRIC = "net_flow_usd"
TOTAL_VENUE = "TOTAL"
NOT_REPORTED_METRIC = "not_reported_day"
LISTED_UNREPORTED = 1.0  # the marker's value: a presence flag, not a figure
SETTLE_DAYS = 2
# The longest run of calendar days without a trading day (a long weekend around a holiday) is 4; a wider hole means
# days the store never saw, so the store cannot answer alone.
MAX_GAP_DAYS = 5


# The figures this process last recorded as vintages, per store: (source, asset, venue, day) -> value. A repeat fetch
# of an unchanged page (every cache expiry, every `collect` round) then sends no vintage for the store to compare,
# which would otherwise cost ~2.6x the write itself. Another process's writes are still compared by the store.
_Recorded = dict[tuple[str, str, str, date], float]
_recorded: WeakKeyDictionary[Store, _Recorded] = WeakKeyDictionary()


def _recorded_for(store: Store) -> _Recorded | None:
    try:
        return _recorded.setdefault(store, {})
    except TypeError:  # a store object that cannot be weakly referenced or hashed: compare everything in the store
        return None


def forget_recorded(store: Store) -> None:
    """As a new process: the next write sends every figure's vintage (benchmarks, tests)."""
    _recorded.pop(store, None)


def _ts(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def settled(row: FlowRow, fetched_at: datetime) -> bool:
    return row.day <= fetched_at.date() - timedelta(days=SETTLE_DAYS)


def completed(row: FlowRow, fetched_at: datetime) -> bool:
    return row.reported and settled(row, fetched_at)


def not_reported_key(source: str, asset: str) -> SeriesKey:
    return SeriesKey(source, NOT_REPORTED_METRIC, asset, TOTAL_VENUE)


def not_reported_marker(source: str, asset: str, day: date, fetched_at: datetime) -> Observation:
    """A listed day no fund reported (a holiday row of '-'): kept as a marker so a read rebuilds the row."""
    return Observation(not_reported_key(source, asset), _ts(day), LISTED_UNREPORTED, fetched_at)


async def write_completed(store: Store, source: str, asset: str, table: FlowTable, fetched_at: datetime) -> int:
    observations = []
    for row in table.rows:
        if not row.reported and settled(row, fetched_at):
            observations.append(not_reported_marker(source, asset, row.day, fetched_at))
        if completed(row, fetched_at):
            ts = _ts(row.day)
            observations += [Observation(key, ts, value, fetched_at) for key, value in _figures(source, asset, row)]
    recorded = _recorded_for(store)
    seen = [
        v
        for v in fetched_vintages(source, asset, table, fetched_at)
        if recorded is None or recorded.get(_vintage_id(v)) != v.value
    ]
    if not observations and not seen:
        return 0
    written = await store.upsert(observations, vintages=seen)
    # A degraded store answers a failed write with 0 rows: those figures are not recorded, so send them again. (A
    # fetch with no completed day writes no row: its vintages are taken as recorded, at worst a day then reads with
    # its final figures and known_at null, which says exactly that.)
    if recorded is not None and written == len(observations):
        recorded.update((_vintage_id(v), v.value) for v in seen)
    return written


def _vintage_id(v: Vintage) -> tuple[str, str, str, date]:
    return (v.key.source, v.key.asset, v.key.venue, v.ts.date())


async def read_table(
    store: Store, source: str, asset: str, launch: date, until: date
) -> tuple[FlowTable, datetime] | None:
    """The stored days up to `until` and when the newest was fetched, when the store covers launch..until.

    Rows are what the source's page listed up to `until`: reported days, and listed days no fund reported (holiday
    markers) as rows without figures; a fund with no figure up to `until` was not on the page yet and is left out.
    """
    totals = await store.read(SeriesKey(source, METRIC, asset, TOTAL_VENUE))
    markers = await store.read(not_reported_key(source, asset))
    listed = sorted({o.ts for o in totals} | {o.ts for o in markers})
    if not totals or listed[0].date() > launch or listed[-1].date() < until:
        # A stored day at or after `until` proves every earlier trading day was already published.
        return None
    if any((b - a).days > MAX_GAP_DAYS for a, b in pairwise(listed)):
        return None
    end = _ts(until)
    kept = [o for o in totals if o.ts <= end]
    if not kept:  # `until` before the first stored day (before launch): nothing the store can say
        return None
    by_fund = await _funds(store, source, asset, end)
    tickers = tuple(t for t in sorted(by_fund) if by_fund[t])
    reported = {o.ts.date(): o.value for o in kept}
    unreported = [o for o in markers if o.ts <= end and o.ts.date() not in reported]
    rows_out = [
        FlowRow(day=day, funds={t: by_fund[t].get(day) for t in tickers}, total_usd=reported.get(day))
        for day in sorted(reported.keys() | {o.ts.date() for o in unreported})
    ]
    fetched_at = max(o.fetched_at for o in [*kept, *unreported])
    return FlowTable(tickers=tickers, rows=rows_out, since_launch=True), fetched_at


async def _funds(store: Store, source: str, asset: str, end: datetime) -> dict[str, dict[date, float]]:
    tickers = sorted(
        s.key.venue
        for s in await store.summary(source)
        if s.key.metric == METRIC and s.key.asset == asset and s.key.venue != TOTAL_VENUE
    )
    by_fund: dict[str, dict[date, float]] = {}
    for ticker in tickers:
        rows = await store.read(SeriesKey(source, METRIC, asset, ticker), end=end)
        by_fund[ticker] = {o.ts.date(): o.value for o in rows}
    return by_fund


def fetched_vintages(source: str, asset: str, table: FlowTable, fetched_at: datetime) -> list[Vintage]:
    """Every figure of every reported day of a fetch, as seen at `fetched_at` (the store keeps only changes).

    Completed days alone would not do: a day is revised while it is still settling (Farside's capture of
    2025-10-07 had 2025-10-06 at US$1,190.1m with one fund still '-', final US$1,205.2m), so its first figures must be
    recorded before SETTLE_DAYS pass, or an as_of read would see only the final one again. A '-' records nothing:
    a fund's absence on an as-known day is read from the day's other figures (tools/history/etf_vintages.py), and
    an unreported day (all '-', a holiday) is not a figure at all.
    """
    return [
        Vintage(key, _ts(row.day), value, fetched_at)
        for row in table.rows
        if row.reported
        for key, value in _figures(source, asset, row)
    ]


def _figures(source: str, asset: str, row: FlowRow) -> list[tuple[SeriesKey, float]]:
    """The row's figures under their series: the total, then each fund with a figure (a '-' is none)."""
    cells = {TOTAL_VENUE: row.total_usd, **row.funds}
    return [(SeriesKey(source, METRIC, asset, venue), value) for venue, value in cells.items() if value is not None]
