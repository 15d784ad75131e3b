"""Closed candles read through the history store: stored bars are served, only what is missing is fetched.

A closed bar never changes, so once stored it is never fetched again. Which bar-open spans are complete is kept as
store coverage (not inferred from the rows), so a range where a venue published nothing is not refetched either,
and a backfill interrupted half-way resumes where it stopped. The bar still forming is always fetched and never
stored; so is a bar whose page was answered less than SETTLE_AFTER after its close (a cached page of a bar that was
still forming would otherwise be stored as final).

Series names (documented for every reader of the store):
    SeriesKey(source=<venue SOURCE>, metric=open|high|low|close|volume, asset=<BASE-QUOTE pair>, venue=<interval>)
e.g. SeriesKey("coinbase", "close", "BTC-USD", "1d"), SeriesKey("binance", "close", "BTC-USDT", "1d").
`ts` is the bar open (UTC) and `fetched_at` when windvane fetched it (imports use the bar close). Coverage is kept
under metric "candles". Prices are in the quote currency, volume in the base asset.

When the store is absent, not a coverage store, or fails (StoreError), the call degrades to a plain fetch.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cachetools import LRUCache

from fetchers.errors import UpstreamError
from fetchers.http import Fetched, Http
from schemas.market import INTERVAL_SECONDS, Candle
from store.base import CoverageStore, Observation, SeriesKey, Store, StoreError
from tools.venues import CandleRows, SpotVenue

log = logging.getLogger("windvane.candle_store")

FIELDS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
COVERAGE_METRIC = "candles"
# A bar is stored only when the venue's answer came this long after the bar closed (late trades, cached pages).
SETTLE_AFTER = timedelta(minutes=2)
# Reference venues quote <ASSET>USDT; Coinbase products are already BASE-QUOTE.
_REFERENCE_QUOTE = "USDT"


def pair_name(instrument: str) -> str:
    """The store's asset for a fetcher's instrument argument: 'BTC-USD' stays, 'BTC' becomes 'BTC-USDT'."""
    instrument = instrument.upper()
    return instrument if "-" in instrument else f"{instrument}-{_REFERENCE_QUOTE}"


def series_key(source: str, pair: str, interval: str, field: str) -> SeriesKey:
    return SeriesKey(source, field, pair, interval)


def coverage_key(source: str, pair: str, interval: str) -> SeriesKey:
    return SeriesKey(source, COVERAGE_METRIC, pair, interval)


def observations(
    source: str, pair: str, interval: str, candles: Sequence[Candle], fetched_at: datetime
) -> list[Observation]:
    """Closed candles as store rows, one per field."""
    return [
        Observation(series_key(source, pair, interval, field), c.open_time, float(getattr(c, field)), fetched_at)
        for c in candles
        if c.closed
        for field in FIELDS
    ]


def last_closed_open(now: datetime, step: timedelta) -> datetime:
    """Open time of the newest bar that had closed by `now`."""
    seconds = int(step.total_seconds())
    return datetime.fromtimestamp((int(now.timestamp()) // seconds) * seconds, UTC) - step


def _bar_opens(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    seconds = int(step.total_seconds())
    first = -(-int(start.timestamp()) // seconds) * seconds  # first aligned open at or after start
    opens, t = [], datetime.fromtimestamp(first, UTC)
    while t <= end:
        opens.append(t)
        t += step
    return opens


def bar_runs(opens: Sequence[datetime], step: timedelta) -> list[tuple[datetime, datetime]]:
    """Consecutive bar opens grouped into inclusive (first, last) runs."""
    runs: list[tuple[datetime, datetime]] = []
    for t in opens:
        if runs and runs[-1][1] + step == t:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs


async def missing_runs(
    store: CoverageStore, source: str, pair: str, interval: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Inclusive runs of bar opens in [start, end] that the store does not cover."""
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    opens = _bar_opens(start, end, step)
    if not opens:
        return []
    spans = await store.coverage(coverage_key(source, pair, interval), opens[0], opens[-1] + step)
    uncovered = [t for t in opens if not any(lo <= t < hi for lo, hi in spans)]
    return bar_runs(uncovered, step)


async def stored_candles(
    store: Store, source: str, pair: str, interval: str, start: datetime, end: datetime
) -> tuple[list[Candle], datetime | None]:
    """Stored bars with open in [start, end], and the latest time any of them was fetched."""
    columns = {field: await store.read(series_key(source, pair, interval, field), start, end) for field in FIELDS}
    by_field = {field: {o.ts: o for o in rows} for field, rows in columns.items()}
    candles, newest = [], None
    for ts in sorted(by_field["close"]):
        parts = [by_field[field].get(ts) for field in FIELDS]
        if any(p is None for p in parts):
            continue  # a bar with a missing field is not served; coverage will not claim it either
        o, h, low, c, v = (p.value for p in parts if p is not None)
        candles.append(Candle(ts, o, h, low, c, v, closed=True))
        fetched = max(p.fetched_at for p in parts if p is not None)
        newest = fetched if newest is None or fetched > newest else newest
    return candles, newest


