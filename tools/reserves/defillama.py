"""Keyless per-exchange reserves: DefiLlama's CEX pages, kept as daily history in the store.

One request per exchange gives its whole history (fetchers/defillama). The parsed series is written to the store
(SeriesKey("defillama", "reserve_btc", "BTC", <exchange>), ts = DefiLlama's reading time, fetched_at = when
fetched) with its span recorded as covered, so a past date is answered from the store and a repeat call does not
refetch a page within its TTL. Past rows never change (DefiLlama keeps a day's first reading); the latest hourly
reading is a row of its own.

Reading the series: DefiLlama's row dated D+1 00:00 UTC is its first reading of D+1, taken within that day's first
hour, and stands for the reserve at the end of D. "Now" is its latest reading.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from fetchers import defillama
from fetchers.concurrency import gather_all
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from store.base import CoverageStore, Observation, SeriesKey, StoreError
from tools.deps import Deps
from tools.provenance import Provenance
from tools.reserves.periods import Points

# windvane's exchange name -> DefiLlama slug (defi/src/getCexs.ts). Ten pages keep a cold call within ten requests:
# the ten most active CEX pages in ../shared's DefiLlama net inflows (mean |daily net flow|, 2025-01..2025-11).
EXCHANGES: dict[str, str] = {
    "binance": "binance-cex",
    "okx": "okx",
    "bybit": "bybit",
    "bitfinex": "bitfinex",
    "robinhood": "robinhood",
    "gemini": "gemini",
    "gate": "gate",
    "htx": "htx",
    "crypto_com": "crypto-com",
    "bitget": "bitget",
}
_NOT_REQUESTED = "DefiLlama tracks it; not among the ten pages windvane reads (a call stays within ten requests)"
NOT_COVERED: dict[str, str] = {
    "coinbase": "not on DefiLlama (its CEX list has no Coinbase page); covered only with a CoinGlass key",
    "kraken": "DefiLlama's CEX list has Kraken commented out; its labelled wallets are read by `windvane collect`",
    **{name: _NOT_REQUESTED for name in ("deribit", "kucoin", "bitstamp", "bitmex", "mexc")},
}
METRIC = "reserve_btc"
# A page holds everything DefiLlama has for the exchange, so a fetch covers all time before its latest reading too:
# there is nothing earlier than its first row to wait for.
ALL_TIME = datetime(2009, 1, 3, tzinfo=UTC)  # the genesis block
TOLERANCE = timedelta(hours=36)  # a missing daily row falls back to the one before, never further
EPSILON = timedelta(milliseconds=1)  # the store keeps milliseconds


def series_key(exchange: str) -> SeriesKey:
    return SeriesKey(defillama.SOURCE, METRIC, "BTC", exchange)


def day_close(day: date) -> datetime:
    """The instant of DefiLlama's row that stands for the end of `day`: 00:00 UTC of the next day."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


@dataclass(frozen=True)
class Reading:
    at: datetime
    btc: float


@dataclass(frozen=True)
class Series:
    exchange: str
    times: tuple[datetime, ...]
    values: tuple[float, ...]
    fetched: Fetched[None]  # provenance of the fetch (or of the store's rows)

    def at_or_before(self, instant: datetime) -> Reading | None:
        i = bisect_right(self.times, instant)
        if i == 0 or instant - self.times[i - 1] > TOLERANCE:
            return None
        return Reading(self.times[i - 1], self.values[i - 1])


async def _covered(deps: Deps, key: SeriesKey, start: datetime, end: datetime) -> bool:
    store = deps.store
    if not isinstance(store, CoverageStore):
        return False
    try:
        spans = await store.coverage(key, start, end)
    except StoreError:
        return False
    return any(lo <= start and hi >= end for lo, hi in spans)


async def _from_store(
    deps: Deps, exchange: str, instants: Sequence[datetime], live: bool, *, fresh: bool = True
) -> Series | None:
    """The stored series when it answers every instant: past ones within its covered span; "now" only when
    fetched within the page's TTL (any age with `fresh=False`: the stale fallback when DefiLlama fails)."""
    store, key, now = deps.store, series_key(exchange), deps.clock()
    if store is None:
        return None
    ttl = timedelta(seconds=defillama.TTL_S * deps.http.config.ttl_scale)
    try:
        newest = await store.latest(key, now)
        if newest is None or (live and fresh and now - newest.fetched_at >= ttl):
            return None
        end = newest.ts + EPSILON if live else max(instants)
        start = min(instants) - TOLERANCE
        if not await _covered(deps, key, start, end):
            return None
        rows = await store.read(key, start, end)
    except StoreError:
        return None
    if not rows:
        return None
    endpoint = f"{deps.http.base_url(defillama.SOURCE)}/protocol/{EXCHANGES[exchange]}"
    fetched: Fetched[None] = Fetched.stored(None, defillama.SOURCE, endpoint, max(r.fetched_at for r in rows), now=now)
    return Series(exchange, tuple(r.ts for r in rows), tuple(r.value for r in rows), fetched)


