"""Funding per venue for get_leverage_state: the latest settled rate, its detected interval, 8h and annual forms."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from fetchers.concurrency import gather_all
from fetchers.errors import UpstreamError
from schemas.derivatives import FundingPoint
from schemas.leverage import FundingRow
from tools.deps import Deps
from tools.leverage.calc import funding_interval_hours, normalise_funding
from tools.provenance import Provenance
from tools.venues import PERP_VENUES, PerpVenue


def funding_row(venue: str, points: list[FundingPoint], at: datetime) -> FundingRow | None:
    settled = [p for p in points if p.time <= at]
    interval = funding_interval_hours(settled)
    if interval is None:
        return None
    latest = settled[-1]
    rate_8h, annual = normalise_funding(latest.rate, interval)
    return FundingRow(
        venue=venue,
        rate_pct=round(100 * latest.rate, 8),
        interval_hours=interval,
        rate_8h_pct=round(rate_8h, 8),
        annualized_pct=round(annual, 6),
        funding_time=latest.time,
    )


async def funding(deps: Deps, prov: Provenance, asset: str, at: datetime) -> list[FundingRow]:
    async def one(venue: PerpVenue) -> FundingRow | None:
        try:
            fetched = await venue.fetch_funding(deps.http, asset, at)
        except UpstreamError as exc:
            prov.failed(f"{venue.name} funding", exc)
            return None
        prov.add(fetched)
        row = funding_row(venue.name, fetched.value, at)
        if row is None:
            prov.warn(f"{venue.name} funding: fewer than two settlements at or before as_of; interval unknown")
        return row

    rows = await gather_all(partial(one, venue) for venue in PERP_VENUES)
    return [row for row in rows if row is not None]
