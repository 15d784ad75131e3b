"""Open-interest history in the store: `collect` and `backfill` record it, get_leverage_state falls back to it.

The venues keep only recent OI history (Binance 30 days, OKX 1,440 hourly rows), so a past `as_of` beyond that is
answered from what windvane recorded. Hourly readings are facts about their timestamp, so reads do not filter by
fetch time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta

from fetchers import coinglass_derivatives
from fetchers.errors import UpstreamError
from schemas.derivatives import OpenInterestPoint
from store.base import Observation, SeriesKey
from tools.deps import Deps
from tools.venues import PERP_VENUES, PerpVenue

log = logging.getLogger("windvane.leverage")

OI_METRIC = "open_interest_usd"
LIQ_LONG_METRIC = "liquidations_long_usd"
LIQ_SHORT_METRIC = "liquidations_short_usd"
ASSETS = ("BTC", "ETH")


def oi_key(venue: str, asset: str) -> SeriesKey:
    return SeriesKey(venue, OI_METRIC, asset)


async def stored_points(deps: Deps, venue: str, asset: str, start: datetime, end: datetime) -> list[OpenInterestPoint]:
    if deps.store is None:
        return []
    rows = await deps.store.read(oi_key(venue, asset), start, end)
    return [OpenInterestPoint(o.ts, o.value) for o in rows]


def _observations(venue: str, asset: str, points: list[OpenInterestPoint], now: datetime) -> list[Observation]:
    return [Observation(oi_key(venue, asset), p.time, p.usd, now) for p in points if p.usd is not None]


async def _record_span(deps: Deps, venue: PerpVenue, asset: str, start: datetime, end: datetime) -> int:
    assert deps.store is not None
    written = 0
    cursor = start
    while cursor < end:
        chunk_end = min(end, cursor + venue.oi_chunk)
        points, _ = await venue.fetch_oi_history(deps.http, asset, cursor, chunk_end)
        written += await deps.store.upsert(_observations(venue.name, asset, points, deps.clock()))
        cursor = chunk_end + timedelta(hours=1)
    return written


async def _each(calls: list[Callable[[], Awaitable[int]]]) -> int:
    written = 0
    for call in calls:
        try:
            written += await call()
        except UpstreamError as exc:
            # One venue down must not stop the others; the next run fills the gap.
            log.warning("open-interest history skipped: %s %s (%s)", exc.source, exc.kind, exc.message)
    return written


def _span_call(
    deps: Deps, venue: PerpVenue, asset: str, start: datetime, end: datetime
) -> Callable[[], Awaitable[int]]:
    return lambda: _record_span(deps, venue, asset, start, end)


async def collect_open_interest(deps: Deps) -> int:
    """The last day of hourly OI per venue: run hourly or daily, it keeps the record gap-free."""
    if deps.store is None:
        return 0
    now = deps.clock()
    return await _each([_span_call(deps, v, a, now - timedelta(hours=24), now) for a in ASSETS for v in PERP_VENUES])


async def _coinglass_days(deps: Deps, asset: str, start: datetime, end: datetime) -> int:
    assert deps.store is not None
    now = deps.clock()
    liq = await coinglass_derivatives.fetch_liquidation_history(deps.http, asset, start, end)
    oi = await coinglass_derivatives.fetch_open_interest_history(deps.http, asset, start, end)
    rows = [Observation(SeriesKey("coinglass", LIQ_LONG_METRIC, asset), b.time, b.long_usd, now) for b in liq.value]
    rows += [Observation(SeriesKey("coinglass", LIQ_SHORT_METRIC, asset), b.time, b.short_usd, now) for b in liq.value]
    rows += [
        Observation(SeriesKey("coinglass", OI_METRIC, asset), p.time, p.usd, now) for p in oi.value if p.usd is not None
    ]
    return await deps.store.upsert(rows)


async def backfill(deps: Deps, since: date, until: date) -> int:
    """Hourly OI per venue as far back as each endpoint reaches, and CoinGlass daily history when keyed."""
    if deps.store is None:
        return 0
    now = deps.clock()
    start = datetime.combine(since, time.min, tzinfo=UTC)
    end = min(now, datetime.combine(until, time.max, tzinfo=UTC))
    calls: list[Callable[[], Awaitable[int]]] = []
    for asset in ASSETS:
        for venue in PERP_VENUES:
            venue_start = max(start, now - venue.oi_lookback)
            if venue_start < end:
                calls.append(_span_call(deps, venue, asset, venue_start, end))
        if deps.http.api_key(coinglass_derivatives.SOURCE):
            calls.append(_coinglass_call(deps, asset, start, end))
    return await _each(calls)


def _coinglass_call(deps: Deps, asset: str, start: datetime, end: datetime) -> Callable[[], Awaitable[int]]:
    return lambda: _coinglass_days(deps, asset, start, end)
