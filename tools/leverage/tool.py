"""get_leverage_state: liquidations, open interest, funding normalised per interval, and book depth near round levels.

Each section degrades on its own: a venue that fails is left out (never summed as 0) and named in `warnings`.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import partial
from statistics import fmean

from fetchers.concurrency import gather, gather_all
from fetchers.errors import UpstreamError
from schemas.leverage import LeverageState
from tools.args import AsOfArg, AssetArg, DetailArg
from tools.deps import Deps
from tools.errors import InputError
from tools.leverage.book import collect as collect_books
from tools.leverage.book import live_order_book, recorded_order_book
from tools.leverage.funding import funding
from tools.leverage.liquidations import liquidations
from tools.leverage.oi_history import backfill as backfill_history
from tools.leverage.oi_history import collect_open_interest
from tools.leverage.okx_liquidations import record as record_okx_liquidations
from tools.leverage.open_interest import open_interest
from tools.leverage.streams import collect_streams, coverage_note, stream_liquidations
from tools.numbers import rounded
from tools.point_in_time import PointInTime
from tools.provenance import Provenance
from tools.registry import ToolArgs, ToolSpec

log = logging.getLogger("windvane.leverage")

DESCRIPTION = """Leverage in the perpetual-futures market and how fragile spot books are. liquidations: long/short USD
force-closed over 24h and 7d (all venues via CoinGlass when keyed, else OKX only; see coverage; `streams`:
Binance/Bybit sums over the minutes windvane collect recorded, never summed in). open_interest: USD
summed over Binance, OKX, Bybit with 24h/7d change (venues lists who answered; partial=true if one is missing).
funding: per venue, the latest rate per 8h and annualised; high positive = crowded longs, negative = shorts pay.
order_book: USD depth within ±0.5/1/2% of mid (Coinbase, Kraken, OKX, Binance), bid depth near the two round
levels below price, thin_book vs its 30-day median."""

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
  a window the endpoint's lookback does not reach is null.
- **Liquidation streams** (`liquidations.streams`): `windvane collect` listens to Binance USD-M `<symbol>@forceOrder`
  and Bybit `allLiquidation.<symbol>` for `WINDVANE_LIQUIDATION_STREAM_SECONDS` (default 120, extended to 2 s past a
  minute boundary) each round, and stores long/short USD per UTC minute (Binance `q x ap`, `S=SELL` = long
  liquidated; Bybit `v x p` at the bankruptcy price, `S=Buy` = long liquidated) only for minutes the connection was
  up throughout and 2 s after (late deliveries): a quiet covered minute is a real 0, a partly missed one is not
  stored. The tool sums the stored minutes in rolling 24h/7d windows ending at `as_of` and states `minutes_24h` of
  1,440 and `minutes_7d` of 10,080: partial unless equal. Binance pushes at most one liquidation per symbol per
  second, so even a covered minute undercounts. Stream sums are reported beside the CoinGlass/OKX figures, never
  added into them.
- **Order book**: per venue (Coinbase BTC-USD level 2, Kraken XBTUSD top 500, OKX BTC-USDT top 400, Binance
  BTCUSDT top 5,000) the USD of bids
  and asks within ±0.5/1/2% of mid; a band a truncated book does not reach is null for that venue and the sum covers
  the venues listed. Round levels: the two multiples of 5,000 (BTC; 250 for ETH) strictly below the reference mid
  (Coinbase first), with bid USD within ±0.5% of each. `thin_book` = ±1% depth < 0.5 x its 30-day median of
  snapshots recorded by `windvane collect` (needs >= 24 snapshots over >= 3 days; null with a reason before that).
  Past dates use only recorded snapshots (within 2h before `as_of`). USDT books are counted as USD.
"""


async def compute_leverage(deps: Deps, asset: str, pit: PointInTime) -> LeverageState:
    if asset not in ("BTC", "ETH"):
        raise InputError(f"asset {asset!r} is not supported; use 'BTC' or 'ETH'")
    at, live = pit.at, pit.is_live
    cutoff = pit.bar_cutoff
    prov = Provenance()
    liq, oi, rows, streams, book = await gather(
        lambda: liquidations(deps, prov, asset, at, cutoff),
        lambda: open_interest(deps, prov, asset, pit, cutoff),
        lambda: funding(deps, prov, asset, at),
        lambda: stream_liquidations(deps, prov, asset, at, cutoff),
        lambda: live_order_book(deps, prov, asset, pit.now) if live else recorded_order_book(deps, prov, asset, at),
    )
    if not rows:
        prov.warn("no venue answered for funding: the funding table is empty")
    if streams:
        liq = liq.model_copy(update={"streams": streams, "coverage": liq.coverage + coverage_note(streams)})
    return LeverageState(
        as_of=at,
        asset=asset,
        liquidations=liq,
        open_interest=oi,
        funding=rows,
        funding_avg_8h_pct=rounded(fmean(r.rate_8h_pct for r in rows), 8) if rows else None,
        order_book=book,
        sources=prov.sources,
        warnings=prov.warnings,
    )


async def collect(deps: Deps) -> int:
    """Record order-book depth (it exists only "now"), the last day of hourly OI per venue and, while those run,
    a window of the Binance/Bybit liquidation streams (`liquidation_stream_s` seconds; 0 or unset: none)."""

    async def snapshots() -> int:
        return await collect_books(deps) + await collect_open_interest(deps)

    streams, books_and_oi, liquidation_orders = await gather(
        lambda: collect_streams(deps, deps.config.liquidation_stream_s),
        snapshots,
        lambda: refresh(deps),
    )
    return streams + books_and_oi + liquidation_orders


async def refresh(deps: Deps) -> int:
    """Page OKX's liquidations back to where the store's record ends, for each asset; returns rows written."""
    now = deps.clock()

    async def one(asset: str) -> int:
        try:
            return await record_okx_liquidations(deps.store, deps.http, asset, now)
        except UpstreamError as exc:  # one asset's venue failing must not cost the other's record
            log.warning("okx %s liquidations not recorded: %s (%s)", asset, exc.kind, exc.message)
            return 0

    return sum(await gather_all(partial(one, asset) for asset in ("BTC", "ETH")))


async def backfill(deps: Deps, since: date, until: date) -> int:
    """Fill hourly OI per venue (as far back as each endpoint reaches) and, when keyed, CoinGlass daily history."""
    return await backfill_history(deps, since, until)


class LeverageArgs(ToolArgs):
    asset: AssetArg = "BTC"
    detail: DetailArg = "summary"
    as_of: AsOfArg = None


async def run(deps: Deps, args: LeverageArgs, pit: PointInTime) -> LeverageState:
    return await compute_leverage(deps, args.asset, pit)


SPEC = ToolSpec(
    name="get_leverage_state",
    title="Leverage state",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=LeverageArgs,
    output=LeverageState,
    run=run,
    collect=collect,
    backfill=backfill,
    refresh=refresh,
)
