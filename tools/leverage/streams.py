"""Liquidation streams for get_leverage_state: `collect` records them per minute, the tool reports what was covered.

Per-event rows would swamp the history store, so each venue's liquidations are summed per asset and UTC minute,
long and short, and written only for minutes the connection was live from start to end: such a minute with no
events is a true 0, while a minute the connection missed part of is not recorded at all. The tool reports the sums
beside the number of minutes they cover and never adds them into a complete (CoinGlass) or OKX figure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio

from fetchers import liquidation_streams as ls
from fetchers.concurrency import gather_all
from fetchers.http import Fetched
from schemas.leverage import StreamLiquidations
from store.base import Observation, SeriesKey, StoreError
from tools.deps import Deps
from tools.provenance import Provenance
from tools.venues import BINANCE_STREAM, BYBIT_STREAM, STREAM_VENUES, StreamVenue

log = logging.getLogger("windvane.collect")

MINUTE = timedelta(minutes=1)
LONG_METRIC = "liquidations_long_usd"
SHORT_METRIC = "liquidations_short_usd"
WINDOW_MINUTES = {"24h": 24 * 60, "7d": 7 * 24 * 60}
# A liquidation at 12:00:59.9 may arrive after 12:01:00 (Bybit batches every 500 ms, plus the network): a minute is
# complete only if the connection stayed up this long after it ended.
DELIVERY_GRACE = timedelta(seconds=2)
STREAM_ASSETS = ("BTC", "ETH")


def series(venue: StreamVenue, metric: str, asset: str) -> SeriesKey:
    return SeriesKey(f"{venue.venue}_stream", metric, asset, "")


def _floor_minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def complete_minutes(spans: list[tuple[datetime, datetime]]) -> list[datetime]:
    """Starts of the UTC minutes lying wholly inside one live span (plus the delivery grace), ascending."""
    minutes: set[datetime] = set()
    for start, end in spans:
        m = _floor_minute(start)
        if m < start:
            m += MINUTE
        while m + MINUTE + DELIVERY_GRACE <= end:
            minutes.add(m)
            m += MINUTE
    return sorted(minutes)


def minute_observations(
    venue: StreamVenue,
    assets: tuple[str, ...],
    events: list[ls.LiquidationEvent],
    spans: list[tuple[datetime, datetime]],
    fetched_at: datetime,
) -> list[Observation]:
    """Long and short USD per asset for each complete minute, its full sum computed before anything is written."""
    minutes = complete_minutes(spans)
    wanted = set(minutes)
    by_symbol = {ls.symbol(a): a for a in assets}
    sums: dict[tuple[str, datetime], list[float]] = {(a, m): [0.0, 0.0] for a in assets for m in minutes}
    for event in events:
        asset = by_symbol.get(event.symbol)
        minute = _floor_minute(event.time)
        if asset is None or minute not in wanted:
            continue  # another symbol, or a minute the connection did not cover in full
        sums[(asset, minute)][0 if event.long else 1] += event.usd
    rows = []
    for (asset, minute), (long_usd, short_usd) in sorted(sums.items()):
        rows.append(Observation(series(venue, LONG_METRIC, asset), minute, round(long_usd, 2), fetched_at))
        rows.append(Observation(series(venue, SHORT_METRIC, asset), minute, round(short_usd, 2), fetched_at))
    return rows


@dataclass
class _Job:
    venue: StreamVenue
    url: str
    assets: tuple[str, ...]
    subscribe: ls.JsonMessage | None
    parse: Callable[[str | bytes], list[ls.LiquidationEvent]]
    ping: ls.JsonMessage | None
    events: list[ls.LiquidationEvent] = field(default_factory=list)
    run: ls.StreamRun | None = None


def _jobs(deps: Deps, assets: tuple[str, ...]) -> list[_Job]:
    jobs = [
        _Job(
            BINANCE_STREAM,
            deps.http.base_url(BINANCE_STREAM.name) + BINANCE_STREAM.path(a),
            (a,),
            None,
            ls.parse_binance_force_order,
            None,
        )
        for a in assets
    ]
    jobs.append(
        _Job(
            BYBIT_STREAM,
            deps.http.base_url(BYBIT_STREAM.name) + BYBIT_STREAM.path(assets[0]),
            assets,
            ls.bybit_subscribe(list(assets)),
            ls.parse_bybit_all_liquidation,
            ls.BYBIT_PING,
        )
    )
    return jobs


def _now() -> datetime:
    return datetime.now(UTC)


def window_seconds(start: datetime, seconds: float) -> float:
    """At least `seconds`, extended to the next minute boundary (plus the delivery grace) so that the last
    listened minute is complete."""
    end = start + timedelta(seconds=seconds)
    aligned = _floor_minute(end) + (MINUTE if end != _floor_minute(end) else timedelta(0))
    return (aligned + DELIVERY_GRACE - start).total_seconds()


async def collect_streams(
    deps: Deps,
    seconds: float,
    *,
    assets: tuple[str, ...] = STREAM_ASSETS,
    clock: Callable[[], datetime] = _now,
    stop: anyio.Event | None = None,
) -> int:
    """Listen to both venues' streams for one bounded window and record each complete minute. Returns rows written."""
    if seconds <= 0 or deps.store is None:
        return 0
    jobs = []
    for job in _jobs(deps, assets):
        if not job.url.startswith(("ws://", "wss://")):
            log.warning("%s: %s is not a ws:// or wss:// URL; not listening", job.venue.name, job.url.split("?")[0])
            continue
        jobs.append(job)
    duration = window_seconds(clock(), seconds)

    async def one(job: _Job) -> None:
        job.run = await ls.listen(
            job.url,
            job.subscribe,
            duration,
            job.events.append,
            parse=job.parse,
            ping_msg=job.ping,
            clock=clock,
            stop=stop,
        )

    await gather_all(partial(one, job) for job in jobs)
    fetched_at = clock()
    rows: list[Observation] = []
    for job in jobs:
        assert job.run is not None
        got = minute_observations(job.venue, job.assets, job.events, job.run.live, fetched_at)
        rows.extend(got)
        log.info(
            "%s %s %s: %d events, %d complete minute(s), %d bad message(s) skipped, %d drop(s)%s",
            job.venue.venue,
            job.venue.stream,
            "/".join(job.assets),
            job.run.events,
            len(got) // (2 * len(job.assets)),
            job.run.bad_messages,
            job.run.drops,
            f", gave up: {job.run.gave_up}"
            if job.run.gave_up
            else (f", last error: {job.run.errors[-1]}" if job.run.errors else ""),
        )
    return await deps.store.upsert(rows) if rows else 0


