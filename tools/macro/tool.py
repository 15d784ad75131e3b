"""get_macro_backdrop: equity indices, Fed cut odds, BTC-Nasdaq correlation, drawdowns, halving cycle, Fear & Greed.

Each part is fetched and computed on its own; an upstream failure nulls that part only, with a reason in `warnings`.
Sources that only report "now" (CoinGecko /global, Kalshi/Polymarket odds, the chain tip) are snapshotted into the
history store on every fetch, and an `as_of` answer reads those snapshots: it never borrows today's value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from functools import partial

from fetchers import fred, yahoo
from fetchers.concurrency import first_answer, gather, gather_all
from fetchers.http import Fetched
from schemas.macro import IndexClose, MacroBackdrop
from schemas.macro_rows import DailyClose
from tools.args import AsOfArg, DetailArg
from tools.deps import Deps
from tools.macro import crypto as macro_crypto
from tools.macro.context import Ctx
from tools.macro.fed import fed_odds
from tools.point_in_time import PointInTime
from tools.registry import ToolArgs, ToolSpec

DESCRIPTION = """Macro backdrop for crypto: S&P 500 / Nasdaq Composite / Dow daily close and % change; the next FOMC
meeting and the market-implied probability of a cut there (Kalshi, else Polymarket; 0..1) with its 1-day change;
BTC-Nasdaq 30/90-day correlation of daily log returns and 90-day beta; BTC drawdown from
its 365-day high close (%, <= 0); total crypto market cap (USD) and its 6-week change; halving cycle (last date,
months since, next ETA); Crypto Fear & Greed (0-100)."""

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
STALE_INDEX_DAYS = 5

# -- indices --------------------------------------------------------------------------------------------------------


FetchCloses = Callable[[], Awaitable[Fetched[list[DailyClose]]]]


def _known(rows: list[DailyClose], at: datetime) -> list[DailyClose]:
    return [r for r in rows if datetime.combine(r.day, INDEX_CLOSE_UTC, tzinfo=UTC) <= at]


async def _index_series(c: Ctx, name: str, series: str, symbol: str) -> tuple[list[DailyClose], str] | None:
    end = c.at.date()
    start = end - timedelta(days=INDEX_WINDOW_DAYS)
    attempts: list[tuple[str, FetchCloses]] = []
    if c.deps.http.api_key(fred.KEY_SOURCE):
        attempts.append(
            (fred.API_SOURCE, lambda: fred.fetch_series_api(c.deps.http, series, start, end, today=c.today))
        )
    attempts.append((fred.SOURCE, lambda: fred.fetch_series_csv(c.deps.http, series, start, end, today=c.today)))
    attempts.append((yahoo.SOURCE, lambda: yahoo.fetch_daily_closes(c.deps.http, symbol, start, end, today=c.today)))

    async def closes(
        attempt: tuple[str, Callable[[], Awaitable[Fetched[list[DailyClose]]]]],
    ) -> list[DailyClose] | None:
        source, call = attempt
        fetched = await c.prov.attempt(f"{name} from {source}", call)
        if fetched is None:
            return None
        c.prov.add(fetched)
        rows = _known([r for r in fetched.value if start <= r.day <= end], c.at)
        if len(rows) >= 2:
            return rows
        c.prov.warn(f"{source} returned fewer than 2 closes of {series} up to {end}; trying the next source")
        return None

    found = await first_answer(attempts, closes)
    return None if found is None else (found[1], found[0][0])


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


# -- the tool -------------------------------------------------------------------------------------------------------


async def compute_macro(deps: Deps, pit: PointInTime) -> MacroBackdrop:
    c = Ctx(deps, pit)
    series, btc, fed, mcap, halving, fng = await gather(
        lambda: gather_all(partial(_index_series, c, name, series, symbol) for name, series, symbol in INDICES),
        lambda: macro_crypto.btc_daily_closes(c),
        lambda: fed_odds(c),
        lambda: macro_crypto.market_cap(c),
        lambda: macro_crypto.halving(c),
        lambda: macro_crypto.fear_greed(c),
    )
    by_series = {index[1]: got for index, got in zip(INDICES, series, strict=True)}
    indices = [_index_close(c, name, code, by_series[code]) for name, code, _ in INDICES]
    nasdaq_got = by_series[NASDAQ]
    nasdaq = nasdaq_got[0] if nasdaq_got is not None else None
    drawdown_pct, drawdown = macro_crypto.btc_drawdown(c, btc)
    return MacroBackdrop(
        as_of=c.at,
        indices=indices,
        fed=fed,
        btc_nasdaq=macro_crypto.btc_nasdaq(c, btc, nasdaq),
        btc_drawdown_from_high_pct=drawdown_pct,
        btc_drawdown=drawdown,
        crypto_market_cap=mcap,
        halving=halving,
        fear_greed=fng,
        sources=c.prov.sources,
        warnings=c.prov.warnings,
    )


async def collect(deps: Deps) -> int:
    """Record the now-only macro observations (market cap, cut odds, chain tip, Fear & Greed); returns rows written."""
    if deps.store is None:
        return 0
    c = Ctx(deps, PointInTime(now=deps.clock()))
    # The live parts snapshot what they read; running them is the collection.
    await gather(
        lambda: macro_crypto.market_cap(c),
        lambda: fed_odds(c),
        lambda: macro_crypto.chain_tip(c),
        lambda: macro_crypto.fear_greed(c),
    )
    return c.rows_written


class MacroArgs(ToolArgs):
    detail: DetailArg = "summary"
    as_of: AsOfArg = None


async def run(deps: Deps, args: MacroArgs, pit: PointInTime) -> MacroBackdrop:
    return await compute_macro(deps, pit)


SPEC = ToolSpec(
    name="get_macro_backdrop",
    title="Macro backdrop",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=MacroArgs,
    output=MacroBackdrop,
    run=run,
    collect=collect,
)
