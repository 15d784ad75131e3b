"""Liquidations for get_leverage_state: CoinGlass aggregated history when keyed, else OKX's swap only.

Windows the source cannot cover in full are null with a reason, never a partial sum presented as the total.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fetchers import coinglass_derivatives, okx
from fetchers.concurrency import gather
from fetchers.errors import UpstreamError
from schemas.leverage import Liquidations
from tools.deps import Deps
from tools.leverage.calc import last_complete_day_end, liquidation_totals
from tools.provenance import Provenance

# Paging stops here even if the week is not covered (100 orders a page); the 7d total is then null.
LIQUIDATION_MAX_PAGES = 60


def _empty_liquidations(coverage: str) -> Liquidations:
    return Liquidations(
        long_usd_24h=None,
        short_usd_24h=None,
        long_usd_7d=None,
        short_usd_7d=None,
        coverage=coverage,
        source=None,
        window_end=None,
    )


async def _coinglass_liquidations(deps: Deps, prov: Provenance, asset: str, cutoff: datetime) -> Liquidations:
    """Daily aggregated bars: the windows are the last 1 and 7 complete UTC days at or before cutoff."""
    day_end = last_complete_day_end(cutoff)
    first = day_end - timedelta(days=7)
    fetched = await coinglass_derivatives.fetch_liquidation_history(
        deps.http, asset, first, day_end - timedelta(days=1)
    )
    prov.add(fetched)
    by_day = {b.time: b for b in fetched.value}
    days = [first + timedelta(days=i) for i in range(7)]
    missing = [d.date().isoformat() for d in days if d not in by_day]
    last = by_day.get(days[-1])
    if last is None:
        prov.warn(f"coinglass has no liquidation bar for {days[-1].date()}; 24h totals unavailable")
    if missing:
        prov.warn(f"coinglass liquidation bars missing for {', '.join(missing)}; 7d totals unavailable")
    full = not missing
    return Liquidations(
        long_usd_24h=None if last is None else round(last.long_usd, 2),
        short_usd_24h=None if last is None else round(last.short_usd, 2),
        long_usd_7d=round(sum(by_day[d].long_usd for d in days), 2) if full else None,
        short_usd_7d=round(sum(by_day[d].short_usd for d in days), 2) if full else None,
        coverage=f"all major venues (CoinGlass aggregated history, daily UTC bars: {coinglass_derivatives.EXCHANGES})",
        source="coinglass",
        window_end=day_end,
    )


async def _okx_liquidations(deps: Deps, prov: Provenance, asset: str, at: datetime) -> Liquidations:
    coverage = f"OKX {okx.swap_id(asset)} only (keyless); set WINDVANE_COINGLASS_API_KEY for all venues"
    week_start = at - timedelta(days=7)
    orders: list[tuple[datetime, bool, float, float]] = []
    cursor = at + timedelta(milliseconds=1)
    # ctVal is needed only to price the orders: fetch it alongside the first page (one round trip saved). The later
    # pages follow a cursor (the oldest order seen), so they stay sequential.
    instrument, first_page = await gather(
        lambda: okx.fetch_swap_instrument(deps.http, asset),
        lambda: okx.fetch_liquidation_page(deps.http, asset, cursor),
    )
    prov.add(instrument)
    exhausted = False
    for i in range(LIQUIDATION_MAX_PAGES):
        page = first_page if i == 0 else await okx.fetch_liquidation_page(deps.http, asset, cursor)
        prov.add(page)
        rows = [r for r in page.value if r[0] <= at]
        if not rows:
            exhausted = True
            break
        orders.extend(rows)
        oldest = min(r[0] for r in rows)
        if oldest <= week_start:
            break
        if oldest >= cursor:
            break  # the endpoint ignored the cursor; stop rather than loop
        cursor = oldest
    else:
        prov.warn(f"okx liquidations: stopped after {LIQUIDATION_MAX_PAGES} pages")
    liqs = okx.liquidations_usd(orders, instrument.value.contract_value)
    reach = min((r.time for r in liqs), default=None)
    out: dict[str, float | None] = {}
    for label, start in (("24h", at - timedelta(hours=24)), ("7d", week_start)):
        if reach is None:
            prov.warn(
                f"okx returned no liquidations at or before as_of (its public history is short); "
                f"the {label} totals are unavailable"
            )
            out[f"long_{label}"] = out[f"short_{label}"] = None
            continue
        if reach > start:
            why = "its history ended" if exhausted else "the page limit was reached"
            since = reach.strftime("%Y-%m-%dT%H:%MZ")
            prov.warn(f"okx liquidations reach back only to {since} ({why}); the {label} totals are unavailable")
            out[f"long_{label}"] = out[f"short_{label}"] = None
            continue
        long_usd, short_usd = liquidation_totals(liqs, start, at)
        out[f"long_{label}"], out[f"short_{label}"] = round(long_usd, 2), round(short_usd, 2)
    return Liquidations(
        long_usd_24h=out["long_24h"],
        short_usd_24h=out["short_24h"],
        long_usd_7d=out["long_7d"],
        short_usd_7d=out["short_7d"],
        coverage=coverage,
        source="okx",
        window_end=at,
    )


async def liquidations(deps: Deps, prov: Provenance, asset: str, at: datetime, cutoff: datetime) -> Liquidations:
    if deps.http.api_key(coinglass_derivatives.SOURCE):
        try:
            return await _coinglass_liquidations(deps, prov, asset, cutoff)
        except UpstreamError as exc:
            prov.failed("coinglass liquidations (falling back to OKX only)", exc)
    try:
        return await _okx_liquidations(deps, prov, asset, at)
    except UpstreamError as exc:
        prov.failed("okx liquidations", exc)
    return _empty_liquidations("none: no liquidation source answered")
