"""Crypto parts of get_macro_backdrop: BTC-Nasdaq correlation and beta, BTC drawdown, total market cap, halving
cycle and Fear & Greed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from fetchers import alternative_me, coinbase, coingecko, mempool
from fetchers.concurrency import first_answer
from fetchers.http import Fetched, Http
from schemas.macro import BtcDrawdown, BtcNasdaq, CryptoMarketCap, FearGreed, Halving
from schemas.macro_rows import DailyClose, MarketCapSnapshot
from store.base import Observation
from tools.macro.calc import (
    HALVING_INTERVAL,
    aligned_log_returns,
    correlation_and_beta,
    drawdown_from_high,
    halving_eta,
    halving_state,
)
from tools.macro.context import FNG_KEY, SNAPSHOT_MAX_AGE, TIP_KEY, Ctx, mcap_key
from tools.numbers import rounded

DRAWDOWN_DAYS = 365
SIX_WEEKS = timedelta(days=42)
SIX_WEEKS_TOLERANCE = timedelta(days=3)
FNG_RECENT_DAYS = 30


async def btc_daily_closes(c: Ctx) -> list[tuple[date, float]] | None:
    cutoff = c.bar_cutoff
    last_open = datetime.combine(cutoff.date(), time(0), tzinfo=UTC) - timedelta(days=1)
    start = last_open - timedelta(days=DRAWDOWN_DAYS + 1)
    got = await c.prov.attempt(
        "Coinbase BTC-USD daily candles",
        lambda: coinbase.fetch_candles(c.deps.http, "BTC-USD", "1d", start, last_open, closed_by=cutoff),
    )
    if got is None:
        return None
    rows, fetches = got
    c.prov.add(fetches)
    closes = [(row.open_time.date(), row.close) for row in rows if row.closed]
    if not closes:
        c.prov.warn("Coinbase returned no closed BTC-USD daily candles for the window")
        return None
    return closes


def btc_nasdaq(c: Ctx, btc: list[tuple[date, float]] | None, nasdaq: list[DailyClose] | None) -> BtcNasdaq:
    if btc is None or nasdaq is None:
        missing = "BTC candles" if btc is None else "Nasdaq closes"
        c.prov.warn(f"BTC-Nasdaq correlation unavailable: no {missing}")
        return BtcNasdaq(correlation_30d=None, correlation_90d=None, beta_90d=None)
    returns = aligned_log_returns(nasdaq, dict(btc))
    corr30, _ = correlation_and_beta(returns, 30)
    corr90, beta90 = correlation_and_beta(returns, 90)
    if corr90 is None:
        c.prov.warn(f"only {len(returns)} aligned BTC/Nasdaq daily returns: the 90-day figures need 90")
    return BtcNasdaq(
        correlation_30d=rounded(corr30),
        correlation_90d=rounded(corr90),
        beta_90d=rounded(beta90),
        through=returns[-1][0].isoformat() if returns else None,
        returns_available=len(returns),
    )


def btc_drawdown(c: Ctx, btc: list[tuple[date, float]] | None) -> tuple[float | None, BtcDrawdown]:
    empty = BtcDrawdown(close_usd=None, close_date=None, high_usd=None, high_date=None)
    if btc is None:
        c.prov.warn("BTC drawdown unavailable: no Coinbase daily candles")
        return None, empty
    dd = drawdown_from_high(btc, DRAWDOWN_DAYS)
    if dd is None:
        return None, empty
    span = (dd.close_day - btc[0][0]).days + 1
    if span < DRAWDOWN_DAYS:
        c.prov.warn(f"BTC drawdown high is taken over {span} days of candles, not {DRAWDOWN_DAYS}")
    detail = BtcDrawdown(
        close_usd=dd.close, close_date=dd.close_day.isoformat(), high_usd=dd.high, high_date=dd.high_day.isoformat()
    )
    return round(dd.pct, 4), detail


# -- crypto market cap ----------------------------------------------------------------------------------------------


FetchMarketCap = Callable[[Http], Awaitable[Fetched[MarketCapSnapshot]]]


async def _fetch_market_cap(c: Ctx) -> Fetched[MarketCapSnapshot] | None:
    hosts: tuple[tuple[str, FetchMarketCap], ...] = (
        (coingecko.SOURCE, coingecko.fetch_global),
        (coingecko.PAPRIKA_SOURCE, coingecko.fetch_paprika_global),
    )

    async def snapshot(host: tuple[str, FetchMarketCap]) -> Fetched[MarketCapSnapshot] | None:
        source, fetch = host
        fetched = await c.prov.attempt(f"crypto market cap from {source}", partial(fetch, c.deps.http))
        if fetched is not None:
            c.prov.add(fetched)
        return fetched

    found = await first_answer(hosts, snapshot)
    return None if found is None else found[1]


def _mcap_observation(c: Ctx, fetched: Fetched[MarketCapSnapshot]) -> Observation:
    return Observation(mcap_key(fetched.source), c.observed(fetched), fetched.value.total_usd, c.now)


async def market_cap(c: Ctx) -> CryptoMarketCap:
    keys = [mcap_key(coingecko.SOURCE), mcap_key(coingecko.PAPRIKA_SOURCE)]
    usd: float | None = None
    at: datetime | None = None
    dominance: float | None = None
    source: str | None = None
    if c.live:
        fetched = await _fetch_market_cap(c)
        if fetched is not None:
            obs = _mcap_observation(c, fetched)
            await c.store_write([obs])
            usd, at, dominance, source = obs.value, obs.ts, fetched.value.btc_dominance_pct, fetched.source
    else:
        stored = await c.stored_near(keys, c.at, SNAPSHOT_MAX_AGE, timedelta(0))
        if stored is None:
            c.prov.warn(
                "crypto market cap unavailable for as_of: CoinGecko/CoinPaprika report only the current value and "
                "the history store has no snapshot within 2 days before as_of"
            )
        else:
            usd, at, source = stored.value, stored.ts, "store"
    result = CryptoMarketCap(usd=usd, change_6w_pct=None, observed_at=at, btc_dominance_pct=dominance, source=source)
    if usd is None or at is None:
        return result
    earlier = await c.stored_near(keys, at - SIX_WEEKS, SIX_WEEKS_TOLERANCE, SIX_WEEKS_TOLERANCE)
    if earlier is None or earlier.value <= 0:
        c.prov.warn(
            "crypto market cap change_6w_pct unavailable: the history store has no snapshot from about 42 days "
            f"before {at.date()} (run `windvane collect` regularly to build it)"
        )
        return result
    result.change_6w_pct = round(100 * (usd / earlier.value - 1), 4)
    result.compared_to_usd = earlier.value
    result.compared_to_at = earlier.ts
    return result


# -- halving and Fear & Greed ---------------------------------------------------------------------------------------


async def chain_tip(c: Ctx) -> tuple[int, datetime, str] | None:
    if not c.live:
        stored = await c.stored_near([TIP_KEY], c.at, SNAPSHOT_MAX_AGE, timedelta(0))
        if stored is None:
            c.prov.warn("halving next_eta unavailable for as_of: no stored chain tip within 2 days before as_of")
            return None
        return int(stored.value), stored.ts, "store"

    async def tip(source: str) -> Fetched[int] | None:
        return await c.prov.attempt(f"chain tip from {source}", partial(mempool.fetch_tip_height, c.deps.http, source))

    found = await first_answer((mempool.SOURCE, mempool.FALLBACK_SOURCE), tip)
    if found is None:
        return None
    source, fetched = found
    c.prov.add(fetched)
    observed = c.observed(fetched)
    await c.store_write([Observation(TIP_KEY, observed, float(fetched.value), c.now)])
    return fetched.value, observed, source


async def halving(c: Ctx) -> Halving:
    state = halving_state(c.at.date())
    if state is None:  # as_of before the first halving (2012-11-28): there is no "last" one
        c.prov.warn(f"no halving happened before {c.at.date()}; the first was at height {HALVING_INTERVAL}")
        result = Halving(
            last_height=None, last_date=None, months_since=None, next_height=HALVING_INTERVAL, next_eta=None
        )
    else:
        result = Halving(
            last_height=state.last_height,
            last_date=state.last_date.isoformat(),
            months_since=round(state.months_since, 2),
            next_height=state.next_height,
            next_eta=None,
        )
    tip = await chain_tip(c)
    if tip is None:
        return result
    height, tip_time, source = tip
    result.tip_height, result.tip_source = height, source
    eta = halving_eta(height, tip_time, result.next_height)
    if eta is None:
        c.prov.warn(f"tip {height} is past halving height {result.next_height}: the halving table needs an update")
        return result
    result.blocks_remaining = result.next_height - height
    result.next_eta = eta.date().isoformat()
    return result


async def fear_greed(c: Ctx) -> FearGreed:
    empty = FearGreed(value=None, classification=None, date=None, change_7d=None)
    days_back = (c.today - c.at.date()).days
    # Recent dates ask for the last few weeks; older ones for the full history (limit=0), one cache entry for all.
    limit = days_back + 9 if days_back <= FNG_RECENT_DAYS else 0
    fetched = await c.prov.attempt("Fear & Greed", lambda: alternative_me.fetch_fng(c.deps.http, limit))
    if fetched is None:
        return empty
    c.prov.add(fetched)
    known = [r for r in fetched.value if datetime.combine(r.day, time(0), tzinfo=UTC) <= c.at]
    if not known:
        c.prov.warn("Fear & Greed has no reading at or before as_of")
        return empty
    last = known[-1]
    week_ago = {r.day: r.value for r in known}.get(last.day - timedelta(days=7))
    if week_ago is None:
        c.prov.warn("Fear & Greed change_7d unavailable: no reading seven days earlier")
    if c.live:
        await c.store_write([Observation(FNG_KEY, datetime.combine(last.day, time(0), tzinfo=UTC), last.value, c.now)])
    return FearGreed(
        value=last.value,
        classification=last.classification,
        date=last.day.isoformat(),
        change_7d=None if week_ago is None else last.value - week_ago,
    )
