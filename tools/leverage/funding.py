"""Funding per venue for get_leverage_state: the latest settled rate, its detected interval, 8h and annual forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import anyio

from fetchers import binance_futures, bybit, okx
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from schemas.derivatives import FundingPoint
from schemas.leverage import FundingRow
from tools.deps import Deps
from tools.leverage.calc import funding_interval_hours, normalise_funding
from tools.provenance import Provenance

# Enough settlements to see two even on an 8h venue, and few enough rows on a 1h one.
FUNDING_LOOKBACK = timedelta(days=3)


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
    calls: dict[str, Callable[[], Awaitable[Fetched[list[FundingPoint]]]]] = {
        "binance_futures": lambda: binance_futures.fetch_funding_rates(deps.http, asset, at - FUNDING_LOOKBACK, at),
        "okx": lambda: okx.fetch_funding_history(deps.http, asset, at),
        "bybit": lambda: bybit.fetch_funding_history(deps.http, asset, at),
    }
    rows: dict[str, FundingRow] = {}

    async def one(venue: str) -> None:
        try:
            fetched = await calls[venue]()
        except UpstreamError as exc:
            prov.failed(f"{venue} funding", exc)
            return
        prov.add(fetched)
        row = funding_row(venue, fetched.value, at)
        if row is None:
            prov.warn(f"{venue} funding: fewer than two settlements at or before as_of; interval unknown")
            return
        rows[venue] = row

    async with anyio.create_task_group() as tg:
        for venue in calls:
            tg.start_soon(one, venue)
    return [rows[v] for v in calls if v in rows]
