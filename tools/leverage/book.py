"""Order-book depth near price for get_leverage_state: live books now, recorded snapshots for past dates.

`collect` records each venue's depth so `thin_book` can compare today's book with its own recent history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from fetchers.concurrency import gather_all
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from schemas.derivatives import OrderBook
from schemas.leverage import OrderBookState, RoundLevel, VenueDepth
from store.base import Observation, SeriesKey
from tools.deps import Deps
from tools.history.at_or_before import as_of_value
from tools.leverage.calc import (
    DEPTH_BANDS_PCT,
    ROUND_STEP_USD,
    THIN_BOOK_RATIO,
    bid_depth_near,
    depth_within,
    mid_price,
    round_levels_below,
    thin_book_ratio,
)
from tools.numbers import rounded
from tools.provenance import Provenance
from tools.venues import BOOK_VENUES, BookVenue

STORE_SOURCE = "windvane"
HISTORY_DAYS = 30
# A recorded snapshot stands for "the book at as_of" only if it is this close to it.
SNAPSHOT_TOLERANCE = timedelta(hours=2)
BAND_METRIC = {0.5: "book_depth_0_5pct_usd", 1.0: "book_depth_1pct_usd", 2.0: "book_depth_2pct_usd"}
MID_METRIC = "book_mid_usd"
ROUND_METRIC = "book_round_level_bid_depth_usd"


@dataclass(frozen=True)
class LiveBook:
    venue: BookVenue
    book: OrderBook
    fetched: Fetched[OrderBook]


async def _live_books(deps: Deps, prov: Provenance, asset: str) -> list[LiveBook]:
    async def one(venue: BookVenue) -> LiveBook | None:
        try:
            fetched = await venue.fetch(deps.http, asset)
        except UpstreamError as exc:
            prov.failed(f"{venue.name} order book", exc)
            return None
        prov.add(fetched)
        return LiveBook(venue, fetched.value, fetched)

    books = await gather_all(partial(one, venue) for venue in BOOK_VENUES)
    return [book for book in books if book is not None]


def _venue_depth(live: LiveBook, asset: str) -> tuple[VenueDepth, dict[float, float | None]]:
    mid = mid_price(live.book)
    bands: dict[float, tuple[float, float] | None] = {
        pct: (None if mid is None else depth_within(live.book, mid, pct)) for pct in DEPTH_BANDS_PCT
    }

    def total(pct: float) -> float | None:
        band = bands[pct]
        return None if band is None else round(band[0] + band[1], 2)

    one = bands[1.0]
    depth = VenueDepth(
        venue=live.venue.name,
        pair=live.venue.pair(asset),
        mid=rounded(mid, 4),
        depth_0_5pct_usd=total(0.5),
        depth_1pct_usd=total(1.0),
        depth_2pct_usd=total(2.0),
        bid_depth_1pct_usd=None if one is None else round(one[0], 2),
        ask_depth_1pct_usd=None if one is None else round(one[1], 2),
        time=live.book.time or live.fetched.fetched_at,
    )
    return depth, {pct: total(pct) for pct in DEPTH_BANDS_PCT}


def _sum_band(venues: list[VenueDepth], pct: float) -> tuple[float | None, list[str]]:
    values = [(v.venue, _band_of(v, pct)) for v in venues]
    present = [(name, value) for name, value in values if value is not None]
    if not present:
        return None, []
    return round(sum(value for _, value in present), 2), [name for name, _ in present]


def _band_of(v: VenueDepth, pct: float) -> float | None:
    return {0.5: v.depth_0_5pct_usd, 1.0: v.depth_1pct_usd, 2.0: v.depth_2pct_usd}[pct]


def _reference_mid(venues: list[VenueDepth]) -> float | None:
    # Coinbase first: it is USD-quoted and its level-2 book is complete; others are fallbacks.
    for v in venues:
        if v.mid is not None:
            return v.mid
    return None


async def live_order_book(deps: Deps, prov: Provenance, asset: str, now: datetime) -> OrderBookState:
    books = await _live_books(deps, prov, asset)
    venues = [_venue_depth(b, asset)[0] for b in books]
    for v in venues:
        for pct in DEPTH_BANDS_PCT:
            if _band_of(v, pct) is None:
                prov.warn(f"{v.venue} book does not reach ±{pct:g}% of mid; left out of that band's sum")
    mid = _reference_mid(venues)
    levels: list[RoundLevel] = []
    if mid is not None:
        for level in round_levels_below(mid, ROUND_STEP_USD[asset]):
            parts = [(b.venue.name, bid_depth_near(b.book, level)) for b in books]
            covered = [(name, value) for name, value in parts if value is not None]
            for name, value in parts:
                if value is None:
                    prov.warn(f"{name} book does not reach {level:,.0f}; left out of that round level")
            levels.append(
                RoundLevel(
                    price=level,
                    depth_usd=round(sum(v for _, v in covered), 2) if covered else None,
                    venues=[name for name, _ in covered],
                )
            )
    if not books:
        prov.warn("no order book answered: depth and round levels are unavailable")
    return await _state(deps, prov, asset, mid, venues, levels, None, now)


async def recorded_order_book(deps: Deps, prov: Provenance, asset: str, as_of: datetime) -> OrderBookState:
    """The book as `windvane collect` recorded it near `as_of`; nothing is reconstructed that was not recorded."""
    venues: list[VenueDepth] = []
    levels_by_price: dict[float, list[tuple[str, float]]] = {}
    if deps.store is not None:
        for venue in BOOK_VENUES:
            snap = await _recorded_venue(deps, asset, venue, as_of)
            if snap is None:
                continue
            depth, rounds = snap
            venues.append(depth)
            for price, value in rounds.items():
                levels_by_price.setdefault(price, []).append((venue.name, value))
    if not venues:
        prov.warn(
            "order-book depth for a past date exists only if `windvane collect` recorded it within "
            f"{SNAPSHOT_TOLERANCE.total_seconds() / 3600:g}h before as_of; none was recorded"
        )
    mid = _reference_mid(venues)
    levels = [
        RoundLevel(price=price, depth_usd=round(sum(v for _, v in parts), 2), venues=[n for n, _ in parts])
        for price, parts in sorted(levels_by_price.items(), reverse=True)
    ]
    return await _state(deps, prov, asset, mid, venues, levels, as_of, as_of)


async def _recorded_venue(
    deps: Deps, asset: str, venue: BookVenue, as_of: datetime
) -> tuple[VenueDepth, dict[float, float]] | None:
    assert deps.store is not None
    mid_key = SeriesKey(STORE_SOURCE, MID_METRIC, asset, venue.name)
    mid_obs = (await as_of_value(deps.store, mid_key, as_of, max_age=SNAPSHOT_TOLERANCE, known_at=as_of)).observation
    if mid_obs is None:
        return None
    bands: dict[float, float | None] = {}
    for pct, metric in BAND_METRIC.items():
        rows = await deps.store.read(
            SeriesKey(STORE_SOURCE, metric, asset, venue.name), mid_obs.ts, mid_obs.ts, known_at=as_of
        )
        bands[pct] = rows[0].value if rows else None
    rounds: dict[float, float] = {}
    for level in round_levels_below(mid_obs.value, ROUND_STEP_USD[asset]):
        rows = await deps.store.read(
            SeriesKey(STORE_SOURCE, ROUND_METRIC, asset, f"{venue.name}@{level:.0f}"),
            mid_obs.ts,
            mid_obs.ts,
            known_at=as_of,
        )
        if rows:
            rounds[level] = rows[0].value
    depth = VenueDepth(
        venue=venue.name,
        pair=venue.pair(asset),
        mid=mid_obs.value,
        depth_0_5pct_usd=bands[0.5],
        depth_1pct_usd=bands[1.0],
        depth_2pct_usd=bands[2.0],
        bid_depth_1pct_usd=None,
        ask_depth_1pct_usd=None,
        time=mid_obs.ts,
    )
    return depth, rounds


async def _state(
    deps: Deps,
    prov: Provenance,
    asset: str,
    mid: float | None,
    venues: list[VenueDepth],
    levels: list[RoundLevel],
    as_of: datetime | None,
    reference: datetime,
) -> OrderBookState:
    d05, _ = _sum_band(venues, 0.5)
    d1, d1_venues = _sum_band(venues, 1.0)
    d2, _ = _sum_band(venues, 2.0)
    thin, reason, ratio = await _thin_book(deps, asset, venues, as_of, reference)
    return OrderBookState(
        mid_price=mid,
        depth_0_5pct_usd=d05,
        depth_1pct_usd=d1,
        depth_2pct_usd=d2,
        depth_1pct_venues=d1_venues,
        round_levels=levels,
        venues=venues,
        thin_book=thin,
        thin_book_reason=reason,
        depth_1pct_vs_median=rounded(ratio, 4),
    )


async def _thin_book(
    deps: Deps, asset: str, venues: list[VenueDepth], as_of: datetime | None, reference: datetime
) -> tuple[bool | None, str | None, float | None]:
    """Compare ±1% depth with its 30-day median per venue, summed over the venues that have both.

    `reference` is the instant judged: now for a live book, `as_of` for a recorded one."""
    if deps.store is None:
        return None, "no history store is configured", None
    current_sum = 0.0
    median_sum = 0.0
    reasons: list[str] = []
    for v in venues:
        if v.depth_1pct_usd is None:
            continue
        # The snapshot being judged is not part of its own baseline.
        end = (v.time if as_of is not None and v.time is not None else reference) - timedelta(seconds=1)
        rows = await deps.store.read(
            SeriesKey(STORE_SOURCE, BAND_METRIC[1.0], asset, v.venue),
            end - timedelta(days=HISTORY_DAYS),
            end,
            known_at=as_of,
        )
        verdict = thin_book_ratio(v.depth_1pct_usd, [(o.ts, o.value) for o in rows])
        if isinstance(verdict, str):
            reasons.append(f"{v.venue}: {verdict}")
            continue
        current_sum += v.depth_1pct_usd
        median_sum += verdict[1]
    if median_sum <= 0:
        detail = "; ".join(reasons) if reasons else "no venue has a ±1% depth reading"
        return None, f"not enough recorded history (run `windvane collect`): {detail}", None
    ratio = current_sum / median_sum
    return ratio < THIN_BOOK_RATIO, None, ratio


async def collect(deps: Deps) -> int:
    """Record each venue's depth bands, mid and round-level bid depth for BTC and ETH; returns rows written."""
    if deps.store is None:
        return 0
    now = deps.clock()
    rows: list[Observation] = []
    for asset in ROUND_STEP_USD:
        prov = Provenance()
        for live in await _live_books(deps, prov, asset):
            depth, bands = _venue_depth(live, asset)
            if depth.mid is None:
                continue
            ts = now
            name = live.venue.name
            rows.append(Observation(SeriesKey(STORE_SOURCE, MID_METRIC, asset, name), ts, depth.mid, now))
            for pct, value in bands.items():
                if value is not None:
                    rows.append(Observation(SeriesKey(STORE_SOURCE, BAND_METRIC[pct], asset, name), ts, value, now))
            for level in round_levels_below(depth.mid, ROUND_STEP_USD[asset]):
                near = bid_depth_near(live.book, level)
                if near is not None:
                    key = SeriesKey(STORE_SOURCE, ROUND_METRIC, asset, f"{name}@{level:.0f}")
                    rows.append(Observation(key, ts, near, now))
    return await deps.store.upsert(rows)
