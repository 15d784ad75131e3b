"""Backfill of closed candles into the history store, chunk by chunk, resumable.

Each chunk first asks the store which bars are still missing (store coverage), so a run that was interrupted, or
that failed on some chunks, fetches only what the last run did not finish. Tools describe their candle series and
call `backfill_candles` from their `backfill(deps, since, until)`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fetchers.errors import UpstreamError
from schemas.market import INTERVAL_SECONDS
from store.base import CoverageStore
from tools.deps import Deps
from tools.history import candle_store
from tools.venues import SpotVenue

log = logging.getLogger("windvane.backfill")

CHUNK_BARS = 300  # one Coinbase page of daily bars: a chunk is the unit of progress and of resumption


class BackfillIncomplete(RuntimeError):
    """Some chunks could not be fetched; what was fetched is stored, and the next run resumes the rest."""


@dataclass(frozen=True)
class CandleSeries:
    venues: tuple[SpotVenue, ...]  # tried in order per chunk: a fallback chain, as the tools use it
    instrument: str  # the venue fetcher's instrument argument, e.g. "BTC-USD" (Coinbase) or "BTC" (USDT venues)
    interval: str = "1d"

    def label(self) -> str:
        return f"{self.venues[0].name} {candle_store.pair_name(self.instrument)} {self.interval}"


def chunks(start: datetime, end: datetime, step: timedelta, bars: int = CHUNK_BARS) -> list[tuple[datetime, datetime]]:
    out = []
    while start <= end:
        last = min(end, start + step * (bars - 1))
        out.append((start, last))
        start = last + step
    return out


async def _fill_chunk(
    deps: Deps, store: CoverageStore, series: CandleSeries, first: datetime, last: datetime, now: datetime
) -> tuple[int, str | None]:
    """Rows written for one chunk, and why it failed (None when complete)."""
    pair = candle_store.pair_name(series.instrument)
    reasons = []
    for venue in series.venues:
        source = venue.name
        missing = await candle_store.missing_runs(store, source, pair, series.interval, first, last)
        if not missing:
            return 0, None  # done by an earlier run: no request at all
        try:
            rows, fetches = await candle_store.fetch_candles(
                store, venue, deps.http, series.instrument, series.interval, first, last, closed_by=now
            )
        except UpstreamError as exc:
            reasons.append(f"{source} {exc.kind}: {exc.message}")
            continue
        stale = [f.stale_reason for f in fetches if f.stale]
        if stale:
            reasons.append(f"{source}: {stale[0]}")
            continue
        new_bars = [c for c in rows if c.closed and any(a <= c.open_time <= b for a, b in missing)]
        return len(new_bars) * len(candle_store.FIELDS), None
    return 0, "; ".join(reasons)


async def backfill_candles(deps: Deps, series: Sequence[CandleSeries], since: date, until: date) -> int:
    """Store every closed bar of `series` with open in [since, until] (UTC days). Returns rows written."""
    store = deps.store
    if not isinstance(store, CoverageStore):
        raise BackfillIncomplete("backfill needs a history store that records coverage (the SQLite store does)")
    now = deps.clock()
    report = deps.progress
    plan: list[tuple[CandleSeries, datetime, datetime]] = []
    for s in series:
        step = timedelta(seconds=INTERVAL_SECONDS[s.interval])
        start = datetime.combine(since, time(), UTC)
        end = min(
            datetime.combine(until, time(), UTC) + timedelta(days=1) - step, candle_store.last_closed_open(now, step)
        )
        plan.extend((s, first, last) for first, last in chunks(start, end, step))
    written, failures = 0, []
    for done, (s, first, last) in enumerate(plan, start=1):
        rows, failure = await _fill_chunk(deps, store, s, first, last, now)
        written += rows
        if failure is not None:
            failures.append(f"{s.label()} {first.date()}..{last.date()}: {failure}")
            log.warning("backfill chunk failed: %s", failures[-1])
        report(s.label(), done, len(plan))
    if failures:
        raise BackfillIncomplete(
            f"{len(failures)} of {len(plan)} chunk(s) failed ({written} rows stored); run again to resume. "
            f"First: {failures[0]}"
        )
    return written