def _store_fetched(
    http: Http, venue: SpotVenue, instrument: str, rows: list[Candle], fetched_at: datetime
) -> Fetched[list[Candle]]:
    # The venue's real candle path, so a store-served answer still names where its bars came from.
    endpoint = http.base_url(venue.name) + venue.candle_path(instrument)
    return Fetched.stored(rows, venue.name, endpoint, fetched_at, now=datetime.fromtimestamp(time.time(), UTC))


# Coverage is only ever added and a covered closed bar is never rewritten, so a fully covered read can be kept in
# memory: warm calls then skip five SQLite reads per series. Per store object, so tests' stores never share entries.
_ReadKey = tuple[str, str, str, datetime, datetime]
_Read = tuple[list[Candle], datetime | None]
_MEMO: weakref.WeakKeyDictionary[object, LRUCache[_ReadKey, _Read]] = weakref.WeakKeyDictionary()


def _complete_reads(store: object) -> LRUCache[_ReadKey, _Read]:
    memo = _MEMO.get(store)
    if memo is None:
        memo = _MEMO[store] = LRUCache(maxsize=256)
    return memo


async def fetch_candles(
    store: Store | None,
    venue: SpotVenue,
    http: Http,
    instrument: str,
    interval: str,
    start: datetime,
    end: datetime,
    *,
    closed_by: datetime,
) -> CandleRows:
    """Like `venue.fetch_candles(http, instrument, ...)`, reading closed bars from `store` first.

    Missing closed runs and the forming tail are fetched; closed bars fetched are written back with their coverage.
    `closed_by` is the instant bars must have closed by (the call's bar cutoff).
    """
    if store is None or not isinstance(store, CoverageStore):
        return await venue.fetch_candles(http, instrument, interval, start, end, closed_by=closed_by)
    source, pair = venue.name, pair_name(instrument)
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    closed_end = min(end, last_closed_open(closed_by, step))
    memo = _complete_reads(store)
    memo_key = (source, pair, interval, start, closed_end)
    try:
        if memo_key in memo:
            missing, (stored, stored_at) = [], memo[memo_key]
        else:
            missing = await missing_runs(store, source, pair, interval, start, closed_end)
            stored, stored_at = await stored_candles(store, source, pair, interval, start, closed_end)
            if not missing:
                memo[memo_key] = (stored, stored_at)
    except StoreError as exc:
        log.warning("history store unavailable, fetching %s candles directly: %s", source, exc)
        return await venue.fetch_candles(http, instrument, interval, start, end, closed_by=closed_by)

    to_fetch = list(missing)
    tail_start = max(start, closed_end + step)
    if tail_start <= end:  # the bar still forming: always asked for, never stored
        if to_fetch and to_fetch[-1][1] + step >= tail_start:
            to_fetch[-1] = (to_fetch[-1][0], end)
        else:
            to_fetch.append((tail_start, end))

    by_time = {c.open_time: c for c in stored}
    fetches: list[Fetched[list[Candle]]] = []
    if stored and stored_at is not None:
        fetches.append(_store_fetched(http, venue, instrument, stored, stored_at))
    for run_start, run_end in to_fetch:
        try:
            got, run_fetches = await venue.fetch_candles(
                http, instrument, interval, run_start, run_end, closed_by=closed_by
            )
        except UpstreamError as exc:
            if not stored:
                raise
            # The stored bars still stand; the gap is reported through a stale marker on the store record.
            reason = (
                f"{exc.kind}: {exc.message}; bars {run_start.date()}..{run_end.date()} are missing, "
                f"{len(stored)} stored bars served"
            )
            fetches.append(replace(fetches[0], value=[], source=exc.source, stale=True, stale_reason=reason))
            continue
        fetches.extend(run_fetches)
        by_time.update({c.open_time: c for c in got})
        await _record(store, source, pair, interval, got, run_fetches, run_start, min(run_end, closed_end), step)
    return sorted(by_time.values(), key=lambda c: c.open_time), fetches


async def _record(
    store: CoverageStore,
    source: str,
    pair: str,
    interval: str,
    got: Sequence[Candle],
    fetches: Sequence[Fetched[list[Candle]]],
    run_start: datetime,
    closed_end: datetime,
    step: timedelta,
) -> None:
    """Write the settled bars of one fetched run back, and mark the settled part of the run as covered.

    A bar is settled when the venue answered at least SETTLE_AFTER after its close: a page cached while the bar was
    still forming (or fetched the second it closed) may carry partial values, and a stored bar is never refetched.
    """
    if not fetches or any(f.stale for f in fetches):
        return  # a stale page is an old answer that may predate the bars' close: store nothing from it
    answered = min(f.fetched_at for f in fetches)
    settled_end = min(closed_end, last_closed_open(answered - SETTLE_AFTER, step))
    # Coverage also stops before a bar the venue still flags as forming (OKX `confirm=0` past its close).
    unconfirmed = [c.open_time for c in got if not c.closed and c.open_time <= settled_end]
    covered_end = min([settled_end + step, *unconfirmed])
    settled = [c for c in got if c.closed and c.open_time < covered_end]
    try:
        await store.upsert(observations(source, pair, interval, settled, max(f.fetched_at for f in fetches)))
        if covered_end > run_start:
            await store.add_coverage(coverage_key(source, pair, interval), run_start, covered_end)
    except StoreError as exc:
        log.warning("could not record %s %s candles in the history store: %s", source, pair, exc)
