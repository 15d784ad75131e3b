"""Open interest for get_leverage_state: per venue hourly history (or the store), live snapshots, and sums.

A venue that does not answer is left out of the sum, never counted as 0; changes compare the same venues at both ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import anyio

from fetchers import binance_futures, coinglass_derivatives, okx
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from schemas.derivatives import OpenInterestPoint
from schemas.leverage import AggregatedOpenInterest, OpenInterest, VenueOpenInterest
from tools.concurrency import both
from tools.deps import Deps
from tools.leverage.calc import at_or_before, last_complete_day_end, pct_change
from tools.leverage.oi_history import LOOKBACK, fetch_venue_history, stored_points
from tools.numbers import rounded
from tools.point_in_time import PointInTime
from tools.provenance import Provenance

# A reading further than this from its target time is a gap, not a value for that time.
OI_TOLERANCE = timedelta(hours=2)
OI_VENUES = ("binance_futures", "okx", "bybit")


async def _venue_oi(
    deps: Deps, prov: Provenance, venue: str, asset: str, pit: PointInTime
) -> tuple[list[OpenInterestPoint], OpenInterestPoint | None] | None:
    """(hourly USD history over the last 7 days + margin, live snapshot) or None when the venue has nothing."""
    at = pit.at
    start = at - timedelta(days=7) - OI_TOLERANCE
    reach = LOOKBACK[venue]
    points: list[OpenInterestPoint] = []
    failed = False
    if pit.now - start <= reach:
        try:
            points, fetches = await fetch_venue_history(deps.http, venue, asset, start, at)
            prov.add(fetches)
        except UpstreamError as exc:
            prov.failed(f"{venue} open interest", exc)
            failed = True
    if not points:
        points = await stored_points(deps, venue, asset, start, at)
        if points:
            prov.warn(f"{venue} open interest read from the history store (recorded by collect/backfill)")
        elif not failed and pit.now - start > reach:
            prov.warn(
                f"{venue} serves open interest history for the latest {reach.days} days only and the store has "
                "none for this date; left out"
            )
            return None
        elif failed:
            return None
    # The snapshot waits for the history on purpose: a venue that refuses (geo-block) gets one request, not three.
    snapshot = await _live_snapshot(deps, prov, venue, asset) if pit.is_live and not failed else None
    return points, snapshot


async def _fetch_live_snapshot(
    deps: Deps, venue: str, asset: str
) -> tuple[OpenInterestPoint | None, list[Fetched[Any]]]:
    """The venue's current OI and its fetch records; raises UpstreamError."""
    if venue == "binance_futures":
        # Open interest and mark price are independent: fetched together, unwrapped in the sequential order.
        oi_outcome, mark_outcome = await both(
            lambda: binance_futures.fetch_open_interest(deps.http, asset),
            lambda: binance_futures.fetch_premium_index(deps.http, asset),
        )
        oi, mark = oi_outcome.unwrap(), mark_outcome.unwrap()
        base = oi.value.base
        point = None if base is None else OpenInterestPoint(oi.value.time, base * mark.value.mark_price, base)
        return point, [oi, mark]
    if venue == "okx":
        got = await okx.fetch_open_interest(deps.http, asset)
        return got.value, [got]
    return None, []


async def _live_snapshot(deps: Deps, prov: Provenance, venue: str, asset: str) -> OpenInterestPoint | None:
    """The venue's current OI, fresher than the last hourly row; None falls back to that row."""
    try:
        point, fetches = await _fetch_live_snapshot(deps, venue, asset)
    except UpstreamError as exc:
        prov.failed(f"{venue} current open interest (using the latest hourly reading)", exc)
        return None
    prov.add(fetches)
    return point


async def _coinglass_open_interest(
    deps: Deps, prov: Provenance, asset: str, cutoff: datetime
) -> AggregatedOpenInterest | None:
    if not deps.http.api_key(coinglass_derivatives.SOURCE):
        return None
    day_end = last_complete_day_end(cutoff)
    last = day_end - timedelta(days=1)
    try:
        fetched = await coinglass_derivatives.fetch_open_interest_history(
            deps.http, asset, last - timedelta(days=7), last
        )
    except UpstreamError as exc:
        prov.failed("coinglass aggregated open interest", exc)
        return None
    prov.add(fetched)
    by_day = {p.time: p.usd for p in fetched.value}
    now_usd = by_day.get(last)
    if now_usd is None:
        prov.warn(f"coinglass has no open-interest bar for {last.date()}")

    def change(days: int) -> float | None:
        then = by_day.get(last - timedelta(days=days))
        if now_usd is None or then is None:
            return None
        return rounded(pct_change(now_usd, then), 4)

    return AggregatedOpenInterest(
        usd=rounded(now_usd, 2),
        change_24h_pct=change(1),
        change_7d_pct=change(7),
        day=last.date().isoformat(),
        source="coinglass",
    )


async def open_interest(deps: Deps, prov: Provenance, asset: str, pit: PointInTime, cutoff: datetime) -> OpenInterest:
    at = pit.at
    results: dict[str, tuple[list[OpenInterestPoint], OpenInterestPoint | None] | None] = {}

    async def one(venue: str) -> None:
        results[venue] = await _venue_oi(deps, prov, venue, asset, pit)

    aggregated: list[AggregatedOpenInterest | None] = [None]

    async def all_venues() -> None:
        aggregated[0] = await _coinglass_open_interest(deps, prov, asset, cutoff)

    async with anyio.create_task_group() as tg:
        for venue in OI_VENUES:
            tg.start_soon(one, venue)
        tg.start_soon(all_venues)

    by_venue: list[VenueOpenInterest] = []
    now_sum = 0.0
    pairs: dict[str, list[tuple[float, float]]] = {"24h": [], "7d": []}
    answered: list[str] = []
    for venue in OI_VENUES:
        got = results.get(venue)
        if got is None:
            continue
        history, snap = got
        current = snap if snap is not None and snap.usd is not None else at_or_before(history, at, OI_TOLERANCE)
        if current is None or current.usd is None:
            prov.warn(f"{venue} open interest: no reading within 2h before as_of; left out of the sum")
            continue
        answered.append(venue)
        now_sum += current.usd
        changes: dict[str, float | None] = {}
        for label, delta in (("24h", timedelta(hours=24)), ("7d", timedelta(days=7))):
            then = at_or_before(history, current.time - delta, OI_TOLERANCE)
            if then is None or then.usd is None:
                prov.warn(f"{venue} open interest {label} ago is missing; left out of change_{label}_pct")
                changes[label] = None
                continue
            pairs[label].append((current.usd, then.usd))
            changes[label] = rounded(pct_change(current.usd, then.usd), 4)
        by_venue.append(
            VenueOpenInterest(
                venue=venue,
                usd=round(current.usd, 2),
                time=current.time,
                change_24h_pct=changes["24h"],
                change_7d_pct=changes["7d"],
            )
        )
    missing = [v for v in OI_VENUES if v not in answered]
    if missing and answered:
        prov.warn(f"open interest sums {', '.join(answered)} only; missing: {', '.join(missing)}")
    if not answered:
        prov.warn("no venue answered for open interest: it is unavailable")

    def change(label: str) -> float | None:
        got = pairs[label]
        if not got:
            return None
        return rounded(pct_change(sum(a for a, _ in got), sum(b for _, b in got)), 4)

    return OpenInterest(
        usd=round(now_sum, 2) if answered else None,
        change_24h_pct=change("24h"),
        change_7d_pct=change("7d"),
        venues=answered,
        partial=bool(missing),
        by_venue=by_venue,
        all_venues=aggregated[0],
    )
