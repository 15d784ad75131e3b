"""get_leverage_state: liquidations, open interest, funding normalised per interval, and book depth near round levels.

Each section degrades on its own: a venue that fails is left out (never summed as 0) and named in `warnings`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import Any

import anyio
from mcp.server.mcpserver import Context

from fetchers import binance_futures, bybit, coinglass_derivatives, okx
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from schemas.derivatives import FundingPoint, OpenInterestPoint
from schemas.leverage import (
    AggregatedOpenInterest,
    FundingRow,
    LeverageState,
    Liquidations,
    OpenInterest,
    OrderBookState,
    VenueOpenInterest,
)
from tools.common import AsOfArg, AssetArg, Deps, InputError, Provenance, deps_from, parse_as_of, rounded, tool_error
from tools.leverage_book import collect as collect_books
from tools.leverage_book import live_order_book, recorded_order_book
from tools.leverage_history import LOOKBACK, collect_open_interest, fetch_venue_history, stored_points
from tools.leverage_history import backfill as backfill_history
from tools.leverage_math import at_or_before, funding_interval_hours, liquidation_totals, normalise_funding, pct_change

TOOL_NAME = "get_leverage_state"
TITLE = "Leverage state"
DESCRIPTION = """Leverage in the perpetual-futures market and how fragile spot books are. liquidations: long/short USD
force-closed over 24h and 7d (all venues via CoinGlass when keyed, else OKX only; see coverage). open_interest: USD
summed over Binance, OKX, Bybit with 24h/7d change (venues lists who answered; partial=true if one is missing).
funding: one row per venue, the latest rate normalised to 8h and annualised (interval_hours detected); high positive
= crowded longs, negative = shorts pay. order_book: USD depth within ±0.5/1/2% of mid on Coinbase, Kraken, OKX, bid
depth near the two round levels below price, thin_book vs its 30-day median."""

METHODOLOGY = """## Leverage state (`get_leverage_state`)
- **Funding**: per venue (Binance USD-M, OKX, Bybit linear perpetual), the latest settled rate at or before `as_of`.
  The interval is the gap between the two latest settlement times rounded to whole hours (venues stamp a few ms
  late, and switch between 8h and 1-4h). `rate_8h_pct = 100 * rate * 8 / interval_hours`,
  `annualized_pct = 100 * rate * 24 / interval_hours * 365`. `funding_avg_8h_pct` is the plain mean over venues.
- **Open interest**: hourly history per venue over the last 7 days (Binance `openInterestHist` value, OKX rubik
  `oiUsd`, Bybit linear OI in BTC x the Bybit hourly kline open at the same hour); now-mode current values come
  from the snapshot endpoints (Binance OI x mark price, OKX `oiUsd`). `change_Xh_pct = 100 * (sum now / sum then - 1)`
  over venues with both readings (a reading more than 2h from its target is a gap). A venue that did not answer is
  left out of the sum and named in warnings (`partial=true`). Binance keeps 30 days of OI history, OKX 60 days.
- **Liquidations**: with `WINDVANE_COINGLASS_API_KEY`, CoinGlass aggregated history (daily UTC bars, all major
  venues): 24h = the last complete UTC day at or before `as_of`, 7d = the last 7 complete days; a missing day makes
  the total null, never 0. Keyless: OKX `public/liquidation-orders` for the USDT-margined swap only,
  `usd = contracts * ctVal * bankruptcy price` (`side=sell` = a long liquidated), rolling windows ending at `as_of`;
  a window the endpoint's lookback does not reach is null. Streams (Binance forceOrder pushes at most one order per
  second, so it undercounts) are not used.
- **Order book**: per venue (Coinbase BTC-USD level 2, Kraken XBTUSD top 500, OKX BTC-USDT top 400) the USD of bids
  and asks within ±0.5/1/2% of mid; a band a truncated book does not reach is null for that venue and the sum covers
  the venues listed. Round levels: the two multiples of 5,000 (BTC; 250 for ETH) strictly below the reference mid
  (Coinbase first), with bid USD within ±0.5% of each. `thin_book` = ±1% depth < 0.5 x its 30-day median of
  snapshots recorded by `windvane collect` (needs >= 24 snapshots over >= 3 days; null with a reason before that).
  Past dates use only recorded snapshots (within 2h before `as_of`). USDT books are counted as USD.
"""

OI_TOLERANCE = timedelta(hours=2)
OI_VENUES = ("binance_futures", "okx", "bybit")
LIQUIDATION_MAX_PAGES = 60
FUNDING_LOOKBACK = timedelta(days=3)


async def _guard(prov: Provenance, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await call()
    except UpstreamError as exc:
        prov.failed(what, exc)
        return None


# -- funding -------------------------------------------------------------------------------------------------


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
        fetched = await _guard(prov, f"{venue} funding", calls[venue])
        if fetched is None:
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


# -- open interest -------------------------------------------------------------------------------------------


async def _venue_oi(
    deps: Deps, prov: Provenance, venue: str, asset: str, at: datetime, live: bool
) -> tuple[list[OpenInterestPoint], OpenInterestPoint | None] | None:
    """(hourly USD history over the last 7 days + margin, live snapshot) or None when the venue has nothing."""
    start = at - timedelta(days=7) - OI_TOLERANCE
    reach = LOOKBACK[venue]
    points: list[OpenInterestPoint] = []
    failed = False
    if deps.clock() - start <= reach:
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
        elif not failed and deps.clock() - start > reach:
            prov.warn(
                f"{venue} serves open interest history for the latest {reach.days} days only and the store has "
                "none for this date; left out"
            )
            return None
        elif failed:
            return None
    snapshot = await _live_snapshot(deps, prov, venue, asset) if live and not failed else None
    return points, snapshot


async def _live_snapshot(deps: Deps, prov: Provenance, venue: str, asset: str) -> OpenInterestPoint | None:
    """The venue's current OI, fresher than the last hourly row; None falls back to that row."""
    try:
        if venue == "binance_futures":
            oi = await binance_futures.fetch_open_interest(deps.http, asset)
            mark = await binance_futures.fetch_premium_index(deps.http, asset)
            prov.add([oi, mark])
            base = oi.value.base
            return None if base is None else OpenInterestPoint(oi.value.time, base * mark.value.mark_price, base)
        if venue == "okx":
            got = await okx.fetch_open_interest(deps.http, asset)
            prov.add(got)
            return got.value
    except UpstreamError as exc:
        prov.failed(f"{venue} current open interest (using the latest hourly reading)", exc)
    return None


