"""OKX swap liquidations, paged through its cursor and kept in the history store.

OKX serves filled liquidation orders newest first, 100 a page, behind a cursor (`after` = older than the oldest
order seen): a week can take dozens of pages, each waiting for the one before, so a span is cut into day-long
windows whose cursors page at the same time (`page_windows`). `record` (run by the server's
background refresher and by `windvane collect`) pages from now back to where the store's record ends, and stores
long and short USD per order millisecond with the span it covers. A call then reads the record and pages only what
is newer than it, usually one page.

Series: SeriesKey("okx", "liquidations_long_usd" | "liquidations_short_usd", <ASSET>, "swap"), ts = order time
(summed per millisecond and side), value = contracts x ctVal x bankruptcy price. Coverage under metric
"liquidation_orders": a covered span holds every order OKX reported in it, so a covered stretch with no row had no
liquidation (a real 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from fetchers import okx
from fetchers.concurrency import gather_all
from fetchers.http import Fetched, Http
from schemas.derivatives import Liquidation
from store.base import CoverageStore, Observation, SeriesKey, Store, StoreError

MS = timedelta(milliseconds=1)
LONG_METRIC = "liquidations_long_usd"
SHORT_METRIC = "liquidations_short_usd"
COVERAGE_METRIC = "liquidation_orders"
RECORD_DAYS = 7
RECORD_MAX_PAGES = 200  # a background run may page this far (a week of a busy market); a call pages far less
WINDOW = timedelta(days=1)  # one cursor per day of the span, all paging at once

Order = tuple[datetime, bool, float, float]  # (time, long liquidated, contracts, bankruptcy price)


def series(metric: str, asset: str) -> SeriesKey:
    return SeriesKey(okx.SOURCE, metric, asset, "swap")


def coverage_key(asset: str) -> SeriesKey:
    return SeriesKey(okx.SOURCE, COVERAGE_METRIC, asset, "swap")


@dataclass
class Paged:
    """Orders at or before `until`, newest first, back to `stop_at` or as far as the pages went."""

    orders: list[Order] = field(default_factory=list)
    oldest: datetime | None = None
    reached: bool = False  # an order at or before stop_at was seen: every order after stop_at is known
    exhausted: bool = False  # OKX had nothing older
    page_limit_hit: bool = False
    fetches: list[Fetched[list[Order]]] = field(default_factory=list)


class PageBudget:
    """Pages a paging run may still fetch, shared by the cursors it runs at once."""

    def __init__(self, pages: int) -> None:
        self.left = pages

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def page_back(
    http: Http,
    asset: str,
    until: datetime,
    stop_at: datetime,
    budget: PageBudget,
    first_page: Fetched[list[Order]] | None = None,
) -> Paged:
    """Follow the cursor from `until` back until an order at or before `stop_at` (or no more, or no budget).

    `first_page`, when given, is the page at `until`, already fetched."""
    out = Paged()
    cursor = until + MS
    while budget.take():
        if first_page is not None:
            page, first_page = first_page, None
        else:
            page = await okx.fetch_liquidation_page(http, asset, cursor)
        out.fetches.append(page)
        rows = [r for r in page.value if r[0] <= until]
        if not rows:
            out.exhausted = True
            return out
        out.orders.extend(rows)
        oldest = min(r[0] for r in rows)
        out.oldest = oldest if out.oldest is None else min(out.oldest, oldest)
        if oldest <= stop_at:
            out.reached = True
            return out
        if oldest >= cursor:
            return out  # the endpoint ignored the cursor; stop rather than loop
        cursor = oldest
    out.page_limit_hit = True
    return out


async def page_windows(
    http: Http,
    asset: str,
    until: datetime,
    stop_at: datetime,
    budget: PageBudget,
    first_page: Fetched[list[Order]] | None = None,
) -> Paged:
    """`page_back` over [stop_at, until], cut into day-long windows whose cursors run at the same time.

    The cursor (`after` = older than a time) can start anywhere, so each window pages from its own end: a quiet week
    costs one round trip instead of one per 100 orders, and a cascade's busy day pages on its own while the other
    days are done. The windows are joined newest first for as long as each one reached the next: what lies beyond a
    window that did not (OKX's history ended, or the page budget) is not contiguous and is left out."""
    ends = [until]
    while ends[-1] - WINDOW > stop_at:
        ends.append(ends[-1] - WINDOW)
    starts = [*ends[1:], stop_at]
    windows = await gather_all(
        partial(page_back, http, asset, end, start, budget, first_page if i == 0 else None)
        for i, (end, start) in enumerate(zip(ends, starts, strict=True))
    )
    out = Paged()
    for window in windows:
        out.fetches.extend(window.fetches)
    for i, window in enumerate(windows):
        last = i == len(windows) - 1
        # An order at or before a window's start belongs to the next window, which reports it itself.
        kept = window.orders if last or not window.reached else [r for r in window.orders if r[0] > starts[i]]
        out.orders.extend(kept)
        if kept:
            oldest = min(r[0] for r in kept)
            out.oldest = oldest if out.oldest is None else min(out.oldest, oldest)
        if not window.reached:
            out.exhausted, out.page_limit_hit = window.exhausted, window.page_limit_hit
            return out
    out.reached = True
    return out


def covered_from(paged: Paged, stop_at: datetime) -> datetime | None:
    """Where the paged orders are complete from: every order after it is among them."""
    if paged.reached:
        return stop_at
    # Orders in the oldest order's millisecond may continue on a page not fetched: complete only after it.
    return None if paged.oldest is None else paged.oldest + MS


def observations(asset: str, liqs: Sequence[Liquidation], since: datetime, fetched_at: datetime) -> list[Observation]:
    sums: dict[tuple[bool, datetime], float] = {}
    for liq in liqs:
        if liq.time >= since:
            key = (liq.long_liquidated, liq.time)
            sums[key] = sums.get(key, 0.0) + liq.usd
    return [
        Observation(series(LONG_METRIC if is_long else SHORT_METRIC, asset), ts, usd, fetched_at)
        for (is_long, ts), usd in sorted(sums.items(), key=lambda item: item[0][1])
    ]


async def record(store: Store | None, http: Http, asset: str, now: datetime) -> int:
    """Page OKX back to where the record ends (at most a week) and store what came; returns rows written."""
    if not isinstance(store, CoverageStore):
        return 0
    spans = await store.coverage(coverage_key(asset), now - timedelta(days=RECORD_DAYS), now + MS)
    floor = now - timedelta(days=RECORD_DAYS)
    stop_at = spans[-1][1] - MS if spans and spans[-1][1] - MS > floor else floor
    instrument = await okx.fetch_swap_instrument(http, asset)
    paged = await page_windows(http, asset, now, stop_at, PageBudget(RECORD_MAX_PAGES))
    since = covered_from(paged, stop_at)
    if since is None:
        return 0  # OKX reported no order at all: nothing says how far back a quiet stretch would reach
    liqs = okx.liquidations_usd(paged.orders, instrument.value.contract_value)
    rows = observations(asset, liqs, since, now)
    written = await store.upsert(rows) if rows else 0
    await store.add_coverage(coverage_key(asset), since, now + MS)
    return written


@dataclass(frozen=True)
class Recorded:
    """The stored span that reaches latest before an instant, and its orders as liquidations."""

    start: datetime  # complete from here...
    end: datetime  # ...up to and including here
    liquidations: list[Liquidation]
    fetched_at: datetime | None


async def recorded(store: Store | None, asset: str, start: datetime, at: datetime) -> Recorded | None:
    """The record covering the most recent part of [start, at]; None without one.

    Not filtered by when it was learned: a filled liquidation is a fact about its time that is never revised, and
    the coverage saying the record is complete was written with the rows."""
    if not isinstance(store, CoverageStore):
        return None
    try:
        spans = [s for s in await store.coverage(coverage_key(asset), start, at + MS) if s[0] <= at]
        if not spans:
            return None
        span_start, span_end = spans[-1]
        end = min(span_end - MS, at)
        longs = await store.read(series(LONG_METRIC, asset), span_start, end)
        shorts = await store.read(series(SHORT_METRIC, asset), span_start, end)
    except StoreError:
        return None
    liqs = [Liquidation(o.ts, True, o.value) for o in longs] + [Liquidation(o.ts, False, o.value) for o in shorts]
    fetched = max((o.fetched_at for o in [*longs, *shorts]), default=None)
    return Recorded(span_start, end, sorted(liqs, key=lambda liq: liq.time), fetched)
