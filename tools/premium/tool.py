"""get_coinbase_premium: Coinbase <ASSET>-USD against the global reference <ASSET>USDT.

The reference is Binance; when Binance is blocked or down (HTTP 451 from US addresses), OKX, then Kraken, then
Bitstamp, and the venue used is reported. A USDT-adjusted variant divides out Coinbase's USDT-USD price so a USDT
depeg is not read as a premium. History is per closed bar, aligned on bars both venues published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import Annotated, Literal

from pydantic import Field

from fetchers import coinbase
from fetchers.concurrency import first_answer, gather
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from schemas.common import Streak
from schemas.market import INTERVAL_SECONDS, Candle, Quote
from schemas.premium import CoinbasePremium, PremiumBar, PremiumNow
from tools.args import SUPPORTED_ASSETS, AsOfArg, AssetArg, ChartArg, DetailArg
from tools.deps import Deps
from tools.detail import latest_rows, summary_view
from tools.errors import InputError
from tools.history import candle_store
from tools.history.backfill import CandleSeries, backfill_candles
from tools.numbers import rounded
from tools.point_in_time import PointInTime
from tools.provenance import Provenance
from tools.registry import ToolArgs, ToolSpec
from tools.streaks import sign_streak
from tools.venues import BINANCE, COINBASE, REFERENCE_VENUES, SpotVenue

# Enough daily bars for a long streak and the 30-day average, in one Coinbase page (300 bars).
DAILY_LOOKBACK = 300
MAX_HOURLY_DAYS = 90

DaysArg = Annotated[int, Field(ge=1, le=365, description="Days of history to return (1-365; 1-90 for interval 1h).")]
IntervalArg = Annotated[Literal["1d", "1h"], Field(description="Bar size of `history`: 1d (UTC days) or 1h.")]

DESCRIPTION = """Coinbase premium: how far Coinbase's <ASSET>-USD price sits above (+) or below (-) the global
reference <ASSET>USDT (Binance; OKX, Kraken or Bitstamp when Binance is unreachable). premium_pct =
100*(coinbase/reference - 1). A premium negative for many consecutive days is read as US (institutional) selling;
turning positive as US demand returning. Returns the current premium (also USDT-depeg adjusted), closed-bar
history, the current sign streak in days and 7/30-day averages."""

METHODOLOGY = """## Coinbase premium (`get_coinbase_premium`)
- `premium_pct = 100 * (coinbase_<ASSET>-USD / reference_<ASSET>USDT - 1)`; `premium_usd = coinbase - reference`
  (the reference is quoted in USDT, as CryptoQuant and CoinGlass do).
- `premium_usdt_adjusted_pct = 100 * (coinbase / (reference * usdt_usd) - 1)` with `usdt_usd` from Coinbase USDT-USD,
  so a USDT depeg is not mistaken for a premium.
- Reference venue: Binance spot; on failure (HTTP 451 from US addresses, 5xx, bad payload) OKX, then Kraken, then
  Bitstamp, all <ASSET>USDT. The venue used is reported in `current.reference_venue`.
- History: closed bars only, aligned on the bar open time; a bar missing on either venue is skipped, never filled.
  Coinbase serves at most 300 candles per call, newest first, so longer ranges are paged.
- Streak: consecutive daily bars with the same sign of `premium_pct`, ending at the last closed day at or before
  `as_of`; `complete=false` when the run reaches the start of the fetched history (300 days).
- Averages: arithmetic mean of the last 7 and 30 daily `premium_pct` values.
- Closed bars are read from the local history store first and only missing bars are fetched; fetched closed bars are
  stored (`windvane backfill` fills them ahead). Only bars closed by `as_of` are read, whenever they were stored.