def _last_complete_day_end(cutoff: datetime) -> datetime:
    """Midnight UTC ending the last day that closed at or before cutoff."""
    return datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)


async def _coinglass_open_interest(
    deps: Deps, prov: Provenance, asset: str, cutoff: datetime
) -> AggregatedOpenInterest | None:
    if not deps.http.api_key(coinglass_derivatives.SOURCE):
        return None
    day_end = _last_complete_day_end(cutoff)
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


async def open_interest(
    deps: Deps, prov: Provenance, asset: str, at: datetime, live: bool, cutoff: datetime | None = None
) -> OpenInterest:
    results: dict[str, tuple[list[OpenInterestPoint], OpenInterestPoint | None] | None] = {}

    async def one(venue: str) -> None:
        results[venue] = await _venue_oi(deps, prov, venue, asset, at, live)

    aggregated: list[AggregatedOpenInterest | None] = [None]

    async def all_venues() -> None:
        aggregated[0] = await _coinglass_open_interest(deps, prov, asset, cutoff or at)

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


# -- liquidations --------------------------------------------------------------------------------------------


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
    day_end = _last_complete_day_end(cutoff)
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
        coverage="all major venues (CoinGlass aggregated history, daily UTC bars)",
        source="coinglass",
        window_end=day_end,
    )


async def _okx_liquidations(deps: Deps, prov: Provenance, asset: str, at: datetime) -> Liquidations:
    coverage = f"OKX {okx.swap_id(asset)} only (keyless); set WINDVANE_COINGLASS_API_KEY for all venues"
    instrument = await okx.fetch_swap_instrument(deps.http, asset)
    prov.add(instrument)
    week_start = at - timedelta(days=7)
    orders: list[tuple[datetime, bool, float, float]] = []
    cursor = at + timedelta(milliseconds=1)
    exhausted = False
    for _ in range(LIQUIDATION_MAX_PAGES):
        page = await okx.fetch_liquidation_page(deps.http, asset, cursor)
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
        if reach is None or reach > start:
            since = "nothing" if reach is None else reach.strftime("%Y-%m-%dT%H:%MZ")
            why = "its history ended" if exhausted else "the page limit was reached"
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


# -- the tool ------------------------------------------------------------------------------------------------


async def compute_leverage(deps: Deps, asset: str, as_of: str | None) -> LeverageState:
    if asset not in ("BTC", "ETH"):
        raise InputError(f"asset {asset!r} is not supported; use 'BTC' or 'ETH'")
    now = deps.clock()
    parsed = parse_as_of(as_of, now)
    at = parsed or now
    # parse_as_of caps "today" at now: such an as_of is answered live, like no as_of at all.
    live = parsed is None or parsed >= now
    cutoff = now if live else at + timedelta(microseconds=1)
    prov = Provenance()
    results: dict[str, Any] = {}

    async def run(name: str, call: Callable[[], Awaitable[Any]]) -> None:
        results[name] = await call()

    async with anyio.create_task_group() as tg:
        tg.start_soon(run, "liq", lambda: liquidations(deps, prov, asset, at, cutoff))
        tg.start_soon(run, "oi", lambda: open_interest(deps, prov, asset, at, live, cutoff))
        tg.start_soon(run, "funding", lambda: funding(deps, prov, asset, at))
        tg.start_soon(
            run,
            "book",
            lambda: live_order_book(deps, prov, asset) if live else recorded_order_book(deps, prov, asset, at),
        )
    rows: list[FundingRow] = results["funding"]
    if not rows:
        prov.warn("no venue answered for funding: the funding table is empty")
    book: OrderBookState = results["book"]
    return LeverageState(
        as_of=at,
        asset=asset,
        liquidations=results["liq"],
        open_interest=results["oi"],
        funding=rows,
        funding_avg_8h_pct=rounded(fmean(r.rate_8h_pct for r in rows), 8) if rows else None,
        order_book=book,
        sources=prov.sources,
        warnings=prov.warnings,
    )


async def collect(deps: Deps) -> int:
    """Record order-book depth (it exists only "now") and the last day of hourly OI per venue."""
    return await collect_books(deps) + await collect_open_interest(deps)


async def backfill(deps: Deps, since: date, until: date) -> int:
    """Fill hourly OI per venue (as far back as each endpoint reaches) and, when keyed, CoinGlass daily history."""
    return await backfill_history(deps, since, until)


async def get_leverage_state(ctx: Context[Any, Any], asset: AssetArg = "BTC", as_of: AsOfArg = None) -> LeverageState:
    try:
        return await compute_leverage(deps_from(ctx), asset, as_of)
    except InputError as exc:
        raise tool_error(exc) from None