# -- reading, for the tool ------------------------------------------------------------------------------------


async def stream_liquidations(
    deps: Deps, prov: Provenance, asset: str, at: datetime, known_at: datetime
) -> list[StreamLiquidations]:
    """Per venue, the recorded minutes in the rolling 24h and 7d windows ending at `at` (venues with none: left out)."""
    if deps.store is None:
        return []
    out = []
    for venue in STREAM_VENUES:
        start, last_minute = at - timedelta(days=7), at - MINUTE  # a minute counts once it has ended by `at`
        try:
            longs = await deps.store.read(series(venue, LONG_METRIC, asset), start, last_minute, known_at=known_at)
            shorts = await deps.store.read(series(venue, SHORT_METRIC, asset), start, last_minute, known_at=known_at)
        except StoreError as exc:
            prov.warn(f"{venue.venue} {venue.stream} stream history unreadable: {exc}")
            continue
        short_by = {o.ts: o for o in shorts}
        pairs = [(o, short_by[o.ts]) for o in longs if o.ts in short_by]
        if not pairs:
            continue
        day = [(lo, sh) for lo, sh in pairs if lo.ts >= at - timedelta(hours=24)]
        recorded = max(max(lo.fetched_at, sh.fetched_at) for lo, sh in pairs)
        endpoint = deps.http.base_url(venue.name) + venue.path(asset)
        prov.add(Fetched.stored(None, venue.name, endpoint, recorded, now=known_at))
        out.append(
            StreamLiquidations(
                venue=venue.venue,
                stream=venue.stream,
                long_usd_24h=round(sum(lo.value for lo, _ in day), 2),
                short_usd_24h=round(sum(sh.value for _, sh in day), 2),
                minutes_24h=len(day),
                window_minutes_24h=WINDOW_MINUTES["24h"],
                long_usd_7d=round(sum(lo.value for lo, _ in pairs), 2),
                short_usd_7d=round(sum(sh.value for _, sh in pairs), 2),
                minutes_7d=len(pairs),
                window_minutes_7d=WINDOW_MINUTES["7d"],
                last_minute=max(lo.ts for lo, _ in pairs),
                note=venue.note,
            )
        )
    return out


def coverage_note(streams: list[StreamLiquidations]) -> str:
    """The clause appended to `liquidations.coverage` when stream minutes exist."""
    parts = []
    for s in streams:
        part = f"{s.venue} {s.stream} {s.minutes_24h} of {s.window_minutes_24h} min in 24h"
        parts.append(part + (" (sampled, undercounts: at most 1 order per symbol per second)" if s.note else ""))
    return (
        "; plus streams recorded by windvane collect, reported apart in liquidations.streams, not summed: "
        + ", ".join(parts)
    )
