"""Open interest for get_leverage_state: per venue hourly history (or the store), live snapshots, and sums.

A venue that does not answer is left out of the sum, never counted as 0; changes compare the same venues at both ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from fetchers import coinglass_derivatives
from fetchers.concurrency import gather, gather_all
from fetchers.errors import UpstreamError
from schemas.derivatives import OpenInterestPoint
from schemas.leverage import AggregatedOpenInterest, OpenInterest, VenueOpenInterest
from tools.deps import Deps
from tools.leverage.calc import at_or_before, last_complete_day_end, pct_change
from tools.leverage.oi_history import stored_points
from tools.numbers import rounded
from tools.point_in_time import PointInTime
from tools.provenance import Provenance
from tools.venues import PERP_VENUES, OpenInterestNow, PerpVenue

# A reading further than this from its target time is a gap, not a value for that time.
OI_TOLERANCE = timedelta(hours=2)
# (hourly USD history over the last 7 days + margin, live snapshot), or None when the venue has nothing
VenueReadings = tuple[list[OpenInterestPoint], OpenInterestPoint | None] | None


async def _venue_oi(deps: Deps, prov: Provenance, venue: PerpVenue, asset: str, pit: PointInTime) -> VenueReadings:
    at = pit.at
    start = at - timedelta(days=7) - OI_TOLERANCE
    reach = venue.oi_lookback

    async def history() -> tuple[list[OpenInterestPoint], UpstreamError | None]:
        if pit.now - start > reach:
            return [], None
        try:
            points, fetches = await venue.fetch_oi_history(deps.http, asset, start, at)
        except UpstreamError as exc:
            return [], exc
        prov.add(fetches)
        return points, None

    async def snapshot() -> OpenInterestNow | UpstreamError | None:
        if not pit.is_live:
            return None
        try:
            return await venue.fetch_oi_now(deps.http, asset)
        except UpstreamError as exc:
            return exc

    # Together, not one after the other: a cold call waits one round trip (a refusing venue gets one request per
    # endpoint once; then its circuit is open).
    (points, failure), snap = await gather(history, snapshot)
    if failure is not None:
        prov.failed(f"{venue.name} open interest", failure)
    if not points:
        points = await stored_points(deps, venue.name, asset, start, at)
        if points:
            prov.warn(f"{venue.name} open interest read from the history store (recorded by collect/backfill)")
        elif failure is None:
            prov.warn(
                f"{venue.name} serves open interest history for the latest {reach.days} days only and the store has "
                "none for this date; left out"
            )
            return None
        else:
            return None
    # A venue whose history failed answers from the store only: its live snapshot is not mixed in.
    return points, None if failure is not None else _snapshot_point(prov, venue, snap)


def _snapshot_point(
    prov: Provenance, venue: PerpVenue, snap: OpenInterestNow | UpstreamError | None
) -> OpenInterestPoint | None:
    """The venue's current OI, fresher than the last hourly row; None falls back to that row."""
    if isinstance(snap, UpstreamError):
        prov.failed(f"{venue.name} current open interest (using the latest hourly reading)", snap)
        return None
    if snap is None:
        return None
    point, fetches = snap
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


@dataclass
class _Sums:
    """Per-venue readings and the (now, then) pairs the summed changes compare, over the venues that answered."""

    by_venue: list[VenueOpenInterest] = field(default_factory=list)
    now_usd: float = 0.0
    pairs: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {"24h": [], "7d": []})
    answered: list[str] = field(default_factory=list)

    def change(self, label: str) -> float | None:
        got = self.pairs[label]
        if not got:
            return None
        return rounded(pct_change(sum(a for a, _ in got), sum(b for _, b in got)), 4)


def _add_venue(prov: Provenance, sums: _Sums, name: str, readings: VenueReadings, at: datetime) -> None:
    if readings is None:
        return
    history, snap = readings
    current = snap if snap is not None and snap.usd is not None else at_or_before(history, at, OI_TOLERANCE)
    if current is None or current.usd is None:
        prov.warn(f"{name} open interest: no reading within 2h before as_of; left out of the sum")
        return
    sums.answered.append(name)
    sums.now_usd += current.usd
    changes: dict[str, float | None] = {}
    for label, delta in (("24h", timedelta(hours=24)), ("7d", timedelta(days=7))):
        then = at_or_before(history, current.time - delta, OI_TOLERANCE)
        if then is None or then.usd is None:
            prov.warn(f"{name} open interest {label} ago is missing; left out of change_{label}_pct")
            changes[label] = None
            continue
        sums.pairs[label].append((current.usd, then.usd))
        changes[label] = rounded(pct_change(current.usd, then.usd), 4)
    sums.by_venue.append(
        VenueOpenInterest(
            venue=name,
            usd=round(current.usd, 2),
            time=current.time,
            change_24h_pct=changes["24h"],
            change_7d_pct=changes["7d"],
        )
    )


async def open_interest(deps: Deps, prov: Provenance, asset: str, pit: PointInTime, cutoff: datetime) -> OpenInterest:
    per_venue, aggregated = await gather(
        lambda: gather_all(partial(_venue_oi, deps, prov, venue, asset, pit) for venue in PERP_VENUES),
        lambda: _coinglass_open_interest(deps, prov, asset, cutoff),
    )
    sums = _Sums()
    for venue, readings in zip(PERP_VENUES, per_venue, strict=True):
        _add_venue(prov, sums, venue.name, readings, pit.at)
    missing = [v.name for v in PERP_VENUES if v.name not in sums.answered]
    if missing and sums.answered:
        prov.warn(f"open interest sums {', '.join(sums.answered)} only; missing: {', '.join(missing)}")
    if not sums.answered:
        prov.warn("no venue answered for open interest: it is unavailable")
    return OpenInterest(
        usd=round(sums.now_usd, 2) if sums.answered else None,
        change_24h_pct=sums.change("24h"),
        change_7d_pct=sums.change("7d"),
        venues=sums.answered,
        partial=bool(missing),
        by_venue=sums.by_venue,
        all_venues=aggregated,
    )