async def record(deps: Deps, exchange: str, got: Fetched[defillama.BtcSeries]) -> int:
    """Write the rows the store does not hold yet, and mark the fetched span covered."""
    store, key = deps.store, series_key(exchange)
    holdings = got.value.holdings
    if store is None:
        return 0
    try:
        newest = await store.latest(key, holdings[-1].at)
        since = newest.ts if newest is not None and await _covered(deps, key, ALL_TIME, newest.ts) else None
        now = deps.clock()  # the tool's clock, like every other store write
        rows = [Observation(key, h.at, h.btc, now) for h in holdings if since is None or h.at > since]
        written = await store.upsert(rows)
        if isinstance(store, CoverageStore):
            await store.add_coverage(key, ALL_TIME, holdings[-1].at + EPSILON)
    except StoreError:
        return 0
    return written


async def load(
    deps: Deps, prov: Provenance, exchange: str, instants: Sequence[datetime], *, live: bool
) -> Series | None:
    """The exchange's series from the store when it answers, else from DefiLlama (then stored)."""
    stored = await _from_store(deps, exchange, instants, live)
    if stored is not None:
        prov.add(stored.fetched)
        return stored
    try:
        got = await defillama.fetch_btc_series(deps.http, EXCHANGES[exchange])
    except UpstreamError as exc:
        kept = await _from_store(deps, exchange, instants, live, fresh=False)
        if kept is None:
            prov.failed(f"DefiLlama {exchange} reserve", exc)
            return None
        reason = f"{exc.kind}: {exc.message}; served from the history store"
        prov.add(replace(kept.fetched, stale=True, stale_reason=reason))
        return kept
    if not got.stale:
        await record(deps, exchange, got)
    holdings = got.value.holdings
    fetched: Fetched[None] = Fetched(
        None, got.source, got.endpoint, got.fetched_at, got.stale, got.age_seconds, got.stale_reason
    )
    prov.add(fetched)
    return Series(exchange, tuple(h.at for h in holdings), tuple(h.btc for h in holdings), fetched)


async def load_all(
    deps: Deps, prov: Provenance, instants: Sequence[datetime], *, live: bool
) -> Mapping[str, Series | None]:
    """Every covered exchange, concurrently (one request each at most)."""
    names = list(EXCHANGES)
    got = await gather_all(partial(load, deps, prov, name, instants, live=live) for name in names)
    return dict(zip(names, got, strict=True))


async def refresh(deps: Deps) -> int:
    """`windvane collect` / `backfill`: fetch and store every page the store does not hold fresh."""
    now = deps.clock()
    written = 0
    prov = Provenance()
    for exchange in EXCHANGES:
        if await _from_store(deps, exchange, [now], live=True) is not None:
            continue
        try:
            got = await defillama.fetch_btc_series(deps.http, EXCHANGES[exchange])
        except UpstreamError as exc:
            prov.failed(f"DefiLlama {exchange} reserve", exc)
            continue
        if not got.stale:
            written += await record(deps, exchange, got)
    return written


class Readings:
    """The reserve of each exchange at the instants an answer compares, and why one is missing or approximate."""

    def __init__(self, series: Mapping[str, Series | None], points: Points, now: datetime) -> None:
        self.series, self.points, self.now = series, points, now
        self.earlier: dict[str, list[str]] = {}  # exchange -> days answered by the row before the day's close
        self.missing: dict[str, list[str]] = {}  # exchange -> days with no row within TOLERANCE

    def btc(self, exchange: str, day: date) -> float | None:
        """The reserve at the end of `day`; when the answer is live and `day` is its end, the latest reading."""
        series = self.series.get(exchange)
        if series is None:
            return None
        live_end = self.points.live and day == self.points.end_day
        wanted = self.now if live_end else day_close(day)
        reading = series.at_or_before(wanted)
        label = "now" if live_end else day.isoformat()
        if reading is None:
            _note(self.missing, exchange, label)
            return None
        if not live_end and reading.at != wanted:
            _note(self.earlier, exchange, f"{day.isoformat()} (its row of {reading.at:%Y-%m-%dT%H:%MZ})")
        return reading.btc

    def warnings(self) -> list[str]:
        out = []
        for exchange, days in self.missing.items():
            series = self.series[exchange]
            first = f"; its series starts {series.times[0]:%Y-%m-%d}" if series is not None else ""
            out.append(f"{exchange}: DefiLlama has no reading for the end of {', '.join(days)}{first}")
        for exchange, days in self.earlier.items():
            out.append(f"{exchange}: DefiLlama has no row at the close of {', '.join(days)}; the reading before used")
        return out


def _note(notes: dict[str, list[str]], exchange: str, what: str) -> None:
    days = notes.setdefault(exchange, [])
    if what not in days:
        days.append(what)


def instants(points: Points, now: datetime) -> list[datetime]:
    """Every instant the answer reads: each day's close, and "now" for a live end."""
    out = [day_close(d) for d in points.days() if not (points.live and d == points.end_day)]
    return [*out, now] if points.live else out