"""


def _aligned(
    cb: Sequence[Candle], ref: Sequence[Candle], usdt: Sequence[Candle] | None
) -> tuple[list[PremiumBar], int]:
    ref_by_time = {c.open_time: c for c in ref if c.closed}
    usdt_by_time = {c.open_time: c for c in usdt or () if c.closed}
    bars = []
    cb_closed = [c for c in cb if c.closed]
    for c in cb_closed:
        r = ref_by_time.get(c.open_time)
        if r is None or r.close <= 0:
            continue
        u = usdt_by_time.get(c.open_time)
        adjusted = 100 * (c.close / (r.close * u.close) - 1) if u is not None and u.close > 0 else None
        bars.append(
            PremiumBar(
                ts=c.open_time,
                premium_pct=round(100 * (c.close / r.close - 1), 6),
                premium_usd=round(c.close - r.close, 6),
                coinbase_close=c.close,
                reference_close=r.close,
                premium_usdt_adjusted_pct=rounded(adjusted),
            )
        )
    skipped = len(set(c.open_time for c in cb_closed) ^ set(ref_by_time))
    return bars, skipped


async def _reference_candles(
    deps: Deps,
    prov: Provenance,
    asset: str,
    interval: str,
    start: datetime,
    end: datetime,
    closed_by: datetime,
    venues: Sequence[SpotVenue],
) -> tuple[SpotVenue | None, list[Candle]]:
    async def candles(venue: SpotVenue) -> list[Candle] | None:
        try:
            rows, fetches = await candle_store.fetch_candles(
                deps.store, venue, deps.http, asset, interval, start, end, closed_by=closed_by
            )
        except UpstreamError as exc:
            prov.failed(f"reference candles from {venue.name}", exc)
            return None
        prov.add(fetches)
        if not rows:
            prov.warn(f"{venue.name} returned no {interval} candles for the window; trying the next venue")
            return None
        return rows

    found = await first_answer(venues, candles)
    return found if found is not None else (None, [])


async def _reference_quote(
    deps: Deps, prov: Provenance, asset: str, venues: Sequence[SpotVenue]
) -> tuple[SpotVenue | None, Fetched[Quote] | None]:
    async def quote(venue: SpotVenue) -> Fetched[Quote] | None:
        return await prov.attempt(f"reference ticker from {venue.name}", lambda: venue.fetch_ticker(deps.http, asset))

    found = await first_answer(venues, quote)
    return found if found is not None else (None, None)


def _window(cutoff: datetime, interval: str, bars: int) -> tuple[datetime, datetime]:
    """Open times of the last `bars` closed bars before `cutoff`."""
    step = INTERVAL_SECONDS[interval]
    last_open = datetime.fromtimestamp((int(cutoff.timestamp()) // step) * step, UTC) - timedelta(seconds=step)
    return last_open - timedelta(seconds=step * (bars - 1)), last_open


async def compute_premium(deps: Deps, asset: str, days: int, interval: str, pit: PointInTime) -> CoinbasePremium:
    if interval == "1h" and days > MAX_HOURLY_DAYS:
        raise InputError(f"days={days} is too long for interval '1h'; use 1-{MAX_HOURLY_DAYS}, or interval '1d'")
    is_live, cutoff = pit.is_live, pit.bar_cutoff
    prov = Provenance()
    product = f"{asset}-USD"

    d_start, d_end = _window(cutoff, "1d", max(days, DAILY_LOOKBACK))

    async def live() -> PremiumNow | None:
        # "Now" tickers do not depend on the candles: fetching them alongside keeps a cold call to one round trip.
        return await _live_quotes(deps, prov, asset, None) if is_live else None

    cb_daily, usdt_daily, (venue, ref_rows), prefetched = await gather(
        lambda: prov.attempt(
            "Coinbase daily candles",
            lambda: candle_store.fetch_candles(
                deps.store, COINBASE, deps.http, product, "1d", d_start, d_end, closed_by=cutoff
            ),
        ),
        lambda: prov.attempt(
            "Coinbase USDT-USD candles",
            lambda: candle_store.fetch_candles(
                deps.store, COINBASE, deps.http, "USDT-USD", "1d", d_start, d_end, closed_by=cutoff
            ),
        ),
        lambda: _reference_candles(deps, prov, asset, "1d", d_start, d_end, cutoff, REFERENCE_VENUES),
        live,
    )
    cb_rows = _rows(prov, cb_daily)
    usdt_rows = _rows(prov, usdt_daily)
    if cb_daily is not None and not cb_rows:
        prov.warn(f"coinbase returned no {product} daily candles for the window")
    if usdt_daily is not None and not usdt_rows:
        prov.warn("Coinbase USDT-USD has no candles for this window; the USDT-adjusted premium is unavailable")
    daily, skipped = _aligned(cb_rows, ref_rows, usdt_rows or None)
    if skipped:
        prov.warn(f"{skipped} daily bar(s) present on only one venue were skipped")
    if venue is not None and venue is not BINANCE:
        prov.warn(f"reference venue is {venue.name} (Binance unavailable)")

    history = daily[-days:]
    if interval == "1h" and venue is not None:
        history = await _hourly_history(deps, prov, asset, days, cutoff, venue)

    current = await _current(deps, prov, asset, is_live, venue, history or daily, prefetched)
    streak = _streak(daily)
    if not daily:
        prov.warn("no daily bars on both venues: premium history, streak and averages are unavailable")
    return CoinbasePremium(
        as_of=pit.at,
        asset=asset,
        interval=interval,
        current=current,
        history=history,
        streak=streak,
        avg_7d_pct=_avg(prov, daily, 7),
        avg_30d_pct=_avg(prov, daily, 30),
        sources=prov.sources,
        warnings=prov.warnings,
    )


def _rows(prov: Provenance, got: tuple[list[Candle], list[Fetched[list[Candle]]]] | None) -> list[Candle]:
    if got is None:
        return []
    rows, fetches = got
    prov.add(fetches)
    return rows


async def _hourly_history(
    deps: Deps, prov: Provenance, asset: str, days: int, cutoff: datetime, venue: SpotVenue
) -> list[PremiumBar]:
    h_start, h_end = _window(cutoff, "1h", days * 24)
    cb, usdt, (_, ref_rows) = await gather(
        lambda: prov.attempt(
            "Coinbase hourly candles",
            lambda: candle_store.fetch_candles(
                deps.store, COINBASE, deps.http, f"{asset}-USD", "1h", h_start, h_end, closed_by=cutoff
            ),
        ),
        lambda: prov.attempt(
            "Coinbase USDT-USD hourly candles",
            lambda: candle_store.fetch_candles(
                deps.store, COINBASE, deps.http, "USDT-USD", "1h", h_start, h_end, closed_by=cutoff
            ),
        ),
        lambda: _reference_candles(deps, prov, asset, "1h", h_start, h_end, cutoff, (venue,)),
    )
    bars, skipped = _aligned(_rows(prov, cb), ref_rows, _rows(prov, usdt) or None)
    if skipped:
        prov.warn(f"{skipped} hourly bar(s) present on only one venue were skipped")
    return bars


async def _current(
    deps: Deps,
    prov: Provenance,
    asset: str,
    is_live: bool,
    venue: SpotVenue | None,
    bars: Sequence[PremiumBar],
    prefetched: PremiumNow | None = None,
) -> PremiumNow:
    if is_live:
        # The prefetched quotes stand only if they used the same reference venue as the history.
        same_venue = prefetched is not None and (venue is None or prefetched.reference_venue == venue.name)
        live = prefetched if same_venue else await _live_quotes(deps, prov, asset, venue)
        if live is not None:
            return live
        prov.warn("live tickers unavailable; current is the last closed bar")
    venue_name = None if venue is None else venue.name
    if not bars:
        return PremiumNow(
            premium_pct=None,
            premium_usd=None,
            coinbase_price=None,
            reference_price=None,
            reference_venue=venue_name,
            usdt_usd=None,
            premium_usdt_adjusted_pct=None,
            ts=None,
        )
    last = bars[-1]
    usdt_usd = None
    if last.premium_usdt_adjusted_pct is not None:
        usdt_usd = rounded(last.coinbase_close / (last.reference_close * (1 + last.premium_usdt_adjusted_pct / 100)))
    return PremiumNow(
        premium_pct=last.premium_pct,
        premium_usd=last.premium_usd,
        coinbase_price=last.coinbase_close,
        reference_price=last.reference_close,
        reference_venue=venue_name,
        usdt_usd=usdt_usd,
        premium_usdt_adjusted_pct=last.premium_usdt_adjusted_pct,
        ts=last.ts,
    )


async def _live_quotes(deps: Deps, prov: Provenance, asset: str, venue: SpotVenue | None) -> PremiumNow | None:
    order = REFERENCE_VENUES if venue is None else (venue, *(v for v in REFERENCE_VENUES if v is not venue))
    cb_q, usdt_q, (ref_venue, ref_q) = await gather(
        lambda: prov.attempt("Coinbase ticker", lambda: coinbase.fetch_ticker(deps.http, f"{asset}-USD")),
        lambda: prov.attempt("Coinbase USDT-USD ticker", lambda: coinbase.fetch_ticker(deps.http, "USDT-USD")),
        lambda: _reference_quote(deps, prov, asset, order),
    )
    if cb_q is None or ref_venue is None or ref_q is None or ref_q.value.price <= 0:
        return None
    prov.add([q for q in (cb_q, usdt_q, ref_q) if q is not None])
    cb_price, ref_price = cb_q.value.price, ref_q.value.price
    usdt_usd = usdt_q.value.price if usdt_q is not None and usdt_q.value.price > 0 else None
    adjusted = None if usdt_usd is None else 100 * (cb_price / (ref_price * usdt_usd) - 1)
    return PremiumNow(
        premium_pct=round(100 * (cb_price / ref_price - 1), 6),
        premium_usd=round(cb_price - ref_price, 6),
        coinbase_price=cb_price,
        reference_price=ref_price,
        reference_venue=ref_venue.name,
        usdt_usd=usdt_usd,
        premium_usdt_adjusted_pct=rounded(adjusted),
        ts=cb_q.value.time or cb_q.fetched_at,
    )


def _streak(daily: Sequence[PremiumBar]) -> Streak:
    return sign_streak([(bar.ts, bar.premium_pct) for bar in daily], date_only=True)


def _avg(prov: Provenance, daily: Sequence[PremiumBar], n: int) -> float | None:
    if not daily:
        return None
    window = daily[-n:]
    if len(window) < n:
        prov.warn(f"only {len(window)} daily bars for the {n}-day average")
    return round(fmean(bar.premium_pct for bar in window), 6)


def history_series(asset: str) -> list[CandleSeries]:
    """The candle series this tool reads: Coinbase <ASSET>-USD and USDT-USD, and the <ASSET>USDT reference chain."""
    return [
        CandleSeries((COINBASE,), f"{asset}-USD"),
        CandleSeries((COINBASE,), "USDT-USD"),
        CandleSeries(REFERENCE_VENUES, asset),
    ]


async def backfill(deps: Deps, since: date, until: date) -> int:
    """Fill the store with the closed daily candles behind the premium, for every supported asset."""
    series = [s for asset in SUPPORTED_ASSETS for s in history_series(asset)]
    # USDT-USD is shared by both assets: fill it once
    unique = list({(s.venues, s.instrument): s for s in series}.values())
    return await backfill_candles(deps, unique, since, until)


class PremiumArgs(ToolArgs):
    asset: AssetArg = "BTC"
    days: DaysArg = 30
    interval: IntervalArg = "1d"
    detail: DetailArg = "summary"
    as_of: AsOfArg = None
    chart: ChartArg = False


def summarize(out: CoinbasePremium) -> CoinbasePremium:
    history, cut = latest_rows(out.history)
    return summary_view(out, {"history": history}, {"history": cut})


async def run(deps: Deps, args: PremiumArgs, pit: PointInTime) -> CoinbasePremium:
    return await compute_premium(deps, args.asset, args.days, args.interval, pit)


SPEC = ToolSpec(
    name="get_coinbase_premium",
    title="Coinbase premium",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=PremiumArgs,
    output=CoinbasePremium,
    run=run,
    backfill=backfill,
    summarize=summarize,
)
