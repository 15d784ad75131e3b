"""exchange_reserve_trend: BTC held on exchanges, per exchange, over time.

Keyless by default: DefiLlama's CEX pages (tools/reserves/defillama), one request per exchange with its whole daily
history, kept in the store so past dates are answered from it. The labelled-wallet scan (tools/reserves/onchain)
runs in `windvane collect`, never in a call; the call cross-checks DefiLlama against the stored snapshots. With
keys, CryptoQuant gives the all-exchange reserve and netflow, and CoinGlass the per-exchange balances (including
Coinbase).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import Field

from fetchers import address_book
from fetchers.address_book import AddressBook, AddressBookError
from schemas.reserves import (
    CategoryShare,
    Coverage,
    CoverageExchange,
    CrossCheck,
    ExchangeReserve,
    ExchangeReserves,
    MonthOverMonth,
)
from tools.args import AsOfArg, AssetArg, ChartArg, DetailArg
from tools.deps import Deps
from tools.detail import summary_view
from tools.errors import InputError
from tools.numbers import rounded
from tools.point_in_time import PointInTime
from tools.provenance import Provenance
from tools.registry import ToolArgs, ToolSpec
from tools.reserves import defillama as llama
from tools.reserves.keyed import (
    Keyed,
    category_for,
    chart_value,
    coinglass_rows,
    cross_checks,
    fetch_keyed,
)
from tools.reserves.onchain import (
    FRESH_SNAPSHOT,
    SNAPSHOT_TOLERANCE,
    Onchain,
    fill_history,
    read_balances,
    scan,
    snapshot_at,
)
from tools.reserves.periods import (
    Points,
    comparison_points,
    difference,
    end_of_day,
    month_end_before,
    pct_change,
    period_change,
)

WindowArg = Annotated[int, Field(ge=1, le=365, description="Days the change is measured over (1-365).")]
SinceArg = Annotated[
    str | None,
    Field(description="A date: also the change since its end."),
]

DESCRIPTION = """BTC held on exchanges and how it changed: total_btc, change_btc/change_pct over window_days
(negative = coins left exchanges: supply drying up), per exchange with its category (institutional / retail /
derivatives), the category split, month-over-month and year-to-date changes, net_flow_positive (the window's net
flow is an inflow: selling supply returning) and coverage. Keyless: DefiLlama's BTC in ten exchanges' labelled
wallets (a floor; no Coinbase); CryptoQuant/CoinGlass keys add vendor figures."""

METHODOLOGY = """## Exchange reserves (`exchange_reserve_trend`)
- Keyless (default): DefiLlama's CEX pages, `GET api.llama.fi/protocol/<slug>`, `chainTvls.Bitcoin.tokens[].tokens.BTC`
  (BTC held on the Bitcoin chain by the exchange's labelled wallets; wrapped BTC on other chains is not counted).
  Ten exchanges: binance, okx, bybit, bitfinex, robinhood, gemini, gate, htx, crypto_com, bitget (the ten most active
  DefiLlama CEX pages); one request each gives the whole daily history. `coverage.not_covered` lists the rest:
  Coinbase (no DefiLlama page), Kraken (not in DefiLlama's CEX list), and DefiLlama pages not read.
- Days: DefiLlama's row dated D+1 00:00 UTC is its first reading of that day (taken within its first hour) and is
  read as the reserve at the end of D; a missing row falls back to the previous one (at most 36 h, with a warning).
  Live ("now") is its latest hourly reading.
- History store: each page is stored (`defillama/reserve_btc/BTC/<exchange>`), so a past date is answered from the
  store and a repeat call does not refetch within an hour; when DefiLlama fails, the stored series is served stale.
  `windvane collect` and `windvane backfill` refresh it.
- Cross-check: `windvane collect` reads the packaged address book of labelled cold/reserve wallets (from DefiLlama's
  public bitcoin-book lists; extend it with `WINDVANE_ADDRESS_BOOK`) on Esplora (mempool.space, blockstream.info
  fallback; at most 600 wallets per round, 4 at once, a pause after each read) and stores each exchange's total;
  `backfill` reconstructs month ends from bounded history paging. The call reads only those snapshots (no wallet
  request) and compares them with the per-exchange figure (`cross_checks[].diff_pct`); a snapshot stands for "now"
  when under 1 h old, for a past day when within 36 h before its end.
- Keyed: CryptoQuant `exchange-flows/reserve` and `/netflow` (all_exchange, day) give total_btc, the changes and
  the net flow; CoinGlass `exchange/balance/list|chart` gives per-exchange balances (including Coinbase) and then
  replaces DefiLlama's rows.
- Changes: `change = R(end) - R(start)`, `change_pct = 100*change/R(start)`, R = end-of-UTC-day reserve. Window:
  start = end - window_days. Month over month: this month = R(as_of) - R(end of previous month), previous month
  = R(end of previous month) - R(end of the month before). Year to date: since the end of the previous year. A
  total with one exchange unknown at either end is null, never a partial sum (Gemini's DefiLlama series starts
  2025-07-25).
- `net_flow_positive`: CryptoQuant netflow summed over the window's days > 0; keyless, the change of the tracked
  exchanges' total over the window > 0.
- Caveats: DefiLlama tracks labelled wallets only, so its figures are a floor for each exchange, not its reserve;
  address lists are partial and rotate (a step in a series can be a list change, not a flow).
- Categories (windvane's reading of each venue): institutional = Coinbase, Kraken, Bitfinex, Gemini, Bitstamp;
  derivatives = Bybit, Deribit, BitMEX; retail = the rest (Binance, OKX, Bitget, HTX, Gate, MEXC, Crypto.com, ...).
"""


def _categories(rows: Sequence[ExchangeReserve]) -> list[CategoryShare]:
    tracked = sum(r.btc for r in rows if r.btc is not None)
    all_known = all(r.btc is not None for r in rows)
    out = []
    for category in ("institutional", "retail", "derivatives"):
        members = [r for r in rows if r.category == category]
        if not members:
            continue
        values = [r.btc for r in members]
        # One unknown member makes the category total unknown: a partial sum would read as an outflow.
        btc = None if any(v is None for v in values) else round(sum(v for v in values if v is not None), 8)
        changes = [r.change_btc for r in members]
        change = None if any(c is None for c in changes) else round(sum(c for c in changes if c is not None), 8)
        out.append(
            CategoryShare(
                category=category,
                exchanges=sorted(r.exchange for r in members),
                btc=btc,
                share_pct=None if btc is None or not tracked or not all_known else round(100 * btc / tracked, 6),
                change_btc=change,
            )
        )
    return out


def _book(deps: Deps, prov: Provenance) -> AddressBook:
    path = deps.config.address_book_path
    try:
        return address_book.load(path)
    except AddressBookError as exc:
        prov.warn(f"user address book ignored: {exc}")
        return address_book.load(None)


def _defillama_rows(book: AddressBook, readings: llama.Readings, points: Points) -> list[ExchangeReserve]:
    rows = []
    for exchange in sorted(llama.EXCHANGES):
        end_v = readings.btc(exchange, points.end_day)
        start_v = readings.btc(exchange, points.window_start)
        change = difference(end_v, start_v)
        rows.append(
            ExchangeReserve(
                exchange=exchange,
                btc=end_v,
                change_btc=change,
                change_pct=pct_change(change, start_v),
                category=category_for(book, exchange),
                source="defillama",
            )
        )
    return rows


async def _snapshot_rows(deps: Deps, book: AddressBook, points: Points, now: datetime) -> list[ExchangeReserve]:
    """The labelled wallets' totals `windvane collect` stored, at the answer's end: the cross-check (store only)."""
    at, max_age = (now, FRESH_SNAPSHOT) if points.live else (end_of_day(points.end_day), SNAPSHOT_TOLERANCE)
    found = await snapshot_at(deps, book, at, max_age)
    by_ex = book.by_exchange()
    return [
        ExchangeReserve(
            exchange=exchange,
            btc=btc,
            change_btc=None,
            change_pct=None,
            category=book.category_of(exchange),
            source="onchain",
            addresses_ok=len(by_ex[exchange]),
            addresses_total=len(by_ex[exchange]),
            snapshot_at=when,
        )
        for exchange, (when, btc) in sorted(found.items())
    ]


def _sum_or_none(values: Sequence[float | None]) -> float | None:
    """The sum when every part is known; a partial sum would read as coins leaving."""
    if not values or any(v is None for v in values):
        return None
    return round(sum(v for v in values if v is not None), 8)


def _totals(
    prov: Provenance,
    keyed: Keyed,
    points: Points,
    readings: llama.Readings,
    rows: Sequence[ExchangeReserve],
) -> tuple[str, Callable[[date], float | None]]:
    """The source of the total reserve and the reserve at the end of each day the answer compares."""
    if keyed.cq_reserve is not None:
        series = {r.day: r.value for r in keyed.cq_reserve.value}

        def cryptoquant_at(day: date) -> float | None:
            value = series.get(day)
            if value is None:
                prov.warn(f"CryptoQuant reserve has no row for {day.isoformat()}")
            return value

        return "cryptoquant", cryptoquant_at
    by_day: dict[date, float | None] = {}
    chart = keyed.cg_chart.value if keyed.cg_chart is not None else None
    for day in points.days():
        live_end = day == points.end_day and points.live
        if keyed.per_exchange:
            values = [
                r.btc if live_end or chart is None else chart_value(chart, r.exchange, end_of_day(day)) for r in rows
            ]
        else:
            values = [readings.btc(r.exchange, day) for r in rows]
        by_day[day] = _sum_or_none(values)
    return ("coinglass" if keyed.per_exchange else "defillama"), by_day.get


def _net_flow(
    prov: Provenance, keyed: Keyed, points: Points, window_days: int, change_btc: float | None
) -> float | None:
    """CryptoQuant's netflow over the window's days; else the change of the reserve total over the window."""
    if keyed.cq_netflow is None:
        return change_btc
    days = {points.window_start + timedelta(days=i) for i in range(1, window_days + 1)}
    got = [r for r in keyed.cq_netflow.value if r.day in days]
    if len(got) != window_days:
        prov.warn(f"CryptoQuant netflow has {len(got)} of {window_days} days; net_flow_btc unavailable")
        return None
    return round(sum(r.value for r in got), 8)


def _coverage(
    source: str,
    rows: Sequence[ExchangeReserve],
    book: AddressBook,
    checks: Sequence[CrossCheck],
    total_end: float | None,
    *,
    keyed_per_exchange: bool,
) -> Coverage:
    tracked = _sum_or_none([r.btc for r in rows])  # shares of a total with an unknown part would all be wrong
    return Coverage(
        source=source,
        exchanges=[
            CoverageExchange(
                exchange=r.exchange,
                source=r.source,
                btc=r.btc,
                share_pct=None if r.btc is None or not tracked else round(100 * r.btc / tracked, 6),
            )
            for r in rows
        ],
        tracked_total_btc=tracked,
        share_of_all_exchanges_pct=(
            round(100 * tracked / total_end, 6)
            if source == "cryptoquant" and tracked is not None and total_end
            else None
        ),
        not_covered={} if keyed_per_exchange else dict(llama.NOT_COVERED),
        addresses_total=len(book.entries),
        addresses_ok=sum(len(book.by_exchange().get(c.exchange, [])) for c in checks),
        complete=bool(rows) and all(r.btc is not None for r in rows),
    )


def _month_over_month(
    points: Points, total_at: Callable[[date], float | None], total_end: float | None
) -> MonthOverMonth:
    this_month = period_change(
        points.end_day.strftime("%Y-%m"),
        points.month_prev_end,
        points.end_day,
        total_at(points.month_prev_end),
        total_end,
    )
    previous_month = period_change(
        points.month_prev_end.strftime("%Y-%m"),
        points.month_prev_prev_end,
        points.month_prev_end,
        total_at(points.month_prev_prev_end),
        total_at(points.month_prev_end),
    )
    return MonthOverMonth(
        this_month=this_month,
        previous_month=previous_month,
        difference_btc=difference(this_month.change_btc, previous_month.change_btc),
    )


async def _per_exchange(
    deps: Deps, prov: Provenance, book: AddressBook, keyed: Keyed, points: Points, now: datetime
) -> tuple[list[ExchangeReserve], llama.Readings]:
    """CoinGlass's rows when it answers; else DefiLlama's (keyless), read from the store where it has them."""
    window_days = (points.end_day - points.window_start).days
    if keyed.per_exchange:
        return coinglass_rows(book, keyed, points, window_days), llama.Readings({}, points, now)
    series = await llama.load_all(deps, prov, llama.instants(points, now), live=points.live)
    readings = llama.Readings(series, points, now)
    return _defillama_rows(book, readings, points), readings


async def compute_reserves(
    deps: Deps, asset: str, window_days: int, pit: PointInTime, since_raw: str | None = None
) -> ExchangeReserves:
    if asset.upper() != "BTC":
        raise InputError(f"exchange_reserve_trend supports asset 'BTC' only (got {asset!r}); ETH is not tracked")
    if not 1 <= window_days <= 365:
        raise InputError(f"window_days={window_days} is out of range; use 1-365")
    now = pit.now
    points = comparison_points(pit, window_days, since_raw)
    prov = Provenance()
    book = _book(deps, prov)

    keyed = await fetch_keyed(deps, prov, points, now.date())
    rows, readings = await _per_exchange(deps, prov, book, keyed, points, now)
    snapshots = await _snapshot_rows(deps, book, points, now)
    checks = cross_checks(prov, rows, snapshots)
    if not keyed.per_exchange:
        prov.warn("Coinbase is not covered keyless (it has no DefiLlama page); set a CoinGlass key")

    source, total_at = _totals(prov, keyed, points, readings, rows)
    total_end = total_at(points.end_day)
    start_total = total_at(points.window_start)
    change_btc = difference(total_end, start_total)
    since = points.since
    mom = _month_over_month(points, total_at, total_end)
    ytd_start = total_at(points.year_start)
    since_start = None if since is None else total_at(since)
    for warning in readings.warnings():
        prov.warn(warning)
    if total_end is None:
        prov.warn("total_btc unavailable: no source gave the reserve at the end of the window")
    elif change_btc is None:
        prov.warn(f"change unavailable: no reserve for the window start {points.window_start.isoformat()}")
    net_flow = _net_flow(prov, keyed, points, window_days, change_btc)

    return ExchangeReserves(
        as_of=pit.at,
        asset="BTC",
        window_days=window_days,
        source=source,
        total_btc=rounded(total_end, 8),
        change_btc=change_btc,
        change_pct=pct_change(change_btc, start_total),
        window_start=points.window_start.isoformat(),
        window_end=now.isoformat() if points.live and source != "cryptoquant" else points.end_day.isoformat(),
        net_flow_btc=net_flow,
        net_flow_positive=None if net_flow is None else net_flow > 0,
        by_exchange=rows,
        categories=_categories(rows),
        month_over_month=mom,
        year_to_date=period_change(
            f"since {points.year_start.isoformat()}", points.year_start, points.end_day, ytd_start, total_end
        ),
        since=None
        if since is None
        else period_change(f"since {since.isoformat()}", since, points.end_day, since_start, total_end),
        coverage=_coverage(source, rows, book, checks, total_end, keyed_per_exchange=keyed.per_exchange),
        cross_checks=checks,
        sources=prov.sources,
        warnings=prov.warnings,
    )


async def collect(deps: Deps) -> int:
    """Each collect round: DefiLlama's pages the store does not hold fresh, then the labelled-wallet scan
    (bounded and rate-limited; never inside a tool call), stored as each exchange's snapshot."""
    if deps.store is None:
        return 0
    written = await llama.refresh(deps)
    return written + await scan(deps, _book(deps, Provenance()))


async def backfill(deps: Deps, since: date, until: date) -> int:
    """DefiLlama's daily history of every covered exchange (one page each holds all of it), then the labelled
    wallets' totals reconstructed at every month end in [since, until] and at `until`."""
    if deps.store is None or since > until:
        return 0
    written = await llama.refresh(deps)
    prov = Provenance()
    book = _book(deps, prov)
    days = {until}
    month_end = month_end_before(since.replace(day=1) + timedelta(days=32))
    while month_end <= until:
        if month_end >= since:
            days.add(month_end)
        month_end = month_end_before(month_end + timedelta(days=32))
    data = Onchain(book)
    await read_balances(deps, prov, data, delay_s=deps.config.wallet_scan_delay_s)
    return written + await fill_history(deps, prov, data, [end_of_day(d) for d in sorted(days)], deps.clock())


class ReservesArgs(ToolArgs):
    asset: AssetArg = "BTC"
    window_days: WindowArg = 30
    detail: DetailArg = "summary"
    as_of: AsOfArg = None
    since: SinceArg = None
    chart: ChartArg = False


def summarize(out: ExchangeReserves) -> ExchangeReserves:
    # coverage.exchanges repeats by_exchange's exchanges and balances (with their shares): the summary keeps one.
    coverage = out.coverage.model_copy(update={"exchanges": []})
    return summary_view(out, {"coverage": coverage}, {"coverage.exchanges": len(out.coverage.exchanges)})


async def run(deps: Deps, args: ReservesArgs, pit: PointInTime) -> ExchangeReserves:
    return await compute_reserves(deps, args.asset, args.window_days, pit, args.since)


SPEC = ToolSpec(
    name="exchange_reserve_trend",
    title="Exchange BTC reserves",
    description=DESCRIPTION,
    methodology=METHODOLOGY,
    args=ReservesArgs,
    output=ExchangeReserves,
    run=run,
    collect=collect,
    backfill=backfill,
    refresh=llama.refresh,
    summarize=summarize,
)
