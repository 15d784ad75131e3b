"""get_macro_backdrop: equity indices, Fed cut odds, BTC-Nasdaq correlation, drawdowns, halving cycle, Fear & Greed.

Each part is fetched and computed on its own; an upstream failure nulls that part only, with a reason in `warnings`.
Sources that only report "now" (CoinGecko /global, Kalshi/Polymarket odds, the chain tip) are snapshotted into the
history store on every fetch, and an `as_of` answer reads those snapshots: it never borrows today's value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar

import anyio
from mcp.server.mcpserver import Context

from fetchers import alternative_me, coinbase, coingecko, fred, kalshi, mempool, polymarket, yahoo
from fetchers.errors import UpstreamError
from fetchers.http import Fetched
from schemas.macro import (
    BtcDrawdown,
    BtcNasdaq,
    CryptoMarketCap,
    FearGreed,
    FedOdds,
    FedOutcomeOdds,
    Halving,
    IndexClose,
    MacroBackdrop,
)
from schemas.macro_rows import DailyClose, FedOutcome, MarketCapSnapshot
from store.base import Observation, SeriesKey
from tools.common import AsOfArg, Deps, InputError, Provenance, deps_from, parse_as_of, rounded, tool_error
from tools.fomc import Meeting, load_schedule
from tools.macro_math import (
    aligned_log_returns,
    correlation_and_beta,
    cut_odds,
    drawdown_from_high,
    halving_eta,
    halving_state,
)

T = TypeVar("T")

TOOL_NAME = "get_macro_backdrop"
TITLE = "Macro backdrop"
DESCRIPTION = """Macro backdrop for crypto: S&P 500 / Nasdaq Composite / Dow daily close and % change; the next FOMC
meeting and the market-implied probability of a cut there (Kalshi, else Polymarket; 0..1) with its 1-day change;
BTC-Nasdaq 30/90-day correlation of daily log returns and 90-day beta (BTC moves beta x Nasdaq); BTC drawdown from
its 365-day high close (%, <= 0); total crypto market cap (USD) and its 6-week change; halving cycle (last date,
months since, next ETA); Crypto Fear & Greed (0-100). Each part is sourced; an unavailable part is null + warning."""

METHODOLOGY = """## Macro backdrop (`get_macro_backdrop`)
- Indices: FRED daily closes SP500, NASDAQCOM, DJIA (keyless fredgraph CSV; the FRED JSON API first when
  `WINDVANE_FRED_API_KEY` is set; Yahoo's chart API ^GSPC/^IXIC/^DJI as fallback). Holidays are skipped, never zero.
  `change_pct = 100*(close/previous trading day's close - 1)`. A close dated D counts from 21:00 UTC on D.
  FRED's JSON API takes its key only in the query string: windvane sends it but keeps it out of cache keys,
  endpoints, errors and logs (masked in httpx's log line).
- Fed: next meeting from the Federal Reserve's published FOMC calendar packaged with windvane (years listed in
  `tools/data/fomc_schedule.json`; past them `next_meeting` is null, never guessed). Cut probability = sum over the
  cut brackets (Kalshi KXFEDDECISION tickers ending C25/C26; Polymarket "… bps decrease") of each bracket's
  probability: the bid/ask mid when the spread is at most $0.05, else the last traded price. Prices are not
  renormalised. Change over a day: from the venue's own previous-day prices, else from a stored snapshot 12-36 h
  earlier. Past `as_of`: a stored snapshot within 2 days before it, else Polymarket's daily CLOB price history of
  each cut bracket (last point at or before as_of, within 2 days), else null.
- BTC-Nasdaq: Coinbase BTC-USD daily closes (UTC day D) paired with the Nasdaq close of trading day D; log returns
  between consecutive paired days; Pearson correlation over the last 30 and 90 returns; `beta_90d = cov/var(Nasdaq)`.
- BTC drawdown: `100*(last daily close / max daily close over the 365 days ending that day - 1)`, with the high's date.
- Crypto market cap: CoinGecko `/api/v3/global` (CoinPaprika `/v1/global` fallback), snapshotted into the store on each
  fetch; `change_6w_pct` against the stored snapshot closest to 42 days earlier (within 3 days), else null.
- Halving: past halvings 210,000 (2012-11-28), 420,000 (2016-07-09), 630,000 (2020-05-11), 840,000 (2024-04-20);
  `months_since` = days/30.44 from the last halving to as_of (from the date alone); next = last + 210,000;
  `next_eta = tip time + (next - tip) * 600 s` with the tip from mempool.space (blockstream.info fallback), or for a
  past `as_of` a stored tip within 2 days; else null.
- Fear & Greed: alternative.me `/fng/` daily value at or before as_of; `change_7d` = value minus the value
  7 days before.
"""

INDICES: tuple[tuple[str, str, str], ...] = (
    ("S&P 500", "SP500", "^GSPC"),
    ("Nasdaq Composite", "NASDAQCOM", "^IXIC"),
    ("Dow Jones Industrial Average", "DJIA", "^DJI"),
)
NASDAQ = "NASDAQCOM"
# 16:00 New York is 21:00 UTC in winter and 20:00 in summer: the later bound never admits an unknown close.
INDEX_CLOSE_UTC = time(21, 0)
INDEX_WINDOW_DAYS = 200  # about 135 trading days: room for 90 returns plus holidays and gaps
DRAWDOWN_DAYS = 365
STALE_INDEX_DAYS = 5
SNAPSHOT_MAX_AGE = timedelta(days=2)
SIX_WEEKS = timedelta(days=42)
SIX_WEEKS_TOLERANCE = timedelta(days=3)

MCAP_METRIC = "total_market_cap_usd"
CUT_METRIC = "fed_cut_probability"
TIP_KEY = SeriesKey("mempool", "tip_height", "BTC", "")
FNG_KEY = SeriesKey("alternative_me", "fear_greed", "ALL", "")


def mcap_key(source: str) -> SeriesKey:
    return SeriesKey(source, MCAP_METRIC, "ALL", "")


def cut_key(source: str, meeting: Meeting) -> SeriesKey:
    return SeriesKey(source, CUT_METRIC, "FOMC", meeting.end.isoformat())


async def _try(prov: Provenance, what: str, call: Callable[[], Awaitable[T]]) -> T | None:
    try:
        return await call()
    except UpstreamError as exc:
        prov.failed(what, exc)
        return None


class Ctx:
    """What every part needs: deps, provenance, the point in time and whether it is 'now'."""

    def __init__(self, deps: Deps, as_of: datetime | None) -> None:
        self.deps = deps
        self.prov = Provenance()
        self.now = deps.clock()
        # parse_as_of caps today's date at now: such an as_of is "now" and may use live sources.
        self.live = as_of is None or as_of >= self.now
        self.at = self.now if as_of is None else min(as_of, self.now)
        self.today = self.now.date()
        self.rows_written = 0

    def observed(self, fetched: Fetched[Any]) -> datetime:
        """When the value was read, on the tool's clock (a cached or stale value is as old as its fetch)."""
        return self.now - timedelta(seconds=fetched.age_seconds)

    async def store_write(self, observations: list[Observation]) -> None:
        if self.deps.store is None or not observations:
            return
        try:
            written = await self.deps.store.upsert(observations)
            self.rows_written += written  # not `+= await`: parts run concurrently and would lose counts
        except Exception as exc:  # a read-only or locked store must not break an answer
            self.prov.warn(f"could not record a snapshot in the history store ({type(exc).__name__})")

    async def stored_near(
        self, keys: list[SeriesKey], target: datetime, before: timedelta, after: timedelta
    ) -> Observation | None:
        """The stored snapshot closest to `target` within [target-before, target+after], known by `self.at`."""
        if self.deps.store is None:
            return None
        best: Observation | None = None
        for key in keys:
            rows = await self.deps.store.read(key, target - before, min(target + after, self.at), known_at=self.at)
            for row in rows:
                if best is None or abs(row.ts - target) < abs(best.ts - target):
                    best = row
        if best is not None:
            # A stored figure is cited like a fetched one: its series, when it was learned and how old it is.
            age = max(0.0, (self.now - best.fetched_at).total_seconds())
            endpoint = f"windvane-store:{best.key.label()}"
            self.prov.add(Fetched(best.value, best.key.source, endpoint, best.fetched_at, age_seconds=round(age, 3)))
        return best


# -- indices --------------------------------------------------------------------------------------------------------


def _known(rows: list[DailyClose], at: datetime) -> list[DailyClose]:
    return [r for r in rows if datetime.combine(r.day, INDEX_CLOSE_UTC, tzinfo=UTC) <= at]


async def _index_series(c: Ctx, name: str, series: str, symbol: str) -> tuple[list[DailyClose], str] | None:
    end = c.at.date()
    start = end - timedelta(days=INDEX_WINDOW_DAYS)
    attempts: list[tuple[str, Callable[[], Awaitable[Fetched[list[DailyClose]]]]]] = []
    if c.deps.http.api_key(fred.KEY_SOURCE):
        attempts.append(
            (fred.API_SOURCE, lambda: fred.fetch_series_api(c.deps.http, series, start, end, today=c.today))
        )
    attempts.append((fred.SOURCE, lambda: fred.fetch_series_csv(c.deps.http, series, start, end, today=c.today)))
    attempts.append((yahoo.SOURCE, lambda: yahoo.fetch_daily_closes(c.deps.http, symbol, start, end, today=c.today)))
    for source, call in attempts:
        fetched = await _try(c.prov, f"{name} from {source}", call)
        if fetched is None:
            continue
        c.prov.add(fetched)
        rows = _known([r for r in fetched.value if start <= r.day <= end], c.at)
        if len(rows) >= 2:
            return rows, source
        c.prov.warn(f"{source} returned fewer than 2 closes of {series} up to {end}; trying the next source")
    return None


def _index_close(c: Ctx, name: str, series: str, got: tuple[list[DailyClose], str] | None) -> IndexClose:
    if got is None:
        c.prov.warn(f"{name} unavailable from every source (FRED, Yahoo)")
        return IndexClose(name=name, symbol=series, close=None, change_pct=None, date=None)
    rows, source = got
    last, prev = rows[-1], rows[-2]
    lag = (c.at.date() - last.day).days
    if lag > STALE_INDEX_DAYS:  # a long weekend is 4 days; more means the source stopped updating
        c.prov.warn(f"{name}: the latest close available is from {last.day} ({lag} days before as_of)")
    return IndexClose(
        name=name,
        symbol=series,
        close=last.close,
        change_pct=round(100 * (last.close / prev.close - 1), 4),
        date=last.day.isoformat(),
        previous_close=prev.close,
        source=source,
    )


# -- BTC candles: correlation and drawdown ------------------------------------------------------------------------


async def _btc_daily_closes(c: Ctx) -> list[tuple[date, float]] | None:
    cutoff = c.at + timedelta(microseconds=1) if not c.live else c.now
    last_open = datetime.combine(cutoff.date(), time(0), tzinfo=UTC) - timedelta(days=1)
    start = last_open - timedelta(days=DRAWDOWN_DAYS + 1)
    got = await _try(
        c.prov,
        "Coinbase BTC-USD daily candles",
        lambda: coinbase.fetch_candles(c.deps.http, "BTC-USD", "1d", start, last_open, now=cutoff),
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


def _btc_nasdaq(c: Ctx, btc: list[tuple[date, float]] | None, nasdaq: list[DailyClose] | None) -> BtcNasdaq:
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


def _drawdown(c: Ctx, btc: list[tuple[date, float]] | None) -> tuple[float | None, BtcDrawdown]:
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


async def _fetch_market_cap(c: Ctx) -> Fetched[MarketCapSnapshot] | None:
    for source, call in (
        (coingecko.SOURCE, lambda: coingecko.fetch_global(c.deps.http)),
        (coingecko.PAPRIKA_SOURCE, lambda: coingecko.fetch_paprika_global(c.deps.http)),
    ):
        fetched = await _try(c.prov, f"crypto market cap from {source}", call)
        if fetched is not None:
            c.prov.add(fetched)
            return fetched
    return None


def _mcap_observation(c: Ctx, fetched: Fetched[MarketCapSnapshot]) -> Observation:
    return Observation(mcap_key(fetched.source), c.observed(fetched), fetched.value.total_usd, c.now)


async def _market_cap(c: Ctx) -> CryptoMarketCap:
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


# -- Fed ------------------------------------------------------------------------------------------------------------


def _kalshi_for(outcomes: list[FedOutcome], meeting: Meeting | None) -> list[FedOutcome]:
    if meeting is None:
        # The schedule does not cover this date: take the earliest open meeting Kalshi lists (its own date).
        events = sorted({o.event for o in outcomes}, key=lambda e: kalshi.event_month(e) or (9999, 12))
        return [o for o in outcomes if events and o.event == events[0]]
    return [o for o in outcomes if kalshi.event_month(o.event) == (meeting.end.year, meeting.end.month)]


async def _polymarket_for(
    c: Ctx, meeting: Meeting, *, include_closed: bool = False
) -> tuple[list[FedOutcome], str | None]:
    month = meeting.end.strftime("%B").lower()
    for slug in (f"fed-decision-in-{month}", f"fed-decision-in-{month}-{meeting.end.year}"):
        fetched = await _try(c.prov, "Fed odds from polymarket", partial(polymarket.fetch_events, c.deps.http, slug))
        if fetched is None:
            return [], None
        c.prov.add(fetched)
        for event in fetched.value:
            # A slug can be reused across years: only an event ending within a week of the meeting is the one.
            if event.end_date is not None and abs((event.end_date.date() - meeting.end).days) <= 7:
                return polymarket.fed_outcomes(event, include_closed=include_closed), event.slug
    return [], None


async def _live_odds(c: Ctx, meeting: Meeting | None) -> tuple[list[FedOutcome], str, str | None, datetime] | None:
    fetched = await _try(c.prov, "Fed odds from kalshi", lambda: kalshi.fetch_fed_outcomes(c.deps.http))
    if fetched is not None:
        c.prov.add(fetched)
        chosen = _kalshi_for(fetched.value, meeting)
        if chosen:
            return chosen, kalshi.SOURCE, chosen[0].event, c.observed(fetched)
        c.prov.warn("kalshi lists no open KXFEDDECISION market for the next meeting; trying polymarket")
    if meeting is None:
        return None
    outcomes, slug = await _polymarket_for(c, meeting)
    if outcomes:
        return outcomes, polymarket.SOURCE, slug, c.now
    c.prov.warn("polymarket has no open Fed-decision event for the next meeting")
    return None


async def _fed(c: Ctx) -> FedOdds:
    schedule = load_schedule()
    meeting = schedule.next_meeting(c.at.date())
    fed = FedOdds(
        next_meeting=None if meeting is None else meeting.end.isoformat(),
        meeting_start=None if meeting is None else meeting.start.isoformat(),
        cut_probability=None,
        source=None,
        schedule_source=f"{schedule.source} ({schedule.source_url}), years {min(schedule.years)}-{max(schedule.years)}",
    )
    if meeting is None:
        c.prov.warn(
            f"next FOMC meeting unknown for {c.at.date()}: the packaged Federal Reserve schedule covers "
            f"{min(schedule.years)}-{max(schedule.years)} only"
        )
    if not c.live:
        return await _stored_odds(c, fed, meeting)
    live = await _live_odds(c, meeting)
    if live is None:
        c.prov.warn("Fed cut probability unavailable: no Kalshi or Polymarket market for the next meeting")
        return fed
    outcomes, source, market, observed = live
    odds = cut_odds(outcomes)
    fed.source, fed.market, fed.observed_at = source, market, observed
    fed.outcomes = [
        FedOutcomeOdds(label=o.label, bracket=o.bracket, bp=o.bp, probability=rounded(p), basis=b)
        for o, p, b in sorted(odds.per_outcome, key=lambda item: item[0].bp)
    ]
    fed.cut_probability = rounded(odds.cut)
    fed.hold_probability = rounded(odds.hold)
    if odds.missing_cut:
        c.prov.warn(f"no usable price for cut bracket(s) {', '.join(odds.missing_cut)}: cut_probability omits them")
    if odds.cut is None:
        return fed
    if meeting is not None:
        await c.store_write([Observation(cut_key(source, meeting), observed, odds.cut, c.now)])
    if odds.previous_cut is not None:
        fed.cut_probability_change_1d = rounded(odds.cut - odds.previous_cut)
        fed.change_basis = "venue_previous_day"
    elif meeting is not None:
        await _stored_change(c, fed, source, meeting, observed, odds.cut)
    return fed


async def _stored_change(c: Ctx, fed: FedOdds, source: str, meeting: Meeting, at: datetime, cut: float) -> None:
    day_before = await c.stored_near(
        [cut_key(source, meeting)], at - timedelta(days=1), timedelta(hours=12), timedelta(hours=12)
    )
    if day_before is None:
        c.prov.warn("cut_probability_change_1d unavailable: no snapshot from about a day earlier")
        return
    fed.cut_probability_change_1d = rounded(cut - day_before.value)
    fed.change_basis = "stored_snapshot"


async def _stored_odds(c: Ctx, fed: FedOdds, meeting: Meeting | None) -> FedOdds:
    if meeting is None:
        return fed
    for source in (kalshi.SOURCE, polymarket.SOURCE):
        stored = await c.stored_near([cut_key(source, meeting)], c.at, SNAPSHOT_MAX_AGE, timedelta(0))
        if stored is not None:
            fed.cut_probability, fed.source, fed.observed_at = rounded(stored.value), source, stored.ts
            await _stored_change(c, fed, source, meeting, stored.ts, stored.value)
            return fed
    if await _polymarket_history_odds(c, fed, meeting):
        return fed
    c.prov.warn(
        "Fed cut probability unavailable for as_of: Kalshi reports only current odds, the history store has no "
        "snapshot within 2 days before as_of, and Polymarket's price history has none either"
    )
    return fed


def _point_at(points: list[tuple[datetime, float]], at: datetime) -> tuple[datetime, float] | None:
    known = [p for p in points if p[0] <= at]
    return known[-1] if known and at - known[-1][0] <= SNAPSHOT_MAX_AGE else None


async def _polymarket_history_odds(c: Ctx, fed: FedOdds, meeting: Meeting) -> bool:
    """Past odds from Polymarket's CLOB price history of each cut bracket's Yes token (daily points)."""
    outcomes, slug = await _polymarket_for(c, meeting, include_closed=True)
    cuts = [o for o in outcomes if o.bracket == "cut" and o.token_id]
    if not cuts:
        return False
    now_sum, prev_sum, last_t = 0.0, 0.0, c.at - SNAPSHOT_MAX_AGE
    prev_complete = True
    for outcome in cuts:
        assert outcome.token_id is not None
        fetched = await _try(
            c.prov,
            "Fed odds history from polymarket",
            partial(polymarket.fetch_price_history, c.deps.http, outcome.token_id),
        )
        if fetched is None:
            return False
        c.prov.add(fetched)
        point = _point_at(fetched.value, c.at)
        if point is None:
            c.prov.warn(f"polymarket price history of '{outcome.label}' has no point within 2 days before as_of")
            return False
        now_sum += point[1]
        last_t = max(last_t, point[0])
        previous = _point_at(fetched.value, point[0] - timedelta(days=1))
        if previous is None or point[0] - previous[0] < timedelta(hours=12):
            prev_complete = False
        else:
            prev_sum += previous[1]
    fed.cut_probability, fed.source, fed.market, fed.observed_at = rounded(now_sum), polymarket.SOURCE, slug, last_t
    if prev_complete:
        fed.cut_probability_change_1d = rounded(now_sum - prev_sum)
        fed.change_basis = "venue_price_history"
    return True


# -- halving and Fear & Greed ---------------------------------------------------------------------------------------


async def _tip(c: Ctx) -> tuple[int, datetime, str] | None:
    if not c.live:
        stored = await c.stored_near([TIP_KEY], c.at, SNAPSHOT_MAX_AGE, timedelta(0))
        if stored is None:
            c.prov.warn("halving next_eta unavailable for as_of: no stored chain tip within 2 days before as_of")
            return None
        return int(stored.value), stored.ts, "store"
    for source in (mempool.SOURCE, mempool.FALLBACK_SOURCE):
        fetched = await _try(c.prov, f"chain tip from {source}", partial(mempool.fetch_tip_height, c.deps.http, source))
        if fetched is not None:
            c.prov.add(fetched)
            observed = c.observed(fetched)
            await c.store_write([Observation(TIP_KEY, observed, float(fetched.value), c.now)])
            return fetched.value, observed, source
    return None


async def _halving(c: Ctx) -> Halving:
    state = halving_state(c.at.date())
    assert state is not None  # parse_as_of rejects dates before 2010; the first halving was in 2012
    halving = Halving(
        last_height=state.last_height,
        last_date=state.last_date.isoformat(),
        months_since=round(state.months_since, 2),
        next_height=state.next_height,
        next_eta=None,
    )
    tip = await _tip(c)
    if tip is None:
        return halving
    height, tip_time, source = tip
    halving.tip_height, halving.tip_source = height, source
    eta = halving_eta(height, tip_time, state.next_height)
    if eta is None:
        c.prov.warn(f"tip {height} is past halving height {state.next_height}: the halving table needs an update")
        return halving
    halving.blocks_remaining = state.next_height - height
    halving.next_eta = eta.date().isoformat()
    return halving


async def _fear_greed(c: Ctx) -> FearGreed:
    empty = FearGreed(value=None, classification=None, date=None, change_7d=None)
    days_back = (c.today - c.at.date()).days
    fetched = await _try(c.prov, "Fear & Greed", lambda: alternative_me.fetch_fng(c.deps.http, days_back + 9))
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


# -- the tool -------------------------------------------------------------------------------------------------------


async def compute_macro(deps: Deps, as_of: str | None) -> MacroBackdrop:
    now = deps.clock()
    c = Ctx(deps, parse_as_of(as_of, now))
    results: dict[str, Any] = {}

    async def run(name: str, call: Callable[[], Awaitable[Any]]) -> None:
        results[name] = await call()

    async with anyio.create_task_group() as tg:
        for name, series, symbol in INDICES:
            tg.start_soon(run, series, partial(_index_series, c, name, series, symbol))
        tg.start_soon(run, "btc", lambda: _btc_daily_closes(c))
        tg.start_soon(run, "fed", lambda: _fed(c))
        tg.start_soon(run, "mcap", lambda: _market_cap(c))
        tg.start_soon(run, "halving", lambda: _halving(c))
        tg.start_soon(run, "fng", lambda: _fear_greed(c))

    indices = [_index_close(c, name, series, results[series]) for name, series, _ in INDICES]
    nasdaq = results[NASDAQ][0] if results[NASDAQ] is not None else None
    drawdown_pct, drawdown = _drawdown(c, results["btc"])
    return MacroBackdrop(
        as_of=c.at,
        indices=indices,
        fed=results["fed"],
        btc_nasdaq=_btc_nasdaq(c, results["btc"], nasdaq),
        btc_drawdown_from_high_pct=drawdown_pct,
        btc_drawdown=drawdown,
        crypto_market_cap=results["mcap"],
        halving=results["halving"],
        fear_greed=results["fng"],
        sources=c.prov.sources,
        warnings=c.prov.warnings,
    )


async def collect(deps: Deps) -> int:
    """Record the now-only macro observations (market cap, cut odds, chain tip, Fear & Greed); returns rows written."""
    if deps.store is None:
        return 0
    c = Ctx(deps, None)
    # The live parts snapshot what they read; running them is the collection.
    async with anyio.create_task_group() as tg:
        tg.start_soon(_market_cap, c)
        tg.start_soon(_fed, c)
        tg.start_soon(_tip, c)
        tg.start_soon(_fear_greed, c)
    return c.rows_written


async def get_macro_backdrop(ctx: Context[Any, Any], as_of: AsOfArg = None) -> MacroBackdrop:
    try:
        return await compute_macro(deps_from(ctx), as_of)
    except InputError as exc:
        raise tool_error(exc) from None
